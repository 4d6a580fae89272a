"""The KeyValue contract, run against the embedded store and against Redis alike."""

from __future__ import annotations

import asyncio
import math
import socket
import time
from pathlib import Path

import pytest
import redis.asyncio
from redis.exceptions import ResponseError

from bot.store import KeyValue, MemoryKeyValue, RedisKeyValue, SqliteKeyValue, open_keyvalue

# What each backend raises for the same misuse: Redis's error reply, or the embedded store's
# nearest built-in exception.
WRONGTYPE = (TypeError, ResponseError)
NOT_AN_INTEGER = (ValueError, ResponseError)
OUT_OF_RANGE = (IndexError, ResponseError)


# connection


async def test_ping_answers_and_names_the_backend(kv: KeyValue) -> None:
    assert await kv.ping() is True
    assert kv.name in {"redis", "embedded"}


def test_open_keyvalue_picks_redis_only_when_a_url_is_given(redis_url: str) -> None:
    assert isinstance(open_keyvalue(None, "p:"), MemoryKeyValue)
    assert isinstance(open_keyvalue("", "p:"), MemoryKeyValue)
    assert isinstance(open_keyvalue(redis_url, "p:"), RedisKeyValue)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_ping_is_false_quickly_when_redis_refuses() -> None:
    store = RedisKeyValue.from_url(f"redis://127.0.0.1:{closed_port()}/0", "p:")
    started = time.monotonic()
    try:
        assert await store.ping() is False
    finally:
        await store.close()
    assert time.monotonic() - started < 1.5


