"""Probes against real servers on loopback: http, journey, tcp and tls, passing and failing."""

from __future__ import annotations

import errno
import os
import re
import socket
import ssl
import subprocess
import sys
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from bot import __version__
from bot.config import HttpCheck, JourneyCheck, TcpCheck, TlsCheck
from bot.monitoring.checks.errors import describe_error
from bot.monitoring.checks.probe import ProbeContext, build_ssl_context, run_check
from bot.monitoring.checks.result import CheckResult

if TYPE_CHECKING:
    from tests.checks.conftest import HttpsServer, TlsServer
    from tests.support.pki import Pki


def http_check(url: str, **fields: Any) -> HttpCheck:
    return HttpCheck.model_validate(
        {"id": "web-home", "component": "web", "type": "http", "url": url, **fields}
    )


def journey_check(steps: list[dict[str, Any]], **fields: Any) -> JourneyCheck:
    return JourneyCheck.model_validate(
        {"id": "login-journey", "component": "web", "type": "journey", "steps": steps, **fields}
    )


def descriptions(result: CheckResult) -> list[str]:
    return [condition.description for condition in result.conditions]


# --- http ---------------------------------------------------------------------------------------


async def test_http_check_passes_on_a_healthy_endpoint(
    web_url: str, probe_context: ProbeContext
) -> None:
    check = http_check(
        f"{web_url}/health",
        conditions=["[STATUS] == 200", "[BODY].status == UP", "[RESPONSE_TIME] < 2000"],
    )

    result = await run_check(check, probe_context)

    assert result.success, result.reason
    assert result.reason == "OK"
    assert result.status_code == 200
    assert result.ip == "127.0.0.1"
    assert result.started_at.tzinfo is UTC
    assert timedelta(0) < result.duration < timedelta(seconds=2)
    assert descriptions(result)[:2] == ["[STATUS] (200) == 200", "[BODY].status (UP) == UP"]


async def test_http_503_is_reported_as_the_status_code(
    web_url: str, probe_context: ProbeContext
) -> None:
    result = await run_check(http_check(f"{web_url}/down"), probe_context)

    assert not result.success
    assert result.status_code == 503
    assert result.reason == "HTTP 503"
    assert descriptions(result) == ["[STATUS] (503) < 400"]


async def test_http_slow_endpoint_times_out(web_url: str, probe_context: ProbeContext) -> None:
    result = await run_check(http_check(f"{web_url}/slow", timeout="200ms"), probe_context)

    assert not result.success
    assert result.error == "timed out after 200ms"
    assert result.reason == "timed out after 200ms"
    assert timedelta(milliseconds=150) < result.duration < timedelta(seconds=2)


async def test_http_wrong_body_names_the_observed_value(
    web_url: str, probe_context: ProbeContext
) -> None:
    check = http_check(
        f"{web_url}/wrong-body", conditions=["[STATUS] == 200", "[BODY].status == UP"]
    )

    result = await run_check(check, probe_context)

    assert not result.success
    assert result.reason == "[BODY].status (DOWN) == UP"


@pytest.mark.parametrize(
    ("fields", "conditions"),
    [
        pytest.param(
            {"json": {"user": "probe", "count": 2}},
            [
                "[BODY].content_type == application/json",
                "[BODY].json.user == probe",
                "[BODY].json.count == 2",
            ],
            id="json",
        ),
        pytest.param(
            {"form": {"user": "probe", "password": "s3cret"}},
            [
                "[BODY].content_type == application/x-www-form-urlencoded",
                "[BODY].form.user == probe",
                "[BODY].form.password == s3cret",
            ],
            id="form",
        ),
        pytest.param(
            {"body": "ping", "headers": {"Content-Type": "text/plain", "X-Probe": "yes"}},
            ["[BODY].body == ping", "[BODY].x_probe == yes"],
            id="raw body and headers",
        ),
    ],
)
async def test_http_post_sends_the_configured_body(
    web_url: str,
    probe_context: ProbeContext,
    fields: dict[str, Any],
    conditions: list[str],
) -> None:
    check = http_check(
        f"{web_url}/echo",
        method="post",
        conditions=["[BODY].method == POST", *conditions],
        **fields,
    )

    result = await run_check(check, probe_context)

    assert result.success, descriptions(result)


