"""A login site on loopback: a form with a CSRF token, a password, then a one-time code.

It verifies what it is sent as a real site does (the token issued with the form, pyotp on the
same secret), and can be broken the ways sites break: codes refused, the page after a good
login gone, the token missing from the form.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import pyotp
from aiohttp import web
from aiohttp.test_utils import TestServer

USER, PASSWORD = "probe", "s3cret"


@dataclass
class LoginSite:
    totp_secret: str = field(default_factory=pyotp.random_base32)
    refuse_codes: bool = False
    dashboard_gone: bool = False
    omit_csrf: bool = False
    echo_secrets: bool = False  # error pages quote what they were sent, as careless sites do
    url: str = ""
    issued_csrf: list[str] = field(default_factory=list)
    codes_received: list[str] = field(default_factory=list)
    echoed: list[dict[str, Any]] = field(default_factory=list)
    dashboard_visits: int = 0
    _forms: dict[str, str] = field(default_factory=dict)  # form cookie -> CSRF token
    _sessions: dict[str, str] = field(default_factory=dict)  # session -> "password" | "verified"
    _server: TestServer | None = None

    async def start(self) -> LoginSite:
        app = web.Application()
        app.router.add_get("/login", self._form_json)
        app.router.add_get("/login.html", self._form_html)
        app.router.add_post("/login", self._password)
        app.router.add_post("/mfa", self._code)
        app.router.add_get("/dashboard", self._dashboard)
        app.router.add_route("*", "/echo", self._echo)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        # The site's own request log would show what the probe sent; only the probe's logs count.
        await self._server.start_server(access_log=None)
        self.url = str(self._server.make_url("")).rstrip("/")
        return self

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()

    def secrets(self) -> list[str]:
        """Every value a probe had to keep to itself: the tokens issued and the codes sent."""
        return [*self.issued_csrf, *self.codes_received]

    def _new_form(self, response: web.Response) -> str:
        form_id, csrf = secrets.token_hex(8), secrets.token_urlsafe(18)
        self._forms[form_id] = csrf
        self.issued_csrf.append(csrf)
        response.set_cookie("form", form_id)
        return csrf

    async def _form_json(self, _: web.Request) -> web.Response:
        response = web.Response(content_type="application/json")
        csrf = self._new_form(response)
        page: dict[str, Any] = {"fields": ["user", "password"]}
        if not self.omit_csrf:
            page["csrf"] = csrf
        response.text = json.dumps(page)
        return response

    async def _form_html(self, _: web.Request) -> web.Response:
        response = web.Response(content_type="text/html")
        csrf = self._new_form(response)
        response.headers["X-CSRF-Token"] = csrf
        response.text = (
            '<html><body><form method="post" action="/login">'
            f'<input type="hidden" name="csrf" value="{csrf}">'
            '<input name="user"><input name="password" type="password"></form></body></html>'
        )
        return response

    async def _password(self, request: web.Request) -> web.Response:
        form = await request.post()
        sent = form.get("csrf") or request.headers.get("X-CSRF-Token")
        expected = self._forms.pop(request.cookies.get("form", ""), None)
        if expected is None or sent != expected:
            return web.Response(status=403, text="invalid CSRF token")
        if form.get("user") != USER or form.get("password") != PASSWORD:
            return web.Response(status=401, text="wrong user or password")
        session = secrets.token_hex(8)
        self._sessions[session] = "password"
        response = web.Response(status=302, headers={"Location": "/mfa"})
        response.set_cookie("session", session)
        return response

    async def _code(self, request: web.Request) -> web.Response:
        session = request.cookies.get("session", "")
        if self._sessions.get(session) != "password":
            return web.Response(status=401, text="log in with your password first")
        code = str((await request.post()).get("code") or request.query.get("code", ""))
        self.codes_received.append(code)
        if self.refuse_codes or not pyotp.TOTP(self.totp_secret).verify(code, valid_window=1):
            token = self.issued_csrf[-1]
            said = f"code {code} refused after token {token}" if self.echo_secrets else ""
            return web.Response(status=401, text=said or "code refused")
        self._sessions[session] = "verified"
        return web.Response(status=302, headers={"Location": "/dashboard"})

    async def _dashboard(self, request: web.Request) -> web.Response:
        self.dashboard_visits += 1
        if self._sessions.get(request.cookies.get("session", "")) != "verified":
            return web.Response(status=401, text="please log in")
        if self.dashboard_gone:
            return web.Response(status=404, text="not found")
        return web.Response(text="<html><body>Your Balance: 42.00 EUR</body></html>")

    async def _echo(self, request: web.Request) -> web.Response:
        self.echoed.append(
            {
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": (await request.read()).decode(),
            }
        )
        return web.json_response({"ok": True})
