"""HTTP routes of the public status page: `/`, `/api/v2/summary.json` and `/feed.atom`.

Each answer is a file rendered once per change (snapshot.py), sent as it is: compressed when the
client accepts it, with an ETag, Last-Modified and caching a CDN can use, and 304 to a request
that already has it.
"""

from __future__ import annotations

from aiohttp import web

from bot.statuspage.snapshot import FEED, PAGE, SUMMARY, PublicFile, PublicFiles

# Short enough that an approved statement shows within seconds; a CDN may serve its copy a
# little longer while it revalidates, and for a day if statusbot cannot answer at all.
CACHE_CONTROL = "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"
_COMMON = {
    "Cache-Control": CACHE_CONTROL,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Vary": "Accept-Encoding",
}


def add_status_page_routes(app: web.Application, files: PublicFiles) -> None:
    def route(path: str) -> web.RouteDef:
        async def serve(request: web.Request) -> web.StreamResponse:
            language = files.page.language(request.query.get("lang"))
            found = await files.get(path, language)
            if found is None:
                return web.Response(
                    status=503,
                    text="The status page is temporarily unavailable; try again shortly.",
                    headers={"Retry-After": "10"},
                )
            return _answer(request, found)

        return web.get(path, serve)

    app.add_routes([route(PAGE), route(SUMMARY), route(FEED)])


def _answer(request: web.Request, file: PublicFile) -> web.StreamResponse:
    encoding, body, etag = _encoded(request, file)
    headers = {
        **_COMMON,
        **dict(file.headers),
        "ETag": etag,
        "Last-Modified": file.http_date,
    }
    if _not_modified(request, etag, file):
        return web.Response(status=304, headers=headers)
    if encoding:
        headers["Content-Encoding"] = encoding
    return web.Response(body=body, headers={**headers, "Content-Type": file.content_type})


def _encoded(request: web.Request, file: PublicFile) -> tuple[str | None, bytes, str]:
    """The best form the client accepts, and the ETag of that form (each has its own)."""
    accepted = {
        part.split(";")[0].strip().lower()
        for part in request.headers.get("Accept-Encoding", "").split(",")
    }
    if "br" in accepted:
        return "br", file.brotli, file.etag[:-1] + '-br"'
    if "gzip" in accepted:
        return "gzip", file.gzipped, file.etag[:-1] + '-gz"'
    return None, file.body, file.etag


def _not_modified(request: web.Request, etag: str, file: PublicFile) -> bool:
    wanted = request.headers.get("If-None-Match")
    if wanted is not None:
        tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
        return "*" in tags or etag in tags
    since = request.if_modified_since
    return since is not None and file.last_modified <= since
