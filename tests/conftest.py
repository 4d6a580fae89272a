"""Shared fixtures: the real Redis on loopback, a key prefix per test, the store on each backend
(Redis, and the embedded SQLite database in a throw-away file)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
import redis.asyncio

from bot.store import KeyValue, MemoryKeyValue, RedisKeyValue, SqliteKeyValue
from tests.support.service import Service
from tests.support.slack_mock import MockSlack

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
async def slack() -> AsyncIterator[MockSlack]:
    """Slack's Web API, mocked as a server on a free port."""
    server = await MockSlack().start()
    yield server
    await server.stop()


@pytest.fixture
def unique_prefix() -> str:
    """A key prefix no other test uses: tests share one Redis and clean up only their own keys."""
    return f"statusbot-test:{uuid4().hex}:"


async def delete_keys_with_prefix(url: str, prefix: str) -> None:
    # Only this test's keys: other tests and other people use the same Redis at the same time.
    client = redis.asyncio.Redis.from_url(url, decode_responses=True)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_kv(redis_url: str, unique_prefix: str) -> AsyncIterator[RedisKeyValue]:
    store = RedisKeyValue.from_url(redis_url, unique_prefix)
    if not await store.ping():
        await store.close()
        pytest.fail(f"these tests need Redis on {redis_url} (try `redis-server` or compose)")
    try:
        yield store
    finally:
        await store.close()
        await delete_keys_with_prefix(redis_url, unique_prefix)


@pytest.fixture
async def memory_kv() -> AsyncIterator[MemoryKeyValue]:
    store = MemoryKeyValue()
    yield store
    await store.close()


@pytest.fixture
async def sqlite_kv(tmp_path: Path) -> AsyncIterator[SqliteKeyValue]:
    store = SqliteKeyValue(tmp_path / "statusbot.db")
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", "redis"])
def kv(request: pytest.FixtureRequest) -> KeyValue:
    """The same store interface on each backend, so one test proves both behave alike."""
    store: KeyValue = request.getfixturevalue(f"{request.param}_kv")
    return store


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    """A health endpoint the test breaks (`service.status = 503`) and repairs."""
    svc = await Service().start()
    yield svc
    await svc.stop()
