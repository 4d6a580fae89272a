"""The YAML config file: pydantic models, `${VAR}` interpolation, and errors with key paths."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.durations import parse_duration, seconds_to_duration
from bot.monitoring.checks import placeholders
from bot.monitoring.checks.conditions import ConditionSyntaxError, parse_condition
from bot.monitoring.checks.extraction import ExtractionSyntaxError, parse_extraction
from bot.monitoring.checks.totp import secret_problem
from bot.vocabulary import ComponentStatus

_ID = r"^[a-z0-9][a-z0-9_.-]*$"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _to_timedelta(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return seconds_to_duration(float(value), value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_to_timedelta)]


def _validate_conditions(conditions: list[str]) -> list[str]:
    for index, text in enumerate(conditions):
        try:
            parse_condition(text)
        except ConditionSyntaxError as exc:
            raise ValueError(f"condition {index + 1} {text!r}: {exc}") from None
    return conditions


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Component(_Model):
    id: str = Field(pattern=_ID)
    name: dict[str, str]
    description: str | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _plain_name(cls, value: Any) -> Any:
        # A plain string serves every language.
        return {"*": value} if isinstance(value, str) else value

    def display_name(self, language: str = "en") -> str:
        for key in (language, "en", "*"):
            if key in self.name:
                return self.name[key]
        return next(iter(self.name.values()), self.id)


Impact = Literal["degraded_performance", "partial_outage", "major_outage"]


class _Request(_Model):
    """What an HTTP check or a journey step sends."""

    url: str
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    json_body: Any = Field(None, alias="json")
    form: dict[str, str] | None = None
    follow_redirects: bool = False

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> _Request:
        given = [k for k in ("body", "json_body", "form") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError("give only one of body, json and form")
        return self


class _CheckBase(_Model):
    id: str = Field(pattern=_ID)
    component: str
    name: str | None = None
    interval: Duration = timedelta(seconds=60)
    timeout: Duration = timedelta(seconds=10)
    conditions: list[str] = Field(default_factory=list)
    failure_threshold: int = Field(3, ge=1)
    success_threshold: int = Field(2, ge=1)
    impact: Impact = "major_outage"

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, value: list[str]) -> list[str]:
        return _validate_conditions(value)

    @field_validator("interval", "timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value

    @property
    def impact_status(self) -> ComponentStatus:
        return ComponentStatus(self.impact)

    def effective_conditions(self) -> list[str]:
        return self.conditions or list(self.default_conditions())

    def default_conditions(self) -> tuple[str, ...]:
        return ()


class HttpCheck(_CheckBase, _Request):
    type: Literal["http"]

    def default_conditions(self) -> tuple[str, ...]:
        return ("[STATUS] < 400",)


def _valid_extracted_name(name: str) -> str:
    if name == placeholders.TOTP:
        raise ValueError("totp is the current one-time code; give the extracted value another name")
    if not placeholders.NAME.match(name):
        raise ValueError(
            f"{name!r} cannot be used as {{name}}; use letters, digits and _, "
            "starting with a letter, e.g. csrf"
        )
    return name


def _valid_extraction(text: str) -> str:
    try:
        parse_extraction(text)
    except ExtractionSyntaxError as exc:
        raise ValueError(str(exc)) from None
    return text


class JourneyStep(_Request):
    name: str | None = None
    conditions: list[str] = Field(default_factory=list)
    # Values later steps use as {name}: [BODY].path, [HEADER].Name, optionally `=~ regex`.
    extract: dict[
        Annotated[str, AfterValidator(_valid_extracted_name)],
        Annotated[str, AfterValidator(_valid_extraction)],
    ] = Field(default_factory=dict)

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, value: list[str]) -> list[str]:
        return _validate_conditions(value)

    def effective_conditions(self) -> list[str]:
        return self.conditions or ["[STATUS] < 400"]


class JourneyCheck(_CheckBase):
    type: Literal["journey"]
    steps: list[JourneyStep] = Field(min_length=1)
    totp_secret: SecretStr | None = None  # base32; steps send the current code as {totp}

    @field_validator("totp_secret")
    @classmethod
    def _base32(cls, value: SecretStr | None) -> SecretStr | None:
        problem = secret_problem(value.get_secret_value()) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


class TcpCheck(_CheckBase):
    type: Literal["tcp"]
    host: str
    port: int = Field(ge=1, le=65535)

    def default_conditions(self) -> tuple[str, ...]:
        return ("[CONNECTED] == true",)


class TlsCheck(_CheckBase):
    type: Literal["tls"]
    host: str
    port: int = Field(443, ge=1, le=65535)
    server_name: str | None = None

    def default_conditions(self) -> tuple[str, ...]:
        return ("[CONNECTED] == true",)


# The record types a dns check can ask for; each answer's text is described in the README.
DNS_RECORD_TYPES = (
    "A",
    "AAAA",
    "CAA",
    "CNAME",
    "DNSKEY",
    "DS",
    "HTTPS",
    "MX",
    "NS",
    "PTR",
    "SOA",
    "SRV",
    "SVCB",
    "TXT",
)
_DNS_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_DNS_NAME = re.compile(rf"^{_DNS_LABEL}(?:\.{_DNS_LABEL})*\.?$")
_NAMESERVER_EXAMPLES = "e.g. 10.0.0.53, 10.0.0.53:5353, [2001:db8::53]:53 or ns1.example.com"


def _is_dns_name(text: str) -> bool:
    return len(text.rstrip(".")) <= 253 and _DNS_NAME.match(text) is not None


def split_nameserver(text: str) -> tuple[str, int]:
    """`10.0.0.53:5353` → ("10.0.0.53", 5353); the port is 53 unless given; ValueError when
    the text is neither an IP address nor a host name, with an optional port."""
    host, port = text.strip(), "53"
    if "://" in host:
        raise ValueError(
            f"{text!r} is a URL; dns checks ask over plain DNS (UDP, then TCP), so give the "
            f"server's address, {_NAMESERVER_EXAMPLES}"
        )
    if host.startswith("["):  # [2001:db8::53]:53, the form that can carry a port
        inside, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"expected [IPv6 address]:port, got {text!r}")
        host, port = inside, rest[1:] if rest else "53"
        _ipv6(host, text)
    elif host.count(":") > 1:  # a bare IPv6 address cannot carry a port
        _ipv6(host, text)
    elif ":" in host:
        host, _, port = host.partition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"the port in {text!r} must be a number from 1 to 65535")
    if ":" not in host and not _is_ip(host) and not _is_dns_name(host):
        raise ValueError(f"{text!r} is not an IP address or host name; {_NAMESERVER_EXAMPLES}")
    return host, int(port)


def _ipv6(host: str, text: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv6 address; {_NAMESERVER_EXAMPLES}") from None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class DnsCheck(_CheckBase):
    type: Literal["dns"]
    # Before host: validating host needs to know whether it is a PTR check.
    record_type: str = "A"
    host: str  # the name to resolve; for PTR also an IP address
    nameserver: str | None = None  # None: the system's resolver configuration

    @field_validator("record_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        upper = value.strip().upper()
        if upper not in DNS_RECORD_TYPES:
            raise ValueError(
                f"unknown record type {value!r}; expected one of {', '.join(DNS_RECORD_TYPES)}"
            )
        return upper

    @field_validator("host")
    @classmethod
    def _name(cls, value: str, info: ValidationInfo) -> str:
        if _is_ip(value):
            if info.data.get("record_type", "PTR") != "PTR":
                raise ValueError(
                    f"{value!r} is an IP address; only a PTR check looks one up (record_type: PTR)"
                )
            return value
        if not _is_dns_name(value):
            raise ValueError(f"{value!r} is not a DNS name; write it like www.example.com")
        return value

    @field_validator("nameserver")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, port = split_nameserver(value)
        # One spelling, the one alerts show: `10.0.0.53:53`, `[2001:db8::53]:53`.
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def nameserver_address(self) -> tuple[str, int] | None:
        return None if self.nameserver is None else split_nameserver(self.nameserver)

    def default_conditions(self) -> tuple[str, ...]:
        return ("[DNS_RCODE] == NOERROR",)


AnyCheck = HttpCheck | JourneyCheck | TcpCheck | TlsCheck | DnsCheck
Check = Annotated[AnyCheck, Field(discriminator="type")]


_TEAMS_CHANNEL = re.compile(r"^19:[^\s;/]+@thread\.[a-z0-9]+$")


class Destination(_Model):
    """Where one kind of post goes: a Slack channel ID, a Teams Workflows webhook URL (posts
    only), and/or a Teams channel the bot posts in itself (`19:…@thread.tacv2`)."""

    slack: str | None = None
    teams: str | None = None
    teams_channel: str | None = None

    @field_validator("teams")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^\s/]+/\S*$", value):
            raise ValueError(f"expected a Teams Workflows webhook URL (https://…), got {value!r}")
        return value

    @field_validator("teams_channel")
    @classmethod
    def _teams_channel(cls, value: str | None) -> str | None:
        if value is not None and not _TEAMS_CHANNEL.match(value):
            raise ValueError(
                f"expected a Teams channel ID like 19:…@thread.tacv2, got {value!r} (in Teams: "
                "the channel's … menu, Get link to channel, the part after /channel/, decoded)"
            )
        return value


class Channels(_Model):
    alerts: Destination = Destination()
    incidents: Destination = Destination()
    managers: Destination = Destination()
    comms: Destination = Destination()


class Roles(_Model):
    responders: list[str] = Field(default_factory=list)
    comms: list[str] = Field(default_factory=list)
    managers: list[str] = Field(default_factory=list)


Severity = Literal["sev1", "sev2", "sev3", "sev4"]


def _default_reminders() -> dict[Severity, timedelta]:
    return {
        "sev1": timedelta(minutes=30),
        "sev2": timedelta(hours=1),
        "sev3": timedelta(hours=4),
        "sev4": timedelta(days=1),
    }


def _default_deadlines() -> dict[Severity, timedelta]:
    return {"sev1": timedelta(minutes=15), "sev2": timedelta(minutes=30)}


class IncidentSettings(_Model):
    create_channel: bool = False
    update_reminder: dict[Severity, Duration] = Field(default_factory=_default_reminders)
    statement_deadline: dict[Severity, Duration] = Field(default_factory=_default_deadlines)
    summary_interval: Duration = timedelta(minutes=30)
    # An outage on components of an incident resolved this recently is that incident coming
    # back: the alert names it and the new incident is linked to it (0s: never).
    recurrence_window: Duration = timedelta(days=7)


class Maintenance(_Model):
    components: list[str] = Field(min_length=1)
    start: datetime
    end: datetime
    title: str

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-12-01T01:00:00Z")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Maintenance:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def covers(self, component_id: str, at: datetime) -> bool:
        return component_id in self.components and self.start <= at < self.end


class Statements(_Model):
    # None: the templates shipped in the package (en, it); a relative path is read from the
    # config file's folder.
    templates: Path | None = None


_REMOTE_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def _remote_id(value: str) -> str:
    # These go into request paths: letters, digits, '-' and '_' only, as Statuspage's are.
    if not _REMOTE_ID.match(value):
        raise ValueError(f"{value!r} is not a Statuspage ID (letters, digits, '-' and '_')")
    return value


RemoteId = Annotated[str, AfterValidator(_remote_id)]


class StatuspageIo(_Model):
    """An existing Atlassian Statuspage page that approved statements are mirrored to."""

    page_id: RemoteId
    # Our component ID -> the ID of the same component on that page.
    components: dict[str, RemoteId] = Field(default_factory=dict)


class WebhookSubscriber(_Model):
    """A receiver of every published statement: a signed JSON POST to `url`."""

    url: str
    secret: SecretStr  # signs each body (HMAC-SHA256); from ${VAR}, never shown

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/?#]+(/\S*)?$", value):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value

    @field_validator("secret")
    @classmethod
    def _some_secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("the secret cannot be empty (receivers verify signatures with it)")
        return value


class Subscribers(_Model):
    """Who hears of every published statement besides the page's email subscribers."""

    webhooks: list[WebhookSubscriber] = Field(default_factory=list)


