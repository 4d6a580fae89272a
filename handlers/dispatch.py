"""One command path for every chat platform: parse, check the role, call bot/, render the reply."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from bot.chat.message import Message, clean_user_text, mention
from bot.chat.poster import Poster
from bot.config import Config
from bot.durations import format_duration
from bot.incidents.messaging import actor_name, component_names, headline, local_time
from bot.incidents.models import IncidentStatus
from bot.incidents.postmortem import render_postmortem
from bot.incidents.service import IncidentError, IncidentService
from bot.roles import Role, Roles
from bot.statements.service import StatementError, StatementService
from bot.status_report import StatusReport
from handlers import grammar
from handlers.grammar import CommandError

log = logging.getLogger(__name__)

CommandName = Literal["status", "incident"]

# Who may run what; anything not listed is open to everyone.
_REQUIRED: dict[type, tuple[tuple[Role, ...], str]] = {
    grammar.StatusPost: (("responders",), "post the status overview"),
    grammar.OpenForm: (("responders",), "open incidents"),
    grammar.Open: (("responders",), "open incidents"),
    grammar.Update: (("responders",), "post incident updates"),
    grammar.ChangeStatus: (("responders",), "change an incident's status"),
    grammar.ChangeSeverity: (("responders",), "change an incident's severity"),
    grammar.Assign: (("responders",), "assign the incident commander"),
    grammar.Resolve: (("responders",), "resolve incidents"),
    grammar.Link: (("responders",), "link incidents"),
    grammar.Statement: (("responders", "comms"), "draft customer statements"),
}


@dataclass(frozen=True)
class Invocation:
    """A command as someone typed it, wherever they typed it."""

    platform: str
    user: str
    command: CommandName
    text: str
    channel: str | None = None
    thread: str | None = None  # the message the command was typed under, when in a thread
    trusted: bool = False  # the console's operator has every role


@dataclass(frozen=True)
class Reply:
    """What the caller sees (only them, unless `public`)."""

    message: Message
    public: bool = False
    open_form: bool = False  # the platform should open the "declare incident" form
    form_defaults: dict[str, str] = field(default_factory=dict)


class Dispatcher:
    def __init__(
        self,
        config: Config,
        incidents: IncidentService,
        report: StatusReport,
        roles: Roles,
        poster: Poster,
        statements: StatementService,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._statements = statements
        self._incidents = incidents
        self._report = report
        self._roles = roles
        self._poster = poster
        self._clock = clock

    async def handle(self, invocation: Invocation) -> Reply:
        try:
            context = await self._context_incident(invocation)
            command = _parse(invocation, context)
        except CommandError as exc:
            return _say(str(exc))
        try:
            refusal = await self._refusal(invocation, command)
            if refusal:
                return _say(refusal)
            return await self._run(invocation, command)
        except (IncidentError, StatementError) as exc:
            return _say(f"{exc}\nUsage: {grammar.usage_of(command)}")
        except Exception:
            log.exception("command failed: /%s %s", invocation.command, invocation.text)
            return _say("Sorry, that failed on our side and was logged; please try again.")

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

    async def _refusal(self, invocation: Invocation, command: grammar.Command) -> str | None:
        required = _REQUIRED.get(type(command))
        if required is None or invocation.trusted:
            return None
        roles, what = required
        for role in roles:
            if await self._roles.has(invocation.user, role):
                return None
        needed = " or ".join(roles)
        return f"Only {needed} may {what}; ask someone with that role (config: roles.{roles[0]})."

    async def _run(self, invocation: Invocation, command: grammar.Command) -> Reply:
        user = invocation.user
        svc = self._incidents
        match command:
            case grammar.StatusOverview():
                return Reply(await self._report.overview())
            case grammar.StatusComponent(component):
                try:
                    return Reply(await self._report.component(component))
                except KeyError:
                    known = ", ".join(c.id for c in self._config.components)
                    return _say(
                        f"unknown component {component!r}; expected one of {known}\n"
                        f"Usage: {grammar.USAGE['status']}"
                    )
            case grammar.StatusPost():
                overview = await self._report.overview()
                if invocation.channel is None:
                    return Reply(overview)
                await self._poster.post_to(
                    invocation.platform,
                    invocation.channel,
                    overview,
                    lane=f"status:{invocation.channel}",
                )
                return _say("Posted the status overview in this channel.")
            case grammar.Help(topic):
                return _say(grammar.help_text(topic))
            case grammar.OpenForm():
                return Reply(_message("Opening the incident form…"), open_form=True)
            case grammar.Open(title, severity, components):
                incident = await svc.open(
                    title=title, reporter=user, severity=severity, components=components
                )
                return _say(
                    f"Declared {headline(incident)}. You are the commander; "
                    f"/incident update {incident.id} <text> keeps everyone informed."
                )
            case grammar.ListIncidents():
                return Reply(await self._list())
            case grammar.Show(number):
                return Reply(await self._show(number))
            case grammar.Update(number, text):
                incident = await svc.update(number, user, text)
                return _say(f"Posted the update to {incident.id}.")
            case grammar.ChangeStatus(number, status, text):
                incident = await svc.change_status(number, user, IncidentStatus(status), text)
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
                return _say(f"Linked INC-{number} and INC-{other}.")
            case grammar.Statement(number, language):
                statement = await self._statements.draft_for_incident(number, user, language)
                languages = ", ".join(statement.texts)
                return _say(
                    f"Drafted the customer statement for INC-{number} ({languages}); "
                    "it waits for a comms member's approval in the comms channel."
                )
            case grammar.Postmortem(number):
                return await self._postmortem(invocation, number)
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover

    async def _list(self) -> Message:
        open_incidents = await self._incidents.open_incidents()
        if not open_incidents:
            return _message("No open incidents.")
        now = self._clock()
        lines = tuple(
            f"{headline(i)} · {format_duration(now - i.created_at)} · "
            f"{component_names(self._config, i.components)}"
            for i in open_incidents
        )
        count = len(open_incidents)
        return Message(
            text=f"{count} open incident{'' if count == 1 else 's'}",
            title="Open incidents",
            lines=lines,
        )

    async def _show(self, number: int) -> Message:
        incident = await self._incidents.get(number)
        timeline = await self._incidents.timeline(number)
        fields = (
            ("Status", incident.status.value),
            ("Severity", incident.sev),
            ("Commander", mention(incident.commander) if incident.commander else "nobody"),
            ("Reporter", mention(incident.reporter)),
            ("Components", component_names(self._config, incident.components)),
            ("Opened", local_time(self._config, incident.created_at)),
            ("Related", ", ".join(f"INC-{n}" for n in incident.links) or "none"),
        )
        lines = tuple(
            f"{local_time(self._config, e.at)} · {actor_name(e.actor)} · {e.text}" for e in timeline
        )
        return Message(
            text=headline(incident),
            title=headline(incident),
            fields=fields,
            lines=("Timeline:", *lines),
            fields_first=True,
        )

    async def _postmortem(self, invocation: Invocation, number: int) -> Reply:
        incident = await self._incidents.get(number)
        timeline = await self._incidents.timeline(number)
        related = [r for r in [await self._incidents.store.get(n) for n in incident.links] if r]
        report = render_postmortem(self._config, incident, timeline, related, self._clock())
        message = Message(
            text=f"Post-mortem draft for {incident.id}: {incident.title}",
            attachment=(f"{incident.id.lower()}-postmortem.md", report),
        )
        if invocation.channel is None:
            return Reply(message)
        await self._poster.post_to(
            invocation.platform, invocation.channel, message, lane=f"incident:{number}"
        )
        return _say(f"Posting the post-mortem draft for {incident.id} in this channel.")


def _parse(invocation: Invocation, context: int | None) -> grammar.Command:
    text = clean_user_text(invocation.text)
    if invocation.command == "status":
        return grammar.parse_status(text)
    return grammar.parse_incident(text, context)


def _message(text: str) -> Message:
    return Message(text=text)


def _say(text: str) -> Reply:
    first, _, rest = text.partition("\n")
    return Reply(Message(text=first, lines=tuple(rest.splitlines()) if rest else ()))
