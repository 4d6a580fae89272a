"""Alertmanager alerts kept in the store as signals: which component each holds down, and how.

A signal is keyed by the alert's fingerprint, so Alertmanager's grouped re-sends of a firing
alert overwrite it instead of adding to it, and it expires by itself (at the alert's end, or
`alertmanager.expire_after` after it was last heard of) so a lost "resolved" cannot hold a
component down for ever. Any replica records signals; the component's owner reads them when it
works out the component's health (see watch.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from bot.chat.message import clean_user_text
from bot.config import AlertmanagerSettings, Config
from bot.monitoring.alertmanager.payload import WebhookAlert
from bot.monitoring.state import CheckState, LastRun
from bot.store.keyvalue import KeyValue
from bot.vocabulary import IMPACTS, ComponentStatus, worst

_COMPONENTS = "alertmanager:components"  # set: components that may have signals
# A resolved alert is remembered this long, so a late re-send of it cannot open it again.
_RESOLVED_KEPT = timedelta(hours=1)
_REASON_CHARS = 200
# How a signal is named among a component's checks, in the alert and its thread.
SOURCE = "alertmanager"


class Signal(BaseModel):
    """One Alertmanager alert as it bears on one component."""

    fingerprint: str
    component: str
    status: Literal["firing", "resolved"]
    alertname: str
    reason: str  # its summary, for people
    impact: ComponentStatus
    starts_at: datetime
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return self.status == "firing" and self.expires_at > now

    def supersedes(self, older: Signal) -> bool:
        """False for a late copy of what is already known: an earlier firing of the alert, or
        a firing re-sent after its own resolution."""
        if self.starts_at != older.starts_at:
            return self.starts_at > older.starts_at
        return not (older.status == "resolved" and self.status == "firing")


class ComponentMap:
    """Which component an alert names, and what status it gives it (`alertmanager:` config)."""

    def __init__(self, config: Config) -> None:
        self._settings: AlertmanagerSettings = config.alertmanager
        self._known = {c.id for c in config.components}

    def component_of(self, labels: dict[str, str]) -> str | None:
        value = labels.get(self._settings.component_label)
        if value is not None and value in self._known:
            return value
        mapped = self._settings.components
        for key in (value, labels.get("alertname")):
            if key is not None and key in mapped:
                return mapped[key]
        return None

    def impact_of(self, labels: dict[str, str]) -> ComponentStatus:
        said = labels.get("impact")
        if said in {status.value for status in IMPACTS}:
            return ComponentStatus(said)
        severity = labels.get("severity")
        if severity is not None and severity in self._settings.severities:
            return ComponentStatus(self._settings.severities[severity])
        return ComponentStatus(self._settings.impact)

    def signal(self, alert: WebhookAlert, component: str, now: datetime) -> Signal:
        starts_at = min(alert.starts_at or now, now)
        if alert.status == "resolved":
            expires_at = alert.ends_at or now
        elif alert.ends_at is not None and alert.ends_at > now:
            expires_at = alert.ends_at
        else:
            expires_at = now + self._settings.expire_after
        summary = (
            alert.annotations.get("summary")
            or alert.annotations.get("description")
            or alert.annotations.get("message")
            or "firing"
        )
        return Signal(
            fingerprint=alert.key,
            component=component,
            status=alert.status,
            alertname=_one_line(alert.alertname, 80) or "alert",
            reason=_one_line(summary, _REASON_CHARS),
            impact=self.impact_of(alert.labels),
            starts_at=starts_at,
            expires_at=expires_at,
        )


class AlertSignals:
    """Signals in the store: recorded by whichever replica Alertmanager reached, read by the
    owner of their component."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def record(self, signal: Signal, now: datetime) -> bool:
        """Keep a signal; False (and nothing changes) when it is a late copy of what is known."""
        key = _signal_key(signal.fingerprint)
        raw = await self._kv.get(key)
        if raw:
            known = Signal.model_validate_json(raw)
            if known.component == signal.component and not signal.supersedes(known):
                return False
        until = signal.expires_at if signal.status == "firing" else now + _RESOLVED_KEPT
        ttl_ms = max(1000, int((until - now).total_seconds() * 1000))
        # The signal first, then the indexes that lead to it: whoever prunes an index entry
        # whose signal has gone looks again afterwards (see _prune), so none is lost.
        async with self._kv.atomic():
            await self._kv.set(key, signal.model_dump_json(), px=ttl_ms)
            await self._kv.sadd(_component_key(signal.component), signal.fingerprint)
            await self._kv.sadd(_COMPONENTS, signal.component)
        return True

    async def active(self, component_id: str, now: datetime) -> list[Signal]:
        """The firing, unexpired signals of a component."""
        found = []
        index = _component_key(component_id)
        for fingerprint in sorted(await self._kv.smembers(index)):
            raw = await self._kv.get(_signal_key(fingerprint))
            if raw is None:
                await self._prune(index, fingerprint, _signal_key(fingerprint))
                continue
            signal = Signal.model_validate_json(raw)
            if signal.component == component_id and signal.active(now):
                found.append(signal)
        return found

    async def components(self) -> set[str]:
        """The components that may have signals."""
        return await self._kv.smembers(_COMPONENTS)

    async def forget_component(self, component_id: str) -> None:
        """Drop a component from the list to look at, once it has no signal left."""
        await self._prune(_COMPONENTS, component_id, _component_key(component_id))

    async def _prune(self, index: str, member: str, target: str) -> None:
        # Another replica may have recorded `target` between our read and this removal: look
        # again and put the entry back if so.
        await self._kv.srem(index, member)
        if await self._kv.exists(target):
            await self._kv.sadd(index, member)

    async def of_component(
        self, component_id: str, now: datetime
    ) -> tuple[dict[str, CheckState], ComponentStatus]:
        """A component's firing alerts as failing checks (one per alertname, named
        `alertmanager <alertname>`), and the worst status they give it."""
        signals = await self.active(component_id, now)
        return as_check_states(signals), worst([s.impact for s in signals])


def as_check_states(signals: Iterable[Signal]) -> dict[str, CheckState]:
    """Signals as the alerter reads checks: unhealthy since the alert started, with its summary
    as the reason; no probe ran (`last` is None), so no count of failures is shown."""
    by_name: dict[str, list[Signal]] = {}
    for signal in signals:
        by_name.setdefault(signal.alertname, []).append(signal)
    states = {}
    for name, group in sorted(by_name.items()):
        group.sort(key=lambda s: (s.starts_at, s.fingerprint))
        first = group[0]
        reason = first.reason
        if len(group) > 1:
            reason += f" (and {len(group) - 1} more)"
        states[f"{SOURCE} {name}"] = CheckState(
            healthy=False,
            failing_since=first.starts_at,
            last_failure=LastRun(at=first.starts_at, success=False, reason=reason, latency_ms=0),
        )
    return states


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(clean_user_text(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _signal_key(fingerprint: str) -> str:
    return f"alertmanager:signal:{fingerprint}"


def _component_key(component_id: str) -> str:
    return f"alertmanager:component:{component_id}"
