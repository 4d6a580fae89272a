"""`/status` and `/incident` through the real `/slack/events` route of a running statusbot.

Every request is signed as Slack signs it; the bot's own calls land on a mock Slack Web API.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.store.keyvalue import KeyValue
from tests.support.builders import failure
from tests.support.slack_app import (
    COMMS,
    INCIDENTS,
    MANAGERS,
    ONCALL_GROUP,
    ONCALL_MEMBER,
    RESPONDER,
    VISITOR,
    WAR_ROOM,
    SlackBot,
    displayed,
    redis_only,
    running_bot,
    visible,
)
from tests.support.slack_mock import Call

TITLE = "Login fails for card holders"


@pytest.fixture
async def bot(kv: KeyValue) -> AsyncIterator[SlackBot]:
    async with running_bot(kv) as running:
        yield running


async def open_incident(bot: SlackBot, text: str = f"{TITLE} sev:2 components:web") -> Call:
    """Declare an incident through Slack; return its card in the incidents channel."""
    before = len(bot.mock.posts(INCIDENTS))
    reply = await bot.incident(f"open {text}")
    assert reply.status == 200
    assert reply.text.startswith("Declared INC-"), reply.text
    posts = await bot.posts(INCIDENTS, before + 1)
    await bot.settled()
    return posts[before]


def thread_of(bot: SlackBot, card: Call) -> list[Call]:
    return [p for p in bot.mock.posts(INCIDENTS) if p.args.get("thread_ts") == card.result["ts"]]


# -- /status ------------------------------------------------------------------------------
@redis_only
async def test_status_lists_every_component_to_the_caller_only(bot: SlackBot) -> None:
    reply = await bot.status()

    assert reply.status == 200
    assert reply.body["response_type"] == "ephemeral"
    assert reply.text == "Status: all 2 components operational, 0 open incidents"
    assert "online account services (web): Operational" in reply.shown
    assert "mobile app (app): Operational" in reply.shown
    assert "No open incidents." in reply.shown
    await bot.settled()
    assert bot.mock.posts() == [], "the overview is not posted for everyone"


@redis_only
async def test_status_shows_open_incidents_and_their_impact(bot: SlackBot) -> None:
    await open_incident(bot)

    reply = await bot.status()

    assert reply.text == "Status: 1 of 2 components affected, 1 open incident"
    assert "online account services (web): Partial outage" in reply.shown
    assert f"INC-1 (sev2, investigating): {TITLE}" in reply.shown


async def test_status_of_one_component_shows_checks_and_recent_failures(bot: SlackBot) -> None:
    check = next(c for c in bot.runtime.config.checks if c.id == "web-home")
    await bot.runtime.monitor.record(check, failure("web-home", bot.runtime.clock()))

    reply = await bot.status("web")

    assert reply.status == 200
    assert reply.body["response_type"] == "ephemeral"
    assert reply.text.startswith("online account services: Operational, uptime 0.00% (24h)")
    assert "online account services (web)" in reply.shown
    assert "Uptime 7d" in reply.shown
    assert "p95 latency 24h" in reply.shown
    assert "web-home (http): failing: HTTP 503" in reply.shown
    assert "web-login (http): not run yet" in reply.shown
    assert "Recent failures:" in reply.shown


@redis_only
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("nope", "unknown component 'nope'; expected one of web, app"),
        ("web app", "expected one word after /status, got 'web app'"),
    ],
)
async def test_status_mistakes_get_one_line_and_the_usage(
    bot: SlackBot, text: str, problem: str
) -> None:
    reply = await bot.status(text)

    assert reply.status == 200
    assert reply.body["response_type"] == "ephemeral"
    assert reply.text == problem
    assert reply.shown.splitlines() == [problem, "Usage: /status [<component> | post]"]


@redis_only
async def test_status_post_puts_the_overview_in_the_channel(bot: SlackBot) -> None:
    reply = await bot.status("post", channel=WAR_ROOM)

    assert reply.status == 200
    assert reply.text == "Posted the status overview in this channel."
    [post] = await bot.posts(WAR_ROOM, 1)
    assert post.args["text"] == "Status: all 2 components operational, 0 open incidents"
    assert "online account services (web): Operational" in displayed(post)


@redis_only
async def test_status_post_is_for_responders(bot: SlackBot) -> None:
    reply = await bot.status("post", user=VISITOR)

    assert reply.text == (
        "Only responders may post the status overview; ask someone with that role "
        "(config: roles.responders)."
    )
    await bot.settled()
    assert bot.mock.posts(WAR_ROOM) == []


# -- /incident: the happy paths --------------------------------------------------------------


async def test_open_posts_the_card_and_tells_managers(bot: SlackBot) -> None:
    reply = await bot.incident(f"open {TITLE} sev:2 components:web,app")

    assert reply.status == 200
    assert reply.body["response_type"] == "ephemeral"
    assert reply.text == (
        f"Declared INC-1 (sev2, investigating): {TITLE}. You are the commander; "
        "/incident update INC-1 <text> keeps everyone informed."
    )
    [card] = await bot.posts(INCIDENTS, 1)
    assert "thread_ts" not in card.args
    assert card.args["text"] == f"INC-1 (sev2, investigating): {TITLE}"
    shown = displayed(card)
    assert "*Components*\nonline account services, mobile app" in shown
    assert f"*Commander*\n<@{RESPONDER}>" in shown
    [line] = await bot.posts(MANAGERS, 1)
    assert line.args["text"] == f"INC-1 (sev2, investigating) declared: {TITLE}"

    incident = await bot.runtime.incidents.get(1)
    assert (incident.severity, incident.components) == (2, ["web", "app"])
    assert incident.reporter == incident.commander == RESPONDER


@redis_only
async def test_open_without_options_is_sev3_with_no_components(bot: SlackBot) -> None:
    reply = await bot.incident("open Phones ring out")

    assert reply.text.startswith("Declared INC-1 (sev3, investigating): Phones ring out.")
    incident = await bot.runtime.incidents.get(1)
    assert (incident.severity, incident.components) == (3, [])


@redis_only
async def test_a_command_whose_text_says_payload_is_still_a_command(bot: SlackBot) -> None:
    # Bolt reads any form body containing "payload" as an interaction, and this one as nothing.
    reply = await bot.incident("open payload queue stuck")

    assert reply.status == 200
    assert reply.text.startswith("Declared INC-1 (sev3, investigating): payload queue stuck.")


# command, the answer, the thread reply, the managers' line (both patterns), the card's headline
CHANGES = [
    (
        "update 1 Rolled back the login service",
        "Posted the update to INC-1.",
        re.escape("INC-1 update: Rolled back the login service"),
        re.escape("INC-1 (sev2, investigating) update: Rolled back the login service"),
        "INC-1 (sev2, investigating)",
    ),
    (
        "status INC-1 identified Bad config push",
        "INC-1 is now identified.",
        re.escape("INC-1 is now identified: Bad config push"),
        re.escape("INC-1 (sev2, identified) is now identified: Bad config push"),
        "INC-1 (sev2, identified)",
    ),
    (
        "sev inc-1 1",
        "INC-1 is now sev1.",
        re.escape("INC-1 is now sev1 (was sev2)"),
        re.escape("INC-1 (sev1, identified) is now sev1 (was sev2)"),
        "INC-1 (sev1, identified)",
    ),
    (
        "assign 1 <@U0ENG2|bob>",
        "<@U0ENG2> now commands INC-1.",
        re.escape("INC-1 commander: <@U0ENG2>"),
        re.escape("INC-1 (sev1, identified) commander: <@U0ENG2>"),
        "INC-1 (sev1, identified)",
    ),
    (
        "status 1 monitoring",
        "INC-1 is now monitoring.",
        re.escape("INC-1 is now monitoring"),
        re.escape("INC-1 (sev1, monitoring) is now monitoring"),
        "INC-1 (sev1, monitoring)",
    ),
    (
        "resolve INC-1 Config reverted",
        "INC-1 is resolved.",
        r"INC-1 resolved after \d+s: Config reverted",
        r"INC-1 \(sev1, resolved\) resolved after \d+s: Config reverted",
        "INC-1 (sev1, resolved)",
    ),
]


async def test_every_change_replies_in_the_thread_updates_the_card_and_tells_managers(
    bot: SlackBot,
) -> None:
    card = await open_incident(bot)
    card_ts = card.result["ts"]

    for command, answer, reply_text, manager_line, headline in CHANGES:
        replies, lines = len(thread_of(bot, card)), len(bot.mock.posts(MANAGERS))

        reply = await bot.incident(command)

        assert reply.status == 200, command
        assert reply.text == answer, command
        await bot.settled()
        thread = thread_of(bot, card)
        assert len(thread) == replies + 1, f"one thread reply for {command!r}"
        assert re.fullmatch(reply_text, visible(thread[-1].args["text"])), thread[-1].args
        managers = bot.mock.posts(MANAGERS)
        assert len(managers) == lines + 1, f"one managers line for {command!r}"
        assert re.fullmatch(manager_line, visible(managers[-1].args["text"])), managers[-1].args
        assert "\n" not in managers[-1].args["text"]
        update = [u for u in bot.mock.calls_of("chat.update") if u.args["channel"] == INCIDENTS][-1]
        assert update.args["ts"] == card_ts
        assert update.args["text"] == f"{headline}: {TITLE}"

    assert [p for p in bot.mock.posts(INCIDENTS) if "thread_ts" not in p.args] == [card], (
        "one root card per incident; everything else is in its thread"
    )
    incident = await bot.runtime.incidents.get(1)
    assert (incident.status.value, incident.severity, incident.commander) == (
        "resolved",
        1,
        "U0ENG2",
    )


@redis_only
async def test_thread_replies_show_the_change_not_only_who_made_it(bot: SlackBot) -> None:
    # With blocks, Slack shows the blocks and uses `text` only for notifications: a timeline
    # reply whose only block is "by @user" hides the update itself.
    card = await open_incident(bot)
    await bot.incident("update 1 Rolled back the login service")
    await bot.settled()

    [reply] = thread_of(bot, card)

    assert "Rolled back the login service" in displayed(reply), reply.args


async def test_show_gives_details_and_the_timeline_in_order(bot: SlackBot) -> None:
    await open_incident(bot)
    await bot.incident("update 1 Rolled back the login service")
    await bot.incident("status 1 identified")
    await bot.incident("assign 1 <@U0ENG2|bob>")

    reply = await bot.incident("show INC-1", user=VISITOR)

    assert reply.status == 200
    assert reply.body["response_type"] == "ephemeral"
    assert reply.text == f"INC-1 (sev2, identified): {TITLE}"
    shown = reply.shown
    for field in (
        "*Status*\nidentified",
        "*Severity*\nsev2",
        "*Commander*\n<@U0ENG2>",
        f"*Reporter*\n<@{RESPONDER}>",
        "*Components*\nonline account services",
        "*Related*\nnone",
    ):
        assert field in shown, field
    timeline = [
        f"<@{RESPONDER}> · declared: {TITLE}",
        f"<@{RESPONDER}> · update: Rolled back the login service",
        f"<@{RESPONDER}> · is now identified",
        f"<@{RESPONDER}> · commander: <@U0ENG2>",
    ]
    positions = [shown.find(entry) for entry in timeline]
    assert -1 not in positions, shown
    assert positions == sorted(positions), "the timeline is in order"


@redis_only
async def test_ids_are_accepted_in_every_spelling(bot: SlackBot) -> None:
    for n in range(1, 8):
        reply = await bot.incident(f"open Incident number {n}")
        assert reply.text.startswith(f"Declared INC-{n} "), reply.text

    answers = {(await bot.incident(f"show {ref}")).text for ref in ("INC-7", "7", "inc-7", "Inc7")}

    assert answers == {"INC-7 (sev3, investigating): Incident number 7"}


async def test_list_shows_open_incidents_only(bot: SlackBot) -> None:
    empty = await bot.incident("list", user=VISITOR)
    assert empty.text == "No open incidents."

    await open_incident(bot, "Phones ring out sev:1 components:app")
    await open_incident(bot, "Two-step codes late")
    await bot.incident("resolve 2")

    reply = await bot.incident("list", user=VISITOR)

    assert reply.status == 200
    assert reply.text == "1 open incident"
    assert "INC-1 (sev1, investigating): Phones ring out" in reply.shown
    assert "mobile app" in reply.shown
    assert "INC-2" not in reply.shown


async def test_link_records_both_ways_and_show_has_it(bot: SlackBot) -> None:
    await open_incident(bot, "Card payments declined sev:2")
    await open_incident(bot, "Login fails again sev:2")

    reply = await bot.incident("link INC-2 inc-1")

    assert reply.status == 200
    assert reply.text == "Linked INC-2 and INC-1."
    second = await bot.incident("show 2")
    assert "*Related*\nINC-1" in second.shown
    assert "linked to INC-1" in second.shown
    first = await bot.incident("show 1")
    assert "*Related*\nINC-2" in first.shown
    assert "linked to INC-2" in first.shown
    await bot.settled()
    assert visible(bot.mock.posts(MANAGERS)[-1].args["text"]) == (
        "INC-2 (sev2, investigating) linked to INC-1"
    )

    again = await bot.incident("link 1 2")
    assert again.text == "INC-1 and INC-2 are already linked"


@redis_only
async def test_postmortem_is_uploaded_as_a_markdown_file(bot: SlackBot) -> None:
    await open_incident(bot)
    await open_incident(bot, "Earlier login trouble")
    await bot.incident("link 1 2")
    await bot.incident("update 1 Rolled back the login service")
    await bot.incident("resolve 1 Config reverted")

    reply = await bot.incident("postmortem INC-1", user=VISITOR, channel=WAR_ROOM)

    assert reply.status == 200
    assert reply.text == "Posting the post-mortem draft for INC-1 in this channel."
    [complete] = await bot.calls("files.completeUploadExternal")
    assert complete.args["channel_id"] == WAR_ROOM
    assert visible(complete.args["initial_comment"]) == f"Post-mortem draft for INC-1: {TITLE}"
    [requested] = bot.mock.calls_of("files.getUploadURLExternal")
    assert requested.args["filename"] == "inc-1-postmortem.md"
    [document] = [content.decode() for content in bot.mock.uploads.values()]
    assert document.startswith(f"# INC-1: {TITLE}\n")
    for part in (
        "## Summary",
        "- Severity: sev2",
        "- Status: resolved",
        "## Timeline",
        "update: Rolled back the login service",
        "resolved after",
        "## Related incidents",
        "- INC-2: Earlier login trouble",
    ):
        assert part in document, part


@redis_only
@pytest.mark.parametrize("text", ["", "help"])
async def test_help_lists_every_subcommand(bot: SlackBot, text: str) -> None:
    reply = await bot.incident(text, user=VISITOR)

    assert reply.status == 200
    assert reply.body["response_type"] == "ephemeral"
    assert reply.text == "Usage:"
    for usage in (
        "/status [<component> | post]",
        "/incident open <title> [sev:1-4] [components:web,mfa]",
        "/incident list",
        "/incident show <ID>",
        "/incident update <ID> <text>",
        "/incident status <ID> investigating|identified|monitoring|resolved [text]",
        "/incident sev <ID> <1-4>",
        "/incident assign <ID> <@user>",
        "/incident resolve <ID> [text]",
        "/incident link <ID> <ID>",
        "/incident statement <ID> [lang]",
        "/incident approve <ID>",
        "/incident reject <ID> <reason>",
        "/incident postmortem <ID>",
        "IDs look like INC-7 (7 and inc-7 work too).",
    ):
        assert usage in reply.shown, usage


@redis_only
async def test_help_for_one_subcommand(bot: SlackBot) -> None:
    reply = await bot.incident("help sev")

    assert reply.text == "Usage: /incident sev <ID> <1-4>"


@redis_only
async def test_statements_may_be_drafted_by_responders_and_comms_only(bot: SlackBot) -> None:
    await open_incident(bot)

    for user in (RESPONDER, COMMS):
        reply = await bot.incident("statement 1 it", user=user)
        assert reply.status == 200
        assert reply.text.startswith("Drafted the customer statement for INC-1"), reply.text

    refused = await bot.incident("statement 1", user=VISITOR)
    assert refused.text == (
        "Only responders or comms may draft customer statements; ask someone with that role "
        "(config: roles.responders)."
    )


# -- /incident: mistakes ---------------------------------------------------------------------

GRAMMAR_MISTAKES = [
    (
        "frobnicate 1",
        "unknown subcommand 'frobnicate'; try one of open, list, show, update, status, sev, "
        "assign, resolve, link, statement, approve, reject, postmortem, help",
        "/incident help [subcommand]",
    ),
    (
        "show abc",
        "'abc' is not an incident ID; write it like INC-7, inc-7 or 7",
        "/incident show <ID>",
    ),
    ("show", "which incident? Give its ID, like INC-7", "/incident show <ID>"),
    ("update 1", "the update needs some text", "/incident update <ID> <text>"),
    (
        "update INC-x Rolled back",
        "'INC-x' is not an incident ID; write it like INC-7, inc-7 or 7",
        "/incident update <ID> <text>",
    ),
    (
        "open components:web",
        "the incident needs a title",
        "/incident open <title> [sev:1-4] [components:web,mfa]",
    ),
    (
        "open Login fails sev:7",
        "severity must be 1, 2, 3 or 4 (sev1 is the most severe), got '7'",
        "/incident open <title> [sev:1-4] [components:web,mfa]",
    ),
    (
        "sev 1 9",
        "severity must be 1, 2, 3 or 4 (sev1 is the most severe), got '9'",
        "/incident sev <ID> <1-4>",
    ),
    (
        "status 1 fixed",
        "unknown status 'fixed'; expected investigating, identified, monitoring or resolved",
        "/incident status <ID> investigating|identified|monitoring|resolved [text]",
    ),
    (
        "assign 1 bob",
        "mention the new commander with @, like @alice",
        "/incident assign <ID> <@user>",
    ),
    (
        "link 1",
        "give the two incidents to link, like INC-7 INC-3",
        "/incident link <ID> <ID>",
    ),
    ("link 1 inc-1", "an incident cannot be linked to itself", "/incident link <ID> <ID>"),
    ("postmortem", "which incident? Give its ID, like INC-7", "/incident postmortem <ID>"),
    ("approve", "which incident? Give its ID, like INC-7", "/incident approve <ID>"),
    ("approve 1 now", "unexpected 'now'", "/incident approve <ID>"),
    (
        "reject 1",
        "say why it is rejected, so the next draft can be better",
        "/incident reject <ID> <reason>",
    ),
    (
        "reject soon please",
        "'soon' is not an incident ID; write it like INC-7, inc-7 or 7",
        "/incident reject <ID> <reason>",
    ),
    (
        "help nope",
        "no help for 'nope'; try one of open, list, show, update, status, sev, assign, resolve, link, statement, approve, reject, postmortem, help",
        "/incident help [subcommand]",
    ),
]


@redis_only
async def test_malformed_commands_get_one_line_and_the_usage(
    bot: SlackBot, subtests: pytest.Subtests
) -> None:
    await open_incident(bot)

    for text, problem, usage in GRAMMAR_MISTAKES:
        with subtests.test(text):
            reply = await bot.incident(text)

            assert reply.status == 200
            assert reply.body["response_type"] == "ephemeral"
            assert reply.text == problem
            assert reply.shown.splitlines() == [problem, f"Usage: {usage}"]

    await bot.settled()
    assert len(bot.mock.posts(INCIDENTS)) == 1, "mistakes change nothing"
    assert len(await bot.runtime.incident_store.open_incidents()) == 1


DOMAIN_MISTAKES = [
    (
        "show INC-99",
        "INC-99 does not exist; /incident list shows open incidents",
        "/incident show <ID>",
    ),
    (
        "update 42 Rolled back",
        "INC-42 does not exist; /incident list shows open incidents",
        "/incident update <ID> <text>",
    ),
    (
        "open Login fails components:web,nope",
        "unknown component 'nope'; expected one of web, app",
        "/incident open <title> [sev:1-4] [components:web,mfa]",
    ),
    ("sev 1 2", "INC-1 is already sev2", "/incident sev <ID> <1-4>"),
]


@redis_only
async def test_commands_the_incident_refuses_get_one_line_and_the_usage(
    bot: SlackBot, subtests: pytest.Subtests
) -> None:
    await open_incident(bot)

    for text, problem, usage in DOMAIN_MISTAKES:
        with subtests.test(text):
            reply = await bot.incident(text)

            assert reply.status == 200
            assert reply.text == problem
            assert reply.shown.splitlines() == [problem, f"Usage: {usage}"]


@redis_only
async def test_resolving_twice_gets_one_line_and_the_usage(bot: SlackBot) -> None:
    await open_incident(bot)
    first = await bot.incident("resolve 1 Config reverted")
    assert first.text == "INC-1 is resolved."
    await bot.settled()
    posted = len(bot.mock.posts())

    second = await bot.incident("resolve INC-1")

    assert second.status == 200
    assert second.text == "INC-1 is already resolved"
    await bot.settled()
    assert len(bot.mock.posts()) == posted, "resolving again posts nothing"
    assert second.shown.splitlines() == [
        "INC-1 is already resolved",
        "Usage: /incident resolve <ID> [text]",
    ]


# -- who may do what ---------------------------------------------------------------------------

RESPONDER_ONLY = [
    ("open Login fails", "open incidents"),
    ("update 1 Rolled back", "post incident updates"),
    ("status 1 identified", "change an incident's status"),
    ("sev 1 1", "change an incident's severity"),
    ("assign 1 <@U0ENG2|bob>", "assign the incident commander"),
    ("resolve 1", "resolve incidents"),
    ("link 1 2", "link incidents"),
]


async def test_people_without_the_role_are_refused_and_nothing_changes(bot: SlackBot) -> None:
    await open_incident(bot)
    await open_incident(bot, "Phones ring out")
    await bot.settled()
    posted = len(bot.mock.posts())
    entries = len(await bot.runtime.incidents.timeline(1))

    for user in (VISITOR, COMMS):
        for text, what in RESPONDER_ONLY:
            reply = await bot.incident(text, user=user)
            assert reply.status == 200
            assert reply.text == (
                f"Only responders may {what}; ask someone with that role "
                "(config: roles.responders)."
            ), text

    await bot.settled()
    assert len(bot.mock.posts()) == posted
    incident = await bot.runtime.incidents.get(1)
    assert (incident.status.value, incident.severity, incident.links) == ("investigating", 2, [])
    assert len(await bot.runtime.incidents.timeline(1)) == entries
    assert len(await bot.runtime.incident_store.open_incidents()) == 2


@redis_only
async def test_members_of_a_responder_user_group_may_act(bot: SlackBot) -> None:
    reply = await bot.incident("open Two-step codes late sev:1", user=ONCALL_MEMBER)

    assert reply.text.startswith("Declared INC-1 (sev1, investigating): Two-step codes late")
    lookups = bot.mock.calls_of("usergroups.users.list")
    assert [c.args["usergroup"] for c in lookups] == [ONCALL_GROUP]
    update = await bot.incident("update 1 Looking into the SMS provider", user=ONCALL_MEMBER)
    assert update.text == "Posted the update to INC-1."
    card = (await bot.posts(INCIDENTS, 1))[0]
    assert f"*Reporter*\n<@{ONCALL_MEMBER}>" in displayed(card)


@redis_only
async def test_anyone_may_read(bot: SlackBot) -> None:
    await open_incident(bot)

    for text in ("list", "show 1", "help", "postmortem 1"):
        reply = await bot.incident(text, user=VISITOR)
        assert reply.status == 200
        assert not reply.text.startswith("Only "), text
