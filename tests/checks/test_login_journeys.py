"""Journeys that log in like a customer, against a real login site on loopback: a CSRF token,
a password and a one-time code; the alerts name the failing step and never show a secret."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import yaml

from bot.config import Config, JourneyCheck, parse_config
from bot.incidents.store import IncidentStore
from bot.monitoring.checks.masking import MASK
from bot.monitoring.checks.probe import ProbeContext, run_check
from bot.monitoring.checks.result import CheckResult
from bot.status_report import StatusReport
from bot.store.keyvalue import KeyValue
from tests.support.builders import TEMPLATES, Clock
from tests.support.login_site import PASSWORD, LoginSite
from tests.support.slack_mock import MockSlack
from tests.test_alerts import Bot, build_bot

# The SPEC's example, word for word but for the site's address.
SPEC_LOGIN_2FA = """
  - id: login-2fa
    component: mfa
    type: journey
    interval: 60s
    totp_secret: "${PROBE_TOTP_SECRET}"          # base32, RFC 6238 (30 s, 6 digits)
    steps:
      - name: form
        url: https://www.example.com/login
        extract: {csrf: "[BODY].csrf"}          # values for later steps: [BODY].path, [HEADER].Name
      - name: password
        method: POST
        url: https://www.example.com/login
        form: {user: probe, password: "${PROBE_PASSWORD}", csrf: "{csrf}"}
        conditions: ["[STATUS] == 302"]
      - name: code
        method: POST
        url: https://www.example.com/mfa
        form: {code: "{totp}"}                  # the current one-time code
        conditions: ["[STATUS] == 302"]
      - name: dashboard
        url: https://www.example.com/dashboard
        conditions: ["[STATUS] == 200", "[BODY] == pat(*Balance*)"]
"""


@pytest.fixture
async def site() -> AsyncIterator[LoginSite]:
    started = await LoginSite().start()
    yield started
    await started.stop()


def config_for(site: LoginSite, checks: str = SPEC_LOGIN_2FA, **environ: str) -> Config:
    text = "checks:" + checks.replace("https://www.example.com", site.url)
    raw: dict[str, Any] = {
        "timezone": "Europe/Rome",
        "components": [{"id": "mfa", "name": "two-step verification"}],
        "channels": {"alerts": {"slack": "C0ALERTS"}},
        "statements": {"templates": str(TEMPLATES)},
        **yaml.safe_load(text),
    }
    env = {"PROBE_TOTP_SECRET": site.totp_secret, "PROBE_PASSWORD": PASSWORD, **environ}
    return parse_config(raw, "<test>", environ=env)


def journey(config: Config) -> JourneyCheck:
    check = config.checks[0]
    assert isinstance(check, JourneyCheck)
    return check


def shown(result: CheckResult) -> str:
    """Everything of a result that people can be shown."""
    return "\n".join(
        [result.reason, str(result.error), *(c.description for c in result.conditions)]
    )


# --- the probe ----------------------------------------------------------------------------------


async def test_the_spec_login_2fa_journey_logs_in(
    site: LoginSite, probe_context: ProbeContext
) -> None:
    result = await run_check(journey(config_for(site)), probe_context)

    assert result.success, result.reason
    assert result.status_code == 200
    assert len(site.issued_csrf) == 1 and len(site.codes_received) == 1
    assert site.codes_received[0].isdigit() and len(site.codes_received[0]) == 6


async def test_refused_codes_fail_the_journey_at_the_code_step(
    site: LoginSite, probe_context: ProbeContext
) -> None:
    site.refuse_codes = True

    result = await run_check(journey(config_for(site)), probe_context)

    assert not result.success
    assert result.reason == "HTTP 401 at step 3 (code)"
    assert site.dashboard_visits == 0, "the first failing step stops the journey"


async def test_a_login_that_lands_on_not_found_names_the_dashboard_step(
    site: LoginSite, probe_context: ProbeContext
) -> None:
    site.dashboard_gone = True

    result = await run_check(journey(config_for(site)), probe_context)

    assert result.reason == "HTTP 404 at step 4 (dashboard)"


async def test_a_value_not_found_fails_at_the_step_that_extracts_it(
    site: LoginSite, probe_context: ProbeContext
) -> None:
    site.omit_csrf = True

    result = await run_check(journey(config_for(site)), probe_context)

    assert result.reason == "csrf not found at step 1 (form)"
    assert result.failed_conditions[0].description == 'csrf = [BODY].csrf (no key "csrf")'
    assert site.codes_received == [], "nothing after the form step ran"


HTML_FORM_REGEX = """
  - id: login-html
    component: mfa
    type: journey
    totp_secret: "${PROBE_TOTP_SECRET}"
    steps:
      - name: form
        url: https://www.example.com/login.html
        extract: {csrf: '[BODY] =~ name="csrf" value="([^"]+)"'}
      - name: password
        method: POST
        url: https://www.example.com/login
        form: {user: probe, password: "${PROBE_PASSWORD}", csrf: "{csrf}"}
        conditions: ["[STATUS] == 302"]
      - {name: code, method: POST, url: "https://www.example.com/mfa?code={totp}"}
      - {name: dashboard, url: "https://www.example.com/dashboard"}
