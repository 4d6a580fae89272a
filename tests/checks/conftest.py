"""Real servers on loopback for the probe tests: an HTTP app, TLS listeners, and a throwaway PKI."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.monitoring.checks.probe import ProbeContext, build_ssl_context, make_http_client
from tests.support.pki import Pki

# --- the HTTP app -------------------------------------------------------------------------------


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "UP"})


async def _down(request: web.Request) -> web.Response:
    return web.json_response({"status": "DOWN"}, status=503)


async def _wrong_body(request: web.Request) -> web.Response:
    return web.json_response({"status": "DOWN"})


async def _slow(request: web.Request) -> web.Response:
    # Waits until the fixture tears down, so the server never stalls the test's end.
    await request.app[RELEASE].wait()
    return web.Response(text="too late")


async def _echo(request: web.Request) -> web.Response:
    raw = await request.read()
    received = {
        "method": request.method,
        "content_type": request.content_type,
        "body": raw.decode(),
        "user_agent": request.headers.get("User-Agent", ""),
        "x_probe": request.headers.get("X-Probe", ""),
        "cookie": request.headers.get("Cookie", ""),
        "authorization": request.headers.get("Authorization", ""),
        "path": request.raw_path,
    }
    if request.content_type == "application/json":
        received["json"] = json.loads(raw)
    elif request.content_type == "application/x-www-form-urlencoded":
        received["form"] = dict(await request.post())
    return web.json_response(received)


async def _login(request: web.Request) -> web.Response:
    form = await request.post()
    if form.get("user") != "probe" or form.get("password") != "s3cret":
        return web.Response(status=403, text="bad credentials")
    redirect = web.HTTPFound("/dashboard")
    redirect.set_cookie("session", "abc123")
    raise redirect


async def _dashboard(request: web.Request) -> web.Response:
    if request.cookies.get("session") != "abc123":
        return web.Response(status=401, text="log in first")
    return web.Response(text="<html><body>Your Balance: 42.00 EUR</body></html>")


async def _dashboard_gone(request: web.Request) -> web.Response:
    return web.Response(status=404, text="not found")


async def _set_cookie(request: web.Request) -> web.Response:
    response = web.Response(text="cookie set")
    response.set_cookie("tracker", "xyz")
    return response


RELEASE = web.AppKey("release", asyncio.Event)


def _app() -> web.Application:
    app = web.Application()
    app[RELEASE] = asyncio.Event()
    app.router.add_get("/health", _health)
    app.router.add_get("/down", _down)
    app.router.add_get("/wrong-body", _wrong_body)
    app.router.add_get("/slow", _slow)
    app.router.add_route("*", "/echo", _echo)
    app.router.add_post("/login", _login)
    app.router.add_get("/dashboard", _dashboard)
    app.router.add_get("/dashboard-gone", _dashboard_gone)
    app.router.add_get("/set-cookie", _set_cookie)
    return app


@pytest.fixture
async def web_url() -> AsyncIterator[str]:
    """Base URL of the test app, e.g. http://127.0.0.1:41234 (no trailing slash)."""
    app = _app()
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        app[RELEASE].set()
        await server.close()


HttpsServer = Callable[[ssl.SSLContext], Awaitable[str]]


@pytest.fixture
async def https_server() -> AsyncIterator[HttpsServer]:
    """Serve the test app over TLS with a given server context; returns its base URL."""
    servers: list[TestServer] = []

    async def start(context: ssl.SSLContext) -> str:
        server = TestServer(_app(), host="127.0.0.1", port=0)
        await server.start_server(ssl=context)
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def probe_context(pki: Pki) -> AsyncIterator[ProbeContext]:
    """The context run_check gets in production, trusting the test CA."""
    ssl_context = build_ssl_context(pki.ca_file)
    async with make_http_client(ssl_context) as client:
        yield ProbeContext(http=client, ssl_context=ssl_context)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def open_port() -> AsyncIterator[int]:
    """A loopback port with a plain TCP listener that closes each connection."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


# --- a throwaway PKI and TLS listeners ----------------------------------------------------------


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


TlsServer = Callable[[ssl.SSLContext], Awaitable[int]]


@pytest.fixture
async def tls_server() -> AsyncIterator[TlsServer]:
    """Start a TLS listener on 127.0.0.1 with a given server context; returns its port."""
    servers: list[asyncio.Server] = []

    async def serve_until_closed(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # A probe hangs up right after the handshake, sometimes without close_notify.
        with contextlib.suppress(OSError):
            await reader.read()
        writer.close()

    async def start(context: ssl.SSLContext) -> int:
        server = await asyncio.start_server(serve_until_closed, "127.0.0.1", 0, ssl=context)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()
