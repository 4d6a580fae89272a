"""The `/status` and `/incident` command grammar, parsed once for Slack, Teams and the console.

Parsing is pure: text in, a command (or a CommandError with one line and the usage) out. What
a command does lives in bot/; who may run it is the `act` each command names, which the
dispatcher asks the one permission policy (bot/access.py) about.

A subcommand is declared once: its command class (with `act` and `subcommand`), its parser,
and one line in SUBCOMMANDS (its usage).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from bot.access import Act
from bot.vocabulary import IncidentStatus, parse_incident_id

Severity = Literal[1, 2, 3, 4]

STATUS_USAGE = "/status [<component> | post]"
_USER = re.compile(r"^<@([A-Z0-9a-z_.:-]+)(?:\|[^>]*)?>$|^@([A-Z0-9][A-Z0-9]+)$")
_OPTION = re.compile(r"^(sev|severity|components?|lang):(.*)$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z]{2,4})?$")


class CommandError(ValueError):
    """A malformed command: one line saying what was wrong, and the usage that fits."""

    def __init__(self, problem: str, usage: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.usage = usage

    def __str__(self) -> str:
        return f"{self.problem}\nUsage: {self.usage}"


@dataclass(frozen=True)
class StatusOverview:
    act: ClassVar[Act | None] = None
    subcommand: ClassVar[str] = "/status"


@dataclass(frozen=True)
class StatusComponent:
    act: ClassVar[Act | None] = None
    subcommand: ClassVar[str] = "/status"
    component: str


@dataclass(frozen=True)
class StatusPost:
    act: ClassVar[Act | None] = Act.POST_STATUS
    subcommand: ClassVar[str] = "/status"


@dataclass(frozen=True)
class Help:
    act: ClassVar[Act | None] = None
    subcommand: ClassVar[str] = "help"
    topic: str | None = None


@dataclass(frozen=True)
class OpenForm:
    """`/incident open` with nothing else: a form (Slack modal) asks for the details."""

    act: ClassVar[Act | None] = Act.OPEN_INCIDENT
    subcommand: ClassVar[str] = "open"


@dataclass(frozen=True)
class Open:
    act: ClassVar[Act | None] = Act.OPEN_INCIDENT
    subcommand: ClassVar[str] = "open"
    title: str
    severity: Severity | None = None
    components: tuple[str, ...] = ()
    outage: str | None = None  # declared from this outage's alert (the form's prefill)


@dataclass(frozen=True)
class ListIncidents:
    act: ClassVar[Act | None] = None
    subcommand: ClassVar[str] = "list"


@dataclass(frozen=True)
class Show:
    act: ClassVar[Act | None] = None
    subcommand: ClassVar[str] = "show"
    incident: int


@dataclass(frozen=True)
class Update:
    act: ClassVar[Act | None] = Act.UPDATE_INCIDENT
    subcommand: ClassVar[str] = "update"
    incident: int
    text: str


@dataclass(frozen=True)
class ChangeStatus:
    act: ClassVar[Act | None] = Act.CHANGE_STATUS
    subcommand: ClassVar[str] = "status"
    incident: int
    status: IncidentStatus
    text: str = ""


@dataclass(frozen=True)
class ChangeSeverity:
    act: ClassVar[Act | None] = Act.CHANGE_SEVERITY
    subcommand: ClassVar[str] = "sev"
    incident: int
    severity: Severity


@dataclass(frozen=True)
class Assign:
    act: ClassVar[Act | None] = Act.ASSIGN_COMMANDER
    subcommand: ClassVar[str] = "assign"
    incident: int
    user: str


@dataclass(frozen=True)
class Resolve:
    act: ClassVar[Act | None] = Act.RESOLVE_INCIDENT
    subcommand: ClassVar[str] = "resolve"
    incident: int
    text: str = ""


@dataclass(frozen=True)
class Link:
    act: ClassVar[Act | None] = Act.LINK_INCIDENTS
    subcommand: ClassVar[str] = "link"
    incident: int
    other: int


@dataclass(frozen=True)
class Statement:
    act: ClassVar[Act | None] = Act.DRAFT_STATEMENT
    subcommand: ClassVar[str] = "statement"
    incident: int
    language: str | None = None


@dataclass(frozen=True)
class ApproveStatement:
    """Approve the incident's pending draft (every language), as its Approve button does."""

    act: ClassVar[Act | None] = Act.APPROVE_STATEMENT
    subcommand: ClassVar[str] = "approve"
    incident: int


@dataclass(frozen=True)
class RejectStatement:
    """Reject the incident's pending draft with a reason, as its Reject button's form does."""

    act: ClassVar[Act | None] = Act.REJECT_STATEMENT
    subcommand: ClassVar[str] = "reject"
    incident: int
    reason: str


