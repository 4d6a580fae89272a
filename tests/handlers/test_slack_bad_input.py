"""Malformed but correctly signed requests: a clear 4xx (or an ignored 200), never a 5xx."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest

from bot.store.keyvalue import KeyValue
from tests.support.slack_app import SECRET, SlackBot, running_bot


@pytest.fixture
async def bot(memory_kv: KeyValue) -> AsyncIterator[SlackBot]:
    async with running_bot(memory_kv) as running:
        yield running


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=not-json", "application/x-www-form-urlencoded"),
        ('payload={"type":"block_actions"}', "application/x-www-form-urlencoded"),
        ("{", "application/json"),
        ('{"type":"event_callback"}', "application/json"),
        ("", "application/x-www-form-urlencoded"),
        ("command=%2Funknown&text=x&user_id=U1&team_id=T1", "application/x-www-form-urlencoded"),
        ("command=%2Fincident&team_id=T1", "application/x-www-form-urlencoded"),
    ],
)
async def test_malformed_signed_requests_never_get_a_5xx(
    bot: SlackBot, body: str, content_type: str
) -> None:
    reply = await bot.send(body, content_type)
    assert reply.status < 500, reply.raw
    assert "Traceback" not in reply.raw


async def test_a_forged_garbled_request_gets_401(bot: SlackBot) -> None:
    reply = await bot.send(
        "payload=not-json", "application/x-www-form-urlencoded", signature="v0=forged"
    )
    assert reply.status == 401


async def test_only_post_is_served(bot: SlackBot) -> None:
    response = await bot.http.get(bot.url)
    assert response.status_code == 405


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


@pytest.mark.parametrize("timestamp", ["abc", "9" * 400, "", "-1", "1.5"])
async def test_an_unparseable_timestamp_gets_401(
    bot: SlackBot, timestamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = "command=%2Fstatus&text=&user_id=U1"
    response = await bot.http.post(
        bot.url,
        content=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )
    assert response.status_code == 401
    assert _tracebacks(caplog) == []


async def test_a_body_that_is_not_utf8_gets_401_unsigned_and_400_signed(
    bot: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"payload=\xff\xfe\xfd"
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts}
    unsigned = await bot.http.post(
        bot.url, content=body, headers={**headers, "X-Slack-Signature": "v0=x"}
    )
    assert unsigned.status_code == 401
    signature = (
        "v0="
        + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    )
    signed = await bot.http.post(
        bot.url, content=body, headers={**headers, "X-Slack-Signature": signature}
    )
    assert signed.status_code == 400
    assert _tracebacks(caplog) == []


@pytest.mark.parametrize("payload", ["[]", "null", "7", '"text"', "[1,2]", "{}"])
async def test_a_payload_that_is_not_an_object_gets_400(
    bot: SlackBot, payload: str, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await bot.send(f"payload={quote(payload)}", "application/x-www-form-urlencoded")
    assert 400 <= reply.status < 500 or reply.status == 200, reply.raw
    assert _tracebacks(caplog) == []


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "actions": [], "user": {"id": "U0ENG1"}},
        {
            "type": "block_actions",
            "actions": [{"action_id": "alert_acknowledge"}],
            "user": "U0ENG1",
        },
        {"type": "block_actions", "actions": ["x"], "user": {"id": "U0ENG1"}},
        {
            "type": "block_actions",
            "actions": [{"action_id": "statement_approve", "value": 7}],
            "user": {"id": "U0COMMS1"},
        },
        {
            "type": "view_submission",
            "user": {"id": "U0ENG1"},
            "view": {"callback_id": "incident_open"},
        },
        {
            "type": "view_submission",
            "user": "U0ENG1",
            "view": {"callback_id": "statement_edit", "state": []},
        },
        {
            "type": "view_submission",
            "user": {"id": "U0ENG1"},
            "view": {"callback_id": "statement_reject", "state": {"values": []}},
        },
    ],
)
async def test_malformed_interactions_are_answered_without_a_traceback(
    bot: SlackBot, payload: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    reply = await bot.send(
        f"payload={quote(json.dumps(payload))}", "application/x-www-form-urlencoded"
    )
    assert reply.status < 500, reply.raw
    await asyncio.sleep(0.2)  # follow-ups run after the acknowledgement
    assert _tracebacks(caplog) == []
