"""The command grammar: every subcommand, IDs in every spelling, and a helpful line for mistakes."""

from __future__ import annotations

import pytest

from handlers.commands.grammar import (
    Assign,
    ChangeSeverity,
    ChangeStatus,
    CommandError,
    Help,
    Link,
    ListIncidents,
    Open,
    OpenForm,
    Postmortem,
    Resolve,
    Show,
    Statement,
    StatusComponent,
    StatusOverview,
    StatusPost,
    Update,
    help_text,
    parse_incident,
    parse_status,
    reads_context,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", StatusOverview()),
        ("web", StatusComponent("web")),
        ("  MFA ", StatusComponent("mfa")),
        ("post", StatusPost()),
    ],
)
def test_status(text: str, expected: object) -> None:
    assert parse_status(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("help", Help()),
        ("help assign", Help("assign")),
        ("open", OpenForm()),
        ("open Login fails for card holders", Open("Login fails for card holders")),
        ("open Login fails sev:1 components:web,mfa", Open("Login fails", 1, ("web", "mfa"))),
        ("open sev:sev2 Payments: declined", Open("Payments: declined", 2)),
        ("open Outage component:phone severity:4", Open("Outage", 4, ("phone",))),
        ("list", ListIncidents()),
        ("show INC-7", Show(7)),
        ("show inc-7", Show(7)),
        ("show 7", Show(7)),
        ("show INC7", Show(7)),
        (
            "update INC-7 Failover started, next update 12:00",
            Update(7, "Failover started, next update 12:00"),
        ),
        (
            "status 7 identified DNS misconfigured",
            ChangeStatus(7, "identified", "DNS misconfigured"),
        ),
        ("status inc-7 MONITORING", ChangeStatus(7, "monitoring", "")),
        ("sev 7 1", ChangeSeverity(7, 1)),
        ("sev 7 sev3", ChangeSeverity(7, 3)),
        ("assign 7 <@U0ENG1|alice>", Assign(7, "U0ENG1")),
        ("assign 7 <@U0ENG1>", Assign(7, "U0ENG1")),
        ("resolve 7", Resolve(7, "")),
        ("resolve 7 Fixed by rollback", Resolve(7, "Fixed by rollback")),
        ("link 7 INC-3", Link(7, 3)),
        ("statement 7", Statement(7)),
        ("statement 7 it", Statement(7, "it")),
        ("statement 7 lang:en", Statement(7, "en")),
        ("postmortem INC-7", Postmortem(7)),
    ],
)
def test_incident(text: str, expected: object) -> None:
    assert parse_incident(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("show", Show(9)),
        ("update Failover started", Update(9, "Failover started")),
        ("status identified", ChangeStatus(9, "identified")),
        ("sev 2", ChangeSeverity(9, 2)),
        ("assign <@U1>", Assign(9, "U1")),
        ("resolve all good", Resolve(9, "all good")),
        ("link 3", Link(9, 3)),
        ("statement it", Statement(9, "it")),
        ("postmortem", Postmortem(9)),
        ("show 4", Show(4)),
    ],
)
def test_the_id_may_be_left_out_in_an_incidents_channel(text: str, expected: object) -> None:
    assert parse_incident(text, context_incident=9) == expected
    assert reads_context(text), "the dispatcher must look up the channel's incident for this"


@pytest.mark.parametrize(
    "text", ["", "list", "LIST", "open Login fails sev:2", "open", "help", "help show", "nope"]
)
def test_commands_that_never_act_on_the_channels_incident_skip_looking_it_up(text: str) -> None:
    assert not reads_context(text)
    try:
        assert parse_incident(text, context_incident=9) == parse_incident(text)
    except CommandError:
        with pytest.raises(CommandError):
            parse_incident(text)


@pytest.mark.parametrize(
    ("text", "problem", "usage"),
    [
        ("frobnicate 7", "unknown subcommand 'frobnicate'", "/incident help"),
        ("show", "which incident? Give its ID, like INC-7", "/incident show <ID>"),
        ("show seven", "'seven' is not an incident ID", "/incident show <ID>"),
        ("show 7 8", "unexpected '8'", "/incident show <ID>"),
        ("update 7", "the update needs some text", "/incident update <ID> <text>"),
        ("status 7", "which status?", "/incident status <ID> investigating|identified"),
        ("status 7 fixed", "unknown status 'fixed'", "/incident status <ID>"),
        ("sev 7 5", "severity must be 1, 2, 3 or 4", "/incident sev <ID> <1-4>"),
        ("sev 7", "which severity?", "/incident sev <ID> <1-4>"),
        ("assign 7 alice", "mention the new commander with @", "/incident assign <ID> <@user>"),
        ("assign 7", "who?", "/incident assign"),
        ("link 7", "give the two incidents to link", "/incident link <ID> <ID>"),
        ("link 7 7", "cannot be linked to itself", "/incident link"),
        ("open sev:9 Broken", "severity must be 1, 2, 3 or 4", "/incident open <title>"),
        ("open sev:1", "the incident needs a title", "/incident open"),
        ("open Broken sev:1 sev:2", "sev: is given twice", "/incident open"),
        ("open Broken components:", "components: needs at least one", "/incident open"),
        ("statement 7 english!", "is not a language code", "/incident statement"),
        ("list everything", "unexpected 'everything'", "/incident list"),
        ("help nope", "no help for 'nope'", "/incident help"),
    ],
)
def test_mistakes_get_one_line_and_the_usage(text: str, problem: str, usage: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_incident(text)
    assert problem in caught.value.problem
    assert "\n" not in caught.value.problem
    assert caught.value.usage.startswith(usage)
    assert str(caught.value).endswith(caught.value.usage)


def test_status_takes_one_word() -> None:
    with pytest.raises(CommandError, match="expected one word"):
        parse_status("web app")


def test_help_lists_every_subcommand() -> None:
    text = help_text()
    for word in (
        "open",
        "list",
        "show",
        "update",
        "status",
        "sev",
        "assign",
        "resolve",
        "link",
        "statement",
        "postmortem",
    ):
        assert f"/incident {word}" in text
