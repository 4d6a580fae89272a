"""The HTTP server every replica runs: liveness, readiness and metrics (more routes join later)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.metrics import Metrics
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
