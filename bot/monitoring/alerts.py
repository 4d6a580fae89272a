"""Outage alerts: one alert per outage, updates in its thread, recovery with the duration.

The alerter is level-triggered: after every result it compares a component's health with the
outage it has on record and posts only the difference, so a restart mid-outage (the record is in
the store) never alerts twice. A component that keeps going down and up within the flap window
gets one "Flapping" post instead of an alert and a recovery per cycle.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from bot.chat.message import Action, Message, mention
from bot.chat.poster import Poster
from bot.config import Config
from bot.durations import format_duration
from bot.incidents.recurrence import Recurrence, Recurrences
from bot.metrics import Metrics
from bot.monitoring.alertmanager.signals import AlertSignals
from bot.monitoring.state import CheckState, CheckStates
from bot.store.keyvalue import KeyValue
from bot.timefmt import clock_time, local_time
from bot.vocabulary import ComponentStatus

_OUTAGES = "outage:open"
_FLAPPING = "outage:flapping"
_ROOT_REFRESH = timedelta(minutes=5)
# Long enough for a handover's in-flight probes to land; a crash before the outage is saved
# delays its alert by no more than this.
_START_CLAIM_MS = 60_000

DECLARE_ACTION = "alert_declare_incident"
ACKNOWLEDGE_ACTION = "alert_acknowledge"
SILENCE_ACTION = "alert_silence"
SILENCE_FOR = timedelta(hours=1)


class Outage(BaseModel):
    id: str
    component: str
    status: ComponentStatus
    started_at: datetime
    failing: dict[str, str] = Field(default_factory=dict)  # check ID -> reason
    posted: bool = True  # False while silenced or flapping: its recovery is not posted either
    acknowledged_by: list[str] = Field(default_factory=list)
    refreshed_at: datetime | None = None
    recurrence: Recurrence | None = None  # the recently resolved incident this looks like

    @property
    def ref(self) -> str:
        return f"outage:{self.id}"


class Flapping(BaseModel):
    since: datetime
    last_change: datetime
    ref: str


class Alerter:
    def __init__(
        self,
        config: Config,
        kv: KeyValue,
        poster: Poster,
        metrics: Metrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        recurrences: Recurrences | None = None,
    ) -> None:
        self._config = config
        self._kv = kv
        self._recurrences = recurrences
        self._poster = poster
        self._metrics = metrics
        self._clock = clock
        self._check_states = CheckStates(kv)
        self._attention: set[str] = set()  # components with an open outage or flapping
        # Alertmanager's alerts, when the webhook is wired in (runtime.py).
        self.signals: AlertSignals | None = None

    async def load(self) -> None:
        """Remember which components have an open outage or flap (after a restart)."""
        self._attention = set(await self._kv.hgetall(_OUTAGES)) | set(
            await self._kv.hgetall(_FLAPPING)
        )

    def needs_attention(self, component_id: str) -> bool:
        return component_id in self._attention

    async def open_outage(self, component_id: str) -> Outage | None:
        raw = await self._kv.hget(_OUTAGES, component_id)
        if not raw:
            return None
        outage = Outage.model_validate_json(raw)
        acks = await self._kv.zrangebyscore(_acks_key(outage), float("-inf"), float("inf"))
        outage.acknowledged_by = list(
            dict.fromkeys([*outage.acknowledged_by, *(u for u, _ in acks)])
        )
        return outage

    async def outage_start(self, component_ids: Sequence[str]) -> datetime | None:
        """The first failing probe of the earliest open outage among these components."""
        starts = [
            outage.started_at
            for component_id in component_ids
            if (outage := await self.open_outage(component_id)) is not None
        ]
        return min(starts, default=None)

    async def reconcile(
        self,
        component_id: str,
        health: ComponentStatus,
        states: dict[str, CheckState],
        *,
        maintenance: bool = False,
    ) -> None:
        """Bring the alerts channel in line with a component's health."""
        now = self._clock()
        outage = await self.open_outage(component_id)
        flapping = await self._flapping(component_id)
        if flapping and now - flapping.last_change >= self._config.monitor.flap_window:
            await self._end_flapping(component_id, flapping, health, outage)
            flapping = None
            if outage is not None:
                outage.posted = False  # announce it now as a regular outage
        failing = _failing_reasons(states)
        if health.is_outage and not maintenance:
            if outage is None:
                await self._start(component_id, health, failing, states, now)
            elif not outage.posted:
                # Held back while flapping or silenced; announced once neither holds.
                if flapping is None and await self.silenced_until(component_id) is None:
                    await self._announce(outage, health, failing, states, now)
            else:
                await self._follow(outage, health, failing, states, now)
        elif not health.is_outage and outage is not None:
            await self._recover(outage, now, flapping)

    async def acknowledge(self, component_id: str, user: str) -> Outage | None:
        """Record who is on it and show it on the alert; acknowledging twice changes nothing.

        Who acknowledged is kept in a set in the store, added to in one step: clicks at the same
        moment, on any replica, each count once and none is lost."""
        outage = await self.open_outage(component_id)
        if outage is None:
            return None
        if not await self._kv.zadd(_acks_key(outage), {user: self._clock().timestamp()}, nx=True):
            return outage
        outage = await self.open_outage(component_id) or outage
        if outage.posted:
            states = await self._states_of(component_id)
            await self._refresh_card(outage, states)
            await self._poster.reply(
                "alerts",
                Message(text=f"Acknowledged by {mention(user)}"),
                lane=_lane(outage),
                thread_ref=outage.ref,
            )
        return outage

    async def _states_of(self, component_id: str) -> dict[str, CheckState]:
        """What holds a component down, as the alert shows it: its checks and its firing
        Alertmanager alerts."""
        states = await self._check_states.of_component(self._config, component_id)
        if self.signals is not None:
            outside, _ = await self.signals.of_component(component_id, self._clock())
            states = {**states, **outside}
        return states

    async def silence(
        self, component_id: str, duration: timedelta = SILENCE_FOR, user: str | None = None
    ) -> None:
        """Hold back alerts for a component for a while; a recovery still closes the outage."""
        if duration <= timedelta(0):
            return
        until = self._clock() + duration
        await self._kv.set(
            _silence_key(component_id),
            until.isoformat(),
            px=int(duration.total_seconds() * 1000),
        )
        outage = await self.open_outage(component_id)
        if outage is not None and outage.posted and user is not None:
            text = f"Silenced for {format_duration(duration)} by {mention(user)}"
            await self._poster.reply(
                "alerts", Message(text=text), lane=_lane(outage), thread_ref=outage.ref
            )

    async def silenced_until(self, component_id: str) -> datetime | None:
        raw = await self._kv.get(_silence_key(component_id))
        return datetime.fromisoformat(raw) if raw else None

    # -- transitions -------------------------------------------------------------------------

    async def _start(
        self,
        component_id: str,
        health: ComponentStatus,
        failing: dict[str, str],
        states: dict[str, CheckState],
        now: datetime,
    ) -> None:
        started_at = min(
            (s.failing_since for s in states.values() if not s.healthy and s.failing_since),
            default=now,
        )
        outage = Outage(
            id=f"{component_id}-{started_at:%Y%m%dT%H%M%S}",
            component=component_id,
            status=health,
            started_at=started_at,
            failing=failing,
            posted=False,
            refreshed_at=now,
            recurrence=await self._recurrence_of(component_id, started_at),
        )
        self._attention.add(component_id)
        # Replicas hand components over while probes are in flight: for a moment the old owner
        # and the new one may both see the outage begin. Whoever claims it first starts it.
        if not await self._kv.set(_start_key(component_id), outage.id, nx=True, px=_START_CLAIM_MS):
            return
        flapping = await self._note_outage_start(component_id, now)
        silenced = await self.silenced_until(component_id)
        await self._save(outage)
        if flapping is None and silenced is None:
            await self._announce(outage, health, failing, states, now)

    async def _recurrence_of(self, component_id: str, started_at: datetime) -> Recurrence | None:
        if self._recurrences is None:
            return None
        return await self._recurrences.earlier([component_id], started_at)

    async def _announce(
        self,
        outage: Outage,
        health: ComponentStatus,
        failing: dict[str, str],
        states: dict[str, CheckState],
        now: datetime,
    ) -> None:
        outage.status, outage.failing, outage.posted, outage.refreshed_at = (
            health,
            failing,
            True,
            now,
        )
        await self._save(outage)
        await self._poster.post(
            "alerts", self.render_outage(outage, states), lane=_lane(outage), ref=outage.ref
        )
        self._metrics.alerts_sent.labels("outage").inc()

    async def _follow(
        self,
        outage: Outage,
        health: ComponentStatus,
        failing: dict[str, str],
        states: dict[str, CheckState],
        now: datetime,
    ) -> None:
        previous_status, previous_failing = outage.status, outage.failing
        changed_status = health != previous_status
        changed_checks = set(failing) != set(previous_failing)
        stale = outage.refreshed_at is None or now - outage.refreshed_at >= _ROOT_REFRESH
        if not (changed_status or changed_checks or stale):
            return
        outage.status, outage.failing, outage.refreshed_at = health, failing, now
        await self._save(outage)
        if not outage.posted:
            return
        await self._refresh_card(outage, states)
        name = self._name(outage.component)
        if changed_status:
            text = f"{health.label}: {name} (was {previous_status.label.lower()})"
        elif changed_checks:
            text = f"Still {health.label.lower()}: {name} ({self._cause(failing, states)})"
        else:
            return
        await self._poster.reply(
            "alerts", Message(text=text), lane=_lane(outage), thread_ref=outage.ref
        )
        self._metrics.alerts_sent.labels("update").inc()

    async def _refresh_card(self, outage: Outage, states: dict[str, CheckState]) -> None:
        """Bring the alert up to date; where posts cannot be edited, the reply says it."""
        await self._poster.update(
            "alerts",
            self.render_outage(outage, states),
            lane=_lane(outage),
            ref=outage.ref,
            if_no_edits="skip",
        )

    async def _recover(self, outage: Outage, now: datetime, flapping: Flapping | None) -> None:
        # Only the replica that removes the record announces the recovery (see _start).
        ended_here = await self._kv.hdel(_OUTAGES, outage.component) > 0
        await self._kv.delete(_acks_key(outage), _start_key(outage.component))
        if not ended_here:
            self._attention.discard(outage.component)
            return
        if flapping is None:
            self._attention.discard(outage.component)
        else:
            flapping.last_change = now
            await self._kv.hset(_FLAPPING, {outage.component: flapping.model_dump_json()})
        if not outage.posted:
            return
        message = self.render_recovery(outage, now)
        await self._poster.update(
            "alerts", message, lane=_lane(outage), ref=outage.ref, if_no_edits="skip"
        )
        await self._poster.reply(
            "alerts",
            message.model_copy(update={"broadcast": True, "actions": ()}),
            lane=_lane(outage),
            thread_ref=outage.ref,
        )
        self._metrics.alerts_sent.labels("recovery").inc()

    # -- flapping ----------------------------------------------------------------------------

    async def _flapping(self, component_id: str) -> Flapping | None:
        raw = await self._kv.hget(_FLAPPING, component_id)
        return Flapping.model_validate_json(raw) if raw else None

    async def _note_outage_start(self, component_id: str, now: datetime) -> Flapping | None:
        """Count this outage towards flapping; return the flapping state if the component flaps."""
        window = self._config.monitor.flap_window
        key = f"outage:starts:{component_id}"
        await self._kv.rpush(key, now.isoformat())
        await self._kv.ltrim(key, -self._config.monitor.flap_threshold, -1)
        await self._kv.expire(key, int(window.total_seconds()) + 60)
        starts = [datetime.fromisoformat(s) for s in await self._kv.lrange(key, 0, -1)]
        recent = [s for s in starts if now - s < window]
        flapping = await self._flapping(component_id)
        if flapping is not None:
            flapping.last_change = now
        elif len(recent) >= self._config.monitor.flap_threshold:
            flapping = Flapping(
                since=now, last_change=now, ref=f"flap:{component_id}:{int(now.timestamp())}"
            )
            name = self._name(component_id)
            text = f"Flapping: {name} ({len(recent)} outages in {format_duration(window)})"
            message = Message(
                text=text,
                title=text,
                tone="warning",
                lines=(
                    "Alerts for this component are held back until it has been stable for "
                    f"{format_duration(window)}.",
                ),
            )
            await self._poster.post(
                "alerts", message, lane=f"outage:{component_id}", ref=flapping.ref
            )
            self._metrics.alerts_sent.labels("flapping").inc()
        else:
            return None
        await self._kv.hset(_FLAPPING, {component_id: flapping.model_dump_json()})
        return flapping

    async def _end_flapping(
        self,
        component_id: str,
        flapping: Flapping,
        health: ComponentStatus,
        outage: Outage | None,
    ) -> None:
        await self._kv.hdel(_FLAPPING, component_id)
        if outage is None:
            self._attention.discard(component_id)
        name = self._name(component_id)
        window = format_duration(self._config.monitor.flap_window)
        text = f"Stable: {name} has been {health.label.lower()} for {window}"
        await self._poster.reply(
            "alerts",
            Message(text=text, broadcast=True),
            lane=f"outage:{component_id}",
            thread_ref=flapping.ref,
        )

    # -- rendering ---------------------------------------------------------------------------

    def render_outage(self, outage: Outage, states: dict[str, CheckState]) -> Message:
        name = self._name(outage.component)
        cause = self._cause(outage.failing, states)
        recurrence = outage.recurrence
        if recurrence is not None:
            cause += f"; {recurrence.describe(outage.started_at)}"
        text = f"{outage.status.label}: {name} ({cause})"
        fields: list[tuple[str, str]] = [
            ("Component", f"{name} ({outage.component})"),
            ("Status", outage.status.label),
            ("Since", self._local(outage.started_at, with_zone=True)),
        ]
        if recurrence is not None:
            resolved = self._local(recurrence.resolved_at, with_zone=True)
            fields.append(("Recurrence of", f"{recurrence.id}, resolved {resolved}"))
        for check_id in outage.failing:
            state = states.get(check_id)
            last = state.last_failure if state else None
            if last is None:
                continue
            if not _probed(state):
                fields.append((check_id, last.reason))
                continue
            fields.append((f"Check {check_id}", last.reason))
            if last.failed_condition:
                fields.append(("Failed condition", last.failed_condition))
            fields.append(("Response time", f"{last.latency_ms:.0f} ms"))
        if outage.acknowledged_by:
            fields.append(
                ("Acknowledged by", ", ".join(mention(u) for u in outage.acknowledged_by))
            )
        value = json.dumps(
            {"outage": outage.id, "component": outage.component, "impact": outage.status.value},
            separators=(",", ":"),
        )
        return Message(
            text=text,
            title=f"{outage.status.label}: {name}",
            tone="alert" if outage.status == ComponentStatus.MAJOR_OUTAGE else "warning",
            lines=(cause,),
            fields=tuple(fields),
            context=f"Outage {outage.id} · times in {self._config.timezone}",
            actions=(
                Action(
                    action_id=DECLARE_ACTION, label="Declare incident", value=value, style="primary"
                ),
                Action(action_id=ACKNOWLEDGE_ACTION, label="Acknowledge", value=value),
                Action(action_id=SILENCE_ACTION, label="Silence 1h", value=value, style="danger"),
            ),
        )

    def render_recovery(self, outage: Outage, now: datetime) -> Message:
        name = self._name(outage.component)
        text = f"Recovered: {name} after {format_duration(now - outage.started_at)}"
        return Message(
            text=text,
            title=text,
            tone="recovered",
            fields=(
                ("Component", f"{name} ({outage.component})"),
                ("Was", outage.status.label),
                ("From", self._local(outage.started_at, with_zone=True)),
                ("To", self._local(now, with_zone=True)),
            ),
            context=f"Outage {outage.id}",
        )

    def _cause(self, failing: dict[str, str], states: dict[str, CheckState]) -> str:
        """`web-home: HTTP 503, 3 failures since 11:30` for the check that failed first."""
        if not failing:
            return "no failing checks"

        def since(check_id: str) -> datetime:
            state = states.get(check_id)
            return (state.failing_since if state else None) or datetime.max.replace(tzinfo=UTC)

        first = min(failing, key=since)
        state = states.get(first)
        text = f"{first}: {failing[first]}"
        if state and state.failing_since and not _probed(state):
            text += f", since {self._local(state.failing_since)}"
        elif state and state.failing_since:
            count = state.failures
            noun = "failure" if count == 1 else "failures"
            text += f", {count} {noun} since {self._local(state.failing_since)}"
        others = len(failing) - 1
        if others:
            text += f"; {others} more failing check" + ("s" if others > 1 else "")
        return text

    def _name(self, component_id: str) -> str:
        return self._config.component_name(component_id)

    def _local(self, at: datetime, with_zone: bool = False) -> str:
        tz = self._config.tz
        return local_time(at, tz) if with_zone else clock_time(at, tz)

    async def _save(self, outage: Outage) -> None:
        await self._kv.hset(_OUTAGES, {outage.component: outage.model_dump_json()})


def _failing_reasons(states: dict[str, CheckState]) -> dict[str, str]:
    return {
        check_id: state.last_failure.reason
        for check_id, state in sorted(states.items())
        if not state.healthy and state.last_failure is not None
    }


def _probed(state: CheckState | None) -> bool:
    """False for a failure that no probe of ours saw (an Alertmanager alert): no count of
    failures or response time to show for it."""
    return state is None or state.last is not None


def _lane(outage: Outage) -> str:
    return f"outage:{outage.component}"


def _acks_key(outage: Outage) -> str:
    return f"outage:{outage.id}:acks"


def _start_key(component_id: str) -> str:
    return f"outage:starting:{component_id}"


def _silence_key(component_id: str) -> str:
    return f"silence:{component_id}"


def declare_title(config: Config, component_id: str, status: str) -> str:
    """The title proposed for an incident declared from an outage: `Major outage: mobile app`."""
    known = status in ComponentStatus._value2member_map_
    label = ComponentStatus(status).label if known else "Outage"
    return f"{label}: {config.component_name(component_id)}"
