"""Redis semantics in process memory: the embedded SQLite store's working copy (sqlite_kv.py
adds the disk), and a store for tests and benchmarks.

No method awaits anything, and asyncio runs one coroutine at a time, so every method runs to
completion before another starts: each is atomic by construction, as a Redis command or Lua script
is. Misuse raises what the Redis command would reject, as the nearest built-in exception: WRONGTYPE
is TypeError, a value that is not an integer is ValueError, LSET out of range is IndexError.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import re
import time
from bisect import bisect_left, bisect_right, insort
from collections.abc import AsyncIterator, Mapping

# Expired keys nobody reads again would otherwise stay forever; sweeping at most this often keeps
# the cost of a sweep (one pass over the keys with a TTL) negligible.
_PURGE_INTERVAL_S = 1.0

# Redis counters are signed 64-bit and it parses them strictly: no sign but "-", no leading zeros.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_REDIS_INT = re.compile(r"-?[1-9][0-9]*|0")

_WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


class _SortedSet:
    """Members with scores, kept ordered by (score, member) like a Redis zset."""

    def __init__(self) -> None:
        self.scores: dict[str, float] = {}
        self.ordered: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self.scores)

    def add(self, member: str, score: float) -> None:
        self.discard(member)
        self.scores[member] = score
        insort(self.ordered, (score, member))

    def discard(self, member: str) -> bool:
        score = self.scores.pop(member, None)
        if score is None:
            return False
        del self.ordered[bisect_left(self.ordered, (score, member))]
        return True

    def range_by_score(self, minimum: float, maximum: float) -> list[tuple[float, str]]:
        start = bisect_left(self.ordered, minimum, key=lambda entry: entry[0])
        stop = bisect_right(self.ordered, maximum, key=lambda entry: entry[0])
        return self.ordered[start:stop]


_Value = str | dict[str, str] | list[str] | set[str] | _SortedSet


def _parse_int(text: str, message: str) -> int:
    if not _REDIS_INT.fullmatch(text) or not _INT_MIN <= int(text) <= _INT_MAX:
        raise ValueError(message)
    return int(text)


def _checked_sum(current: int, amount: int) -> int:
    result = current + amount
    if not _INT_MIN <= result <= _INT_MAX:
        raise ValueError("increment or decrement would overflow")
    return result


def _list_bounds(length: int, start: int, stop: int) -> tuple[int, int]:
    """Redis's inclusive start/stop as a Python slice, empty when the range is."""
    if start < 0:
        start = max(start + length, 0)
    if stop < 0:
        stop += length
    return start, max(min(stop, length - 1) + 1, start)


