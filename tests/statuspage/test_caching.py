"""The public files at crowd scale: rendered once per change, served from memory with
validators a CDN and browsers use, the same bytes on every replica, exported as static files."""

from __future__ import annotations

import gzip
from pathlib import Path

import aiohttp
import brotli

from bot.store.keyvalue import KeyValue
from tests.statuspage.conftest import INTERNAL_TITLE, Site, serve

ROUTES = ("/", "/?lang=it", "/api/v2/summary.json", "/feed.atom")


async def _get(site: Site, path: str, **headers: str) -> aiohttp.ClientResponse:
    headers.setdefault("Accept-Encoding", "identity")
    response = await site.http.get(site.url(path), headers=headers, auto_decompress=False)
    await response.read()
    return response


async def test_validators_caching_and_304(kv: KeyValue) -> None:
    async with serve(kv) as site:
        for path in ROUTES:
            first = await _get(site, path)
            assert first.status == 200, path
            etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
            cache = first.headers["Cache-Control"]
            assert "max-age=10" in cache and "stale-while-revalidate" in cache
            assert "stale-if-error" in cache
            assert first.headers["Vary"] == "Accept-Encoding"
            again = await _get(site, path, **{"If-None-Match": etag})
            assert again.status == 304 and await again.read() == b""
            assert again.headers["ETag"] == etag
            assert (await _get(site, path, **{"If-Modified-Since": modified})).status == 304
            other = await _get(site, path, **{"If-None-Match": '"something-else"'})
            assert other.status == 200


async def test_compressed_copies_have_their_own_etags(kv: KeyValue) -> None:
    async with serve(kv) as site:
        plain = await _get(site, "/")
        body = await plain.read()
        zipped = await _get(site, "/", **{"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(await zipped.read()) == body
        br = await _get(site, "/", **{"Accept-Encoding": "gzip, br"})
        assert br.headers["Content-Encoding"] == "br"
        assert brotli.decompress(await br.read()) == body
        tags = {plain.headers["ETag"], zipped.headers["ETag"], br.headers["ETag"]}
        assert len(tags) == 3


async def test_a_publication_shows_at_once_with_a_new_etag(kv: KeyValue) -> None:
    async with serve(kv) as site:
        before = await _get(site, "/api/v2/summary.json")
        number = await site.open_incident(severity=1, components=["web"])
        assert (await _get(site, "/api/v2/summary.json")).headers["ETag"] == before.headers["ETag"]
        await site.approve(f"incident:{number}")
        after = await _get(
            site, "/api/v2/summary.json", **{"If-None-Match": before.headers["ETag"]}
        )
        assert after.status == 200
        assert after.headers["ETag"] != before.headers["ETag"]


async def test_replicas_serve_the_same_bytes_and_etags(kv: KeyValue) -> None:
    async with serve(kv) as first, serve(kv) as second:
        number = await first.open_incident(severity=2, components=["web"])
        await first.approve(f"incident:{number}")
        second.runtime.public.changed()  # (in production: its next render, within seconds)
        for path in ROUTES:
            a, b = await _get(first, path), await _get(second, path)
            assert await a.read() == await b.read(), path
            assert a.headers["ETag"] == b.headers["ETag"], path


async def test_the_static_export_mirrors_every_publication(kv: KeyValue, tmp_path: Path) -> None:
    static = tmp_path / "public"
    async with serve(kv, static_dir=static) as site:
        number = await site.open_incident(severity=1, components=["web"])
        await site.approve(f"incident:{number}")
        await site.runtime.public.refresh()
        names = sorted(str(p.relative_to(static)) for p in static.rglob("*") if p.is_file())
        assert names == [
            "api/v2/summary.json",
            "en/api/v2/summary.json",
            "en/feed.atom",
            "en/index.html",
            "feed.atom",
            "index.html",
            "it/api/v2/summary.json",
            "it/feed.atom",
            "it/index.html",
        ]
        served = await _get(site, "/?lang=it")
        assert (static / "it" / "index.html").read_bytes() == await served.read()
        assert "Disservizio" in (static / "it" / "index.html").read_text()
        assert INTERNAL_TITLE not in (static / "index.html").read_text()
        assert "Disruption to our online account services" in (static / "feed.atom").read_text()
