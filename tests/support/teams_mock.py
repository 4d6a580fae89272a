"""A stand-in for Microsoft's side of Teams, on loopback HTTPS with a throw-away CA.

One server plays every part the bot talks to: the channel's OpenID metadata and signing keys,
the login authority (client credentials), the Bot Connector (send, reply, update) and Workflows
webhooks. It runs on its own thread and event loop, as Microsoft's servers would: the Teams SDK
fetches signing keys synchronously. Activities are signed with a local RSA key exactly as the
Bot Connector signs them (RS256, issuer https://api.botframework.com, audience = the app ID,
`serviceurl` = the activity's serviceUrl).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.pki import Pki

APP_ID = "00000000-0000-0000-0000-00000000b07"
APP_PASSWORD = "test-app-password"
ISSUER = "https://api.botframework.com"
KID = "test-signing-key"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    id: str | None = None  # the activity ID the connector answered with


@dataclass
class _Fault:
    status: int
    retry_after: float | None = None
    body: str = ""


def _jwks(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**public, "kid": kid, "use": "sig", "endorsements": ["msteams"]}]}


@dataclass
class MockMicrosoft:
    pki: Pki
    requests: list[Request] = field(default_factory=list)
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    port: int = 0
    _faults: dict[str, list[_Fault]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_700_000_000_001))
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what tests use ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def service_url(self) -> str:
        return f"{self.url}/teams/"

    @property
    def openid_metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    @property
    def login_url(self) -> str:
        return f"{self.url}/botframework.com"

    def webhook(self, name: str) -> str:
        return f"{self.url}/webhook/{name}"

    def sign(
        self,
        *,
        service_url: str | None = None,
        audience: str = APP_ID,
        issuer: str = ISSUER,
        expires_in: float = 3600,
        key: rsa.RSAPrivateKey | None = None,
        kid: str = KID,
    ) -> str:
        """A token as the Bot Connector signs an activity it sends to the bot."""
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "serviceurl": service_url or self.service_url,
            "iat": now - 60,
            "nbf": now - 60,
            "exp": int(now + expires_in),
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid})

    def fail_next(
        self,
        kind: str,
        status: int,
        *,
        retry_after: float | None = None,
        body: str = "",
        times: int = 1,
    ) -> None:
        """The next `times` requests of a kind (`webhook`, `activity`, `update`, `token`) fail."""
        with self._lock:
            self._faults.setdefault(kind, []).extend(
                _Fault(status, retry_after, body) for _ in range(times)
            )

    def of(self, kind: str) -> list[Request]:
        """Requests that succeeded, of one kind, in order."""
        prefixes = {
            "webhook": ("POST", "/webhook/"),
            "activity": ("POST", "/teams/v3/conversations/"),
            "update": ("PUT", "/teams/v3/conversations/"),
            "token": ("POST", "/botframework.com/oauth2/"),
            "keys": ("GET", "/v1/.well-known/keys"),
        }
        method, prefix = prefixes[kind]
        with self._lock:
            return [
                r
                for r in self.requests
                if r.method == method
                and r.path.startswith(prefix)
                and not r.headers.get("x-failed")
            ]

    def activities(self, conversation: str | None = None) -> list[Request]:
        """Activities the bot sent (new posts and replies), to a conversation if given."""
        sent = self.of("activity")
        if conversation is None:
            return sent
        return [r for r in sent if r.path.split("/")[4] == conversation]

    @staticmethod
    def summary(request: Request) -> str:
        return str(request.body.get("summary") or request.body.get("text") or "")

    @staticmethod
    def card(request: Request) -> dict[str, Any]:
        return dict(request.body["attachments"][0]["content"])

    # -- serving -----------------------------------------------------------------------------

    def start(self) -> MockMicrosoft:
        ready = threading.Event()
        threading.Thread(
            target=self._serve, args=(ready,), name="mock-microsoft", daemon=True
        ).start()
        if not ready.wait(10):
            raise RuntimeError("the Microsoft mock did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        runner = self._runner

        async def shutdown() -> None:
            if runner is not None:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        app.router.add_post("/botframework.com/oauth2/v2.0/token", self._token)
        app.router.add_post("/teams/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_put("/teams/v3/conversations/{conversation}/activities/{id}", self._update)
        app.router.add_post("/webhook/{name}", self._webhook)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        context = self.pki.server_context(expires_in=timedelta(days=30))
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()
        loop.run_forever()
        loop.close()

    async def _record(self, request: web.Request, kind: str) -> tuple[Request, web.Response | None]:
        raw = await request.read()
        try:
            body: Any = (
                json.loads(raw)
                if raw and request.content_type == "application/json"
                else dict(await request.post())
            )
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = raw.decode(errors="replace")
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            fault = self._faults.get(kind, []).pop(0) if self._faults.get(kind) else None
            if fault is not None:
                headers["x-failed"] = "1"
            recorded = Request(request.method, request.raw_path, headers, body)
            self.requests.append(recorded)
        if fault is None:
            return recorded, None
        extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return recorded, web.Response(status=fault.status, text=fault.body, headers=extra)

    async def _metadata(self, request: web.Request) -> web.Response:
        await self._record(request, "metadata")
        return web.json_response(
            {
                "issuer": ISSUER,
                "jwks_uri": f"{self.url}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        await self._record(request, "keys")
        return web.json_response(_jwks(self.key, KID))

    async def _token(self, request: web.Request) -> web.Response:
        recorded, failed = await self._record(request, "token")
        if failed is not None:
            return failed
        form = recorded.body
        if form.get("client_id") != APP_ID or form.get("client_secret") != APP_PASSWORD:
            return web.json_response({"error": "invalid_client"}, status=401)
        token = jwt.encode(
            {
                "aud": "https://api.botframework.com",
                "appid": APP_ID,
                "exp": int(time.time()) + 3600,
            },
            "not-a-real-signing-key-but-long-enough-for-hs256",
            algorithm="HS256",
        )
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3600, "access_token": token}
        )

    async def _activity(self, request: web.Request) -> web.Response:
        recorded, failed = await self._record(request, "activity")
        if failed is not None:
            return failed
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return web.json_response({"error": "no token"}, status=401)
        recorded.id = str(next(self._ids))
        return web.json_response({"id": recorded.id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        _, failed = await self._record(request, "update")
        if failed is not None:
            return failed
        return web.json_response({"id": request.match_info["id"]})

    async def _webhook(self, request: web.Request) -> web.Response:
        _, failed = await self._record(request, "webhook")
        if failed is not None:
            return failed
        return web.Response(status=202)