class MonitorSettings(_Model):
    """Optional tuning; the defaults suit most estates."""

    max_concurrency: int = Field(200, ge=1)
    flap_window: Duration = timedelta(minutes=30)
    flap_threshold: int = Field(3, ge=2)


class AlertmanagerSettings(_Model):
    """How Alertmanager's alerts (POST /webhooks/alertmanager) name components and impacts."""

    # The label whose value is a component ID (or a key of `components`).
    component_label: str = Field("component", min_length=1)
    # For alerts whose labels name no component: a label value or an alertname -> component ID.
    components: dict[str, str] = Field(default_factory=dict)
    # The status an alert gives its component, unless its `impact` label or its `severity`
    # label (through `severities`) says otherwise.
    impact: Impact = "major_outage"
    severities: dict[str, Impact] = Field(default_factory=dict)
    # Alertmanager sends no end time with a firing alert and repeats it only every
    # repeat_interval (4h by default): an alert not heard of for this long is over, so a lost
    # "resolved" cannot hold a component down for ever. Keep it above repeat_interval.
    expire_after: Duration = timedelta(hours=12)

    @field_validator("expire_after")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value


class Config(_Model):
    timezone: str = "UTC"
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    components: list[Component] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    channels: Channels = Channels()
    roles: Roles = Roles()
    incidents: IncidentSettings = IncidentSettings()
    maintenance: list[Maintenance] = Field(default_factory=list)
    statements: Statements = Statements()
    subscribers: Subscribers = Subscribers()
    monitor: MonitorSettings = MonitorSettings()
    statuspage_io: StatuspageIo | None = None
    alertmanager: AlertmanagerSettings = AlertmanagerSettings()
    _index: tuple[list[Any], dict[str, list[Any]]] | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def component(self, component_id: str) -> Component:
        for component in self.components:
            if component.id == component_id:
                return component
        raise KeyError(component_id)

    def component_name(self, component_id: str, language: str | None = None) -> str:
        """A component's name in `language` (default: the team's, the first configured one);
        its ID when no such component is configured (an old outage, a removed component)."""
        try:
            component = self.component(component_id)
        except KeyError:
            return component_id
        return component.display_name(language or self.languages[0])

    def checks_of(self, component_id: str) -> list[AnyCheck]:
        # Asked on every failing result: an index, not a scan of 10,000 checks. It is rebuilt
        # when `checks` is another list (model_copy(update=...) keeps private attributes).
        cached = self._index
        if cached is None or cached[0] is not self.checks:
            index: dict[str, list[AnyCheck]] = {}
            for check in self.checks:
                index.setdefault(check.component, []).append(check)
            cached = self._index = (self.checks, index)
        return cached[1].get(component_id, [])


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """Every problem found in a config file, each with the file, key path and reason."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


def load_config(path: Path | str, environ: Mapping[str, str] | None = None) -> Config:
    """Read, interpolate and validate a config file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(str(path), "", "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([ConfigIssue(str(path), "", "is a directory, not a YAML file")]) from None
    except UnicodeDecodeError:
        raise ConfigError([ConfigIssue(str(path), "", "is not a text (UTF-8) file")]) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError([ConfigIssue(str(path), "", f"cannot be read: {reason}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigIssue(str(path), where, f"invalid YAML: {problem}")]) from None
    return parse_config(raw if raw is not None else {}, str(path), environ, base_dir=path.parent)


def parse_config(
    raw: Any,
    file: str = "<config>",
    environ: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
) -> Config:
    """Validate an already-parsed config document."""
    if not isinstance(raw, dict):
        raise ConfigError([ConfigIssue(file, "", "expected a mapping at the top level")])
    issues: list[ConfigIssue] = []
    data = _interpolate(raw, os.environ if environ is None else environ, (), file, issues)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        # Every mistake in one run: the unset variables, the invalid values and, as far as the
        # document allows, the references between its parts. Where an unset variable left an
        # empty value, that it is unset is the one thing to say.
        unset = {issue.path for issue in issues}
        found = [_issue_from_pydantic(file, error) for error in exc.errors()]
        issues += [issue for issue in found if issue.path not in unset]
        issues += _cross_reference_raw(data, file, issues)
        issues += _placeholder_issues(data, file)
        raise ConfigError(issues) from None
    issues += _cross_reference(config, file)
    issues += _placeholder_issues(data, file)
    if issues:
        raise ConfigError(issues)
    templates = config.statements.templates
    if base_dir is not None and templates is not None and not templates.is_absolute():
        statements = Statements(templates=base_dir / templates)
        config = config.model_copy(update={"statements": statements})
    return config


def _interpolate(
    node: Any,
    environ: Mapping[str, str],
    path: tuple[str | int, ...],
    file: str,
    issues: list[ConfigIssue],
) -> Any:
    if isinstance(node, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                issues.append(
                    ConfigIssue(file, format_path(path), f"environment variable {name} is not set")
                )
                return ""
            # A password with `{word}` in it is sent as it is, not taken for a placeholder.
            return placeholders.escape(environ[name]) if _in_step_request(path) else environ[name]

        return _VAR.sub(substitute, node)
    if isinstance(node, dict):
        return {k: _interpolate(v, environ, (*path, str(k)), file, issues) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, environ, (*path, i), file, issues) for i, v in enumerate(node)]
    return node


def _in_step_request(path: tuple[str | int, ...]) -> bool:
    return (
        len(path) >= 5
        and path[0] == "checks"
        and path[2] == "steps"
        and path[4] in placeholders.REQUEST_FIELDS
    )


def format_path(path: Iterable[str | int]) -> str:
    """Render a key path as people read it: `checks[0].conditions[1]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_CHECK_TYPES = {"http", "journey", "tcp", "tls", "dns"}


def _issue_from_pydantic(file: str, error: Any) -> ConfigIssue:
    loc = list(error["loc"])
    # A mapping's key that is invalid (extract: {totp: ...}): the path ends at the key already.
    if loc and loc[-1] == "[key]":
        loc.pop()
    # Discriminated unions put the tag in the path (checks.0.http.url); people never wrote it.
    if len(loc) >= 3 and loc[0] == "checks" and loc[2] in _CHECK_TYPES:
        del loc[2]
    kind = error["type"]
    message = error["msg"]
    if kind == "extra_forbidden":
        message = "unknown key"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "union_tag_invalid":
        message = (
            f"unknown check type {error['input'].get('type')!r}; "
            "expected http, tcp, tls, dns or journey"
        )
    elif kind == "union_tag_not_found":
        message = "a check needs a type: http, tcp, tls, dns or journey"
    elif kind == "literal_error":
        message = f"got {error['input']!r}; expected {error['ctx']['expected']}"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    elif kind == "string_pattern_mismatch":
        message = (
            f"{error['input']!r} is not a valid ID; use lower-case letters, digits, '-', '_' or '.'"
        )
    return ConfigIssue(file, format_path(loc), message)


def _cross_reference_raw(
    data: dict[str, Any], file: str, known_issues: list[ConfigIssue]
) -> list[ConfigIssue]:
    """Checks naming unknown components, read from the document when it did not validate."""
    components = data.get("components")
    checks = data.get("checks")
    if not isinstance(components, list) or not isinstance(checks, list):
        return []
    ids = [c.get("id") for c in components if isinstance(c, dict)]
    reported = {issue.path for issue in known_issues}
    found = []
    for i, check in enumerate(checks):
        if not isinstance(check, dict) or f"checks[{i}].component" in reported:
            continue
        component = check.get("component")
        if isinstance(component, str) and component not in ids:
            listing = _listing([str(x) for x in ids if isinstance(x, str)])
            found.append(
                ConfigIssue(
                    file,
                    f"checks[{i}].component",
                    f"unknown component {component!r}; expected one of {listing}",
                )
            )
    return found


def _placeholder_issues(data: dict[str, Any], file: str) -> list[ConfigIssue]:
    """Journey steps using a `{name}` no earlier step extracts, or `{totp}` with no secret."""
    checks = data.get("checks")
    if not isinstance(checks, list):
        return []
    return [
        ConfigIssue(file, format_path(("checks", i, *path)), message)
        for i, check in enumerate(checks)
        if isinstance(check, dict) and check.get("type") == "journey"
        for path, message in placeholders.journey_issues(check)
    ]


def _cross_reference(config: Config, file: str) -> Iterable[ConfigIssue]:
    component_ids = [c.id for c in config.components]
    known = set(component_ids)
    seen: set[str] = set()
    for i, component in enumerate(config.components):
        if component.id in seen:
            yield ConfigIssue(file, f"components[{i}].id", f"duplicate component {component.id!r}")
        seen.add(component.id)
        if "*" not in component.name:
            for language in config.languages:
                if language not in component.name:
                    yield ConfigIssue(
                        file,
                        f"components[{i}].name",
                        f"no name for configured language {language!r}",
                    )
    seen = set()
    for i, check in enumerate(config.checks):
        if check.id in seen:
            yield ConfigIssue(file, f"checks[{i}].id", f"duplicate check {check.id!r}")
        seen.add(check.id)
        if check.component not in known:
            yield ConfigIssue(
                file,
                f"checks[{i}].component",
                f"unknown component {check.component!r}; expected one of {_listing(component_ids)}",
            )
    for i, window in enumerate(config.maintenance):
        for j, component_id in enumerate(window.components):
            if component_id not in known:
                yield ConfigIssue(
                    file,
                    f"maintenance[{i}].components[{j}]",
                    f"unknown component {component_id!r}; "
                    f"expected one of {_listing(component_ids)}",
                )
    mirrored = config.statuspage_io.components if config.statuspage_io else {}
    for component_id in mirrored:
        if component_id not in known:
            yield ConfigIssue(
                file,
                f"statuspage_io.components.{component_id}",
                f"unknown component {component_id!r}; expected one of {_listing(component_ids)}",
            )
    for key, component_id in config.alertmanager.components.items():
        if component_id not in known:
            yield ConfigIssue(
                file,
                f"alertmanager.components.{key}",
                f"unknown component {component_id!r}; expected one of {_listing(component_ids)}",
            )


def _listing(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "(no components are configured)"
