"""Alertmanager signals without HTTP: any bytes are a payload or one line why; the watcher acts
on a component's signals when they change, on its owner only, and again while they hold it down."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, seed, settings
from hypothesis import strategies as st

from bot.monitoring.alertmanager.payload import (
    PayloadError,
    WebhookPayload,
    parse_payload,
)
from bot.monitoring.alertmanager.signals import AlertSignals, ComponentMap
from bot.monitoring.alertmanager.watch import SignalWatcher
from bot.store import MemoryKeyValue
from tests.support.alertmanager import webhook_alert, webhook_payload
from tests.support.builders import make_config

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    ["version", "status", "alerts", "labels", "annotations", "startsAt", "endsAt", "fingerprint"]
)


def _mutated(draw: Any) -> bytes:
    payload: dict[str, Any] = webhook_payload(webhook_alert())
    target = payload if draw(st.booleans()) else payload["alerts"][0]
    target[draw(FIELDS)] = draw(JSON)
    return json.dumps(payload).encode()


@seed(11)
@settings(max_examples=300, deadline=None)
@given(body=st.one_of(st.binary(max_size=200), st.composite(_mutated)()))
def test_any_body_is_a_payload_or_one_line_why(body: bytes) -> None:
    reason = None
    try:
        parsed: WebhookPayload | None = parse_payload(body)
    except PayloadError as exc:
        parsed, reason = None, str(exc)
    if parsed is None:
        assert reason and "\n" not in reason and len(reason) < 300, reason


async def test_the_watcher_decides_on_change_on_the_owner_and_while_held_down() -> None:
    config = make_config()
    kv = MemoryKeyValue()
    signals = AlertSignals(kv)
    now = datetime.now(UTC)
    decided: list[str] = []

    async def decide(component: str) -> None:
        decided.append(component)

    def clock() -> datetime:
        return now

    watcher = SignalWatcher(config, signals, clock, refresh=timedelta(hours=1))
    mapping = ComponentMap(config)
    alert = parse_payload(json.dumps(webhook_payload(webhook_alert())).encode()).alerts[0]
    await signals.record(mapping.signal(alert, "web", now), now)

    await watcher.sweep(lambda c: False, decide)
    assert decided == [], "not the owner"
    await watcher.sweep(lambda c: True, decide)
    await watcher.sweep(lambda c: True, decide)
    assert decided == ["web"], "once per change"

    often = SignalWatcher(config, signals, clock, refresh=timedelta(0))
    await often.sweep(lambda c: True, decide)
    await often.sweep(lambda c: True, decide)
    assert decided == ["web"] * 3, "again while the alert holds the component down"

    resolved = alert.model_copy(update={"status": "resolved"})
    await signals.record(mapping.signal(resolved, "web", now), now)
    await watcher.sweep(lambda c: True, decide)
    assert decided == ["web"] * 4
    assert await signals.active("web", now) == []


async def test_a_firing_alert_expires_after_expire_after() -> None:
    config = make_config(alertmanager={"expire_after": "1h"})
    signals = AlertSignals(MemoryKeyValue())
    now = datetime.now(UTC)
    alert = parse_payload(json.dumps(webhook_payload(webhook_alert())).encode()).alerts[0]
    signal = ComponentMap(config).signal(alert, "web", now)
    assert signal.expires_at == now + timedelta(hours=1)
    await signals.record(signal, now)
    assert [s.fingerprint for s in await signals.active("web", now)] == [alert.key]
    assert await signals.active("web", now + timedelta(hours=1, seconds=1)) == []
