"""One command path for every chat platform: parse, check the policy, call bot/, reply.

Slack, Teams and the console hand over who is asking and where, with either the text they typed
or the button or form they used; they get back a platform-neutral `Reply` to render. Retried
deliveries are claimed once here, so no platform's retries can run a command twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from bot.access import Policy, Refusal
from bot.chat.message import Message, clean_user_text, mention
from bot.chat.poster import Poster
from bot.config import Config
from bot.incidents.messaging import headline, render_details, render_list
from bot.incidents.postmortem import render_postmortem
from bot.incidents.service import IncidentError, IncidentService
from bot.monitoring.alerts import SILENCE_FOR, Alerter, declare_title
from bot.statements.models import Statement, StatementState
from bot.statements.service import StatementError, StatementService
from bot.status_report import StatusReport
from bot.store import STORE_UNAVAILABLE_TEXT, UNAVAILABLE
from bot.vocabulary import incident_id, severity_for_status
from handlers.commands import actions, grammar
from handlers.commands.actions import Action, StaleButton
from handlers.commands.grammar import CommandError

log = logging.getLogger(__name__)

CommandName = Literal["status", "incident"]
Command = grammar.Command | Action


@dataclass(frozen=True)
class Caller:
    """Who is asking, and where."""

    platform: str
    user: str
    channel: str | None = None
    thread: str | None = None  # the message the command was typed under, when in a thread


@dataclass(frozen=True)
class Invocation:
    """A command as someone typed it, wherever they typed it."""

    platform: str
    user: str
    command: CommandName
    text: str
    channel: str | None = None
    thread: str | None = None
    delivery_id: str | None = None  # the platform's ID for this request, to ignore its retries

    @property
    def caller(self) -> Caller:
        return Caller(self.platform, self.user, self.channel, self.thread)


@dataclass(frozen=True)
class IncidentForm:
    """Ask for an incident's title, severity and components (Slack: a modal)."""

    defaults: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementForm:
    """Ask a comms member for new words (`edit`) or a reason (`reject`) for a draft."""

    statement: Statement
    kind: Literal["edit", "reject"]


@dataclass(frozen=True)
class Reply:
    """What the caller sees (only them, unless `public`)."""

    message: Message
    public: bool = False
    form: IncidentForm | StatementForm | None = None  # to open instead of answering
    problem: str | None = None  # set when nothing was done: the reason, short, for a form field
    quiet: bool = False  # done, and the posts say so: nothing to tell the caller

    @property
    def refused(self) -> bool:
        return self.problem is not None


