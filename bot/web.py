"""The HTTP server every replica runs: liveness, readiness, metrics and the Alertmanager webhook."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.metrics import Metrics
from bot.monitoring.alertmanager.payload import MAX_BODY_BYTES, PayloadError, parse_payload
from bot.monitoring.alertmanager.receiver import AlertReceiver
from bot.store import STORE_UNAVAILABLE_TEXT, UNAVAILABLE
from bot.store.keyvalue import KeyValue

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _no_tracebacks(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A bug must never show a traceback to a caller; log it and answer plainly."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except UNAVAILABLE as exc:
        log.warning("the store is unavailable (%s) for %s %s", exc, request.method, request.path)
        return web.json_response({"error": STORE_UNAVAILABLE_TEXT}, status=503)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return web.json_response({"error": "internal error"}, status=500)


def create_web_app(
    kv: KeyValue, metrics: Metrics, outbox_depth: Callable[[], Awaitable[int]] | None = None
) -> web.Application:
    app = web.Application(middlewares=[_no_tracebacks])

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        if await kv.ping():
            return web.json_response({"status": "ready", "store": kv.name})
        return web.json_response({"status": "store unavailable", "store": kv.name}, status=503)

    async def metrics_route(_: web.Request) -> web.Response:
        if outbox_depth is not None:
            # Read at each scrape: right on every replica and straight after a restart, not
            # only where and when the outbox last looked.
            with contextlib.suppress(Exception):
                metrics.outbox_depth.set(await outbox_depth())
        for refresh in metrics.before_scrape:
            with contextlib.suppress(Exception):
                await refresh()
        response = web.Response(body=metrics.render())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_route)
    return app


ALERTMANAGER_PATH = "/webhooks/alertmanager"


def add_alertmanager_route(
    app: web.Application, token: str, receiver: AlertReceiver, metrics: Metrics
) -> None:
    """`POST /webhooks/alertmanager` with `Authorization: Bearer <token>` (only when a token is
    set: without one the route does not exist)."""
    # Compared as digests: constant time, whatever length the caller sends.
    expected = hashlib.sha256(f"bearer {token}".encode()).digest()

    async def alertmanager(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "")
        scheme, _, credentials = given.partition(" ")
        offered = hashlib.sha256(f"{scheme.lower()} {credentials.strip()}".encode()).digest()
        if not hmac.compare_digest(offered, expected):
            metrics.alertmanager_requests.labels("unauthorized").inc()
            return web.json_response(
                {"error": "missing or wrong bearer token (ALERTMANAGER_TOKEN)"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="statusbot"'},
            )
        body = await _body_at_most(request, MAX_BODY_BYTES)
        if body is None:
            metrics.alertmanager_requests.labels("malformed").inc()
            reason = f"the body is larger than {MAX_BODY_BYTES} bytes (lower max_alerts)"
            return web.json_response({"error": reason}, status=413)
        try:
            payload = parse_payload(body)
        except PayloadError as exc:
            metrics.alertmanager_requests.labels("malformed").inc()
            return web.json_response({"error": str(exc)}, status=400)
        try:
            outcomes = await receiver.receive(payload)
        except UNAVAILABLE:
            # Answered 503 by the middleware: Alertmanager sends the group again later.
            metrics.alertmanager_requests.labels("unavailable").inc()
            raise
        metrics.alertmanager_requests.labels("accepted").inc()
        return web.json_response({"status": "accepted", **outcomes})

    app.router.add_post(ALERTMANAGER_PATH, alertmanager, name="alertmanager")


async def _body_at_most(request: web.Request, limit: int) -> bytes | None:
    """The body; None once it is past `limit` bytes (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return None
    return b"".join(chunks)