"""


async def test_a_token_in_an_html_form_is_extracted_with_a_regex(
    site: LoginSite, probe_context: ProbeContext
) -> None:
    result = await run_check(journey(config_for(site, HTML_FORM_REGEX)), probe_context)

    assert result.success, result.reason


async def test_a_token_in_a_response_header_is_sent_in_a_request_header(
    site: LoginSite, probe_context: ProbeContext
) -> None:
    checks = HTML_FORM_REGEX.replace(
        """'[BODY] =~ name="csrf" value="([^"]+)"'""", '"[HEADER].x-csrf-token"'
    ).replace('csrf: "{csrf}"}', '}\n        headers: {X-CSRF-Token: "{csrf}"}')

    result = await run_check(journey(config_for(site, checks)), probe_context)

    assert result.success, result.reason


PLACEHOLDERS_IN_BODIES = """
  - id: bodies
    component: mfa
    type: journey
    steps:
      - {name: form, url: "https://www.example.com/login", extract: {csrf: "[BODY].csrf"}}
      - name: json
        method: POST
        url: "https://www.example.com/echo?t={csrf}&literal={{csrf}}"
        headers: {Authorization: "Bearer {csrf}"}
        json: {token: "{csrf}", list: ["a {csrf} b"], literal: "{{csrf}}", other: "{not a name}"}
      - name: raw
        method: POST
        url: https://www.example.com/echo
        body: '{"t": "{csrf}", "o": {"k": [1, {"x": "y"}]}, "p": "${PROBE_PASSWORD}"}'
      - name: form
        method: POST
        url: https://www.example.com/echo
        form: {csrf: "{csrf}", password: "${PROBE_PASSWORD}"}
