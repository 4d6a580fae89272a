"""What reaches `/slack/events` must be signed by Slack, fresh, and handled once; what the bot
posts from user text cannot ping a channel or smuggle in links."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.store.keyvalue import KeyValue
from tests.support.slack_app import (
    INCIDENTS,
    MANAGERS,
    SlackBot,
    redis_only,
    running_bot,
    sign,
    strings_in,
)

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


@pytest.fixture
async def bot(kv: KeyValue) -> AsyncIterator[SlackBot]:
    async with running_bot(kv) as running:
        yield running


async def assert_nothing_changed(bot: SlackBot) -> None:
    await bot.settled()
    assert await bot.runtime.incidents.open_incidents() == []
    assert bot.mock.posts() == []


@redis_only
async def test_a_bad_signature_gets_401_and_changes_nothing(bot: SlackBot) -> None:
    body = bot.command_body("/incident", "open Forged incident")
    now = int(time.time())

    reply = await bot.send(
        body,
        "application/x-www-form-urlencoded",
        timestamp=now,
        signature=sign(body, now, secret="not-the-signing-secret"),
    )

    assert reply.status == 401
    await assert_nothing_changed(bot)


@redis_only
async def test_a_body_changed_after_signing_gets_401(bot: SlackBot) -> None:
    signed = bot.command_body("/incident", "list")
    sent = bot.command_body("/incident", "open Forged incident")
    now = int(time.time())

    reply = await bot.send(
        sent, "application/x-www-form-urlencoded", timestamp=now, signature=sign(signed, now)
    )

    assert reply.status == 401
    await assert_nothing_changed(bot)


@redis_only
async def test_a_request_without_a_signature_gets_401(bot: SlackBot) -> None:
    body = bot.command_body("/incident", "open Unsigned incident")

    reply = await bot.send(body, "application/x-www-form-urlencoded", signature="")

    assert reply.status == 401
    await assert_nothing_changed(bot)


@redis_only
@pytest.mark.parametrize("age", [6 * 60, -6 * 60], ids=["stale", "from-the-future"])
async def test_a_timestamp_more_than_five_minutes_off_gets_401(bot: SlackBot, age: int) -> None:
    # Correctly signed, but replayed (or from a skewed clock): Slack's 5-minute window.
    body = bot.command_body("/incident", "open Replayed incident")
    then = int(time.time()) - age

    reply = await bot.send(body, "application/x-www-form-urlencoded", timestamp=then)

    assert reply.status == 401
    await assert_nothing_changed(bot)


@redis_only
async def test_a_bad_signature_on_a_button_click_gets_401(bot: SlackBot) -> None:
    payload = {"type": "block_actions", "user": {"id": "U0ENG1"}, "actions": []}
    body = f"payload={json.dumps(payload)}"
    now = int(time.time())

    reply = await bot.send(
        body,
        "application/x-www-form-urlencoded",
        timestamp=now,
        signature=sign(body, now, secret="wrong"),
    )

    assert reply.status == 401


@redis_only
async def test_url_verification_answers_the_challenge_only_when_signed(bot: SlackBot) -> None:
    body = json.dumps(
        {
            "type": "url_verification",
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        }
    )

    reply = await bot.send(body, "application/json")
    forged = await bot.send(body, "application/json", signature="v0=" + "0" * 64)

    assert reply.status == 200
    assert reply.body == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert forged.status == 401


async def test_a_retried_slash_command_does_not_declare_twice(bot: SlackBot) -> None:
    first = await bot.incident("open Card payments declined sev:1", trigger_id="trigger-retry-1")
    assert first.status == 200
    assert first.text.startswith("Declared INC-1")

    retry = await bot.incident(
        "open Card payments declined sev:1",
        trigger_id="trigger-retry-1",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    again = await bot.incident(
        "open Card payments declined sev:1",
        trigger_id="trigger-retry-1",
        headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"},
    )

    assert retry.status == 200
    assert again.status == 200
    assert not retry.text.startswith("Declared")
    await bot.settled()
    assert [i.id for i in await bot.runtime.incidents.open_incidents()] == ["INC-1"]
    assert len(bot.mock.posts(INCIDENTS)) == 1
    assert len(bot.mock.posts(MANAGERS)) == 1


async def test_a_retried_update_is_posted_once(bot: SlackBot) -> None:
    await bot.incident("open Card payments declined")
    await bot.incident("update 1 Card processor restarted", trigger_id="trigger-update-1")

    retry = await bot.incident(
        "update 1 Card processor restarted",
        trigger_id="trigger-update-1",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )

    assert retry.status == 200
    await bot.settled()
    timeline = await bot.runtime.incidents.timeline(1)
    assert [e.text for e in timeline if e.kind == "update"] == ["update: Card processor restarted"]
    assert len(bot.mock.posts(MANAGERS)) == 2


HOSTILE = "<!channel> <!here> @everyone @here <!subteam^S123|oncall> *bold* <https://x.example|link> <@U0MGR1> \ue000U0MGR1\ue001"


def posted_strings(bot: SlackBot) -> list[str]:
    """Every string the bot sent to Slack that people can see (messages, edits, files, views)."""
    methods = {
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "files.completeUploadExternal",
        "views.open",
        "views.publish",
    }
    found: list[str] = []
    for call in bot.mock.calls:
        if call.method in methods:
            found += strings_in({k: v for k, v in call.args.items() if k != "channel"})
    found += strings_in(bot.mock.responses)
    return found


def assert_inert(strings: list[str]) -> None:
    for text in strings:
        assert "<!" not in text, text
        assert "<https://" not in text, text
        assert not _BROADCAST.search(text), text
        assert "<@U0MGR1>" not in text, f"user text forged a mention: {text!r}"


@redis_only
async def test_user_text_cannot_ping_or_link_in_anything_posted(bot: SlackBot) -> None:
    answers: list[dict[str, Any]] = []
    for command in (
        f"open Outage {HOSTILE} sev:2 components:web",
        f"update 1 Still down {HOSTILE}",
        f"status 1 identified {HOSTILE}",
        f"resolve 1 Fixed {HOSTILE}",
        "show 1",
        "list",
        "postmortem 1",
    ):
        reply = await bot.incident(command)
        assert reply.status == 200, command
        answers.append(reply.body)
    await bot.calls("files.completeUploadExternal")
    await bot.settled()

    card = bot.mock.posts(INCIDENTS)[0]
    assert "Outage" in card.args["text"]
    assert "bold" in card.args["text"], "the text stays readable"
    assert len(bot.mock.posts(INCIDENTS)) == 4, "the card and three thread replies"
    assert len(bot.mock.posts(MANAGERS)) == 4
    assert_inert(posted_strings(bot))
    assert_inert(strings_in(answers))


@redis_only
async def test_hostile_component_names_in_status_stay_inert(bot: SlackBot) -> None:
    reply = await bot.status("<!channel>")

    assert reply.status == 200
    assert reply.text.startswith("unknown component")
    assert_inert(strings_in(reply.body))
