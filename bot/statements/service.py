"""Drafting, editing, approving and publishing customer statements.

Nothing reaches customers unapproved: a draft goes to `comms`; only a comms member who did not
write any of it may approve (four eyes); approving publishes it, once, however often it is
clicked; a newer draft for the same incident supersedes the pending one. Every step is in the
incident's timeline.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.access import Act, Policy
from bot.chat.message import Message, clean_user_text
from bot.chat.poster import Poster
from bot.config import Config, Maintenance
from bot.durations import format_duration
from bot.incidents.models import SYSTEM_ACTOR, Incident, TimelineEntry
from bot.incidents.service import IncidentService
from bot.statements.context import (
    StatementContext,
    components_phrase,
)
from bot.statements.messaging import render_draft, render_published
from bot.statements.models import Statement, StatementState
from bot.statements.store import StatementStore, incident_subject, maintenance_subject
from bot.statements.templates import NAME, StatementTemplates
from bot.store.keyvalue import KeyValue
from bot.timefmt import public_date, public_moment, zoned_time
from bot.vocabulary import IncidentStatus

MAX_STATEMENT = 5000
_NAGGED = "statement:nagged"
_NOTICE_AHEAD = timedelta(days=7)
_DRAFT_ON = {"opened", "status", "resolved"}


class StatementError(ValueError):
    """A statement action that cannot be done; the message is written for the person."""


class StatementService:
    def __init__(
        self,
        config: Config,
        kv: KeyValue,
        templates: StatementTemplates,
        incidents: IncidentService,
        poster: Poster,
        access: Policy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.store = StatementStore(kv)
        self._kv = kv
        self._templates = templates
        self._incidents = incidents
        self._poster = poster
        self._access = access
        self._clock = clock
        # Told of every publication (the public page renders again at once).
        self.published_listeners: list[Callable[[Statement], Awaitable[None]]] = []

    # -- drafting ------------------------------------------------------------------------------

    async def on_incident_change(self, incident: Incident, entry: TimelineEntry) -> None:
        """Status changes draft the matching statement automatically."""
        if entry.kind in _DRAFT_ON:
            await self.draft_for_incident(incident.number, entry.actor)

    async def draft_for_incident(
        self, number: int, actor: str, language: str | None = None
    ) -> Statement:
        incident = await self._incidents.get(number)
        languages = self._languages(language)
        previous = await self._last_published(incident_subject(number))
        related = [r for r in [await self._incidents.store.get(n) for n in incident.links] if r]
        earlier = [r for r in related if r.created_at < incident.created_at]
        texts, names = {}, {}
        for lang in languages:
            context = self._incident_context(incident, lang, previous, earlier)
            texts[lang] = self._templates.render(incident.status.value, context)
            names[lang] = self._templates.render(NAME, context)
        statement = Statement(
            id=_new_id(),
            incident=number,
            status=incident.status.value,
            name=names,
            texts=texts,
            drafted_by=actor,
            drafted_at=self._clock(),
        )
        await self._submit(incident_subject(number), statement)
        await self._incidents.record(
            number, actor, "statement-drafted", f"statement drafted ({', '.join(languages)})"
        )
        return statement

    async def draft_maintenance(self, window: Maintenance) -> Statement:
        subject = maintenance_subject(window_key(window))
        names, texts = {}, {}
        for lang in self.config.languages:
            context = self._maintenance_context(window, lang)
            texts[lang] = self._templates.render("maintenance", context)
            names[lang] = self._templates.render(NAME, context)
        statement = Statement(
            id=_new_id(),
            maintenance=window_key(window),
            status="maintenance",
            name=names,
            texts=texts,
            drafted_by=SYSTEM_ACTOR,
            drafted_at=self._clock(),
        )
        await self._submit(subject, statement)
        return statement

    async def _submit(self, subject: str, statement: Statement) -> None:
        older = await self.store.pending(subject)
        if older is not None:
            older.state = StatementState.SUPERSEDED
            await self.store.save(older)
            await self._show_in_comms(older)
        await self.store.add_to_subject(subject, statement)
        await self._poster.post(
            "comms", render_draft(statement), lane=_lane(statement), ref=_ref(statement)
        )

    # -- review --------------------------------------------------------------------------------

    async def edit(self, statement_id: str, user: str, texts: dict[str, str]) -> Statement:
        statement = await self._pending(statement_id)
        await self._require(user, Act.EDIT_STATEMENT)
        cleaned = {}
        for lang, text in texts.items():
            if lang not in statement.texts:
                raise StatementError(f"this statement has no {lang!r} text")
            body = _clean_statement(text)
            if not body:
                raise StatementError(f"the {lang} text cannot be empty")
            cleaned[lang] = body
        statement.texts = {**statement.texts, **cleaned}
        if user not in statement.edited_by:
            statement.edited_by.append(user)
        await self.store.save(statement)
        await self._show_in_comms(statement)
        await self._record(statement, user, "statement-edited", "statement edited")
        return statement

    async def pending_for_incident(self, number: int) -> Statement:
        """The incident's draft waiting for a decision (typed approvals and rejections)."""
        incident = await self._incidents.get(number)
        pending = await self.store.pending(incident_subject(number))
        if pending is None or pending.state != StatementState.PENDING:
            raise StatementError(
                f"{incident.id} has no statement waiting for approval; "
                f"/incident statement {incident.id} drafts one"
            )
        return pending

    async def approve(self, statement_id: str, user: str) -> Statement:
        statement = await self._pending(statement_id)
        await self._require(user, Act.APPROVE_STATEMENT)
        if user in statement.authors:
            raise StatementError(
                "you wrote or edited this statement: another comms member must approve it"
            )
        await self._claim_decision(statement, StatementState.PUBLISHED)
        statement.state = StatementState.PUBLISHED
        statement.decided_by = user
        statement.decided_at = self._clock()
        await self.store.mark_published(statement)
        await self.store.clear_pending(_subject(statement), statement.id)
        await self._show_in_comms(statement)
        await self._record(statement, user, "statement-approved", "statement approved")
        await self._publish(statement)
        return statement

    async def reject(self, statement_id: str, user: str, reason: str) -> Statement:
        statement = await self._pending(statement_id)
        await self._require(user, Act.REJECT_STATEMENT)
        reason = " ".join(clean_user_text(reason).split())[:500]
        if not reason:
            raise StatementError("say why it is rejected, so the next draft can be better")
        await self._claim_decision(statement, StatementState.REJECTED)
        statement.state = StatementState.REJECTED
        statement.decided_by = user
        statement.decided_at = self._clock()
        statement.reason = reason
        await self.store.save(statement)
        await self.store.clear_pending(_subject(statement), statement.id)
        await self._show_in_comms(statement)
        await self._record(statement, user, "statement-rejected", f"statement rejected: {reason}")
        return statement

    async def _publish(self, statement: Statement) -> None:
        for listener in self.published_listeners:
            await listener(statement)
        language = self.config.languages[0]
        message = render_published(statement, language)
        if statement.incident is not None:
            incident = await self._incidents.get(statement.incident)
            await self._incidents.post_in_incident(incident, message)
            first = statement.texts.get(language, "").split("\n\n")[0]
            await self._record(statement, statement.decided_by or "", "statement-published", first)
            lane = f"incident:{incident.number}"
        else:
            await self._poster.post("incidents", message, lane=_lane(statement))
            lane = _lane(statement)
        await self._poster.post("managers", message.model_copy(update={"lines": ()}), lane=lane)

    # -- deadlines and maintenance (on the cadence tick) ---------------------------------------

    async def tick(self, now: datetime, open_incidents: list[Incident]) -> None:
        await self.nag_overdue(now, open_incidents)
        await self.draft_due_maintenance(now)

    async def nag_overdue(self, now: datetime, open_incidents: list[Incident]) -> None:
        """Comms hear when customers have had no approved word by the deadline, and again at
        every deadline interval after that, until a statement is approved."""
        for incident in open_incidents:
            deadline = self.config.incidents.statement_deadline.get(incident.sev)  # type: ignore[call-overload]
            if deadline is None or now - incident.created_at < deadline:
                continue
            if await self._last_published(incident_subject(incident.number)) is not None:
                continue
            raw = await self._kv.hget(_NAGGED, str(incident.number))
            if raw and now - datetime.fromisoformat(raw) < deadline:
                continue
            await self._kv.hset(_NAGGED, {str(incident.number): now.isoformat()})
            waited = format_duration(now - incident.created_at)
            pending = await self.store.pending(incident_subject(incident.number))
            todo = (
                "a draft is waiting for approval above"
                if pending
                else f"draft one with /incident statement {incident.id}"
            )
            text = (
                f"{incident.id} ({incident.sev}): customers have had no word for {waited}; {todo}"
            )
            await self._poster.post("comms", Message(text=text), lane=f"incident:{incident.number}")
            await self._incidents.record(incident.number, SYSTEM_ACTOR, "statement-nag", text)

    async def draft_due_maintenance(self, now: datetime) -> None:
        for window in self.config.maintenance:
            if window.end <= now or window.start - now > _NOTICE_AHEAD:
                continue
            if await self.store.of_subject(maintenance_subject(window_key(window))):
                continue
            await self.draft_maintenance(window)

    # -- queries -------------------------------------------------------------------------------

    async def published(self, since: datetime | None = None) -> list[Statement]:
        return await self.store.published(since.timestamp() if since else 0.0)

    async def published_for(self, subject: str) -> list[Statement]:
        return [
            s for s in await self.store.of_subject(subject) if s.state == StatementState.PUBLISHED
        ]

    # -- internals -----------------------------------------------------------------------------

    def _languages(self, language: str | None) -> list[str]:
        if language is None:
            return list(self.config.languages)
        if language not in self.config.languages:
            raise StatementError(
                f"{language!r} is not a configured language; expected one of "
                f"{', '.join(self.config.languages)}"
            )
        return [language]

    def _incident_context(
        self,
        incident: Incident,
        language: str,
        previous: Statement | None,
        earlier: list[Incident],
    ) -> StatementContext:
        tz = self.config.tz
        known = {component.id for component in self.config.components}
        names = [self.config.component_name(c, language) for c in incident.components if c in known]
        next_update = None
        if incident.status != IncidentStatus.RESOLVED:
            every = self.config.incidents.update_reminder.get(incident.sev)  # type: ignore[call-overload]
            if every is not None:
                next_update = zoned_time(self._clock() + every, tz)
        return StatementContext(
            language=language,
            status=incident.status.value,
            components=names,
            components_phrase=components_phrase(names, language),
            started_at=public_moment(incident.created_at, tz, language),
            next_update_at=next_update,
            previous_statement=previous.texts.get(language) if previous else None,
            related_dates=[public_date(r.created_at, tz, language) for r in earlier],
        )

    def _maintenance_context(self, window: Maintenance, language: str) -> StatementContext:
        tz = self.config.tz
        names = [self.config.component(c).display_name(language) for c in window.components]
        return StatementContext(
            language=language,
            status="maintenance",
            components=names,
            components_phrase=components_phrase(names, language),
            started_at=public_moment(window.start, tz, language),
            next_update_at=None,
            previous_statement=None,
            window_start=public_moment(window.start, tz, language),
            window_end=public_moment(window.end, tz, language),
        )

    async def _claim_decision(self, statement: Statement, decision: StatementState) -> None:
        """Only the first approval or rejection counts; a later one hears what it was, even
        while the first is still being saved (two clicks at once get one answer each)."""
        earlier = await self.store.claim_decision(statement.id, decision)
        if earlier is not None:
            raise StatementError(f"this statement is already {earlier.value}")

    async def _pending(self, statement_id: str) -> Statement:
        statement = await self.store.get(statement_id)
        if statement is None:
            raise StatementError("that statement does not exist")
        if statement.state != StatementState.PENDING:
            raise StatementError(f"this statement is already {statement.state.value}")
        return statement

    async def _require(self, user: str, act: Act) -> None:
        refusal = await self._access.refusal(user, act)
        if refusal is not None:
            raise StatementError(refusal.text)

    async def _last_published(self, subject: str) -> Statement | None:
        published = await self.published_for(subject)
        return published[-1] if published else None

    async def _show_in_comms(self, statement: Statement) -> None:
        await self._poster.update(
            "comms", render_draft(statement), lane=_lane(statement), ref=_ref(statement)
        )

    async def _record(self, statement: Statement, actor: str, kind: str, text: str) -> None:
        if statement.incident is not None:
            await self._incidents.record(statement.incident, actor, kind, text)


def window_key(window: Maintenance) -> str:
    """A stable name for a maintenance window from what defines it."""
    raw = f"{window.start.isoformat()}|{window.end.isoformat()}|{','.join(window.components)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _subject(statement: Statement) -> str:
    if statement.incident is not None:
        return incident_subject(statement.incident)
    return maintenance_subject(statement.maintenance or "")


def _lane(statement: Statement) -> str:
    if statement.incident is not None:
        return f"incident:{statement.incident}"
    return f"maintenance:{statement.maintenance}"


def _ref(statement: Statement) -> str:
    return f"statement:{statement.id}"


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def _clean_statement(text: str) -> str:
    """Comms' own words, as plain text: no markers, no stray whitespace, bounded."""
    paragraphs = [" ".join(p.split()) for p in clean_user_text(text).strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)[:MAX_STATEMENT]