"""


async def test_placeholders_fill_url_headers_and_bodies_and_other_braces_stay(
    site: LoginSite, probe_context: ProbeContext
) -> None:
    # A password read from the environment is sent as it is, braces and all.
    config = config_for(site, PLACEHOLDERS_IN_BODIES, PROBE_PASSWORD="pa{ss}wo{{rd}}")

    result = await run_check(journey(config), probe_context)

    assert result.success, result.reason
    token = site.issued_csrf[0]
    json_step, raw_step, form_step = site.echoed
    assert json_step["query"] == {"t": token, "literal": "{csrf}"}
    assert json_step["headers"]["Authorization"] == f"Bearer {token}"
    assert yaml.safe_load(json_step["body"]) == {
        "token": token,
        "list": [f"a {token} b"],
        "literal": "{csrf}",
        "other": "{not a name}",
    }
    assert raw_step["body"] == (
        f'{{"t": "{token}", "o": {{"k": [1, {{"x": "y"}}]}}, "p": "pa{{ss}}wo{{{{rd}}}}"}}'
    )
    assert httpx.QueryParams(form_step["body"]) == httpx.QueryParams(
        {"csrf": token, "password": "pa{ss}wo{{rd}}"}
    )


# --- what people see: alerts, /status, history, logs -------------------------------------------


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def probe(bot: Bot, probe_context: ProbeContext, times: int) -> None:
    """Run the journey for real and hand each result to the monitor, a minute apart."""
    check = journey(bot.config)
    for _ in range(times):
        result = await run_check(check, probe_context)
        await bot.monitor.record(check, replace(result, started_at=bot.clock.now))
        await bot.outbox.drain()
        bot.clock.advance(minutes=1)


def thresholds(checks: str) -> str:
    return checks.replace("interval: 60s", "interval: 60s\n    failure_threshold: 2")


async def test_alerts_name_the_failing_step_then_the_recovery(
    site: LoginSite,
    probe_context: ProbeContext,
    kv: KeyValue,
    slack: MockSlack,
    http: httpx.AsyncClient,
) -> None:
    bot = build_bot(kv, slack, http, Clock(), config_for(site, thresholds(SPEC_LOGIN_2FA)))
    await bot.monitor._alerter.load()
    await probe(bot, probe_context, 2)
    assert slack.posts() == []

    site.refuse_codes = True
    await probe(bot, probe_context, 2)
    assert slack.texts()[-1] == (
        "Major outage: two-step verification "
        "(login-2fa: HTTP 401 at step 3 (code), 2 failures since 11:32)"
    )

    site.refuse_codes = False
    await probe(bot, probe_context, 2)
    assert slack.texts()[-1] == "Recovered: two-step verification after 3m"

    bot.clock.advance(minutes=30)
    site.dashboard_gone = True
    await probe(bot, probe_context, 2)
    assert slack.texts()[-1] == (
        "Major outage: two-step verification "
        "(login-2fa: HTTP 404 at step 4 (dashboard), 2 failures since 12:06)"
    )

    site.dashboard_gone = False
    await probe(bot, probe_context, 2)
    assert slack.texts()[-1] == "Recovered: two-step verification after 3m"
    assert len(slack.posts()) == 4


async def test_secrets_never_reach_alerts_status_history_or_logs(
    site: LoginSite,
    probe_context: ProbeContext,
    kv: KeyValue,
    slack: MockSlack,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The worst case: the code goes in the URL (which the HTTP client logs), and the page that
    # refuses it quotes the code and the CSRF token back, under a condition on the body.
    checks = thresholds(SPEC_LOGIN_2FA).replace(
        """url: https://www.example.com/mfa
        form: {code: "{totp}"}                  # the current one-time code
        conditions: ["[STATUS] == 302"]""",
        """url: "https://www.example.com/mfa?code={totp}"
        conditions: ["[BODY] == pat(*Welcome*)"]""",
    )
    for logger in ("", "httpx", "httpcore.http11", "httpcore.connection"):
        caplog.set_level(logging.DEBUG, logger=logger)
    config = config_for(site, checks)
    bot = build_bot(kv, slack, http, Clock(), config)
    await bot.monitor._alerter.load()
    site.refuse_codes = site.echo_secrets = True

    await probe(bot, probe_context, 3)

    alert = slack.posts("C0ALERTS")[0].args
    assert alert["text"] == (
        "Major outage: two-step verification (login-2fa: [BODY] (code ••• refused after token "
        "•••) == pat(*Welcome*) at step 3 (code), 2 failures since 11:30)"
    )
    history = await bot.monitor.records.history.recent_failures(["login-2fa"])
    status = await StatusReport(
        config, bot.monitor.records, IncidentStore(kv), bot.clock
    ).component("mfa")
    status_text = "\n".join([status.text, *status.lines, *(v for _, v in status.fields)])
    assert f"{MASK}) == pat(*Welcome*) at step 3 (code)" in status_text
    assert "code=•••" in caplog.text, "the request's URL is logged, masked"
    seen = {
        "alerts": str([call.args for call in slack.calls]),
        "/status mfa": status_text,
        "history": str([failure.reason for failure in history]),
        "logs": caplog.text,
    }
    assert len(site.secrets()) == 6
    for secret in site.secrets():
        for where, text in seen.items():
            assert secret not in text, f"a secret is shown in {where}"
