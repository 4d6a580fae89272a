"""The incident lifecycle: declare, update, change status or severity, assign, link, resolve.

Every change is appended to the incident's timeline (who, what, when), replied in its thread,
reflected on its card and summarised in one line for managers. Listeners (statements) hear of
every change.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from bot.chat.adapter import ChannelCreator
from bot.chat.message import Message, clean_user_text, mention
from bot.chat.poster import Poster
from bot.config import Config
from bot.durations import format_duration
from bot.incidents.messaging import render_card, render_entry, render_manager_line
from bot.incidents.models import SYSTEM_ACTOR, Incident, TimelineEntry
from bot.incidents.recurrence import Recurrence, Recurrences
from bot.incidents.store import IncidentStore
from bot.vocabulary import DEFAULT_SEVERITY, IncidentStatus, incident_id

log = logging.getLogger(__name__)

Listener = Callable[[Incident, TimelineEntry], Awaitable[None]]
# When the outage of some components began (their first failing probe), if one is open.
OutageStart = Callable[[Sequence[str]], Awaitable[datetime | None]]
MAX_TITLE = 150
MAX_TEXT = 2000


class IncidentError(ValueError):
    """Something a person asked for that cannot be done; the message is written for them."""


class IncidentService:
    def __init__(
        self,
        config: Config,
        store: IncidentStore,
        poster: Poster,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        channels: ChannelCreator | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._poster = poster
        self._channels = channels
        self._clock = clock
        self.listeners: list[Listener] = []
        self.recurrences = Recurrences(store, config.incidents.recurrence_window)
        self.outage_start: OutageStart | None = None

    # -- queries -------------------------------------------------------------------------------

    async def get(self, number: int) -> Incident:
        incident = await self.store.get(number)
        if incident is None:
            raise IncidentError(
                f"{incident_id(number)} does not exist; /incident list shows open incidents"
            )
        return incident

    async def open_incidents(self) -> list[Incident]:
        return await self.store.open_incidents()

    async def timeline(self, number: int) -> list[TimelineEntry]:
        return await self.store.timeline(number)

    # -- changes -------------------------------------------------------------------------------

    async def open(
        self,
        *,
        title: str,
        reporter: str,
        severity: int | None = None,
        components: Sequence[str] = (),
        commander: str | None = None,
        outage: str | None = None,
    ) -> Incident:
        title = _clean(title, MAX_TITLE)
        if not title:
            raise IncidentError("the incident needs a title")
        self._check_components(components)
        if outage is not None and not await self.store.claim(f"declared:{outage}"):
            # Two declarations for one outage (a double click, two responders at once).
            existing = await self.for_outage(outage)
            which = existing.id if existing else "An incident"
            raise IncidentError(f"{which} was already declared for this outage.")
        now = self._clock()
        earlier = await self.recurrences.earlier(components, now)
        impact = await self.outage_start(components) if self.outage_start else None
        number = await self.store.next_number()
        incident = Incident(
            number=number,
            title=title,
            severity=severity or DEFAULT_SEVERITY,
            components=list(dict.fromkeys(components)),
            reporter=reporter,
            commander=commander or reporter,
            created_at=now,
            updated_at=now,
            last_update_at=now,
            outage=outage,
            links=[earlier.number] if earlier else [],
            impact_started_at=impact if impact is not None and impact < now else None,
        )
        await self.store.save(incident)
        if self.config.incidents.create_channel and self._channels is not None:
            await self._give_channel(incident)
        entry = TimelineEntry(
            at=now,
            actor=reporter,
            kind="opened",
            text=f"declared: {title}",
        )
        await self.store.append(number, entry)
        if earlier is not None:
            await self._link_earlier(incident, earlier, now)
        await self._poster.post(
            "incidents",
            render_card(self.config, incident, now),
            lane=_lane(incident),
            ref=_ref(incident),
        )
        if incident.channel and self._channels is not None:
            await self._poster.post_to(
                self._channels.platform,
                incident.channel,
                render_card(self.config, incident, now),
                lane=_lane(incident),
            )
        await self._poster.post(
            "managers", render_manager_line(incident, entry), lane=_lane(incident)
        )
        await self._notify(incident, entry)
        return incident

    async def _link_earlier(self, incident: Incident, earlier: Recurrence, now: datetime) -> None:
        """Record both ends of the automatic link to the incident this one looks like a return
        of; the new card shows it, the earlier incident's card and timeline learn of it."""
        text = f"linked automatically: {earlier.describe(now)}"
        await self.record(incident.number, SYSTEM_ACTOR, "link", text)
        previous = await self.store.get(earlier.number)
        if previous is None or incident.number in previous.links:
            return
        previous.links.append(incident.number)
        await self.store.save(previous)
        text = f"linked to {incident.id}: the same components went down again"
        await self.record(previous.number, SYSTEM_ACTOR, "link", text)
        await self._poster.update(
            "incidents",
            render_card(self.config, previous, now),
            lane=_lane(previous),
            ref=_ref(previous),
            if_no_edits="skip",
        )

    async def _give_channel(self, incident: Incident) -> None:
        """Create `inc-<n>-<slug>`; on failure the incident lives in the incidents thread."""
        assert self._channels is not None
        name = f"inc-{incident.number}-{_slug(incident.title)}"
        topic = f"{incident.id} ({incident.sev}): {incident.title}"
        members = [incident.commander] if incident.commander else []
        try:
            incident.channel = await self._channels.create_incident_channel(name, topic, members)
        except Exception:
            log.exception(
                "could not create a channel for %s; using the incidents thread", incident.id
            )
            return
        incident.channel_name = name
        await self.store.save(incident)

    async def update(self, number: int, actor: str, text: str) -> Incident:
        text = _clean(text, MAX_TEXT)
        if not text:
            raise IncidentError("the update needs some text")
        incident = await self._open_one(number)
        incident.last_update_at = self._clock()
        return await self._change(incident, actor, "update", f"update: {text}")

    async def change_status(
        self, number: int, actor: str, status: IncidentStatus, text: str = ""
    ) -> Incident:
        if status == IncidentStatus.RESOLVED:
            return await self.resolve(number, actor, text)
        incident = await self._open_one(number)
        if incident.status == status:
            raise IncidentError(f"{incident.id} is already {status.value}")
        incident.status = status
        incident.last_update_at = self._clock()
        note = _clean(text, MAX_TEXT)
        return await self._change(
            incident, actor, "status", f"is now {status.value}" + (f": {note}" if note else "")
        )

    async def change_severity(self, number: int, actor: str, severity: int) -> Incident:
        incident = await self._open_one(number)
        if incident.severity == severity:
            raise IncidentError(f"{incident.id} is already sev{severity}")
        before = incident.sev
        incident.severity = severity
        return await self._change(
            incident, actor, "severity", f"is now sev{severity} (was {before})"
        )

    async def assign(self, number: int, actor: str, commander: str) -> Incident:
        incident = await self._open_one(number)
        if incident.commander == commander:
            raise IncidentError(f"{mention(commander)} already commands {incident.id}")
        incident.commander = commander
        return await self._change(incident, actor, "commander", f"commander: {mention(commander)}")

    async def resolve(self, number: int, actor: str, text: str = "") -> Incident:
        incident = await self.get(number)
        if not incident.is_open:
            raise IncidentError(f"{incident.id} is already resolved")
        now = self._clock()
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_at = now
        incident.last_update_at = now
        note = _clean(text, MAX_TEXT)
        took = format_duration(now - incident.created_at)
        return await self._change(
            incident, actor, "resolved", f"resolved after {took}" + (f": {note}" if note else "")
        )

    async def link(self, number: int, other: int, actor: str) -> Incident:
        incident, related = await self.get(number), await self.get(other)
        if other in incident.links:
            raise IncidentError(f"{incident.id} and {related.id} are already linked")
        incident.links.append(other)
        related.links.append(number)
        # Both threads and cards show the link; managers need to hear of it once.
        await self._change(related, actor, "link", f"linked to {incident.id}", managers=False)
        return await self._change(incident, actor, "link", f"linked to {related.id}")

    async def for_outage(self, outage_id: str) -> Incident | None:
        """The open incident declared from an outage alert, if any."""
        number = await self.store.by_outage(outage_id)
        incident = await self.store.get(number) if number is not None else None
        return incident if incident is not None and incident.is_open else None

    async def record(self, number: int, actor: str, kind: str, text: str) -> None:
        """Add an entry to the timeline without posting it (statements, acknowledgements)."""
        await self.store.append(
            number, TimelineEntry(at=self._clock(), actor=actor, kind=kind, text=text)
        )

    # -- internals -----------------------------------------------------------------------------

    async def _open_one(self, number: int) -> Incident:
        incident = await self.get(number)
        if not incident.is_open:
            raise IncidentError(f"{incident.id} is resolved; open a new incident and link it")
        return incident

    async def _change(
        self, incident: Incident, actor: str, kind: str, text: str, *, managers: bool = True
    ) -> Incident:
        now = self._clock()
        incident.updated_at = now
        entry = TimelineEntry(at=now, actor=actor, kind=kind, text=text)
        await self.store.save(incident)
        await self.store.append(incident.number, entry)
        lane, ref = _lane(incident), _ref(incident)
        await self.post_in_incident(incident, render_entry(incident, entry))
        await self._poster.update(
            "incidents",
            render_card(self.config, incident, now),
            lane=lane,
            ref=ref,
            if_no_edits="skip",
        )
        if managers:
            await self._poster.post("managers", render_manager_line(incident, entry), lane=lane)
        await self._notify(incident, entry)
        return incident

    async def post_in_incident(self, incident: Incident, message: Message) -> None:
        """Into the incident's own channel when it has one, else its thread in `incidents`."""
        lane = _lane(incident)
        if incident.channel and self._channels is not None:
            await self._poster.post_to(
                self._channels.platform, incident.channel, message, lane=lane
            )
        else:
            await self._poster.reply("incidents", message, lane=lane, thread_ref=_ref(incident))

    async def _notify(self, incident: Incident, entry: TimelineEntry) -> None:
        for listener in self.listeners:
            await listener(incident, entry)

    def _check_components(self, components: Sequence[str]) -> None:
        known = [c.id for c in self.config.components]
        for component in components:
            if component not in known:
                raise IncidentError(
                    f"unknown component {component!r}; expected one of {', '.join(known)}"
                )


def _clean(text: str, limit: int) -> str:
    text = (
        " ".join(clean_user_text(text).split())
        if "\n" not in text
        else clean_user_text(text).strip()
    )
    return text[:limit]


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)[:40].strip("-") or "incident"


def _lane(incident: Incident) -> str:
    return f"incident:{incident.number}"


def _ref(incident: Incident) -> str:
    return f"incident:{incident.number}"
