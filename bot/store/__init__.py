"""Storage for statusbot: one `KeyValue` interface; Redis for replicas, SQLite embedded."""

from __future__ import annotations

from pathlib import Path

import redis.exceptions

from bot.store.keyvalue import KeyValue
from bot.store.memory_kv import MemoryKeyValue
from bot.store.redis_kv import RedisKeyValue
from bot.store.sqlite_kv import SqliteKeyValue

__all__ = [
    "UNAVAILABLE",
    "KeyValue",
    "MemoryKeyValue",
    "RedisKeyValue",
    "SqliteKeyValue",
    "open_keyvalue",
]

# What a store raises when it cannot be reached (Redis down, a network cut, a disk that cannot
# save): an outage to ride out, not a bug. Misuse (a wrong type) is not among them.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
    OSError,
)
STORE_UNAVAILABLE_TEXT = "The store is unavailable right now; try again in a moment."


def open_keyvalue(redis_url: str | None, prefix: str, database: Path | None = None) -> KeyValue:
    """Redis when a URL is configured; otherwise the embedded SQLite database (or, with no
    database file given, process memory: tests and benchmarks)."""
    if redis_url:
        return RedisKeyValue.from_url(redis_url, prefix)
    if database is not None:
        return SqliteKeyValue(database)
    return MemoryKeyValue()
