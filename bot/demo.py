"""`statusbot demo`: a simulated service estate on loopback, monitored, with an injected outage.

The outage follows the card issuer's: the web site's login works but the dashboard fails, the
app's logins are refused at the one-time code (its API's health endpoint still says UP: only
the journey that logs in like a customer sees it), two-step verification hangs and the phone
line refuses calls, while payments keep working. A newcomer sees the alerts within seconds and
the recoveries within a minute, in the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
from aiohttp import web

from bot.config import Config, parse_config
from bot.settings import Settings
from bot.wiring import build_runtime, install_chat, wait_for_signal
from handlers.commands.dispatcher import Dispatcher
from handlers.console.prompt import answer

OUTAGE_AT = 8.0  # seconds after start
DECLARE_AT = 16.0
RECOVERY_AT = 38.0
APPROVE_AT = RECOVERY_AT + 12
COMMS_LEAD = "comms-lead"  # a second person: the engineer who drafted may not approve


@dataclass
class Estate:
    """The simulated services and the switch that breaks them."""

    broken: bool = False
    http_port: int = 0
    phone_port: int = 0
    # The app's login: a CSRF token per login form, then password, then a one-time code.
    totp_secret: str = field(default_factory=pyotp.random_base32)
    _forms: dict[str, str] = field(default_factory=dict)  # form cookie -> its CSRF token
    _sessions: dict[str, str] = field(default_factory=dict)  # session -> "password" | "verified"
    _runner: web.AppRunner | None = None
    _phone: asyncio.Server | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/web/health", self._web_health)
        app.router.add_post("/login", self._login)
        app.router.add_get("/dashboard", self._dashboard)
        app.router.add_get("/app/health", self._app_health)
        app.router.add_get("/app/login", self._app_login_form)
        app.router.add_post("/app/login", self._app_password)
        app.router.add_post("/app/mfa", self._app_code)
        app.router.add_get("/app/accounts", self._app_accounts)
        app.router.add_get("/mfa/health", self._mfa_health)
        app.router.add_get("/payments/health", self._payments_health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.http_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        await self._open_phone_line()

    async def stop(self) -> None:
        await self._close_phone_line()
        if self._runner is not None:
            await self._runner.cleanup()

    async def break_(self) -> None:
        self.broken = True
        await self._close_phone_line()

    async def repair(self) -> None:
        self.broken = False
        await self._open_phone_line()

    async def _open_phone_line(self) -> None:
        async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        self._phone = await asyncio.start_server(answer, "127.0.0.1", self.phone_port or 0)
        self.phone_port = self._phone.sockets[0].getsockname()[1]

    async def _close_phone_line(self) -> None:
        if self._phone is not None:
            self._phone.close()
            await self._phone.wait_closed()
            self._phone = None

    async def _web_health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "UP"})

    async def _login(self, _: web.Request) -> web.Response:
        response = web.Response(status=302, headers={"Location": "/dashboard"})
        response.set_cookie("session", "demo-session")
        return response

    async def _dashboard(self, request: web.Request) -> web.Response:
        if request.cookies.get("session") != "demo-session":
            return web.Response(status=401, text="please log in")
        if self.broken:
            return web.Response(status=404, text="Not Found")
        return web.Response(text="<h1>Your accounts</h1><p>Balance: 1,234.56 EUR</p>")

    async def _app_health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "UP"})

    async def _app_login_form(self, _: web.Request) -> web.Response:
        form_id, csrf = secrets.token_hex(8), secrets.token_urlsafe(16)
        self._forms[form_id] = csrf
        response = web.json_response({"csrf": csrf, "fields": ["user", "password"]})
        response.set_cookie("form", form_id)
        return response

    async def _app_password(self, request: web.Request) -> web.Response:
        form = await request.post()
        csrf = self._forms.pop(request.cookies.get("form", ""), None)
        if csrf is None or form.get("csrf") != csrf:
            return web.Response(status=403, text="invalid CSRF token")
        if form.get("user") != "probe" or form.get("password") != "demo":
            return web.Response(status=401, text="wrong user or password")
        session = secrets.token_hex(8)
        self._sessions[session] = "password"
        response = web.Response(status=302, headers={"Location": "/app/mfa"})
        response.set_cookie("app_session", session)
        return response

    async def _app_code(self, request: web.Request) -> web.Response:
        session = request.cookies.get("app_session", "")
        if self._sessions.get(session) != "password":
            return web.Response(status=401, text="log in with your password first")
        code = str((await request.post()).get("code", ""))
        # While two-step verification is down, every code is refused.
        if self.broken or not pyotp.TOTP(self.totp_secret).verify(code, valid_window=1):
            return web.Response(status=401, text="code refused")
        self._sessions[session] = "verified"
        return web.Response(status=302, headers={"Location": "/app/accounts"})

    async def _app_accounts(self, request: web.Request) -> web.Response:
        # One login per session, as a probe makes: the session ends with this page.
        if self._sessions.pop(request.cookies.get("app_session", ""), None) != "verified":
            return web.Response(status=401, text="please log in")
        return web.json_response({"accounts": [{"name": "Current", "balance": "1,234.56 EUR"}]})

    async def _mfa_health(self, _: web.Request) -> web.Response:
        if self.broken:
            await asyncio.sleep(5)
        return web.json_response({"status": "UP"})

    async def _payments_health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "UP"})


def demo_config(estate: Estate, speed: float = 1.0) -> Config:
    base = f"http://127.0.0.1:{estate.http_port}"
    # Checks keep pace with a faster story, down to one a second (the probes' timeout).
    interval = max(1.0, 2.0 / speed)
    fast: dict[str, Any] = {
        "interval": f"{interval:g}s",
        "timeout": "1s",
        "failure_threshold": 2,
        "success_threshold": 2,
    }
    raw: dict[str, Any] = {
        "timezone": "Europe/Rome",
        "languages": ["en", "it"],
        "components": [
            {
                "id": "web",
                "name": {"en": "online account services", "it": "servizi online del conto"},
            },
            {"id": "app", "name": {"en": "mobile app", "it": "app mobile"}},
            {"id": "phone", "name": {"en": "phone services", "it": "servizi telefonici"}},
            {
                "id": "mfa",
                "name": {"en": "two-step verification", "it": "verifica in due passaggi"},
            },
            {"id": "payments", "name": {"en": "card payments", "it": "pagamenti con carta"}},
        ],
        "checks": [
            {
                "id": "web-home",
                "component": "web",
                "type": "http",
                "url": f"{base}/web/health",
                "conditions": ["[STATUS] == 200", "[BODY].status == UP"],
                **fast,
            },
            {
                "id": "login-journey",
                "component": "web",
                "type": "journey",
                **fast,
                "steps": [
                    {
                        "name": "login",
                        "method": "POST",
                        "url": f"{base}/login",
                        "form": {"user": "probe", "password": "demo"},
                        "conditions": ["[STATUS] == 302"],
                    },
                    {
                        "name": "dashboard",
                        "url": f"{base}/dashboard",
                        "conditions": ["[STATUS] == 200", "[BODY] == pat(*Balance*)"],
                    },
                ],
            },
            {
                "id": "app-api",
                "component": "app",
                "type": "http",
                "url": f"{base}/app/health",
                "conditions": ["[STATUS] == 200"],
                **fast,
            },
            {
                "id": "login-2fa",
                "component": "app",
                "type": "journey",
                "totp_secret": estate.totp_secret,
                **fast,
                "steps": [
                    {
                        "name": "form",
                        "url": f"{base}/app/login",
                        "extract": {"csrf": "[BODY].csrf"},
                    },
                    {
                        "name": "password",
                        "method": "POST",
                        "url": f"{base}/app/login",
                        "form": {"user": "probe", "password": "demo", "csrf": "{csrf}"},
                        "conditions": ["[STATUS] == 302"],
                    },
                    {
                        "name": "code",
                        "method": "POST",
                        "url": f"{base}/app/mfa",
                        "form": {"code": "{totp}"},
                        "conditions": ["[STATUS] == 302"],
                    },
                    {
                        "name": "dashboard",
                        "url": f"{base}/app/accounts",
                        "conditions": [
                            "[STATUS] == 200",
                            "[BODY].accounts[0].balance == pat(*EUR)",
                        ],
                    },
                ],
            },
            {
                "id": "mfa-api",
                "component": "mfa",
                "type": "http",
                "url": f"{base}/mfa/health",
                "conditions": ["[STATUS] == 200", "[RESPONSE_TIME] < 800"],
                **fast,
            },
            {
                "id": "ivr",
                "component": "phone",
                "type": "tcp",
                "host": "127.0.0.1",
                "port": estate.phone_port,
                **fast,
            },
            {
                "id": "payments-api",
                "component": "payments",
                "type": "http",
                "url": f"{base}/payments/health",
                "conditions": ["[STATUS] == 200"],
                **fast,
            },
        ],
        "channels": {"alerts": {}, "incidents": {}, "managers": {}, "comms": {}},
    }
    return parse_config(raw, "<demo>")


async def run_demo(settings: Settings, duration: float | None = None, speed: float = 1.0) -> int:
    estate = Estate()
    await estate.start()
    config = demo_config(estate, speed)
    # The demo is self-contained: the console and a throw-away embedded database, whatever the
    # environment, so every demo starts clean.
    scratch = tempfile.TemporaryDirectory(prefix="statusbot-demo-")
    settings = settings.model_copy(
        update={
            "redis_url": None,
            "slack_bot_token": None,
            "teams_app_id": None,
            "port": 0,
            "host": "127.0.0.1",
            "database": Path(scratch.name) / "demo.db",
        }
    )
    runtime = build_runtime(settings, config, first_run_within=timedelta(seconds=1))

    dispatcher = install_chat(runtime, console_commands=True)
    say = _narrator()
    say(f"simulated estate on 127.0.0.1:{estate.http_port}: web, app, phone, mfa, payments")
    for line in runtime.describe():
        say(line)
    await runtime.start()
    say(f"public status page on http://127.0.0.1:{runtime.port}/ (also /metrics, /feed.atom)")
    say(f"all services healthy; an outage starts in {OUTAGE_AT / speed:.0f}s")
    try:
        page = f"http://127.0.0.1:{runtime.port}"
        await _script(estate, dispatcher, say, duration, speed, page)
    finally:
        await runtime.stop()
        await estate.stop()
        scratch.cleanup()
    return 0


async def _script(
    estate: Estate,
    dispatcher: Dispatcher,
    say: Any,
    duration: float | None,
    speed: float,
    page: str,
) -> None:
    async def engineer_types(command: str) -> None:
        say(f"the on-call engineer types: {command}")
        print(await answer(dispatcher, command), flush=True)

    async def comms_lead_types(command: str) -> None:
        say(f"the comms lead ({COMMS_LEAD}) types: {command}")
        print(await answer(dispatcher, command, COMMS_LEAD), flush=True)

    async def at(moment: float) -> None:
        await asyncio.sleep(max(0.0, moment / speed - (loop.time() - started)))

    loop = asyncio.get_running_loop()
    started = loop.time()

    async def timeline() -> None:
        await at(OUTAGE_AT)
        say(
            "injecting the outage: dashboard 404 after login, app logins refused at the "
            "one-time code, mfa hangs, phone refuses"
        )
        await estate.break_()
        await at(DECLARE_AT)
        await engineer_types(
            "/incident open Customers cannot log in, pay or verify sev:1 "
            "components:web,app,mfa,phone"
        )
        await at(RECOVERY_AT)
        say("repairing every service")
        await estate.repair()
        await at(RECOVERY_AT + 6)
        await engineer_types("/incident status 1 monitoring Failover complete, watching closely")
        await at(APPROVE_AT)
        await comms_lead_types("/incident approve INC-1")
        say(
            f"the statement is published: status page {page}/ (also {page}/?lang=it), "
            f"feed {page}/feed.atom, {page}/api/v2/summary.json"
        )
        await asyncio.sleep(1e9)

    story = asyncio.create_task(timeline())
    signal_task = asyncio.create_task(wait_for_signal())
    limit = None if duration is None else duration
    with contextlib.suppress(TimeoutError):
        await asyncio.wait({story, signal_task}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
    for task in (story, signal_task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _narrator() -> Any:
    def say(text: str) -> None:
        print(f"demo: {text}", file=sys.stderr, flush=True)

    return say
