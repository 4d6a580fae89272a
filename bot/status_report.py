"""`/status`: every component at a glance, or one component in depth."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.chat.message import Message
from bot.config import Config
from bot.incidents.messaging import headline
from bot.incidents.models import Incident
from bot.incidents.store import IncidentStore
from bot.monitoring.alertmanager.signals import SOURCE, AlertSignals
from bot.monitoring.health import effective_statuses
from bot.monitoring.records import Records
from bot.timefmt import local_time
from bot.vocabulary import ComponentStatus

_ICONS = {
    ComponentStatus.OPERATIONAL: "🟢",
    ComponentStatus.UNDER_MAINTENANCE: "🔧",
    ComponentStatus.DEGRADED_PERFORMANCE: "🟡",
    ComponentStatus.PARTIAL_OUTAGE: "🟠",
    ComponentStatus.MAJOR_OUTAGE: "🔴",
}


class StatusReport:
    def __init__(
        self,
        config: Config,
        records: Records,
        incidents: IncidentStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._records = records
        self._incidents = incidents
        self._clock = clock
        # Alertmanager's alerts, shown beside the checks when the webhook is wired in.
        self.signals: AlertSignals | None = None

    async def statuses(self) -> tuple[dict[str, ComponentStatus], list[Incident]]:
        open_incidents = await self._incidents.open_incidents()
        health = await self._records.health.all()
        return effective_statuses(
            self._config, health, open_incidents, self._clock()
        ), open_incidents

    async def overview(self) -> Message:
        statuses, open_incidents = await self.statuses()
        language = self._config.languages[0]
        lines = [
            f"{_ICONS[statuses[c.id]]} {c.display_name(language)} ({c.id}): {statuses[c.id].label}"
            for c in self._config.components
        ]
        if open_incidents:
            lines.append("Open incidents:")
            lines += [f"• {headline(i)}" for i in open_incidents]
        else:
            lines.append("No open incidents.")
        down = [c for c, s in statuses.items() if s.is_outage]
        affected = (
            f"{len(down)} of {len(statuses)} components affected"
            if down
            else (f"all {len(statuses)} components operational")
        )
        text = f"Status: {affected}, {_count(len(open_incidents), 'open incident')}"
        return Message(text=text, title="Service status", lines=tuple(lines))

    async def component(self, component_id: str) -> Message:
        component = self._config.component(component_id)
        statuses, open_incidents = await self.statuses()
        status = statuses[component_id]
        now = self._clock()
        checks = self._config.checks_of(component_id)
        ids = [c.id for c in checks]
        day = await self._records.history.uptime(ids, timedelta(hours=24), now)
        week = await self._records.history.uptime(ids, timedelta(days=7), now)
        p95 = await self._records.history.p95_latency_ms(ids, timedelta(hours=24), now)
        name = component.display_name(self._config.languages[0])
        fields = [
            ("Status", status.label),
            ("Uptime 24h", _percent(day.ratio)),
            ("Uptime 7d", _percent(week.ratio)),
            ("p95 latency 24h", f"≤ {p95} ms" if p95 is not None else "no data"),
        ]
        lines = []
        for check in checks:
            state = await self._records.states.get(check.id)
            last = state.last
            if last is None:
                lines.append(f"{check.id} ({check.type}): not run yet")
            else:
                result = "ok" if last.success else f"failing: {last.reason}"
                when = local_time(last.at, self._config.tz)
                lines.append(
                    f"{check.id} ({check.type}): {result}, {last.latency_ms:.0f} ms at {when}"
                )
        for signal in await self.signals.active(component_id, now) if self.signals else []:
            since = local_time(signal.starts_at, self._config.tz)
            lines.append(f"{SOURCE} {signal.alertname}: firing since {since}: {signal.reason}")
        failures = await self._records.history.recent_failures(ids, limit=5)
        if failures:
            lines.append("Recent failures:")
            lines += [
                f"• {local_time(f.at, self._config.tz)} {f.check_id}: {f.reason}" for f in failures
            ]
        related = [i for i in open_incidents if component_id in i.components]
        lines += [f"Incident: {headline(i)}" for i in related]
        uptime = f"uptime {_percent(day.ratio)} (24h), {_percent(week.ratio)} (7d)"
        text = f"{name}: {status.label}, {uptime}"
        return Message(
            text=text, title=f"{name} ({component_id})", lines=tuple(lines), fields=tuple(fields)
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _percent(ratio: float | None) -> str:
    if ratio is None:
        return "no data"
    return f"{ratio * 100:.2f}%"
