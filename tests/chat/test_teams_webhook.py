"""Teams Workflows webhooks through the outbox: throttling and outages retried, delivered once,
in order (HTTPS to the Microsoft mock, trusted through a throw-away CA)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.chat.message import Message
from bot.chat.outbox import Delivery, Outbox
from bot.metrics import Metrics
from bot.monitoring.checks.probe import build_ssl_context
from bot.store.keyvalue import KeyValue
from handlers.teams.webhook import TeamsWebhookAdapter
from tests.support.builders import EpochClock
from tests.support.pki import Pki
from tests.support.teams_mock import MockMicrosoft


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[MockMicrosoft]:
    server = MockMicrosoft(Pki(tmp_path)).start()
    yield server
    server.stop()


async def test_429_500_and_a_429_in_a_200_are_retried_and_delivered_once_in_order(
    kv: KeyValue, mock: MockMicrosoft
) -> None:
    clock = EpochClock()
    webhook = TeamsWebhookAdapter(build_ssl_context(mock.pki.ca_file), "https://status.example.com")
    outbox = Outbox(kv, {webhook.platform: webhook}, Metrics(), clock=clock)
    mock.fail_next("webhook", 429, retry_after=30)
    mock.fail_next("webhook", 500)
    mock.fail_next("webhook", 200, body="Microsoft Teams endpoint returned HTTP error 429")
    for text in ("first", "second", "third"):
        message = Message(text=text)
        await outbox.enqueue(
            Delivery(
                lane="alerts", platform=webhook.platform, channel=mock.webhook("a"), message=message
            )
        )
    await outbox.drain()
    assert [m for m in mock.of("webhook")] == []
    clock.now += 29
    await outbox.drain()
    assert mock.of("webhook") == [], "Retry-After is honoured"
    for _ in range(3):
        clock.now += 400
        await outbox.drain()
    assert [mock.summary(r) for r in mock.of("webhook")] == ["first", "second", "third"]
    assert await outbox.depth() == 0
    await webhook.aclose()


async def test_a_refused_webhook_is_set_aside_not_retried(
    kv: KeyValue, mock: MockMicrosoft
) -> None:
    webhook = TeamsWebhookAdapter(build_ssl_context(mock.pki.ca_file), "https://status.example.com")
    outbox = Outbox(kv, {webhook.platform: webhook}, Metrics())
    mock.fail_next("webhook", 404, body="workflow not found")
    await outbox.enqueue(
        Delivery(
            lane="a",
            platform=webhook.platform,
            channel=mock.webhook("gone"),
            message=Message(text="x"),
        )
    )
    await outbox.drain()
    [dead] = await outbox.dead_letters()
    assert "HTTP 404" in (dead.last_error or "")
    await webhook.aclose()
