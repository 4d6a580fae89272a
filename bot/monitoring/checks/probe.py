"""Running a check once: shared HTTP client and TLS trust, dispatch by type, failures as results."""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import Request

import certifi
import httpx

from bot.config import DnsCheck, HttpCheck, JourneyCheck, TcpCheck, TlsCheck
from bot.monitoring.checks.aiohttp_transport import AiohttpTransport
from bot.monitoring.checks.conditions import evaluate_conditions, uses_body
from bot.monitoring.checks.dns import describe_dns_error, probe_dns
from bot.monitoring.checks.errors import describe_error
from bot.monitoring.checks.http import USER_AGENT, build_request, send_request
from bot.monitoring.checks.journey import run_journey
from bot.monitoring.checks.result import CheckResult, Observation
from bot.monitoring.checks.tcp import probe_tcp
from bot.monitoring.checks.tls import probe_tls

AnyCheck = HttpCheck | JourneyCheck | TcpCheck | TlsCheck | DnsCheck


class HttpClients:
    """The HTTP client plain http checks share: httpx's API over one aiohttp connection pool.

    httpcore's pool cost most of the CPU at 10,000 checks (it walks every connection on each
    request start and finish: encode/httpcore#1035), even split into sixteen pools; aiohttp's
    pool finds an idle connection per host in a dict (bot/monitoring/checks/aiohttp_transport.py).
    """

    def __init__(self, ssl_context: ssl.SSLContext, max_connections: int = 200) -> None:
        self._client = _client(ssl_context, max_connections)
        # Each check's request, built once: building one (parsing the URL, merging headers) was
        # a sixth of a probe's CPU. httpx sends a request without changing it (redirects and
        # auth make new ones) and this client has no cookies to add, so reuse is safe; a
        # reloaded config brings new check objects, and so new requests.
        self._requests: dict[str, tuple[HttpCheck, httpx.Request, bool]] = {}

    @property
    def clients(self) -> tuple[httpx.AsyncClient, ...]:
        return (self._client,)

    async def observe(self, check: HttpCheck) -> Observation:
        """Send the check's request once; network errors propagate as httpx exceptions."""
        cached = self._requests.get(check.id)
        if cached is None or cached[0] is not check:
            read_body = uses_body(check.effective_conditions())
            cached = (check, build_request(self._client, check), read_body)
            self._requests[check.id] = cached
        _, request, read_body = cached
        return await send_request(self._client, check, read_body=read_body, built=request)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpClients:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


@dataclass(frozen=True)
class ProbeContext:
    """What every probe shares: the HTTP client and its connection pool, one TLS trust store."""

    http: HttpClients
    ssl_context: ssl.SSLContext


def build_ssl_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """Trust ca_file, else SSL_CERT_FILE / REQUESTS_CA_BUNDLE, else certifi's bundle."""
    path = ca_file or _ca_file_from_environment()
    if path is None:
        return ssl.create_default_context(cafile=certifi.where())
    if path.is_dir():
        return ssl.create_default_context(capath=str(path))
    return ssl.create_default_context(cafile=str(path))


def _ca_file_from_environment() -> Path | None:
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(name)
        if value:
            return Path(value)
    return None


class _RefuseAllCookies(DefaultCookiePolicy):
    """Plain checks share one client; a cookie set by one endpoint must not reach another."""

    def set_ok(self, cookie: Cookie, request: Request) -> bool:
        return False


class _NoCookies(httpx.Cookies):
    """An empty cookie store that is never offered a response's cookies.

    httpx offers every response to the client's cookies, building urllib's request and response
    objects for it even when the jar refuses them all: a twentieth of a probe's CPU."""

    def __init__(self) -> None:
        super().__init__(CookieJar(policy=_RefuseAllCookies()))

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _CookielessClient(httpx.AsyncClient):
    """httpx's client, keeping no cookies at all."""

    _none = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._none

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise AttributeError("the checks' client keeps no cookies")


def make_http_client(ssl_context: ssl.SSLContext, max_connections: int = 200) -> HttpClients:
    """The client all plain http checks share; max_connections should match the concurrency."""
    return HttpClients(ssl_context, max_connections)


def _client(ssl_context: ssl.SSLContext, max_connections: int) -> httpx.AsyncClient:
    return _CookielessClient(
        verify=ssl_context,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        timeout=None,  # run_check bounds the whole probe with the check's own timeout
        transport=AiohttpTransport(ssl_context, max_connections=max_connections),
    )


async def run_check(check: AnyCheck, context: ProbeContext) -> CheckResult:
    """Run one check once; network failures become a failed result, never an exception."""
    if isinstance(check, JourneyCheck):
        return await run_journey(check, context.ssl_context)
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    try:
        async with asyncio.timeout(check.timeout.total_seconds()):
            observation = await _observe(check, context)
    except Exception as error:  # every failure is a result, never an exception
        return CheckResult(
            check_id=check.id,
            success=False,
            started_at=started_at,
            duration=timedelta(seconds=time.perf_counter() - clock),
            error=_describe(error, check),
        )
    conditions = evaluate_conditions(check.effective_conditions(), observation)
    return CheckResult(
        check_id=check.id,
        success=all(condition.success for condition in conditions),
        started_at=started_at,
        duration=observation.response_time or timedelta(seconds=time.perf_counter() - clock),
        conditions=conditions,
        status_code=observation.status,
        ip=observation.ip,
        dns_rcode=observation.dns_rcode,
    )


async def _observe(
    check: HttpCheck | TcpCheck | TlsCheck | DnsCheck, context: ProbeContext
) -> Observation:
    if isinstance(check, DnsCheck):
        return await probe_dns(check)
    if isinstance(check, HttpCheck):
        return await context.http.observe(check)
    if isinstance(check, TcpCheck):
        return await probe_tcp(check.host, check.port)
    return await probe_tls(check.host, check.port, check.server_name, context.ssl_context)


def _describe(error: BaseException, check: HttpCheck | TcpCheck | TlsCheck | DnsCheck) -> str:
    if isinstance(check, DnsCheck):
        return describe_dns_error(error, check)
    return describe_error(error, host=_host_of(check), timeout=check.timeout)


def _host_of(check: HttpCheck | TcpCheck | TlsCheck) -> str:
    if isinstance(check, HttpCheck):
        return urlsplit(check.url).hostname or check.url
    return check.host
