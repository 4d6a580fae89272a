"""Malformed but correctly signed requests: a clear 4xx (or an ignored 200), never a 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store.keyvalue import KeyValue
from tests.support.slack_app import SlackBot, running_bot


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
