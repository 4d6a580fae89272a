"""The public files — the page in each language, summary.json, the feed — rendered once per
change and served from memory, so a crowd costs neither the store nor a render per request.

Their inputs are read again when something customers see may have changed (a publication, an
incident or component change: `changed()`), and at least every few seconds for what time alone
moves ("as of", maintenance starting) and for other replicas' changes; a file is rendered again
only when its inputs differ from the last render's. Unchanged bytes keep their ETag and
Last-Modified, so replicas rendering the same state serve the same ETags, and a CDN or browser
revalidating gets 304. While the store cannot be read the last good copy stays; with
STATUSBOT_STATIC_DIR the same files are written there, atomically, on every change.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial
from pathlib import Path
from typing import Any

import brotli

from bot.statuspage.feed import CONTENT_TYPE as ATOM_TYPE
from bot.statuspage.feed import render_feed
from bot.statuspage.page import PageRenderer
from bot.statuspage.public import PublicStatus, StatusPage
from bot.statuspage.summary import render_summary
from bot.store import UNAVAILABLE

log = logging.getLogger(__name__)

PAGE, SUMMARY, FEED = "/", "/api/v2/summary.json", "/feed.atom"
ROUTES = (PAGE, SUMMARY, FEED)
_CONTENT_TYPES = {
    PAGE: "text/html; charset=utf-8",
    SUMMARY: "application/json; charset=utf-8",
    FEED: f"{ATOM_TYPE}; charset=utf-8",
}
REFRESH_S = 5.0  # the longest a page stays unrendered when nothing announced a change


@dataclass(frozen=True)
class PublicFile:
    """One rendered file, with its compressed forms and validators."""

    body: bytes
    gzipped: bytes
    brotli: bytes
    etag: str  # strong, from the bytes: identical on every replica for the same state
    last_modified: datetime
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    # Last-Modified as sent: formatted once, not on every request of a crowd (5% of the CPU).
    http_date: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "http_date", format_datetime(self.last_modified, usegmt=True))


async def _file(
    body: bytes, content_type: str, headers: dict[str, str], previous: PublicFile | None
) -> PublicFile:
    digest = hashlib.sha256(body).hexdigest()[:32]
    etag = f'"{digest}"'
    if previous is not None and previous.etag == etag:
        return previous
    # In a thread (zlib and brotli let go of the GIL), so commands and page requests are not
    # held up behind it.
    gzipped, compressed = await asyncio.to_thread(_compress, body)
    return PublicFile(
        body=body,
        gzipped=gzipped,
        brotli=compressed,
        etag=etag,
        last_modified=datetime.now(UTC).replace(microsecond=0),
        content_type=content_type,
        headers=tuple(headers.items()),
    )


def _compress(body: bytes) -> tuple[bytes, bytes]:
    # Brotli's default quality (11) took ~190 ms of CPU on the page, which changes every minute
    # ("as of"); quality 6 takes ~2 ms for a copy ~12% larger (2.9 KB instead of 2.6 KB).
    return gzip.compress(body, compresslevel=9, mtime=0), brotli.compress(body, quality=6)


class PublicFiles:
    def __init__(
        self, page: StatusPage, static_dir: Path | None = None, subscribe_url: str | None = None
    ) -> None:
        self.page = page
        self.renderer = PageRenderer(
            page.config.timezone, list(page.config.languages), subscribe_url=subscribe_url
        )
        self._static_dir = static_dir
        self._files: dict[tuple[str, str], PublicFile] = {}
        # What each file was rendered from: equal inputs render equal bytes, so the periodic
        # refresh renders (and hashes) only files whose inputs changed.
        self._sources: dict[tuple[str, str], object] = {}
        self._rendered_at = float("-inf")
        self._dirty = True
        self._lock = asyncio.Lock()

    def changed(self) -> None:
        """Something customers may see has changed: render before the next answer."""
        self._dirty = True

    async def changed_async(self, *_: Any) -> None:
        """`changed`, as a listener of the domain's events."""
        self.changed()

    async def get(self, route: str, language: str) -> PublicFile | None:
        """The current file; rendered first when it may be out of date, unless another request
        is already rendering it (then the last copy is served: stale while revalidating)."""
        stale = self._dirty or time.monotonic() - self._rendered_at >= REFRESH_S
        known = self._files.get((route, language))
        if stale and (known is None or not self._lock.locked()):
            await self.refresh()
        return self._files.get((route, language))

    async def refresh(self) -> None:
        """Render every file; keep the last good copies if the store cannot be read."""
        async with self._lock:
            self._dirty = False
            try:
                fresh, sources = await self._render_all()
            except UNAVAILABLE as exc:
                self._dirty = True
                log.warning(
                    "the public page keeps its last copy: the store is unavailable (%s)", exc
                )
                return
            self._rendered_at = time.monotonic()
            changed = [key for key, file in fresh.items() if self._files.get(key) is not file]
            self._files, self._sources = fresh, sources
            if changed and self._static_dir is not None:
                await asyncio.to_thread(self._export, changed)

    async def keep_fresh(self) -> None:
        """Render when due even without requests (the static export, a warm first answer)."""
        task = asyncio.current_task()
        while True:
            try:
                if self._dirty or time.monotonic() - self._rendered_at >= REFRESH_S:
                    await self.refresh()
            except Exception:
                log.exception("the public files could not be rendered")
            if task is not None and task.cancelling():
                # A client library may turn the cancellation into an error of its own.
                raise asyncio.CancelledError
            await asyncio.sleep(1.0)

    async def _render_all(
        self,
    ) -> tuple[dict[tuple[str, str], PublicFile], dict[tuple[str, str], object]]:
        page, renderer = self.page, self.renderer
        files: dict[tuple[str, str], PublicFile] = {}
        sources: dict[tuple[str, str], object] = {}

        async def made(
            route: str,
            language: str,
            source: object,
            render: Callable[[], bytes],
            headers: dict[str, str],
        ) -> None:
            key = (route, language)
            sources[key] = source
            known = self._files.get(key)
            if known is not None and self._sources.get(key) == source:
                files[key] = known
            else:
                # Rendered here, not in a thread: pure Python holds the GIL, and a thread would
                # make the event loop wait up to a switch interval after every system call
                # for as long as the render lasts. Inputs change about once a minute.
                files[key] = await _file(render(), _CONTENT_TYPES[route], headers, known)

        for language in page.config.languages:
            common = {"Content-Language": language}
            status = await page.status(language)
            csp = {**common, "Content-Security-Policy": renderer.content_security_policy}
            await made(PAGE, language, status, partial(_html, renderer, status), csp)
            brief = await page.status(language, history=False, past=False)
            cors = {**common, "Access-Control-Allow-Origin": "*"}
            await made(SUMMARY, language, brief, partial(_summary, brief, page), cors)
            entries = await page.feed(language)
            now = page.now()
            atom = partial(render_feed, entries, language, page.public_url, now)
            await made(FEED, language, (entries, now), atom, common)
        return files, sources

    def _export(self, changed: list[tuple[str, str]]) -> None:
        assert self._static_dir is not None
        default = self.page.config.languages[0]
        for route, language in changed:
            body = self._files[(route, language)].body
            name = {PAGE: "index.html", SUMMARY: "api/v2/summary.json", FEED: "feed.atom"}[route]
            _write_atomically(self._static_dir / language / name, body)
            if language == default:
                _write_atomically(self._static_dir / name, body)


def _html(renderer: PageRenderer, status: PublicStatus) -> bytes:
    return renderer.render(status).encode()


def _summary(brief: PublicStatus, page: StatusPage) -> bytes:
    summary = render_summary(brief, page.public_url, page.config.timezone)
    return json.dumps(summary, ensure_ascii=False, separators=(",", ":")).encode()


def _write_atomically(path: Path, body: bytes) -> None:
    """A reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