async def test_http_sends_the_statusbot_user_agent(
    web_url: str, probe_context: ProbeContext
) -> None:
    check = http_check(f"{web_url}/echo", conditions=["[BODY].user_agent == pat(statusbot/*)"])

    result = await run_check(check, probe_context)

    assert result.success, descriptions(result)
    assert descriptions(result) == [
        f"[BODY].user_agent (statusbot/{__version__}) == pat(statusbot/*)"
    ]


async def test_http_sends_credentials_in_the_url_as_basic_auth_and_the_path_as_written(
    web_url: str, probe_context: ProbeContext
) -> None:
    url = web_url.replace("http://", "http://probe:s%40cret@") + "/echo?next=%2Fhome&q=a%20b"
    # "probe:s@cret", base64
    check = http_check(url, conditions=["[BODY].authorization == Basic cHJvYmU6c0BjcmV0"])

    result = await run_check(check, probe_context)

    assert result.success, descriptions(result)
    check = http_check(url, conditions=["[BODY].path == /echo?next=%2Fhome&q=a%20b"])
    assert (await run_check(check, probe_context)).success


async def test_http_checks_share_no_cookies(web_url: str, probe_context: ProbeContext) -> None:
    await run_check(http_check(f"{web_url}/set-cookie"), probe_context)

    result = await run_check(
        http_check(f"{web_url}/echo", conditions=['[BODY].cookie == ""']), probe_context
    )

    assert result.success, descriptions(result)
    assert all(len(client.cookies.jar) == 0 for client in probe_context.http.clients)


async def test_http_does_not_follow_redirects_unless_asked(
    web_url: str, probe_context: ProbeContext
) -> None:
    login = {"method": "POST", "form": {"user": "probe", "password": "s3cret"}}

    plain = await run_check(http_check(f"{web_url}/login", **login), probe_context)
    followed = await run_check(
        http_check(f"{web_url}/login", follow_redirects=True, **login), probe_context
    )

    assert plain.status_code == 302
    # Followed, the redirect lands on the dashboard without the session cookie: no cookies kept.
    assert followed.status_code == 401
    assert followed.reason == "HTTP 401"


async def test_http_connection_refused(closed_port: int, probe_context: ProbeContext) -> None:
    result = await run_check(http_check(f"http://127.0.0.1:{closed_port}/"), probe_context)

    assert not result.success
    assert result.error == "connection refused"


async def test_http_server_hanging_up_without_a_response(
    open_port: int, probe_context: ProbeContext
) -> None:
    result = await run_check(http_check(f"http://127.0.0.1:{open_port}/health"), probe_context)

    assert not result.success
    # Whether the client reads the end of the stream or a reset depends on when its request
    # meets the closed socket; either way the alert says what happened, not a traceback.
    assert result.reason in {
        "the server closed the connection without a response",
        "connection reset by the server",
    }


async def test_https_with_an_untrusted_certificate_is_a_tls_error(
    https_server: HttpsServer, pki: Pki, probe_context: ProbeContext
) -> None:
    url = await https_server(pki.server_context(timedelta(days=30), trusted=False))

    result = await run_check(http_check(f"{url}/health"), probe_context)

    assert not result.success
    assert result.error is not None
    assert result.error.startswith("TLS: "), result.error


async def test_https_with_a_trusted_certificate_passes(
    https_server: HttpsServer, pki: Pki, probe_context: ProbeContext
) -> None:
    url = await https_server(pki.server_context(timedelta(days=30)))

    result = await run_check(http_check(f"{url}/health"), probe_context)

    assert result.success, result.reason


# --- journey ------------------------------------------------------------------------------------


def login_step(base: str) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": f"{base}/login",
        "form": {"user": "probe", "password": "s3cret"},
        "conditions": ["[STATUS] == 302"],
    }