@dataclass(frozen=True)
class Postmortem:
    act: ClassVar[Act | None] = None
    subcommand: ClassVar[str] = "postmortem"
    incident: int


Command = (
    StatusOverview
    | StatusComponent
    | StatusPost
    | Help
    | OpenForm
    | Open
    | ListIncidents
    | Show
    | Update
    | ChangeStatus
    | ChangeSeverity
    | Assign
    | Resolve
    | Link
    | Statement
    | ApproveStatement
    | RejectStatement
    | Postmortem
)


def parse_status(text: str) -> StatusOverview | StatusComponent | StatusPost:
    words = text.split()
    if not words:
        return StatusOverview()
    if len(words) > 1:
        raise CommandError(f"expected one word after /status, got {text.strip()!r}", STATUS_USAGE)
    if words[0].lower() == "post":
        return StatusPost()
    return StatusComponent(words[0].lower())


def parse_incident(text: str, context_incident: int | None = None) -> Command:
    """Parse what follows `/incident`. `context_incident`: the incident whose channel or thread
    the command was typed in, used when the ID is left out."""
    words = text.split()
    if not words:
        return Help()
    sub, rest = words[0].lower(), words[1:]
    subcommand = SUBCOMMANDS.get(sub)
    if subcommand is None:
        raise CommandError(
            f"unknown subcommand {words[0]!r}; try one of {', '.join(SUBCOMMANDS)}",
            SUBCOMMANDS["help"].usage,
        )
    return subcommand.parse(_Words(rest, subcommand.usage, context_incident))


@dataclass
class _Words:
    words: list[str]
    usage: str
    context_incident: int | None
    options: dict[str, str] = field(default_factory=dict)

    def fail(self, problem: str) -> CommandError:
        return CommandError(problem, self.usage)

    def incident(self) -> int:
        """The leading incident ID, or the one of the channel/thread the command came from."""
        if self.words:
            number = parse_incident_id(self.words[0])
            if number is not None:
                self.words.pop(0)
                return number
        if self.context_incident is not None:
            return self.context_incident
        if self.words:
            raise self.fail(
                f"{self.words[0]!r} is not an incident ID; write it like INC-7, inc-7 or 7"
            )
        raise self.fail("which incident? Give its ID, like INC-7")

    def take_options(self) -> None:
        """Pull `key:value` options out from anywhere; unknown `word:` stays in the text."""
        kept = []
        for word in self.words:
            match = _OPTION.match(word)
            if match:
                key = match.group(1).lower()
                key = {"severity": "sev", "component": "components"}.get(key, key)
                if key in self.options:
                    raise self.fail(f"{key}: is given twice")
                self.options[key] = match.group(2)
            else:
                kept.append(word)
        self.words = kept

    def text(self) -> str:
        return " ".join(self.words).strip()

    def no_more(self) -> None:
        if self.words:
            raise self.fail(f"unexpected {' '.join(self.words)!r}")


def _severity(value: str, words: _Words) -> Severity:
    cleaned = value.lower().removeprefix("sev")
    if cleaned in ("1", "2", "3", "4"):
        return int(cleaned)  # type: ignore[return-value]
    raise words.fail(f"severity must be 1, 2, 3 or 4 (sev1 is the most severe), got {value!r}")


def _open(words: _Words) -> Command:
    if not words.words:
        return OpenForm()
    words.take_options()
    if "lang" in words.options:
        raise words.fail("lang: does not apply to open")
    title = words.text()
    if not title:
        raise words.fail("the incident needs a title")
    severity = _severity(words.options["sev"], words) if "sev" in words.options else None
    components: tuple[str, ...] = ()
    if "components" in words.options:
        components = tuple(
            c.strip().lower() for c in words.options["components"].split(",") if c.strip()
        )
        if not components:
            raise words.fail("components: needs at least one component ID, like components:web,mfa")
    return Open(title=title, severity=severity, components=components)


def _list(words: _Words) -> Command:
    words.no_more()
    return ListIncidents()


def _show(words: _Words) -> Command:
    incident = words.incident()
    words.no_more()
    return Show(incident)


def _update(words: _Words) -> Command:
    incident = words.incident()
    text = words.text()
    if not text:
        raise words.fail("the update needs some text")
    return Update(incident, text)


def _status(words: _Words) -> Command:
    incident = words.incident()
    if not words.words:
        raise words.fail("which status? investigating, identified, monitoring or resolved")
    status = words.words.pop(0).lower()
    if status not in IncidentStatus._value2member_map_:
        raise words.fail(
            f"unknown status {status!r}; expected investigating, identified, monitoring or resolved"
        )
    return ChangeStatus(incident, IncidentStatus(status), words.text())


