"""Socket Mode, for organisations that cannot expose an HTTP endpoint to Slack: a stand-in for
Slack's side (apps.connections.open on the mock Web API, a WebSocket that sends `hello` and
envelopes) and the real bot: commands answered, buttons handled, reconnect after `disconnect`,
nothing handled twice when an envelope is redelivered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr

from bot.runtime import Runtime
from bot.store.keyvalue import KeyValue
from bot.wiring import build_runtime, install_chat
from tests.support.builders import failure
from tests.support.slack_app import (
    ALERTS,
    RESPONDER,
    eventually,
    slack_config,
    slack_settings,
    stop_runtime,
)
from tests.support.slack_mock import MockSlack


@dataclass
class SocketBot:
    runtime: Runtime
    slack: MockSlack

    async def ack_of(self, envelope_id: str) -> dict[str, Any]:
        acks = await eventually(
            lambda: [a for a in self.slack.acks if a.get("envelope_id") == envelope_id],
            what=f"the ack of {envelope_id}",
        )
        return acks[0]

    async def command(self, text: str, envelope_id: str, *, retry: int = 0) -> dict[str, Any]:
        payload = {
            "command": "/incident",
            "text": text,
            "user_id": RESPONDER,
            "channel_id": "C0WARROOM",
            "team_id": "T1",
            "trigger_id": f"trigger-{envelope_id}",
            "response_url": self.slack.response_url(envelope_id),
        }
        await self.slack.envelope("slash_commands", payload, envelope_id, retry=retry)
        return await self.ack_of(envelope_id)


@pytest.fixture
async def bot(redis_kv: KeyValue) -> AsyncIterator[SocketBot]:
    slack = await MockSlack().start()
    settings = slack_settings(slack).model_copy(
        update={"slack_app_token": SecretStr("xapp-test"), "slack_signing_secret": None}
    )
    runtime = build_runtime(settings, slack_config(), kv=redis_kv)
    install_chat(runtime)
    await runtime.start()
    try:
        await eventually(lambda: slack.sockets, what="the bot to open its socket")
        yield SocketBot(runtime, slack)
    finally:
        await stop_runtime(runtime)
        await slack.stop()


def _text(ack: dict[str, Any]) -> str:
    return str((ack.get("payload") or {}).get("text", ""))


async def test_commands_buttons_reconnects_and_redeliveries(bot: SocketBot) -> None:
    slack = bot.slack
    assert len(slack.calls_of("apps.connections.open")) == 1
    answer = await bot.command("open Socket mode works sev:2", "e1")
    assert _text(answer).startswith("Declared INC-1 (sev2, investigating): Socket mode works.")

    # Slack redelivers an envelope it saw no ack for: acknowledged again, run once.
    slack.acks.clear()
    await slack.envelope(
        "slash_commands",
        {
            "command": "/incident",
            "text": "open Socket mode works sev:2",
            "user_id": RESPONDER,
            "channel_id": "C0WARROOM",
            "team_id": "T1",
            "trigger_id": "trigger-e1",
            "response_url": slack.response_url("e1"),
        },
        "e1",
        retry=1,
    )
    await bot.ack_of("e1")
    await asyncio.sleep(0.2)
    assert [i.number for i in await bot.runtime.incidents.open_incidents()] == [1]

    # A button on an alert, delivered as an interactive envelope.
    check = next(c for c in bot.runtime.config.checks if c.id == "web-home")
    for _ in range(3):
        await bot.runtime.monitor.record(check, failure(check.id, bot.runtime.clock()))
    [alert] = await eventually(lambda: slack.posts(ALERTS), what="the alert")
    value = next(
        e["value"]
        for b in alert.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "alert_acknowledge"
    )
    await slack.envelope(
        "interactive",
        {
            "type": "block_actions",
            "user": {"id": RESPONDER},
            "team": {"id": "T1"},
            "trigger_id": "trigger-e2",
            "response_url": slack.response_url("e2"),
            "channel": {"id": ALERTS},
            "message": {"ts": alert.result["ts"]},
            "actions": [{"action_id": "alert_acknowledge", "value": value, "type": "button"}],
        },
        "e2",
    )
    await bot.ack_of("e2")
    await eventually(
        lambda: [t for t in slack.texts() if t.startswith("Acknowledged by")],
        what="the acknowledgement in the alert's thread",
    )

    # Slack asks the app to reconnect: it opens a new connection and carries on.
    await slack.sockets[-1].send_json({"type": "disconnect", "reason": "refresh_requested"})
    await eventually(lambda: len(slack.sockets) >= 2, timeout=10, what="a new connection")
    await eventually(
        lambda: len(slack.calls_of("apps.connections.open")) >= 2, what="a new socket URL"
    )
    answer = await bot.command("list", "e3")
    assert _text(answer) == "1 open incident"
    assert json.dumps(answer)  # the ack is plain JSON
