"""What customers may see, gathered per request: approved statements, never internal records."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.config import Config, Maintenance
from bot.incidents.models import Incident
from bot.incidents.store import IncidentStore
from bot.monitoring.health import effective_statuses
from bot.monitoring.history import DailyUptime
from bot.monitoring.records import Records
from bot.statements.models import Statement, StatementState
from bot.statements.service import StatementService, window_key
from bot.statements.store import incident_subject, maintenance_subject
from bot.vocabulary import (
    ComponentStatus,
    IncidentStatus,
    impact_status,
    severity_impact,
    worst,
)

UPTIME_DAYS = 90
PAST_WINDOW = timedelta(days=14)
FEED_LIMIT = 50
# The feed reads statements of this window only, so a request never walks the whole history.
FEED_WINDOW = timedelta(days=90)

_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class PublicUpdate:
    """One published statement as customers read it."""

    id: str
    status: str  # investigating | identified | monitoring | resolved | maintenance
    body: str
    language: str  # the body's language: another one when none was written in the reader's
    published_at: datetime

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in _BLANK_LINE.split(self.body) if p.strip()]


@dataclass(frozen=True)
class PublicIncident:
    number: int
    name: str  # the published statement's public name, never the internal title
    name_language: str
    status: str  # as published; resolved once engineers resolve it
    impact: str  # none | minor | major | critical
    started_at: datetime  # when it began
    created_at: datetime  # when customers first heard of it
    updated_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    components: tuple[str, ...]
    updates: tuple[PublicUpdate, ...]  # newest first

    @property
    def anchor(self) -> str:
        return f"incident-{self.number}"

    @property
    def is_resolved(self) -> bool:
        return self.status == IncidentStatus.RESOLVED.value

    @property
    def impact_status(self) -> ComponentStatus:
        return impact_status(self.impact)


@dataclass(frozen=True)
class PublicMaintenance:
    key: str
    name: str  # the approved notice's name, else the operator's title from the config
    name_language: str | None  # None: the config title, written in no particular language
    status: str  # scheduled | in_progress
    start: datetime
    end: datetime
    components: tuple[str, ...]
    updates: tuple[PublicUpdate, ...]  # approved notices, newest first; empty when none is

    @property
    def anchor(self) -> str:
        return f"maintenance-{self.key}"

    @property
    def announced(self) -> bool:
        return bool(self.updates)


@dataclass(frozen=True)
class ComponentView:
    id: str
    name: str
    description: str | None
    status: ComponentStatus
    position: int
    days: tuple[DailyUptime, ...]  # oldest first; empty when history was not asked for

    @property
    def uptime(self) -> float | None:
        total = sum(d.total for d in self.days)
        return sum(d.ok for d in self.days) / total if total else None


@dataclass(frozen=True)
class FeedEntry:
    update: PublicUpdate
    name: str
    anchor: str


@dataclass(frozen=True)
class PublicStatus:
    language: str
    now: datetime
    components: tuple[ComponentView, ...]
    incidents: tuple[PublicIncident, ...]  # active, newest first
    past: tuple[PublicIncident, ...]  # resolved in the last 14 days, newest first
    maintenance: tuple[PublicMaintenance, ...]  # upcoming and in progress, soonest first

    @property
    def overall(self) -> ComponentStatus:
        """The worst a customer is told about: components, and published incidents' impact."""
        return worst(
            [c.status for c in self.components] + [i.impact_status for i in self.incidents]
        )


