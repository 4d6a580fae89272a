"""The config file: a valid one loads; every mistake names the file, the key path and the reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.durations import format_duration, parse_duration

EXAMPLE = """
timezone: Europe/Rome
languages: [en, it]
components:
  - id: web
    name: {en: "online account services", it: "servizi online del conto"}
  - id: phone
    name: {en: "phone services", it: "servizi telefonici"}
checks:
  - id: web-home
    component: web
    type: http
    url: https://www.example.com/health
    interval: 30s
    timeout: 5s
    conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 2000", "[BODY].status == UP"]
    failure_threshold: 3
    success_threshold: 2
    impact: major_outage
  - id: login-journey
    component: web
    type: journey
    interval: 60s
    steps:
      - {method: POST, url: "https://www.example.com/login", form: {user: probe, password: "${PROBE_PASSWORD}"}, conditions: ["[STATUS] == 302"]}
      - {url: "https://www.example.com/dashboard", conditions: ["[STATUS] == 200", "[BODY] == pat(*Balance*)"]}
  - {id: ivr, component: phone, type: tcp, host: sip.example.com, port: 5060, interval: 30s}
  - {id: web-cert, component: web, type: tls, host: www.example.com, port: 443, conditions: ["[CERTIFICATE_EXPIRATION] > 336h"]}
channels:
  alerts:    {slack: C0ALERTS, teams: "https://example.com/webhook"}
  incidents: {slack: C0INCIDENTS}
  managers:  {slack: C0MANAGERS}
  comms:     {slack: C0COMMS}
roles:
  responders: [U0ENG1, S0ONCALL]
  comms: [U0COMMS1, U0COMMS2]
  managers: [U0MGR1]
incidents:
  create_channel: false
  update_reminder: {sev1: 30m, sev2: 60m, sev3: 4h, sev4: 24h}
  statement_deadline: {sev1: 15m, sev2: 30m}
  summary_interval: 30m
maintenance:
  - {components: [web], start: "2026-12-01T01:00:00Z", end: "2026-12-01T03:00:00Z", title: "Planned upgrade"}
statements:
  templates: templates/statements
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "statusbot.yaml"
    path.write_text(text)
    return path


def test_the_spec_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, EXAMPLE), environ={"PROBE_PASSWORD": "s3cret"})
    assert [c.id for c in config.checks] == ["web-home", "login-journey", "ivr", "web-cert"]
    journey = config.checks[1]
    assert journey.type == "journey"
    assert journey.steps[0].form == {"user": "probe", "password": "s3cret"}
    assert config.checks[0].interval == timedelta(seconds=30)
    assert config.incidents.update_reminder["sev3"] == timedelta(hours=4)
    assert config.component("web").display_name("it") == "servizi online del conto"
    assert config.statements.templates == tmp_path / "templates/statements"


def problems(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(
            write(tmp_path, text), environ={"PROBE_PASSWORD": "x"} if environ is None else environ
        )
    return [str(issue) for issue in caught.value.issues]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("interval: 30s", "interval: 30 seconds"),
            "checks[0].interval: '30 seconds' is not a duration",
        ),
        (
            ("component: web\n    type: http", "component: webb\n    type: http"),
            "checks[0].component: unknown component 'webb'; expected one of web, phone",
        ),
        (("timeout: 5s", "timeout: 5s\n    retries: 3"), "checks[0].retries: unknown key"),
        (('"[RESPONSE_TIME] < 2000"', '"[RESPONSE_TIME] <"'), "checks[0].conditions: condition 2"),
        (("type: tcp", "type: ftp"), "checks[2]: unknown check type 'ftp'"),
        (("impact: major_outage", "impact: total_outage"), "checks[0].impact: got 'total_outage'"),
        (("port: 5060", "port: 70000"), "checks[2].port"),
        (
            ("timezone: Europe/Rome", "timezone: Mars/Olympus"),
            "timezone: unknown time zone 'Mars/Olympus'",
        ),
        (("sev3: 4h", "sev5: 4h"), "incidents.update_reminder.sev5"),
        (
            ('it: "servizi telefonici"', 'de: "Telefon"'),
            "components[1].name: no name for configured language 'it'",
        ),
        (
            ('end: "2026-12-01T03:00:00Z"', 'end: "2026-11-30T03:00:00Z"'),
            "maintenance[0]: end must be after start",
        ),
        (
            ("url: https://www.example.com/health", "url: www.example.com/health"),
            "checks[0].url: must start with http:// or https://",
        ),
    ],
)
def test_each_mistake_names_file_path_and_reason(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in EXAMPLE
    found = problems(tmp_path, EXAMPLE.replace(old, new, 1))
    assert any(expected in p for p in found), found
    assert all(p.startswith(str(tmp_path / "statusbot.yaml")) for p in found)


def test_missing_environment_variable_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, EXAMPLE, environ={})
    assert found == [
        f"{tmp_path / 'statusbot.yaml'}: checks[1].steps[0].form.password: "
        "environment variable PROBE_PASSWORD is not set"
    ]


def test_several_mistakes_are_reported_together(tmp_path: Path) -> None:
    text = EXAMPLE.replace("interval: 30s", "interval: soon", 1).replace("port: 5060", "port: -1")
    assert len(problems(tmp_path, text)) == 2


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    assert "invalid YAML" in problems(tmp_path, "checks: [\n")[0]
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("250ms", 0.25)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "30", "5 m", "1w", "-5s", "s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45s"), (42 * 60, "42m"), (3900, "1h 5m"), (7200, "2h"), (97200, "1d 3h")],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == text
