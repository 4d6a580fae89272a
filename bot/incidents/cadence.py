"""The rhythm of an open incident: reminders to the commander and managers' summaries.

Both run on the leader on a short tick and keep their last-sent times in the store, so a
restart neither repeats nor forgets them; both stop by themselves when incidents resolve.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.chat.message import Message, mention
from bot.chat.poster import Poster
from bot.config import Config
from bot.durations import format_duration
from bot.incidents.messaging import component_names, incident_ids
from bot.incidents.models import SYSTEM_ACTOR, Incident
from bot.incidents.service import IncidentService
from bot.incidents.without_word import without_word
from bot.store.keyvalue import KeyValue

_REMINDED = "cadence:reminded"
_SUMMARY_AT = "cadence:summary-at"
_UPDATE_KINDS = {"update", "status", "opened", "resolved"}


class Cadence:
    def __init__(
        self,
        config: Config,
        kv: KeyValue,
        incidents: IncidentService,
        poster: Poster,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._kv = kv
        self._incidents = incidents
        self._poster = poster
        self._clock = clock
        # More work on the same tick (statement deadlines, maintenance notices).
        self.hooks: list[Callable[[datetime, list[Incident]], Awaitable[None]]] = []

    def tick_interval(self) -> timedelta:
        """Often enough for the shortest configured interval (reminders, summaries, statement
        deadlines), at most every 30 s."""
        settings = self._config.incidents
        shortest = min(
            [
                *settings.update_reminder.values(),
                *settings.statement_deadline.values(),
                settings.summary_interval,
            ],
            default=timedelta(seconds=30),
        )
        return max(timedelta(seconds=1), min(timedelta(seconds=30), shortest / 4))

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.tick_interval().total_seconds()),
            id="cadence",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )

    async def tick(self) -> None:
        now = self._clock()
        open_incidents = await self._incidents.open_incidents()
        for incident in open_incidents:
            await self._remind(incident, now)
        await self._summarise(open_incidents, now)
        for hook in self.hooks:
            await hook(now, open_incidents)

    async def _remind(self, incident: Incident, now: datetime) -> None:
        every = self._config.incidents.update_reminder.get(incident.sev)  # type: ignore[call-overload]
        if every is None:
            return
        raw = await self._kv.hget(_REMINDED, str(incident.number))
        reminded = datetime.fromisoformat(raw) if raw else None
        since = max(incident.last_update_at, reminded) if reminded else incident.last_update_at
        if now - since < every:
            return
        await self._kv.hset(_REMINDED, {str(incident.number): now.isoformat()})
        who = mention(incident.commander) if incident.commander else "Commander"
        quiet = format_duration(now - incident.last_update_at)
        text = (
            f"{who}: {incident.id} has had no update for {quiet}. "
            f"Post one with /incident update {incident.id} <text>"
        )
        await self._incidents.post_in_incident(incident, Message(text=text))
        await self._incidents.record(incident.number, SYSTEM_ACTOR, "reminder", f"reminded {who}")

    async def _summarise(self, open_incidents: list[Incident], now: datetime) -> None:
        if not open_incidents:
            await self._kv.delete(_SUMMARY_AT)
            return
        raw = await self._kv.get(_SUMMARY_AT)
        if raw is None:
            # The first summary comes one interval after incidents started being open.
            await self._kv.set(_SUMMARY_AT, now.isoformat())
            return
        if now - datetime.fromisoformat(raw) < self._config.incidents.summary_interval:
            return
        await self._kv.set(_SUMMARY_AT, now.isoformat())
        await self._poster.post(
            "managers", await self.render_summary(open_incidents, now), lane="summary"
        )

    async def render_summary(self, open_incidents: list[Incident], now: datetime) -> Message:
        worst = min(i.severity for i in open_incidents)
        count = len(open_incidents)
        text = (
            f"Incident summary: {count} open incident{'s' if count != 1 else ''}, "
            f"worst sev{worst}: "
            + "; ".join(f"{i.id} {i.sev} {i.status.value}" for i in open_incidents)
        )
        lines: list[str] = []
        for incident in open_incidents:
            timeline = await self._incidents.timeline(incident.number)
            last = next((e for e in reversed(timeline) if e.kind in _UPDATE_KINDS), None)
            statement = next(
                (e for e in reversed(timeline) if e.kind == "statement-published"), None
            )
            lines.append(
                f"{incident.id} · {incident.sev} · {incident.status.value} · "
                f"open {format_duration(now - incident.created_at)} · "
                f"{component_names(self._config, incident.components)} · {incident.title}"
            )
            if last is not None:
                lines.append(f"    last update ({format_duration(now - last.at)} ago): {last.text}")
            lines.append(
                f"    customer statement: {statement.text if statement else 'none approved yet'}"
            )
            lines.append(f"    customers: {without_word(incident, timeline, now).describe()}")
            if incident.links:
                lines.append(f"    related: {incident_ids(incident.links)}")
        return Message(text=text, title="Open incidents", lines=tuple(lines))
