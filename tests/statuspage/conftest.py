"""A runtime with comms roles, its web app served on loopback, and helpers to publish statements."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.monitoring.checks.result import CheckResult
from bot.runtime import Runtime
from bot.settings import Settings
from bot.statements.models import Statement
from bot.store.keyvalue import KeyValue
from handlers.console.adapter import ConsoleAdapter
from tests.support.builders import failure, make_config, success

ROLES = {
    "responders": ["U0ENG1", "U0ENG2"],
    "comms": ["U0COMMS1", "U0COMMS2"],
    "managers": ["U0MGR1"],
}
# What engineers write for themselves: it must never reach a customer.
INTERNAL_TITLE = "DB primary OOM after bad deploy"
INTERNAL_NOTE = "rolled back build 4711 on db-primary-2"
PUBLIC_URL = "https://status.example.com"
PAGES = ["/", "/?lang=it", "/api/v2/summary.json", "/api/v2/summary.json?lang=it"]
FEEDS = ["/feed.atom", "/feed.atom?lang=it"]


@dataclass
class Fetched:
    status: int
    headers: Any
    text: str


@dataclass
class Site:
    runtime: Runtime
    server: TestServer
    http: aiohttp.ClientSession
    maintenance_start: datetime

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def get(self, path: str) -> Fetched:
        async with self.http.get(self.url(path)) as response:
            return Fetched(response.status, response.headers, await response.text())

    async def json(self, path: str) -> Any:
        async with self.http.get(self.url(path)) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def everything(self) -> str:
        """Every public route in every language, as one text to search."""
        return "\n".join([(await self.get(path)).text for path in PAGES + FEEDS])

    async def open_incident(self, **kwargs: Any) -> int:
        incident = await self.runtime.incidents.open(
            title=kwargs.pop("title", INTERNAL_TITLE), reporter="U0ENG1", **kwargs
        )
        return incident.number

    async def pending(self, subject: str) -> Statement:
        draft = await self.runtime.statements.store.pending(subject)
        assert draft is not None, f"no pending statement for {subject}"
        return draft

    async def approve(self, subject: str, approver: str = "U0COMMS2") -> Statement:
        draft = await self.pending(subject)
        return await self.runtime.statements.approve(draft.id, approver)

    async def record_history(self, component: str, days: int, bad_days: dict[int, int]) -> None:
        """`days` days of check results, 20 a day; `bad_days` maps days-ago to failures."""
        check = self.runtime.config.checks_of(component)[0].id
        today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
        for ago in range(days):
            at = today - timedelta(days=ago)
            failures = bad_days.get(ago, 0)
            for n in range(20):
                result: CheckResult = (
                    failure(check, at + timedelta(minutes=n))
                    if n < failures
                    else success(check, at + timedelta(minutes=n))
                )
                await self.runtime.records.history.record(component, result)


@contextlib.asynccontextmanager
async def serve(kv: KeyValue, **settings: Any) -> AsyncIterator[Site]:
    # Two days ahead, on the hour: inside the seven days in which a notice gets drafted.
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    config = make_config(
        roles=ROLES,
        maintenance=[
            {
                "components": ["app"],
                "start": start.isoformat(),
                "end": (start + timedelta(hours=2)).isoformat(),
                "title": "Planned upgrade",
            }
        ],
    )
    environment = Settings(
        slack_bot_token=None, host="127.0.0.1", port=0, public_url=PUBLIC_URL, **settings
    )
    runtime = Runtime(
        environment, config, kv=kv, adapters={"console": ConsoleAdapter(io.StringIO())}
    )
    server = TestServer(runtime.web_app, host="127.0.0.1", port=0)
    await server.start_server()
    http = aiohttp.ClientSession()
    try:
        yield Site(runtime, server, http, start)
    finally:
        await http.close()
        await server.close()
        await runtime.http.aclose()


@pytest.fixture
async def site(kv: KeyValue) -> AsyncIterator[Site]:
    async with serve(kv) as served:
        yield served
