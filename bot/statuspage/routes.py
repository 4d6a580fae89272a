"""HTTP routes of the public status page: `/`, `/api/v2/summary.json` and `/feed.atom`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.statuspage.feed import CONTENT_TYPE as ATOM_TYPE
from bot.statuspage.feed import render_feed
from bot.statuspage.page import PageRenderer
from bot.statuspage.public import StatusPage
from bot.statuspage.summary import render_summary
from bot.store import UNAVAILABLE

log = logging.getLogger(__name__)

# Short enough that an approved statement shows within seconds; long enough that a CDN in
# front absorbs the crowd that arrives during an outage.
_CACHE = "public, max-age=10"
_COMMON = {
    "Cache-Control": _CACHE,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class LastGood:
    """The last answer each public route gave, served again while the store is unreachable:
    during an outage customers still see the page (as it last was), never an error."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], web.Response] = {}

    def wrap(
        self, route: Callable[[web.Request], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            key = (request.path, request.query.get("lang", ""))
            try:
                response = await route(request)
            except UNAVAILABLE as exc:
                last = self._answers.get(key)
                log.warning("the store is unavailable (%s): %s served from its last copy", exc, key)
                if last is None:
                    return web.Response(
                        status=503,
                        text="The status page is temporarily unavailable; try again shortly.",
                        headers={"Retry-After": "10"},
                    )
                return _copy(last)
            self._answers[key] = response
            return _copy(response)

        return serve


def _copy(response: web.Response) -> web.Response:
    return web.Response(
        status=response.status,
        body=response.body,
        headers={k: v for k, v in response.headers.items() if k.lower() != "content-length"},
    )


def add_status_page_routes(app: web.Application, page: StatusPage) -> None:
    renderer = PageRenderer(page.config.timezone, list(page.config.languages))
    last_good = LastGood()

    async def status_page(request: web.Request) -> web.Response:
        language = page.language(request.query.get("lang"))
        status = await page.status(language)
        return web.Response(
            text=renderer.render(status),
            content_type="text/html",
            charset="utf-8",
            headers={
                **_COMMON,
                "Content-Language": language,
                "Content-Security-Policy": renderer.content_security_policy,
            },
        )

    async def summary(request: web.Request) -> web.Response:
        language = page.language(request.query.get("lang"))
        status = await page.status(language, history=False, past=False)
        body = render_summary(status, page.public_url, page.config.timezone)
        # Statuspage serves summary.json to any origin, so status widgets on other sites work.
        return web.json_response(
            body,
            headers={**_COMMON, "Access-Control-Allow-Origin": "*", "Content-Language": language},
        )

    async def feed(request: web.Request) -> web.Response:
        language = page.language(request.query.get("lang"))
        entries = await page.feed(language)
        return web.Response(
            body=render_feed(entries, language, page.public_url, page.now()),
            content_type=ATOM_TYPE,
            charset="utf-8",
            headers={**_COMMON, "Content-Language": language},
        )

    app.router.add_get("/", last_good.wrap(status_page))
    app.router.add_get("/api/v2/summary.json", last_good.wrap(summary))
    app.router.add_get("/feed.atom", last_good.wrap(feed))
