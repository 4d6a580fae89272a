"""The `statusbot` command line: check, validate and demo, as an operator runs them."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

from tests.acceptance.test_run import write_config
from tests.support.builders import TEMPLATES
from tests.support.process import bot_environment
from tests.support.service import Service

DEPLOY_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "statusbot.yaml"


async def statusbot(*args: str, cwd: Path, timeout: float = 60, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=bot_environment(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return int(process.returncode or 0), out.decode(), err.decode()


async def test_check_prints_a_table_and_fails_when_a_check_fails(
    tmp_path: Path, service: Service
) -> None:
    config = write_config(tmp_path, service)
    code, out, _ = await statusbot("check", "--config", str(config), cwd=tmp_path)
    assert code == 0
    assert out.splitlines()[0].split() == ["CHECK", "COMPONENT", "TYPE", "RESULT", "TIME", "DETAIL"]
    assert "web-home" in out and " ok " in out

    service.status = 503
    code, out, _ = await statusbot("check", "--config", str(config), cwd=tmp_path)
    assert code == 1
    assert "FAIL" in out and "HTTP 503" in out
    assert out.strip().endswith("0 passed, 1 failed")


async def test_validate_reports_every_problem_with_file_and_key_path(tmp_path: Path) -> None:
    config = tmp_path / "statusbot.yaml"
    config.write_text("""
components: [{id: web, name: Web}]
checks:
  - {id: a, component: nope, type: http, url: "http://x/", interval: often}
  - {id: b, component: web, type: tcp, host: h, port: 1, conditions: ["[STATUS] =="]}
