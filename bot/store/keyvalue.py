"""The storage primitives statusbot needs: a small subset of Redis, one interface, two backends.

Domain stores (check state, outages, history, outbox, incidents) are written once against this
protocol; `RedisKeyValue` serves several replicas and `SqliteKeyValue` is the embedded default
(Redis semantics in memory, every change committed to SQLite), so they behave the same by
construction and run the same behavioural tests.
All keys are given unprefixed; the Redis backend adds `STATUSBOT_REDIS_PREFIX`.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class KeyValue(Protocol):
    name: str  # "redis" or "embedded", for start-up messages and /readyz
    where: str  # where the data lives, for people: "SQLite database statusbot.db"

    def atomic(self) -> AbstractAsyncContextManager[None]:
        """Writes inside the block are applied together or not at all (Redis: MULTI/EXEC;
        SQLite: one transaction). Only for blocks that write: results inside are not known."""
        ...

    async def ping(self) -> bool:
        """True while the store answers; never raises."""
        ...

    async def close(self) -> None: ...

    # strings
    async def get(self, key: str) -> str | None: ...

    async def get_many(self, keys: list[str]) -> list[str | None]:
        """GET for several keys in one round trip (MGET), in the same order; None for a key
        that is missing or holds something other than a string."""
        ...

    async def set(self, key: str, value: str, *, nx: bool = False, px: int | None = None) -> bool:
        """Set a value; with nx only when absent; px is a time-to-live in ms. True when set."""
        ...

    async def claim(self, key: str, px: int) -> bool:
        """`SET key 1 NX PX px`: True for the first claim of a delivery, a retry or a double
        click. Durable no later than the next write made after it, which may not be before
        this returns: the embedded store does not wait for the disk here."""
        ...

    async def set_if_equal(
        self, key: str, expected: str, value: str, px: int | None = None
    ) -> bool:
        """Atomically replace the value only when it currently equals `expected` (leases)."""
        ...

    async def delete_if_equal(self, key: str, expected: str) -> bool: ...

    async def delete(self, *keys: str) -> int: ...

    async def incr(self, key: str, amount: int = 1) -> int: ...

    async def expire(self, key: str, seconds: int) -> bool: ...

    async def exists(self, key: str) -> bool: ...

    # hashes
    async def hget(self, key: str, field: str) -> str | None: ...

    async def hset(self, key: str, mapping: Mapping[str, str]) -> None: ...

    async def hgetall(self, key: str) -> dict[str, str]: ...

    async def hdel(self, key: str, *fields: str) -> int: ...

    async def hincrby(
        self, key: str, increments: Mapping[str, int], ttl: int | None = None
    ) -> None:
        """Add to several integer fields at once; optionally (re)set the key's TTL in seconds."""
        ...

    async def hgetall_many(self, keys: list[str]) -> list[dict[str, str]]:
        """HGETALL for several keys in one round trip, results in the same order."""
        ...

    # lists
    async def rpush(self, key: str, *values: str) -> int: ...

    async def lpush(self, key: str, *values: str) -> int: ...

    async def lpop(self, key: str) -> str | None: ...

    async def lindex(self, key: str, index: int) -> str | None: ...

    async def lset(self, key: str, index: int, value: str) -> None: ...

    async def lrange(self, key: str, start: int, stop: int) -> list[str]:
        """Inclusive range, negative indexes from the end, as in Redis."""
        ...

    async def ltrim(self, key: str, start: int, stop: int) -> None: ...

    async def llen(self, key: str) -> int: ...

    # sorted sets
    async def zadd(self, key: str, mapping: Mapping[str, float], *, nx: bool = False) -> int: ...

    async def zrem(self, key: str, *members: str) -> int: ...

    async def zscore(self, key: str, member: str) -> float | None: ...

    async def zrangebyscore(
        self, key: str, minimum: float, maximum: float, limit: int | None = None
    ) -> list[tuple[str, float]]:
        """Members with minimum <= score <= maximum, lowest score first (ties by member)."""
        ...

    async def zcard(self, key: str) -> int: ...

    # sets
    async def sadd(self, key: str, *members: str) -> int: ...

    async def srem(self, key: str, *members: str) -> int: ...

    async def smembers(self, key: str) -> builtins.set[str]: ...