async def test_journey_keeps_cookies_between_steps(
    web_url: str, probe_context: ProbeContext
) -> None:
    dashboard = {
        "url": f"{web_url}/dashboard",
        "name": "dashboard",
        "conditions": ["[STATUS] == 200", "[BODY] == pat(*Balance*)"],
    }

    result = await run_check(journey_check([login_step(web_url), dashboard]), probe_context)

    assert result.success, result.reason
    assert result.step is None
    assert result.status_code == 200
    assert len(result.conditions) == 3
    assert result.duration > timedelta(0)


async def test_journey_names_the_failing_step(web_url: str, probe_context: ProbeContext) -> None:
    gone = {"url": f"{web_url}/dashboard-gone", "name": "dashboard"}

    result = await run_check(journey_check([login_step(web_url), gone]), probe_context)

    assert not result.success
    assert result.step == "step 2 (dashboard)"
    assert result.status_code == 404
    assert result.reason == "HTTP 404 at step 2 (dashboard)"


async def test_journey_step_without_a_name_is_named_by_its_path(
    web_url: str, probe_context: ProbeContext
) -> None:
    gone = {"url": f"{web_url}/dashboard-gone"}

    result = await run_check(journey_check([login_step(web_url), gone]), probe_context)

    assert result.step == "step 2 (/dashboard-gone)"


async def test_journey_step_timeout_stops_the_journey(
    web_url: str, probe_context: ProbeContext
) -> None:
    slow = {"url": f"{web_url}/slow", "name": "slow page"}
    never = {"url": f"{web_url}/health", "name": "never reached"}

    result = await run_check(
        journey_check([login_step(web_url), slow, never], timeout="200ms"), probe_context
    )

    assert result.reason == "timed out after 200ms at step 2 (slow page)"
    assert len(result.conditions) == 1  # the login's; nothing after the slow step ran


async def test_journey_runs_do_not_share_cookies(web_url: str, probe_context: ProbeContext) -> None:
    dashboard = {"url": f"{web_url}/dashboard", "conditions": ["[STATUS] == 200"]}
    await run_check(journey_check([login_step(web_url), dashboard]), probe_context)

    result = await run_check(journey_check([dashboard]), probe_context)

    assert result.reason == "HTTP 401 at step 1 (/dashboard)"


async def test_journey_conditions_on_the_check_see_the_whole_duration(
    web_url: str, probe_context: ProbeContext
) -> None:
    dashboard = {"url": f"{web_url}/dashboard"}
    check = journey_check([login_step(web_url), dashboard], conditions=["[RESPONSE_TIME] < 0"])

    result = await run_check(check, probe_context)

    assert not result.success
    assert result.step is None
    assert re.fullmatch(r"\[RESPONSE_TIME\] \(\d+\) < 0", result.reason)


# --- tcp ----------------------------------------------------------------------------------------


def tcp_check(port: int) -> TcpCheck:
    return TcpCheck.model_validate(
        {"id": "ivr", "component": "phone", "type": "tcp", "host": "127.0.0.1", "port": port}
    )


async def test_tcp_open_port_is_connected(open_port: int, probe_context: ProbeContext) -> None:
    result = await run_check(tcp_check(open_port), probe_context)

    assert result.success
    assert descriptions(result) == ["[CONNECTED] (true) == true"]
    assert result.ip == "127.0.0.1"


async def test_tcp_closed_port_is_refused(closed_port: int, probe_context: ProbeContext) -> None:
    result = await run_check(tcp_check(closed_port), probe_context)

    assert not result.success
    assert result.reason == "connection refused"


# --- tls ----------------------------------------------------------------------------------------


def tls_check(port: int, **fields: Any) -> TlsCheck:
    return TlsCheck.model_validate(
        {
            "id": "web-cert",
            "component": "web",
            "type": "tls",
            "host": "127.0.0.1",
            "port": port,
            "conditions": ["[CERTIFICATE_EXPIRATION] > 336h"],
            **fields,
        }
    )


async def test_tls_certificate_valid_for_30_days_passes(
    tls_server: TlsServer, pki: Pki, probe_context: ProbeContext
) -> None:
    port = await tls_server(pki.server_context(timedelta(days=30)))

    result = await run_check(tls_check(port), probe_context)

    assert result.success, result.reason
    assert re.fullmatch(
        r"\[CERTIFICATE_EXPIRATION\] \((719h59m|720h)\) > 336h", descriptions(result)[0]
    )


