"""Storage for statusbot: one `KeyValue` interface, Redis in production, embedded by default."""

from __future__ import annotations

from bot.store.keyvalue import KeyValue
from bot.store.memory_kv import MemoryKeyValue
from bot.store.redis_kv import RedisKeyValue

__all__ = ["KeyValue", "MemoryKeyValue", "RedisKeyValue", "open_keyvalue"]


def open_keyvalue(redis_url: str | None, prefix: str) -> KeyValue:
    """Redis when a URL is configured, otherwise the embedded in-process store."""
    if redis_url:
        return RedisKeyValue.from_url(redis_url, prefix)
    return MemoryKeyValue()