def _sev(words: _Words) -> Command:
    if len(words.words) == 1 and words.context_incident is not None:
        incident = words.context_incident
    else:
        incident = words.incident()
    if not words.words:
        raise words.fail("which severity? 1, 2, 3 or 4")
    severity = _severity(words.words.pop(0), words)
    words.no_more()
    return ChangeSeverity(incident, severity)


def _assign(words: _Words) -> Command:
    incident = words.incident()
    if not words.words:
        raise words.fail("who? Mention the new commander, like @alice")
    match = _USER.match(words.words.pop(0))
    if not match:
        raise words.fail("mention the new commander with @, like @alice")
    words.no_more()
    return Assign(incident, match.group(1) or match.group(2))


def _resolve(words: _Words) -> Command:
    incident = words.incident()
    return Resolve(incident, words.text())


def _link(words: _Words) -> Command:
    ids = [parse_incident_id(word) for word in words.words]
    if len(ids) == 1 and ids[0] is not None and words.context_incident is not None:
        first, second = words.context_incident, ids[0]
    elif len(ids) == 2 and ids[0] is not None and ids[1] is not None:
        first, second = ids[0], ids[1]
    else:
        raise words.fail("give the two incidents to link, like INC-7 INC-3")
    if first == second:
        raise words.fail("an incident cannot be linked to itself")
    return Link(first, second)


def _statement(words: _Words) -> Command:
    incident = words.incident()
    words.take_options()
    language = words.options.get("lang")
    if words.words and language is None:
        language = words.words.pop(0)
    words.no_more()
    if language is not None and not _LANGUAGE.match(language):
        raise words.fail(f"{language!r} is not a language code, like en or it")
    return Statement(incident, language.lower() if language else None)


def _approve(words: _Words) -> Command:
    incident = words.incident()
    words.no_more()
    return ApproveStatement(incident)


def _reject(words: _Words) -> Command:
    incident = words.incident()
    reason = words.text()
    if not reason:
        raise words.fail("say why it is rejected, so the next draft can be better")
    return RejectStatement(incident, reason)


def _postmortem(words: _Words) -> Command:
    incident = words.incident()
    words.no_more()
    return Postmortem(incident)


def _help(words: _Words) -> Command:
    topic = words.words[0].lower() if words.words else None
    if topic is not None and topic not in SUBCOMMANDS:
        raise words.fail(f"no help for {topic!r}; try one of {', '.join(SUBCOMMANDS)}")
    return Help(topic)


@dataclass(frozen=True)
class Subcommand:
    usage: str
    parse: Callable[[_Words], Command]
    contextual: bool = True  # may act on the incident of the channel or thread it is typed in


SUBCOMMANDS: dict[str, Subcommand] = {
    "open": Subcommand("/incident open <title> [sev:1-4] [components:web,mfa]", _open, False),
    "list": Subcommand("/incident list", _list, False),
    "show": Subcommand("/incident show <ID>", _show),
    "update": Subcommand("/incident update <ID> <text>", _update),
    "status": Subcommand(
        "/incident status <ID> investigating|identified|monitoring|resolved [text]", _status
    ),
    "sev": Subcommand("/incident sev <ID> <1-4>", _sev),
    "assign": Subcommand("/incident assign <ID> <@user>", _assign),
    "resolve": Subcommand("/incident resolve <ID> [text]", _resolve),
    "link": Subcommand("/incident link <ID> <ID>", _link),
    "statement": Subcommand("/incident statement <ID> [lang]", _statement),
    "approve": Subcommand("/incident approve <ID>", _approve),
    "reject": Subcommand("/incident reject <ID> <reason>", _reject),
    "postmortem": Subcommand("/incident postmortem <ID>", _postmortem),
    "help": Subcommand("/incident help [subcommand]", _help, False),
}


def reads_context(text: str) -> bool:
    """Whether `/incident <text>` may need the incident of the channel or thread it was typed
    in (which costs a store read to find): not for open, list or help."""
    first = text.split(maxsplit=1)[:1]
    subcommand = SUBCOMMANDS.get(first[0].lower()) if first else None
    return subcommand is not None and subcommand.contextual


def usage_of(command: HasSubcommand) -> str | None:
    """The usage line of the subcommand a command belongs to (None: a button's command)."""
    if command.subcommand == "/status":
        return STATUS_USAGE
    found = SUBCOMMANDS.get(command.subcommand)
    return found.usage if found else None


class HasSubcommand(Protocol):
    subcommand: ClassVar[str]


def help_text(topic: str | None = None) -> str:
    if topic is not None:
        return f"Usage: {SUBCOMMANDS[topic].usage}"
    lines = ["Usage:", f"  {STATUS_USAGE}"]
    lines += [f"  {subcommand.usage}" for subcommand in SUBCOMMANDS.values()]
    lines.append("IDs look like INC-7 (7 and inc-7 work too).")
    lines.append("In an incident's own channel or thread the ID may be left out.")
    return "\n".join(lines)
