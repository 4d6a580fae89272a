"""The production `KeyValue` backend: Redis through redis.asyncio, every key under one prefix."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from contextvars import ContextVar

import redis.asyncio
import redis.exceptions
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.typing import EncodableT

# Readiness probes must answer even when Redis hangs rather than refuses, so both the socket
# operations and the whole ping (retries included) are bounded.
_SOCKET_TIMEOUT_S = 1.0
_PING_TIMEOUT_S = 1.0

# GET and SET inside one script so no other client can change the value in between.
_SET_IF_EQUAL = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
if ARGV[3] ~= '' then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
    redis.call('SET', KEYS[1], ARGV[2])
end
return 1
"""

_DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
redis.call('DEL', KEYS[1])
return 1
"""


def _text(value: bytes | str) -> str:
    # redis-py types every reply as bytes | str; with decode_responses=True it is always str.
    return value.decode() if isinstance(value, bytes) else value


def _optional_text(value: bytes | str | None) -> str | None:
    return None if value is None else _text(value)


def _texts(values: Iterable[bytes | str]) -> list[str]:
    return [_text(v) for v in values]


def _text_dict(values: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in values.items()}


class RedisKeyValue:
    """`KeyValue` on Redis; give it a client made with decode_responses=True."""

    name = "redis"

    def __init__(self, client: redis.asyncio.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self.where = f"Redis, keys under {prefix!r}"
        # Inside atomic(): the MULTI/EXEC pipeline that writes are queued on.
        self._tx: ContextVar[Pipeline | None] = ContextVar("redis_tx", default=None)
        self._set_if_equal_script = client.register_script(_SET_IF_EQUAL)
        self._delete_if_equal_script = client.register_script(_DELETE_IF_EQUAL)

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisKeyValue:
        client = redis.asyncio.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=_SOCKET_TIMEOUT_S,
            socket_connect_timeout=_SOCKET_TIMEOUT_S,
            # After Redis restarts, pooled connections are dead: one quick retry on a fresh
            # connection (a command on a closed socket never ran; timeouts are not retried).
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[redis.exceptions.ConnectionError],
        )
        return cls(client, prefix)

    def _key(self, key: str) -> str:
        return self._prefix + key

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(_PING_TIMEOUT_S):
                return bool(await self._client.ping())
        except (RedisError, OSError, TimeoutError):
            return False

    async def close(self) -> None:
        await self._client.aclose()

    @contextlib.asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        if self._tx.get() is not None:
            yield
            return
        pipeline = self._client.pipeline(transaction=True)
        token = self._tx.set(pipeline)
        try:
            yield
        finally:
            self._tx.reset(token)
        async with pipeline:
            await pipeline.execute()

    # strings

    async def get(self, key: str) -> str | None:
        return _optional_text(await self._client.get(self._key(key)))

    async def get_many(self, keys: list[str]) -> list[str | None]:
        if not keys:
            return []
        values = await self._client.mget([self._key(key) for key in keys])
        return [_optional_text(value) for value in values]

    async def set(self, key: str, value: str, *, nx: bool = False, px: int | None = None) -> bool:
        if (tx := self._tx.get()) is not None:
            tx.set(self._key(key), value, nx=nx, px=px)
            return True
        return bool(await self._client.set(self._key(key), value, nx=nx, px=px))

    async def claim(self, key: str, px: int) -> bool:
        return await self.set(key, "1", nx=True, px=px)  # one SET NX PX: one round trip

    async def set_if_equal(
        self, key: str, expected: str, value: str, px: int | None = None
    ) -> bool:
        px_arg = "" if px is None else str(px)
        done = await self._set_if_equal_script(
            keys=[self._key(key)], args=[expected, value, px_arg]
        )
        return bool(done)

    async def delete_if_equal(self, key: str, expected: str) -> bool:
        done = await self._delete_if_equal_script(keys=[self._key(key)], args=[expected])
        return bool(done)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0  # DEL without keys is a Redis syntax error; nothing to delete is not
        return int(await self._client.delete(*(self._key(k) for k in keys)))

    async def incr(self, key: str, amount: int = 1) -> int:
        if (tx := self._tx.get()) is not None:
            tx.incrby(self._key(key), amount)
            return 0
        return int(await self._client.incrby(self._key(key), amount))

    async def expire(self, key: str, seconds: int) -> bool:
        return bool(await self._client.expire(self._key(key), seconds))

    async def exists(self, key: str) -> bool:
        return bool(await self._client.exists(self._key(key)))

    # hashes

    async def hget(self, key: str, field: str) -> str | None:
        return _optional_text(await self._client.hget(self._key(key), field))

    async def hset(self, key: str, mapping: Mapping[str, str]) -> None:
        if mapping:  # HSET without fields is a Redis syntax error
            fields: dict[EncodableT, EncodableT] = {k: v for k, v in mapping.items()}
            if (tx := self._tx.get()) is not None:
                tx.hset(self._key(key), mapping=fields)
                return
            await self._client.hset(self._key(key), mapping=fields)

    async def hgetall(self, key: str) -> dict[str, str]:
        return _text_dict(await self._client.hgetall(self._key(key)))

    async def hdel(self, key: str, *fields: str) -> int:
        if not fields:
            return 0
        return int(await self._client.hdel(self._key(key), *fields))

    async def hincrby(
        self, key: str, increments: Mapping[str, int], ttl: int | None = None
    ) -> None:
        # MULTI/EXEC travels in the same round trip as a plain pipeline and keeps the counters and
        # their TTL from ever being seen half-applied, as in the embedded backend.
        async with self._client.pipeline(transaction=True) as pipe:
            for field, amount in increments.items():
                pipe.hincrby(self._key(key), field, amount)
            if ttl is not None:
                pipe.expire(self._key(key), ttl)
            await pipe.execute()

    async def hgetall_many(self, keys: list[str]) -> list[dict[str, str]]:
        if not keys:
            return []
        async with self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(self._key(key))
            replies = await pipe.execute()
        return [_text_dict(reply) for reply in replies]

    # lists

    async def rpush(self, key: str, *values: str) -> int:
        if not values:
            return await self.llen(key)
        if (tx := self._tx.get()) is not None:
            tx.rpush(self._key(key), *values)
            return 0
        return int(await self._client.rpush(self._key(key), *values))

    async def lpush(self, key: str, *values: str) -> int:
        if not values:
            return await self.llen(key)
        return int(await self._client.lpush(self._key(key), *values))

    async def lpop(self, key: str) -> str | None:
        value = await self._client.lpop(self._key(key))
        assert not isinstance(value, list)  # only LPOP with a count returns a list
        return _optional_text(value)

    async def lindex(self, key: str, index: int) -> str | None:
        return _optional_text(await self._client.lindex(self._key(key), index))

    async def lset(self, key: str, index: int, value: str) -> None:
        await self._client.lset(self._key(key), index, value)

    async def lrange(self, key: str, start: int, stop: int) -> list[str]:
        return _texts(await self._client.lrange(self._key(key), start, stop))

    async def ltrim(self, key: str, start: int, stop: int) -> None:
        await self._client.ltrim(self._key(key), start, stop)

    async def llen(self, key: str) -> int:
        return int(await self._client.llen(self._key(key)))

    # sorted sets

    async def zadd(self, key: str, mapping: Mapping[str, float], *, nx: bool = False) -> int:
        if not mapping:
            return 0
        scores: dict[str, EncodableT] = {k: v for k, v in mapping.items()}
        if (tx := self._tx.get()) is not None:
            tx.zadd(self._key(key), scores, nx=nx)
            return 0
        added = await self._client.zadd(self._key(key), scores, nx=nx)
        return int(added or 0)  # None only comes back for INCR, which is never sent

    async def zrem(self, key: str, *members: str) -> int:
        if not members:
            return 0
        return int(await self._client.zrem(self._key(key), *members))

    async def zscore(self, key: str, member: str) -> float | None:
        score = await self._client.zscore(self._key(key), member)
        return None if score is None else float(score)

    async def zrangebyscore(
        self, key: str, minimum: float, maximum: float, limit: int | None = None
    ) -> list[tuple[str, float]]:
        pairs = await self._client.zrangebyscore(
            self._key(key),
            minimum,
            maximum,
            start=None if limit is None else 0,
            num=limit,
            withscores=True,
        )
        scored: list[tuple[str, float]] = []
        for pair in pairs:
            assert not isinstance(pair, bytes | str)  # WITHSCORES replies with pairs
            member, score = pair
            scored.append((_text(member), float(score)))
        return scored

    async def zcard(self, key: str) -> int:
        return int(await self._client.zcard(self._key(key)))

    # sets

    async def sadd(self, key: str, *members: str) -> int:
        if not members:
            return 0
        if (tx := self._tx.get()) is not None:
            tx.sadd(self._key(key), *members)
            return 0
        return int(await self._client.sadd(self._key(key), *members))

    async def srem(self, key: str, *members: str) -> int:
        if not members:
            return 0
        if (tx := self._tx.get()) is not None:
            tx.srem(self._key(key), *members)
            return 0
        return int(await self._client.srem(self._key(key), *members))

    async def smembers(self, key: str) -> builtins.set[str]:
        return set(_texts(await self._client.smembers(self._key(key))))