class MemoryKeyValue:
    """`KeyValue` in plain dicts; TTLs run on the monotonic clock and are enforced on access."""

    name = "embedded"
    where = "process memory (lost on exit)"

    def __init__(self) -> None:
        self._data: dict[str, _Value] = {}
        self._deadlines: dict[str, float] = {}  # key -> time.monotonic() at which it expires
        self._next_purge = time.monotonic() + _PURGE_INTERVAL_S

    async def ping(self) -> bool:
        return True

    @contextlib.asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        # Nothing here awaits: the block runs to its end before any other coroutine does.
        yield

    async def close(self) -> None:
        return None

    # bookkeeping

    def _lookup(self, key: str) -> _Value | None:
        now = time.monotonic()
        if now >= self._next_purge:
            self._purge(now)
        deadline = self._deadlines.get(key)
        if deadline is not None and now >= deadline:
            self._drop(key)
        return self._data.get(key)

    def _purge(self, now: float) -> None:
        for key in [k for k, deadline in self._deadlines.items() if now >= deadline]:
            self._drop(key)
        self._next_purge = now + _PURGE_INTERVAL_S

    def _drop(self, key: str) -> bool:
        self._deadlines.pop(key, None)
        return self._data.pop(key, None) is not None

    def _drop_if_empty(
        self, key: str, value: dict[str, str] | list[str] | builtins.set[str] | _SortedSet
    ) -> None:
        # Redis has no empty containers: removing the last element removes the key and its TTL.
        if not value:
            self._drop(key)

    def _string(self, key: str) -> str | None:
        value = self._lookup(key)
        if value is None or isinstance(value, str):
            return value
        raise TypeError(_WRONGTYPE)

    def _hash(self, key: str) -> dict[str, str] | None:
        value = self._lookup(key)
        if value is None or isinstance(value, dict):
            return value
        raise TypeError(_WRONGTYPE)

    def _list(self, key: str) -> list[str] | None:
        value = self._lookup(key)
        if value is None or isinstance(value, list):
            return value
        raise TypeError(_WRONGTYPE)

    def _zset(self, key: str) -> _SortedSet | None:
        value = self._lookup(key)
        if value is None or isinstance(value, _SortedSet):
            return value
        raise TypeError(_WRONGTYPE)

    def _set(self, key: str) -> builtins.set[str] | None:
        value = self._lookup(key)
        if value is None or isinstance(value, set):
            return value
        raise TypeError(_WRONGTYPE)

    # strings

    async def get(self, key: str) -> str | None:
        return self._string(key)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        values = [self._lookup(key) for key in keys]
        return [value if isinstance(value, str) else None for value in values]

    async def set(self, key: str, value: str, *, nx: bool = False, px: int | None = None) -> bool:
        if px is not None and px <= 0:
            raise ValueError("invalid expire time in 'set' command")
        if nx and self._lookup(key) is not None:
            return False
        self._data[key] = value
        # A plain SET forgets any earlier TTL, as in Redis.
        if px is None:
            self._deadlines.pop(key, None)
        else:
            self._deadlines[key] = time.monotonic() + px / 1000
        return True

    async def claim(self, key: str, px: int) -> bool:
        return await self.set(key, "1", nx=True, px=px)

    async def set_if_equal(
        self, key: str, expected: str, value: str, px: int | None = None
    ) -> bool:
        if self._string(key) != expected:
            return False
        return await self.set(key, value, px=px)

    async def delete_if_equal(self, key: str, expected: str) -> bool:
        if self._string(key) != expected:
            return False
        return self._drop(key)

    async def delete(self, *keys: str) -> int:
        removed = 0
        for key in keys:
            if self._lookup(key) is not None:
                removed += self._drop(key)
        return removed

    async def incr(self, key: str, amount: int = 1) -> int:
        current = self._string(key)
        number = 0 if current is None else _parse_int(current, "value is not an integer")
        result = _checked_sum(number, amount)
        self._data[key] = str(result)  # keeps the TTL, as INCRBY does
        return result

    async def expire(self, key: str, seconds: int) -> bool:
        if self._lookup(key) is None:
            return False
        if seconds <= 0:
            self._drop(key)  # Redis deletes a key given a TTL in the past
        else:
            self._deadlines[key] = time.monotonic() + seconds
        return True

    async def exists(self, key: str) -> bool:
        return self._lookup(key) is not None

    # hashes

    async def hget(self, key: str, field: str) -> str | None:
        fields = self._hash(key)
        return None if fields is None else fields.get(field)

    async def hset(self, key: str, mapping: Mapping[str, str]) -> None:
        fields = self._hash(key)
        if fields is None:
            if not mapping:
                return
            fields = self._data[key] = {}
        fields.update(mapping)

    async def hgetall(self, key: str) -> dict[str, str]:
        return dict(self._hash(key) or {})

    async def hdel(self, key: str, *names: str) -> int:
        fields = self._hash(key)
        if fields is None:
            return 0
        removed = sum(fields.pop(name, None) is not None for name in names)
        self._drop_if_empty(key, fields)
        return removed

    async def hincrby(
        self, key: str, increments: Mapping[str, int], ttl: int | None = None
    ) -> None:
        fields = self._hash(key)
        if fields is None:
            fields = {}
        # Validate every field before writing any, so a bad field changes nothing.
        updated = {
            name: _checked_sum(
                _parse_int(fields.get(name, "0"), "hash value is not an integer"), amount
            )
            for name, amount in increments.items()
        }
        if updated:
            fields.update({name: str(value) for name, value in updated.items()})
            self._data[key] = fields
        if ttl is not None:
            await self.expire(key, ttl)

    async def hgetall_many(self, keys: list[str]) -> list[dict[str, str]]:
        return [dict(self._hash(key) or {}) for key in keys]

    # lists

    async def rpush(self, key: str, *values: str) -> int:
        items = self._list(key)
        if items is None:
            if not values:
                return 0
            items = self._data[key] = []
        items.extend(values)
        return len(items)

    async def lpush(self, key: str, *values: str) -> int:
        items = self._list(key)
        if items is None:
            if not values:
                return 0
            items = self._data[key] = []
        items[:0] = reversed(values)  # LPUSH a b c leaves c first
        return len(items)

    async def lpop(self, key: str) -> str | None:
        items = self._list(key)
        if items is None:
            return None
        value = items.pop(0)
        self._drop_if_empty(key, items)
        return value

    async def lindex(self, key: str, index: int) -> str | None:
        items = self._list(key) or []
        if -len(items) <= index < len(items):
            return items[index]
        return None

    async def lset(self, key: str, index: int, value: str) -> None:
        items = self._list(key)
        if items is None:
            raise IndexError("no such key")
        if not -len(items) <= index < len(items):
            raise IndexError("index out of range")
        items[index] = value

    async def lrange(self, key: str, start: int, stop: int) -> list[str]:
        items = self._list(key) or []
        first, end = _list_bounds(len(items), start, stop)
        return items[first:end]

    async def ltrim(self, key: str, start: int, stop: int) -> None:
        items = self._list(key)
        if items is None:
            return
        first, end = _list_bounds(len(items), start, stop)
        items[:] = items[first:end]
        self._drop_if_empty(key, items)

    async def llen(self, key: str) -> int:
        return len(self._list(key) or [])

    # sorted sets

    async def zadd(self, key: str, mapping: Mapping[str, float], *, nx: bool = False) -> int:
        if any(math.isnan(score) for score in mapping.values()):
            raise ValueError("value is not a valid float")
        zset = self._zset(key)
        if zset is None:
            if not mapping:
                return 0
            zset = _SortedSet()
            self._data[key] = zset
        added = 0
        for member, score in mapping.items():
            is_new = member not in zset.scores
            if is_new or not nx:
                zset.add(member, float(score))
            added += is_new
        return added

    async def zrem(self, key: str, *members: str) -> int:
        zset = self._zset(key)
        if zset is None:
            return 0
        removed = sum(zset.discard(member) for member in members)
        self._drop_if_empty(key, zset)
        return removed

    async def zscore(self, key: str, member: str) -> float | None:
        zset = self._zset(key)
        return None if zset is None else zset.scores.get(member)

    async def zrangebyscore(
        self, key: str, minimum: float, maximum: float, limit: int | None = None
    ) -> list[tuple[str, float]]:
        zset = self._zset(key)
        if zset is None:
            return []
        entries = zset.range_by_score(minimum, maximum)
        if limit is not None and limit >= 0:  # a negative LIMIT count means all, in Redis
            entries = entries[:limit]
        return [(member, score) for score, member in entries]

    async def zcard(self, key: str) -> int:
        return len(self._zset(key) or ())

    # sets

    async def sadd(self, key: str, *members: str) -> int:
        current = self._set(key)
        if current is None:
            if not members:
                return 0
            current = self._data[key] = set()
        before = len(current)
        current.update(members)
        return len(current) - before

    async def srem(self, key: str, *members: str) -> int:
        current = self._set(key)
        if current is None:
            return 0
        before = len(current)
        current.difference_update(members)
        self._drop_if_empty(key, current)
        return before - len(current)

    async def smembers(self, key: str) -> builtins.set[str]:
        return set(self._set(key) or ())