async def test_tls_certificate_expiring_in_2_days_fails_showing_time_left(
    tls_server: TlsServer, pki: Pki, probe_context: ProbeContext
) -> None:
    port = await tls_server(pki.server_context(timedelta(days=2)))

    result = await run_check(tls_check(port), probe_context)

    assert not result.success
    assert result.error is None
    assert re.fullmatch(r"\[CERTIFICATE_EXPIRATION\] \((47h59m|48h)\) > 336h", result.reason)


@pytest.mark.parametrize(
    ("expires_in", "trusted", "error"),
    [
        pytest.param(timedelta(days=30), False, "TLS: unable to get local issuer", id="untrusted"),
        pytest.param(-timedelta(days=1), True, "TLS: certificate has expired", id="expired"),
    ],
)
async def test_tls_verification_failure_is_a_tls_error(
    tls_server: TlsServer,
    pki: Pki,
    probe_context: ProbeContext,
    expires_in: timedelta,
    trusted: bool,
    error: str,
) -> None:
    port = await tls_server(pki.server_context(expires_in, trusted=trusted))

    result = await run_check(tls_check(port), probe_context)

    assert not result.success
    assert result.error is not None
    assert result.error.startswith(error), result.error


@pytest.mark.parametrize(
    ("server_name", "error"),
    [
        ("localhost", None),
        (
            "www.example.com",
            "TLS: hostname mismatch, certificate is not valid for 'www.example.com'",
        ),
    ],
)
async def test_tls_verifies_the_configured_server_name(
    tls_server: TlsServer,
    pki: Pki,
    probe_context: ProbeContext,
    server_name: str,
    error: str | None,
) -> None:
    port = await tls_server(pki.server_context(timedelta(days=30)))

    result = await run_check(tls_check(port, server_name=server_name), probe_context)

    assert result.error == error
    assert result.success is (error is None)


# --- trust --------------------------------------------------------------------------------------


def _subjects(context: ssl.SSLContext) -> list[str]:
    return [str(cert["subject"]) for cert in context.get_ca_certs()]


def test_build_ssl_context_trusts_the_given_ca_file(pki: Pki) -> None:
    context = build_ssl_context(pki.ca_file)

    assert any("statusbot test CA" in subject for subject in _subjects(context))
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_build_ssl_context_honours_ssl_cert_file(pki: Pki) -> None:
    # A child process gets its own environment: no patching of this one.
    script = (
        "from bot.monitoring.checks.probe import build_ssl_context;"
        "print([c['subject'] for c in build_ssl_context(None).get_ca_certs()])"
    )
    environment = {
        **os.environ,
        "SSL_CERT_FILE": str(pki.ca_file),
        "REQUESTS_CA_BUNDLE": "",
    }

    child = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
    )

    assert "statusbot test CA" in child.stdout


# --- error descriptions -------------------------------------------------------------------------


def _wrapped(cause: BaseException) -> httpx.ConnectError:
    """An httpx error wrapping a socket error, the way httpx raises them."""
    try:
        raise httpx.ConnectError("wrapped") from cause
    except httpx.ConnectError as error:
        return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TimeoutError(), "timed out after 5s"),
        (
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            "DNS lookup failed for db",
        ),
        (_wrapped(ConnectionRefusedError(errno.ECONNREFUSED, "refused")), "connection refused"),
        (_wrapped(OSError(errno.EHOSTUNREACH, "No route to host")), "no route to host"),
        (
            _wrapped(ExceptionGroup("all failed", [ConnectionRefusedError(), OSError()])),
            "connection refused",
        ),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "TLS: "),
        (httpx.TooManyRedirects("Exceeded maximum allowed redirects."), "too many redirects"),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            "the server closed the connection without a response",
        ),
    ],
)
def test_describe_error(error: BaseException, expected: str) -> None:
    description = describe_error(error, host="db", timeout=timedelta(seconds=5))

    assert description.startswith(expected)