class Dispatcher:
    def __init__(
        self,
        config: Config,
        incidents: IncidentService,
        report: StatusReport,
        access: Policy,
        poster: Poster,
        statements: StatementService,
        alerter: Alerter,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._incidents = incidents
        self._report = report
        self._access = access
        self._poster = poster
        self._statements = statements
        self._alerter = alerter
        self._clock = clock

    async def handle(self, invocation: Invocation) -> Reply | None:
        """A typed command; None when this delivery was handled already (a platform retry)."""
        try:
            command = await self._parse(invocation)
        except CommandError as exc:
            return _refuse(str(exc))
        except UNAVAILABLE:
            return _refuse(STORE_UNAVAILABLE_TEXT)
        if invocation.delivery_id:
            return await self.run_once(invocation.caller, command, invocation.delivery_id)
        return await self.run(invocation.caller, command)

    async def press(
        self, caller: Caller, action_id: str, value: str, *, delivery_id: str | None = None
    ) -> Reply | None:
        """A button the bot rendered (alerts, statement drafts); None for a repeated delivery."""
        try:
            command = actions.from_button(action_id, value)
        except StaleButton as exc:
            return _refuse(str(exc))
        if delivery_id:
            return await self.run_once(caller, command, delivery_id)
        return await self.run(caller, command)

    async def run_once(self, caller: Caller, command: Command, delivery_id: str) -> Reply | None:
        """`run`, unless this delivery was handled already (None: a platform's retry)."""
        try:
            if not await self.claim(f"{caller.platform}:{delivery_id}"):
                return None
        except UNAVAILABLE:
            return _refuse(STORE_UNAVAILABLE_TEXT)
        return await self.run(caller, command)

    async def run(self, caller: Caller, command: Command) -> Reply:
        """Run a command for `caller` if the policy allows it."""
        try:
            refusal = await self.refusal(caller, command)
            if refusal is not None:
                return _refuse(refusal.text, refusal.short)
            return await self._carry_out(caller, command)
        except (IncidentError, StatementError) as exc:
            usage = grammar.usage_of(command)
            return _refuse(f"{exc}\nUsage: {usage}" if usage else str(exc), str(exc))
        except UNAVAILABLE as exc:
            log.warning("the store is unavailable (%s): %r not carried out", exc, command)
            return _refuse(STORE_UNAVAILABLE_TEXT)
        except Exception:
            log.exception("command failed: %r", command)
            return _refuse("Sorry, that failed on our side and was logged; please try again.")

    async def refusal(self, caller: Caller, command: Command) -> Refusal | None:
        """Why `caller` may not run `command` (None: they may). One policy for every surface."""
        if command.act is None:
            return None
        return await self._access.refusal(caller.user, command.act)

    async def claim(self, key: str) -> bool:
        """True the first time `key` is claimed: retried deliveries and double clicks are safe."""
        return await self._incidents.store.claim(key)

    async def _parse(self, invocation: Invocation) -> grammar.Command:
        text = clean_user_text(invocation.text)
        if invocation.command == "status":
            return grammar.parse_status(text)
        # Only commands that can act on "this incident" look up the channel's or thread's.
        context = await self._context_incident(invocation) if grammar.reads_context(text) else None
        return grammar.parse_incident(text, context)

    async def _context_incident(self, invocation: Invocation) -> int | None:
        if invocation.channel:
            number = await self._incidents.store.by_channel(invocation.channel)
            if number is not None:
                return number
        if invocation.thread and invocation.channel:
            ref = await self._poster.ref_of(
                invocation.platform, invocation.channel, invocation.thread
            )
            if ref and ref.startswith("incident:"):
                return int(ref.removeprefix("incident:"))
        return None

    async def _carry_out(self, caller: Caller, command: Command) -> Reply:
        user = caller.user
        svc = self._incidents
        match command:
            case grammar.StatusOverview():
                return Reply(await self._report.overview())
            case grammar.StatusComponent(component):
                try:
                    return Reply(await self._report.component(component))
                except KeyError:
                    known = ", ".join(c.id for c in self._config.components)
                    return _refuse(
                        f"unknown component {component!r}; expected one of {known}\n"
                        f"Usage: {grammar.STATUS_USAGE}"
                    )
            case grammar.StatusPost():
                overview = await self._report.overview()
                if caller.channel is None:
                    return Reply(overview)
                await self._poster.post_to(
                    caller.platform, caller.channel, overview, lane=f"status:{caller.channel}"
                )
                return _say("Posted the status overview in this channel.")
            case grammar.Help(topic):
                return _say(grammar.help_text(topic))
            case grammar.OpenForm():
                return Reply(_message("Opening the incident form…"), form=IncidentForm())
            case grammar.Open(title, severity, components, outage):
                incident = await svc.open(
                    title=title,
                    reporter=user,
                    severity=severity,
                    components=components,
                    outage=outage,
                )
                return _say(
                    f"Declared {headline(incident)}. You are the commander; "
                    f"/incident update {incident.id} <text> keeps everyone informed."
                )
            case grammar.ListIncidents():
                incidents = await svc.open_incidents()
                return Reply(render_list(self._config, incidents, self._clock()))
            case grammar.Show(number):
                incident = await svc.get(number)
                timeline = await svc.timeline(number)
                return Reply(render_details(self._config, incident, timeline, self._clock()))
            case grammar.Update(number, text):
                incident = await svc.update(number, user, text)
                return _say(f"Posted the update to {incident.id}.")
            case grammar.ChangeStatus(number, status, text):
                incident = await svc.change_status(number, user, status, text)
                return _say(f"{incident.id} is now {incident.status.value}.")
            case grammar.ChangeSeverity(number, severity):
                incident = await svc.change_severity(number, user, severity)
                return _say(f"{incident.id} is now {incident.sev}.")
            case grammar.Assign(number, commander):
                incident = await svc.assign(number, user, commander)
                return _say(f"{mention(commander)} now commands {incident.id}.")
            case grammar.Resolve(number, text):
                incident = await svc.resolve(number, user, text)
                return _say(f"{incident.id} is resolved.")
            case grammar.Link(number, other):
                await svc.link(number, other, user)
                return _say(f"Linked {incident_id(number)} and {incident_id(other)}.")
            case grammar.Statement(number, language):
                statement = await self._statements.draft_for_incident(number, user, language)
                languages = ", ".join(statement.texts)
                return _say(
                    f"Drafted the customer statement for {incident_id(number)} ({languages}); "
                    "it waits for a comms member's approval in the comms channel."
                )
            case grammar.ApproveStatement(number):
                pending = await self._statements.pending_for_incident(number)
                approved = await self._statements.approve(pending.id, user)
                return _say(f"Published the statement for {approved.subject}.")
            case grammar.RejectStatement(number, reason):
                pending = await self._statements.pending_for_incident(number)
                await self._statements.reject(pending.id, user, reason)
                return _say(
                    f"Rejected the statement for {pending.subject}; "
                    f"/incident statement {incident_id(number)} drafts another."
                )
            case grammar.Postmortem(number):
                return await self._postmortem(caller, number)
            case actions.DeclareFromAlert(outage, component, impact):
                existing = await svc.for_outage(outage)
                if existing is not None:
                    return _refuse(f"{existing.id} was already declared for this outage.")
                defaults = {
                    "title": declare_title(self._config, component, impact),
                    "severity": str(severity_for_status(impact)),
                    "components": component,
                    "outage": outage,
                }
                return Reply(_message("Opening the incident form…"), form=IncidentForm(defaults))
            case actions.Acknowledge(component):
                if await self._alerter.acknowledge(component, user) is None:
                    return _refuse("That outage is over.")
                return _done()
            case actions.Silence(component):
                await self._alerter.silence(component, SILENCE_FOR, user)
                return _done()
            case actions.Approve(statement_id):
                approved = await self._statements.approve(statement_id, user)
                return _say(f"Published the statement for {approved.subject}.")
            case actions.ReviewForm(statement_id, kind):
                draft = await self._statements.store.get(statement_id)
                if draft is None or draft.state != StatementState.PENDING:
                    return _refuse("That statement is no longer waiting for review.")
                return Reply(_message("Opening the review form…"), form=StatementForm(draft, kind))
            case actions.EditStatement(statement_id, texts):
                await self._statements.edit(statement_id, user, dict(texts))
                return _done()
            case actions.RejectStatement(statement_id, reason):
                await self._statements.reject(statement_id, user, reason)
                return _done()
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover

    async def _postmortem(self, caller: Caller, number: int) -> Reply:
        incident = await self._incidents.get(number)
        timeline = await self._incidents.timeline(number)
        related = [r for r in [await self._incidents.store.get(n) for n in incident.links] if r]
        report = render_postmortem(self._config, incident, timeline, related, self._clock())
        message = Message(
            text=f"Post-mortem draft for {incident.id}: {incident.title}",
            attachment=(f"{incident.id.lower()}-postmortem.md", report),
        )
        if caller.channel is None:
            return Reply(message)
        await self._poster.post_to(
            caller.platform, caller.channel, message, lane=f"incident:{number}"
        )
        return _say(f"Posting the post-mortem draft for {incident.id} in this channel.")


def _message(text: str) -> Message:
    return Message(text=text)


def _say(text: str) -> Reply:
    first, _, rest = text.partition("\n")
    return Reply(Message(text=first, lines=tuple(rest.splitlines()) if rest else ()))


def _refuse(text: str, problem: str | None = None) -> Reply:
    reply = _say(text)
    return Reply(reply.message, problem=problem or reply.message.text)


def _done() -> Reply:
    return Reply(_message("Done."), quiet=True)