async def test_ping_is_false_within_about_a_second_when_redis_never_answers() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def accept_and_stay_silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connections.append(writer)
        await reader.read()

    server = await asyncio.start_server(accept_and_stay_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = RedisKeyValue.from_url(f"redis://127.0.0.1:{port}/0", "p:")
    started = time.monotonic()
    try:
        assert await store.ping() is False
        assert time.monotonic() - started < 2.0
    finally:
        await store.close()
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_redis_backend_prefixes_every_key(
    redis_kv: RedisKeyValue, redis_url: str, unique_prefix: str
) -> None:
    await redis_kv.set("s", "v")
    await redis_kv.incr("n")
    await redis_kv.hset("h", {"f": "v"})
    await redis_kv.hincrby("c", {"f": 1}, ttl=60)
    await redis_kv.rpush("l", "a")
    await redis_kv.zadd("z", {"m": 1})
    await redis_kv.sadd("t", "m")
    await redis_kv.set("lease", "me")
    assert await redis_kv.set_if_equal("lease", "me", "you")

    raw = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        prefixed = {key async for key in raw.scan_iter(match=f"{unique_prefix}*")}
        assert prefixed == {unique_prefix + k for k in ["s", "n", "h", "c", "l", "z", "t", "lease"]}
        assert await raw.get(f"{unique_prefix}lease") == "you"
        assert await raw.exists("s", "n", "h", "c", "l", "z", "t", "lease") == 0
    finally:
        await raw.aclose()


# strings


async def test_get_and_set(kv: KeyValue) -> None:
    assert await kv.get("missing") is None
    assert await kv.set("k", "v1") is True
    assert await kv.get("k") == "v1"
    assert await kv.set("k", "v2") is True
    assert await kv.get("k") == "v2"
    assert await kv.set("empty", "") is True
    assert await kv.get("empty") == ""
    assert await kv.exists("empty")


async def test_set_nx_only_sets_an_absent_key(kv: KeyValue) -> None:
    assert await kv.set("k", "first", nx=True) is True
    assert await kv.set("k", "second", nx=True) is False
    assert await kv.get("k") == "first"
    await kv.hset("h", {"f": "v"})
    assert await kv.set("h", "x", nx=True) is False  # any type of value counts as present
    assert await kv.hget("h", "f") == "v"


async def test_px_expires_the_key_and_a_plain_set_clears_the_ttl(kv: KeyValue) -> None:
    await kv.set("short", "v", px=50)
    await kv.set("long", "v", px=60_000)
    await kv.set("cleared", "v", px=50)
    await kv.set("cleared", "v2")
    await kv.set("lease", "me", px=50)
    assert await kv.set_if_equal("lease", "me", "me", px=60_000)
    await kv.set("counter", "1", px=50)
    await kv.incr("counter")  # keeps the TTL
    await kv.set("nx", "v", px=50)
    await asyncio.sleep(0.12)
    assert await kv.get("short") is None
    assert not await kv.exists("short")
    assert await kv.get("long") == "v"
    assert await kv.get("cleared") == "v2"
    assert await kv.get("lease") == "me"
    assert await kv.get("counter") is None
    assert await kv.set("nx", "again", nx=True) is True  # an expired key is absent


async def test_expire_and_hincrby_ttls_in_seconds(kv: KeyValue) -> None:
    assert await kv.expire("missing", 10) is False
    await kv.set("k", "v")
    assert await kv.expire("k", 1) is True
    await kv.hincrby("h", {"n": 1}, ttl=1)
    await kv.hincrby("persistent", {"n": 1})
    await kv.rpush("l", "a")
    assert await kv.expire("l", 1) is True
    await kv.rpush("l", "b")  # writing to a list keeps its TTL
    assert await kv.exists("k")
    assert await kv.hget("h", "n") == "1"
    await asyncio.sleep(1.1)
    assert await kv.get("k") is None
    assert await kv.hgetall("h") == {}
    assert await kv.llen("l") == 0
    assert await kv.hgetall("persistent") == {"n": "1"}


async def test_expire_in_the_past_deletes(kv: KeyValue) -> None:
    await kv.set("k", "v")
    assert await kv.expire("k", 0) is True
    assert not await kv.exists("k")


async def test_claim_is_true_once_per_key_until_it_expires(kv: KeyValue) -> None:
    assert await kv.claim("once:a", 50)
    assert not await kv.claim("once:a", 50)
    assert await kv.claim("once:b", 60_000)
    await asyncio.sleep(0.08)
    assert await kv.claim("once:a", 60_000)
    assert not await kv.claim("once:b", 60_000)


async def test_set_if_equal(kv: KeyValue) -> None:
    assert await kv.set_if_equal("lease", "me", "me") is False
    assert not await kv.exists("lease")  # never creates
    await kv.set("lease", "me")
    assert await kv.set_if_equal("lease", "you", "you") is False
    assert await kv.get("lease") == "me"
    assert await kv.set_if_equal("lease", "me", "you") is True
    assert await kv.get("lease") == "you"
    assert await kv.set_if_equal("lease", "you", "later", px=50) is True
    await asyncio.sleep(0.12)
    assert await kv.get("lease") is None


async def test_delete_if_equal(kv: KeyValue) -> None:
    assert await kv.delete_if_equal("lease", "me") is False
    await kv.set("lease", "me")
    assert await kv.delete_if_equal("lease", "you") is False
    assert await kv.get("lease") == "me"
    assert await kv.delete_if_equal("lease", "me") is True
    assert not await kv.exists("lease")


async def test_delete_counts_the_keys_that_existed(kv: KeyValue) -> None:
    await kv.set("a", "1")
    await kv.hset("b", {"f": "v"})
    await kv.rpush("c", "x")
    assert await kv.delete() == 0
    assert await kv.delete("a", "b", "missing") == 2
    assert await kv.delete("a") == 0
    assert not await kv.exists("a")
    assert not await kv.exists("b")
    assert await kv.delete("c", "c") == 1


async def test_incr(kv: KeyValue) -> None:
    assert await kv.incr("n") == 1
    assert await kv.incr("n", 10) == 11
    assert await kv.incr("n", -20) == -9
    assert await kv.get("n") == "-9"
    assert await kv.incr("m", -1) == -1
    await kv.set("text", "ten")
    with pytest.raises(NOT_AN_INTEGER):
        await kv.incr("text")
    await kv.set("padded", " 1")
    with pytest.raises(NOT_AN_INTEGER):
        await kv.incr("padded")
    await kv.set("big", str(2**63 - 1))
    with pytest.raises(NOT_AN_INTEGER):
        await kv.incr("big")


async def test_wrong_type_access_raises(kv: KeyValue) -> None:
    await kv.set("s", "v")
    await kv.hset("h", {"f": "v"})
    await kv.rpush("l", "a")
    await kv.zadd("z", {"m": 1})
    await kv.sadd("t", "m")
    with pytest.raises(WRONGTYPE):
        await kv.hget("s", "f")
    with pytest.raises(WRONGTYPE):
        await kv.get("h")
    with pytest.raises(WRONGTYPE):
        await kv.incr("l")
    with pytest.raises(WRONGTYPE):
        await kv.rpush("h", "x")
    with pytest.raises(WRONGTYPE):
        await kv.lrange("z", 0, -1)
    with pytest.raises(WRONGTYPE):
        await kv.zadd("t", {"m": 1})
    with pytest.raises(WRONGTYPE):
        await kv.smembers("z")
    with pytest.raises(WRONGTYPE):
        await kv.set_if_equal("h", "v", "w")
    with pytest.raises(WRONGTYPE):
        await kv.hgetall_many(["h", "s"])
    assert await kv.set("h", "now a string") is True  # SET replaces a value of any type
    assert await kv.get("h") == "now a string"


# hashes


async def test_hash_set_get_delete(kv: KeyValue) -> None:
    assert await kv.hget("h", "f") is None
    assert await kv.hgetall("h") == {}
    await kv.hset("h", {"a": "1", "b": "2"})
    await kv.hset("h", {"b": "3", "c": "4"})
    await kv.hset("h", {})
    assert await kv.hget("h", "b") == "3"
    assert await kv.hget("h", "missing") is None
    assert await kv.hgetall("h") == {"a": "1", "b": "3", "c": "4"}
    assert await kv.hdel("h", "a", "missing") == 1
    assert await kv.hdel("h") == 0
    assert await kv.hdel("missing", "a") == 0
    assert await kv.hdel("h", "b", "c") == 2
    assert not await kv.exists("h")  # the last field takes the hash with it
    await kv.hset("empty", {})
    assert not await kv.exists("empty")


async def test_hincrby_adds_to_several_fields(kv: KeyValue) -> None:
    await kv.hincrby("counts", {"up": 1, "down": 2})
    await kv.hincrby("counts", {"up": 5, "down": -3, "new": 0})
    assert await kv.hgetall("counts") == {"up": "6", "down": "-1", "new": "0"}
    await kv.hincrby("nothing", {})
    assert not await kv.exists("nothing")
    await kv.hset("counts", {"label": "x"})
    with pytest.raises(NOT_AN_INTEGER):
        await kv.hincrby("counts", {"label": 1})


async def test_get_many_keeps_the_order_of_the_keys(kv: KeyValue) -> None:
    assert await kv.get_many([]) == []
    await kv.set("a", "1")
    await kv.set("b", "2")
    await kv.hset("h", {"n": "1"})
    assert await kv.get_many(["b", "missing", "a", "h"]) == ["2", None, "1", None]


async def test_hgetall_many_keeps_the_order_of_the_keys(kv: KeyValue) -> None:
    assert await kv.hgetall_many([]) == []
    await kv.hset("a", {"n": "1"})
    await kv.hset("b", {"n": "2", "m": "3"})
    assert await kv.hgetall_many(["b", "missing", "a"]) == [{"n": "2", "m": "3"}, {}, {"n": "1"}]


# lists


async def test_push_pop_and_length(kv: KeyValue) -> None:
    assert await kv.llen("l") == 0
    assert await kv.lpop("l") is None
    assert await kv.rpush("l", "b", "c") == 2
    assert await kv.lpush("l", "a") == 3
    assert await kv.lpush("l", "y", "z") == 5  # each value goes to the head in turn
    assert await kv.rpush("l") == 5
    assert await kv.lrange("l", 0, -1) == ["z", "y", "a", "b", "c"]
    assert await kv.lpop("l") == "z"
    assert await kv.llen("l") == 4
    for expected in ["y", "a", "b", "c"]:
        assert await kv.lpop("l") == expected
    assert await kv.lpop("l") is None
    assert not await kv.exists("l")
    assert await kv.lpush("none") == 0
    assert not await kv.exists("none")


async def test_lrange_follows_redis_indexing(kv: KeyValue) -> None:
    await kv.rpush("l", "a", "b", "c", "d", "e")
    assert await kv.lrange("l", 0, 1) == ["a", "b"]
    assert await kv.lrange("l", 1, 1) == ["b"]
    assert await kv.lrange("l", -2, -1) == ["d", "e"]
    assert await kv.lrange("l", -100, 1) == ["a", "b"]
    assert await kv.lrange("l", 3, 100) == ["d", "e"]
    assert await kv.lrange("l", 5, 10) == []
    assert await kv.lrange("l", 3, 2) == []
    assert await kv.lrange("l", 0, -6) == []
    assert await kv.lrange("l", -1, -2) == []
    assert await kv.lrange("missing", 0, -1) == []


async def test_lindex_and_lset(kv: KeyValue) -> None:
    await kv.rpush("l", "a", "b", "c")
    assert await kv.lindex("l", 0) == "a"
    assert await kv.lindex("l", -1) == "c"
    assert await kv.lindex("l", 3) is None
    assert await kv.lindex("l", -4) is None
    assert await kv.lindex("missing", 0) is None
    await kv.lset("l", 1, "B")
    await kv.lset("l", -1, "C")
    assert await kv.lrange("l", 0, -1) == ["a", "B", "C"]
    with pytest.raises(OUT_OF_RANGE):
        await kv.lset("l", 3, "x")
    with pytest.raises(OUT_OF_RANGE):
        await kv.lset("l", -4, "x")
    with pytest.raises(OUT_OF_RANGE):
        await kv.lset("missing", 0, "x")
    assert not await kv.exists("missing")


async def test_ltrim(kv: KeyValue) -> None:
    await kv.rpush("l", "a", "b", "c", "d", "e")
    await kv.ltrim("l", -3, -1)  # keep the newest three
    assert await kv.lrange("l", 0, -1) == ["c", "d", "e"]
    await kv.ltrim("l", 1, 100)
    assert await kv.lrange("l", 0, -1) == ["d", "e"]
    await kv.ltrim("l", 0, 0)
    assert await kv.lrange("l", 0, -1) == ["d"]
    await kv.ltrim("l", 1, 0)
    assert not await kv.exists("l")
    await kv.ltrim("missing", 0, 1)
    assert not await kv.exists("missing")


# sorted sets


async def test_zadd_zscore_zcard_zrem(kv: KeyValue) -> None:
    assert await kv.zcard("z") == 0
    assert await kv.zscore("z", "a") is None
    assert await kv.zadd("z", {"a": 1, "b": 2.5}) == 2
    assert await kv.zadd("z", {"a": 3, "c": -1}) == 1  # only new members count
    assert await kv.zscore("z", "a") == 3.0
    assert await kv.zadd("z", {"a": 10, "d": 4}, nx=True) == 1
    assert await kv.zscore("z", "a") == 3.0  # nx never updates
    assert await kv.zscore("z", "d") == 4.0
    assert await kv.zcard("z") == 4
    assert await kv.zadd("z", {}) == 0
    assert await kv.zrem("z", "a", "missing") == 1
    assert await kv.zrem("z") == 0
    assert await kv.zrem("missing", "a") == 0
    assert await kv.zrem("z", "b", "c", "d") == 3
    assert not await kv.exists("z")


async def test_zrangebyscore_orders_by_score_then_member(kv: KeyValue) -> None:
    await kv.zadd("z", {"m": 2, "b": 1, "a": 1, "z": 0.5, "late": 100, "early": -5})
    everything = [
        ("early", -5.0),
        ("z", 0.5),
        ("a", 1.0),
        ("b", 1.0),
        ("m", 2.0),
        ("late", 100.0),
    ]
    assert await kv.zrangebyscore("z", -math.inf, math.inf) == everything
    assert await kv.zrangebyscore("z", 1, 2) == [("a", 1.0), ("b", 1.0), ("m", 2.0)]
    assert await kv.zrangebyscore("z", 0.6, 1.5) == [("a", 1.0), ("b", 1.0)]
    assert await kv.zrangebyscore("z", -math.inf, 1, limit=2) == [("early", -5.0), ("z", 0.5)]
    assert await kv.zrangebyscore("z", -math.inf, math.inf, limit=0) == []
    assert await kv.zrangebyscore("z", 3, 2) == []
    assert await kv.zrangebyscore("z", 101, math.inf) == []
    assert await kv.zrangebyscore("missing", -math.inf, math.inf) == []
    await kv.zadd("z", {"a": 2})  # a moved score re-sorts the member
    assert await kv.zrangebyscore("z", 1, 2) == [("b", 1.0), ("a", 2.0), ("m", 2.0)]


async def test_zrangebyscore_with_timestamps(kv: KeyValue) -> None:
    due = 1_750_000_000.125
    await kv.zadd("due", {"reminder:1": due, "reminder:2": due + 60})
    assert await kv.zrangebyscore("due", 0, due) == [("reminder:1", due)]


# sets


async def test_sets(kv: KeyValue) -> None:
    assert await kv.smembers("s") == set()
    assert await kv.sadd("s", "a", "b", "a") == 2
    assert await kv.sadd("s", "b", "c") == 1
    assert await kv.sadd("s") == 0
    assert await kv.smembers("s") == {"a", "b", "c"}
    assert await kv.srem("s", "a", "missing") == 1
    assert await kv.srem("s") == 0
    assert await kv.srem("missing", "a") == 0
    assert await kv.srem("s", "b", "c") == 2
    assert not await kv.exists("s")


# atomic writes and durability


async def test_writes_in_an_atomic_block_land_together(kv: KeyValue) -> None:
    async with kv.atomic():
        await kv.rpush("a:list", "x")
        await kv.incr("a:count")
        await kv.zadd("a:zset", {"x": 1.0}, nx=True)
        await kv.hset("a:hash", {"f": "v"})
        await kv.sadd("a:set", "m")
        await kv.srem("a:set", "gone")
        await kv.set("a:string", "s")
    assert await kv.lrange("a:list", 0, -1) == ["x"]
    assert await kv.get("a:count") == "1"
    assert await kv.zscore("a:zset", "x") == 1.0
    assert await kv.hgetall("a:hash") == {"f": "v"}
    assert await kv.smembers("a:set") == {"m"}
    assert await kv.get("a:string") == "s"


async def test_the_embedded_database_keeps_everything_across_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "statusbot.db"
    store = SqliteKeyValue(path)
    await store.set("s", "v")
    await store.set("short-lived", "v", px=50)
    await store.set("long-lived", "v", px=60_000)
    await store.incr("n", 5)
    await store.hset("h", {"a": "1", "b": "2"})
    await store.hdel("h", "a")
    await store.hincrby("counts", {"ok": 3}, ttl=3600)
    await store.rpush("l", "1", "2", "3")
    await store.lpop("l")
    await store.zadd("z", {"m1": 2.0, "m2": 1.0})
    await store.zrem("z", "m1")
    await store.sadd("set", "x", "y")
    await store.srem("set", "x")
    await store.set("deleted", "v")
    await store.delete("deleted")
    async with store.atomic():
        await store.rpush("together", "a")
        await store.incr("together:n")
    assert await store.claim("once:delivery", 60_000)  # not waited for: saved by close at last
    await store.close()
    await asyncio.sleep(0.06)

    reopened = SqliteKeyValue(path)
    try:
        assert await reopened.get("s") == "v"
        assert await reopened.get("short-lived") is None
        assert await reopened.get("long-lived") == "v"
        assert await reopened.get("n") == "5"
        assert await reopened.hgetall("h") == {"b": "2"}
        assert await reopened.hgetall("counts") == {"ok": "3"}
        assert await reopened.lrange("l", 0, -1) == ["2", "3"]
        assert await reopened.zrangebyscore("z", 0, 10) == [("m2", 1.0)]
        assert await reopened.smembers("set") == {"y"}
        assert await reopened.get("deleted") is None
        assert await reopened.lrange("together", 0, -1) == ["a"]
        assert await reopened.get("together:n") == "1"
        assert not await reopened.claim("once:delivery", 60_000)
    finally:
        await reopened.close()