""")
    code, out, err = await statusbot("validate", "--config", str(config), cwd=tmp_path)
    assert code == 1
    assert f"{config}: checks[0].interval: 'often' is not a duration" in err
    assert f"{config}: checks[1].conditions:" in err
    assert "Traceback" not in err

    config.write_text(
        f"components: [{{id: web, name: Web}}]\nstatements: {{templates: {TEMPLATES}}}\n"
    )
    code, out, _ = await statusbot("validate", "--config", str(config), cwd=tmp_path)
    assert code == 0
    assert "OK" in out


async def test_validate_renders_every_template_in_every_language(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    for source in TEMPLATES.glob("*.en.j2"):
        (templates / source.name).write_text(source.read_text())
    (templates / "identified.en.j2").write_text("Fixed soon, {{ internal_title }}")
    config = tmp_path / "statusbot.yaml"
    config.write_text(
        "languages: [en, it]\ncomponents: [{id: web, name: Web}]\nstatements: {templates: templates}\n"
    )
    code, _, err = await statusbot("validate", "--config", str(config), cwd=tmp_path)
    assert code == 1
    assert f"{templates / 'identified.en.j2'}: 'internal_title' is undefined" in err
    assert f"{templates / 'investigating.it.j2'}: template not found" in err
    code, _, err = await statusbot("run", "--config", str(config), cwd=tmp_path)
    assert code == 2, "rejected at start-up too"
    assert "template not found" in err


async def test_run_refuses_a_slack_token_without_a_signing_secret(
    tmp_path: Path, service: Service
) -> None:
    config = write_config(tmp_path, service)
    code, _, err = await statusbot(
        "run",
        "--config",
        str(config),
        cwd=tmp_path,
        timeout=30,
        SLACK_BOT_TOKEN="xoxb-secret-token",
    )
    assert code == 2
    assert "SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN" in err
    assert "xoxb-secret-token" not in err


async def test_run_with_a_broken_config_says_why_without_a_traceback(tmp_path: Path) -> None:
    code, _, err = await statusbot("run", "--config", str(tmp_path / "missing.yaml"), cwd=tmp_path)
    assert code == 2
    assert "missing.yaml: file not found" in err
    assert "Traceback" not in err


async def test_demo_shows_an_outage_and_its_recovery_within_a_minute(tmp_path: Path) -> None:
    # Three times as fast as a newcomer sees it (checks every second): the same story.
    code, out, err = await statusbot(
        "demo", "--speed", "3", "--duration", "20", cwd=tmp_path, timeout=60
    )
    assert code == 0, err
    alerts = [line for line in out.splitlines() if line.startswith("[#alerts] ")]
    assert any(
        "Major outage: online account services (login-journey: HTTP 404 at step 2 (dashboard)" in a
        for a in alerts
    )
    assert any(
        "Major outage: two-step verification (mfa-api: timed out after 1s" in a for a in alerts
    )
    # The app's API still says UP: only the journey that logs in like a customer sees it.
    assert any(
        "Major outage: mobile app (login-2fa: HTTP 401 at step 3 (code)" in a for a in alerts
    )
    recovered = [line for line in out.splitlines() if "Recovered:" in line and "↳" in line]
    assert len(recovered) == 4
    assert "payments" not in "\n".join(alerts)
    assert "[#incidents] INC-1 (sev1, investigating): Customers cannot log in, pay or verify" in out
    assert "[#comms] Statement for INC-1 (investigating): awaiting approval" in out
    assert "[#comms] Statement for INC-1 (monitoring): awaiting approval" in out
    # The engineer drafted it; a second person (the simulated comms lead) approves it.
    assert "Published the statement for INC-1." in out
    assert "Published statement for INC-1 (monitoring)" in out
    assert "Approved by @comms-lead" in out
    assert re.search(r"the statement is published: status page http://127.0.0.1:\d+/", err)


async def test_validate_checks_the_teams_settings(tmp_path: Path) -> None:
    config = tmp_path / "statusbot.yaml"
    config.write_text(
        f"components: [{{id: web, name: Web}}]\nstatements: {{templates: {TEMPLATES}}}\n"
        "channels:\n"
        "  alerts: {teams: 'http://hooks.example.com/x', teams_channel: 'general'}\n"
        "  comms: {teams_channel: '19:abc@thread.tacv2'}\n"
    )
    code, _, err = await statusbot("validate", "--config", str(config), cwd=tmp_path)
    assert code == 1
    assert f"{config}: channels.alerts.teams: expected a Teams Workflows webhook URL" in err
    assert f"{config}: channels.alerts.teams_channel: expected a Teams channel ID like 19:" in err

    config.write_text(
        f"components: [{{id: web, name: Web}}]\nstatements: {{templates: {TEMPLATES}}}\n"
        "channels:\n  comms: {teams_channel: '19:abc@thread.tacv2'}\n"
    )
    code, _, err = await statusbot(
        "validate", "--config", str(config), cwd=tmp_path, TEAMS_APP_ID="00000000-0000"
    )
    assert code == 1
    assert "TEAMS_APP_ID and TEAMS_APP_PASSWORD are set together" in err
    assert "channels.comms.teams_channel: the bot posts in Teams channels only with" in err
    code, out, err = await statusbot(
        "validate",
        "--config",
        str(config),
        cwd=tmp_path,
        TEAMS_APP_ID="00000000-0000",
        TEAMS_APP_PASSWORD="secret",
    )
    assert code == 0, err
    assert "OK" in out


async def test_validate_never_shows_a_traceback(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\x00\xff\xfe\x89PNG")
    huge = tmp_path / "huge.yaml"
    huge.write_text(
        "components: [{id: web, name: Web}]\n"
        "checks:\n"
        "  - {id: a, component: web, type: tcp, host: h, port: 1, interval: 99999999999d}\n"
        "  - {id: b, component: web, type: tcp, host: h, port: 1, interval: .inf}\n"
        "  - {id: c, component: web, type: http, url: 'http://x/', conditions: ['[STATUS] === 200']}\n"
    )
    cases = {
        str(tmp_path): "is a directory, not a YAML file",
        str(binary): "is not a text (UTF-8) file",
        str(huge): "is not a duration of at most 10 years",
    }
    for config, expected in cases.items():
        code, _, err = await statusbot("validate", "--config", config, cwd=tmp_path)
        assert code == 1, config
        assert expected in err, err
        assert "Traceback" not in err
    _, _, err = await statusbot("validate", "--config", str(huge), cwd=tmp_path)
    assert f"{huge}: checks[1].interval: inf is not a duration" in err
    assert "'===' is not an operator" in err


async def test_every_config_mistake_is_reported_in_one_run(tmp_path: Path) -> None:
    config = tmp_path / "statusbot.yaml"
    config.write_text(
        "components: [{id: web, name: Web}]\n"
        "checks:\n"
        "  - {id: a, component: nope, type: http, url: 'http://x/${NOT_SET_ANYWHERE}'}\n"
        "  - {id: b, component: web, type: tcp, host: h, port: 1, interval: often}\n"
    )
    code, _, err = await statusbot("validate", "--config", str(config), cwd=tmp_path)
    assert code == 1
    assert "environment variable NOT_SET_ANYWHERE is not set" in err
    assert f"{config}: checks[1].interval: 'often' is not a duration" in err
    assert f"{config}: checks[0].component: unknown component 'nope'" in err


async def test_variables_in_the_config_are_read_from_dot_env_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PROBE_HOST=db.internal\n")
    config = tmp_path / "statusbot.yaml"
    config.write_text(
        "components: [{id: web, name: Web}]\n"
        "checks: [{id: a, component: web, type: tcp, host: '${PROBE_HOST}', port: 1}]\n"
    )
    code, out, err = await statusbot("validate", "--config", str(config), cwd=tmp_path)
    assert code == 0, err
    assert "templates in the package (shipped) render" in out


async def test_the_deploy_config_validates_from_anywhere_with_the_shipped_templates(
    tmp_path: Path,
) -> None:
    deploy = DEPLOY_CONFIG
    code, out, err = await statusbot(
        "validate", "--config", str(deploy), cwd=tmp_path, PROBE_PASSWORD="x"
    )
    assert code == 0, err
    assert "OK (4 components" in out