class StatusPage:
    """The one gate between the bot's records and the page, summary.json and feed.

    An incident exists for customers only once comms have published a statement about it, and
    its name is that statement's public name. Internal titles, notes, timelines and drafts stay
    behind: the views carry no `Incident` and no draft, so a renderer cannot reach them.
    """

    def __init__(
        self,
        config: Config,
        public_url: str,
        records: Records,
        incidents: IncidentStore,
        statements: StatementService,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.public_url = public_url.rstrip("/")
        self._records = records
        self._incidents = incidents
        self._statements = statements
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def language(self, requested: str | None) -> str:
        """The reader's language when configured; otherwise the first configured one."""
        wanted = (requested or "").strip().lower()
        return wanted if wanted in self.config.languages else self.config.languages[0]

    async def status(
        self, language: str, *, history: bool = True, past: bool = True
    ) -> PublicStatus:
        """Everything the page shows. Store reads are bounded by what is shown: open incidents,
        incidents with statements in the last 14 days, configured maintenance windows, and one
        batched read of daily roll-ups per component."""
        now = self.now()
        open_incidents = await self._incidents.open_incidents()
        known = {i.number: i for i in open_incidents}
        numbers = list(known)
        if past:
            for statement in await self._statements.published(now - PAST_WINDOW):
                if statement.incident is not None and statement.incident not in numbers:
                    numbers.append(statement.incident)
        shown: list[tuple[Incident, PublicIncident]] = []
        for number in numbers:
            incident = known.get(number) or await self._incidents.get(number)
            if incident is None:
                continue
            published = await self._statements.published_for(incident_subject(number))
            if not published:
                continue  # nothing approved yet: customers do not know of it at all
            shown.append((incident, self._public_incident(incident, published, language)))
        active = [(i, p) for i, p in shown if not p.is_resolved]
        components = await self._components(language, [i for i, _ in active], now, history)
        recent = [
            p
            for _, p in shown
            if p.is_resolved and (p.resolved_at or p.updated_at) >= now - PAST_WINDOW
        ]
        return PublicStatus(
            language=language,
            now=now,
            components=components,
            incidents=_newest_first(p for _, p in active),
            past=_newest_first(recent) if past else (),
            maintenance=await self._maintenance(language, now),
        )

    async def feed(self, language: str) -> list[FeedEntry]:
        """Published statements, newest first, at most FEED_LIMIT of the last FEED_WINDOW."""
        published = await self._statements.published(self.now() - FEED_WINDOW)
        published = [s for s in published if s.state == StatementState.PUBLISHED]
        published.sort(key=_published_at, reverse=True)
        entries = []
        for statement in published[:FEED_LIMIT]:
            name, _ = self._pick(statement.name, language)
            if statement.incident is not None:
                anchor = f"incident-{statement.incident}"
            else:
                anchor = f"maintenance-{statement.maintenance}"
            entries.append(FeedEntry(self._update(statement, language), name, anchor))
        return entries

    # -- internals -----------------------------------------------------------------------------

    async def _components(
        self, language: str, active: Sequence[Incident], now: datetime, history: bool
    ) -> tuple[ComponentView, ...]:
        # Only incidents customers have been told about move a component; checks always do.
        statuses = effective_statuses(
            self.config, await self._records.health.all(), list(active), now
        )
        today = now.astimezone(UTC).date()  # the daily roll-ups are kept per UTC day
        views = []
        for position, component in enumerate(self.config.components, start=1):
            days: tuple[DailyUptime, ...] = ()
            if history:
                days = tuple(await self._records.history.daily(component.id, UPTIME_DAYS, today))
            views.append(
                ComponentView(
                    id=component.id,
                    name=component.display_name(language),
                    description=component.description,
                    status=statuses[component.id],
                    position=position,
                    days=days,
                )
            )
        return tuple(views)

    async def _maintenance(self, language: str, now: datetime) -> tuple[PublicMaintenance, ...]:
        windows = sorted((w for w in self.config.maintenance if w.end > now), key=lambda w: w.start)
        return tuple([await self._public_maintenance(w, language, now) for w in windows])

    async def _public_maintenance(
        self, window: Maintenance, language: str, now: datetime
    ) -> PublicMaintenance:
        key = window_key(window)
        published = await self._statements.published_for(maintenance_subject(key))
        published.sort(key=_published_at)
        name: str = window.title
        name_language: str | None = None
        if published:
            name, name_language = self._pick(published[-1].name, language)
        return PublicMaintenance(
            key=key,
            name=name,
            name_language=name_language,
            status="in_progress" if window.start <= now else "scheduled",
            start=window.start.astimezone(UTC),
            end=window.end.astimezone(UTC),
            components=tuple(window.components),
            updates=tuple(self._update(s, language) for s in reversed(published)),
        )

    def _public_incident(
        self, incident: Incident, published: list[Statement], language: str
    ) -> PublicIncident:
        published = sorted(published, key=_published_at)
        latest = published[-1]
        name, name_language = self._pick(latest.name, language)
        status = latest.status
        resolved_at = next(
            (_published_at(s) for s in published if s.status == IncidentStatus.RESOLVED.value),
            None,
        )
        if not incident.is_open:
            # Engineers resolved it: the page must not keep claiming a problem that is over,
            # even before comms approve the resolution notice (which then appears as usual).
            status = IncidentStatus.RESOLVED.value
            resolved_at = resolved_at or incident.resolved_at
        monitoring_at = next(
            (_published_at(s) for s in published if s.status == IncidentStatus.MONITORING.value),
            None,
        )
        updated_at = max(_published_at(latest), resolved_at or _published_at(latest))
        return PublicIncident(
            number=incident.number,
            name=name,
            name_language=name_language,
            status=status,
            impact=severity_impact(incident.severity),
            started_at=incident.created_at.astimezone(UTC),
            created_at=_published_at(published[0]),
            updated_at=updated_at,
            monitoring_at=monitoring_at,
            resolved_at=resolved_at.astimezone(UTC) if resolved_at else None,
            components=tuple(incident.components),
            updates=tuple(self._update(s, language) for s in reversed(published)),
        )

    def _update(self, statement: Statement, language: str) -> PublicUpdate:
        body, body_language = self._pick(statement.texts, language)
        return PublicUpdate(
            id=statement.id,
            status=statement.status,
            body=body,
            language=body_language,
            published_at=_published_at(statement),
        )

    def _pick(self, texts: Mapping[str, str], language: str) -> tuple[str, str]:
        """The text in the reader's language, else the first configured one, else any."""
        for candidate in (language, self.config.languages[0], *texts):
            if texts.get(candidate):
                return texts[candidate], candidate
        return "", language


def _published_at(statement: Statement) -> datetime:
    return (statement.decided_at or statement.drafted_at).astimezone(UTC)


def _newest_first(incidents: Iterable[PublicIncident]) -> tuple[PublicIncident, ...]:
    return tuple(sorted(incidents, key=lambda i: i.updated_at, reverse=True))
