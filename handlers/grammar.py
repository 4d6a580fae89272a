"""The `/status` and `/incident` command grammar, parsed once for Slack, Teams and the console.

Parsing is pure: text in, a command (or a CommandError with one line and the usage) out. What
a command does lives in bot/; who may run it is checked by the dispatcher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal[1, 2, 3, 4]
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
STATUSES: tuple[IncidentStatus, ...] = ("investigating", "identified", "monitoring", "resolved")

USAGE: dict[str, str] = {
    "status": "/status [<component> | post]",
    "open": "/incident open <title> [sev:1-4] [components:web,mfa]",
    "list": "/incident list",
    "show": "/incident show <ID>",
    "update": "/incident update <ID> <text>",
    "status_change": "/incident status <ID> investigating|identified|monitoring|resolved [text]",
    "sev": "/incident sev <ID> <1-4>",
    "assign": "/incident assign <ID> <@user>",
    "resolve": "/incident resolve <ID> [text]",
    "link": "/incident link <ID> <ID>",
    "statement": "/incident statement <ID> [lang]",
    "postmortem": "/incident postmortem <ID>",
    "help": "/incident help [subcommand]",
}
_SUBCOMMAND_USAGE = {
    "open": "open",
    "list": "list",
    "show": "show",
    "update": "update",
    "status": "status_change",
    "sev": "sev",
    "assign": "assign",
    "resolve": "resolve",
    "link": "link",
    "statement": "statement",
    "postmortem": "postmortem",
    "help": "help",
}
SUBCOMMANDS = tuple(_SUBCOMMAND_USAGE)

_ID = re.compile(r"^(?:inc-?)?(\d+)$", re.IGNORECASE)
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
    pass


@dataclass(frozen=True)
class StatusComponent:
    component: str


@dataclass(frozen=True)
class StatusPost:
    pass


@dataclass(frozen=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True)
class OpenForm:
    """`/incident open` with nothing else: a form (Slack modal) asks for the details."""


@dataclass(frozen=True)
class Open:
    title: str
    severity: Severity | None = None
    components: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListIncidents:
    pass


@dataclass(frozen=True)
class Show:
    incident: int


@dataclass(frozen=True)
class Update:
    incident: int
    text: str


@dataclass(frozen=True)
class ChangeStatus:
    incident: int
    status: IncidentStatus
    text: str = ""


@dataclass(frozen=True)
class ChangeSeverity:
    incident: int
    severity: Severity


@dataclass(frozen=True)
class Assign:
    incident: int
    user: str


@dataclass(frozen=True)
class Resolve:
    incident: int
    text: str = ""


@dataclass(frozen=True)
class Link:
    incident: int
    other: int


@dataclass(frozen=True)
class Statement:
    incident: int
    language: str | None = None


@dataclass(frozen=True)
class Postmortem:
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
    | Postmortem
)


def format_id(number: int) -> str:
    return f"INC-{number}"


def parse_status(text: str) -> StatusOverview | StatusComponent | StatusPost:
    words = text.split()
    if not words:
        return StatusOverview()
    if len(words) > 1:
        raise CommandError(
            f"expected one word after /status, got {text.strip()!r}", USAGE["status"]
        )
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
    parser = _PARSERS.get(sub)
    if parser is None:
        raise CommandError(
            f"unknown subcommand {words[0]!r}; try one of {', '.join(SUBCOMMANDS)}",
            USAGE["help"],
        )
    return parser(_Words(rest, USAGE[_SUBCOMMAND_USAGE[sub]], context_incident))


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
            match = _ID.match(self.words[0])
            if match:
                self.words.pop(0)
                return int(match.group(1))
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
    if status not in STATUSES:
        raise words.fail(
            f"unknown status {status!r}; expected investigating, identified, monitoring or resolved"
        )
    return ChangeStatus(incident, status, words.text())


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
    ids = [_ID.match(word) for word in words.words]
    if len(words.words) == 1 and ids[0] and words.context_incident is not None:
        first, second = words.context_incident, int(ids[0].group(1))
    elif len(words.words) == 2 and all(ids):
        first, second = (int(m.group(1)) for m in ids if m)
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


def _postmortem(words: _Words) -> Command:
    incident = words.incident()
    words.no_more()
    return Postmortem(incident)


def _help(words: _Words) -> Command:
    topic = words.words[0].lower() if words.words else None
    if topic is not None and topic not in _SUBCOMMAND_USAGE:
        raise words.fail(f"no help for {topic!r}; try one of {', '.join(SUBCOMMANDS)}")
    return Help(topic)


_PARSERS = {
    "open": _open,
    "list": _list,
    "show": _show,
    "update": _update,
    "status": _status,
    "sev": _sev,
    "assign": _assign,
    "resolve": _resolve,
    "link": _link,
    "statement": _statement,
    "postmortem": _postmortem,
    "help": _help,
}


_USAGE_OF: dict[type, str] = {
    StatusOverview: "status",
    StatusComponent: "status",
    StatusPost: "status",
    Help: "help",
    OpenForm: "open",
    Open: "open",
    ListIncidents: "list",
    Show: "show",
    Update: "update",
    ChangeStatus: "status_change",
    ChangeSeverity: "sev",
    Assign: "assign",
    Resolve: "resolve",
    Link: "link",
    Statement: "statement",
    Postmortem: "postmortem",
}


def usage_of(command: Command) -> str:
    return USAGE[_USAGE_OF[type(command)]]


def help_text(topic: str | None = None) -> str:
    if topic is not None:
        return f"Usage: {USAGE[_SUBCOMMAND_USAGE[topic]]}"
    lines = ["Usage:", f"  {USAGE['status']}"]
    lines += [f"  {USAGE[key]}" for key in _SUBCOMMAND_USAGE.values()]
    lines.append("IDs look like INC-7 (7 and inc-7 work too).")
    lines.append("In an incident's own channel or thread the ID may be left out.")
    return "\n".join(lines)
