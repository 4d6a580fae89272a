"""The embedded `KeyValue` backend on SQLite: Redis semantics in memory, every change on disk.

Reads are served from memory (the embedded store's structures, loaded from the database at
start); every write changes memory and then waits until SQLite has committed it (WAL,
synchronous=FULL: fsync on commit), so whatever the bot acknowledged survives a kill -9, as
Redis with `appendfsync always` does. One writer thread commits whatever is waiting in one
transaction (group commit), so a burst of writes costs one fsync, not one each.

Hashes, sets and sorted sets are stored a field or member per row, so a write costs what it
changes (the check-state hash has a field per check); lists and strings are stored whole.
`atomic()` commits several writes as one transaction (an outbox post and its bookkeeping).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

from bot.store.memory_kv import MemoryKeyValue, _SortedSet

log = logging.getLogger(__name__)

Statement = tuple[str, tuple[Any, ...]]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS strings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lists (key TEXT PRIMARY KEY, items TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hashes (key TEXT, field TEXT, value TEXT NOT NULL,
                                   PRIMARY KEY (key, field)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sets (key TEXT, member TEXT, PRIMARY KEY (key, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS zsets (key TEXT, member TEXT, score REAL NOT NULL,
                                  PRIMARY KEY (key, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS expiry (key TEXT PRIMARY KEY, at REAL NOT NULL);
"""
_TABLES = ("strings", "lists", "hashes", "sets", "zsets")


class SqliteKeyValue(MemoryKeyValue):
    name = "embedded"

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = Path(path)
        self.where = f"SQLite database {self.path}"
        self._batch: list[Statement] | None = None
        connection = _connect(self.path)
        try:
            self._load(connection)
        finally:
            connection.close()
        self._writer = _Writer(self.path)
        self._writer.start()

    async def ping(self) -> bool:
        return self._writer.is_alive()

    async def close(self) -> None:
        await asyncio.to_thread(self._writer.stop)

    @contextlib.asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        """Writes inside commit together, or not at all, once the block ends."""
        if self._batch is not None:  # already inside one: it commits with the outer block
            yield
            return
        self._batch = []
        try:
            yield
            statements = self._batch
        finally:
            self._batch = None
        await self._commit(statements)

    # -- writes: memory first, then the same change on disk ---------------------------------

    async def set(self, key: str, value: str, *, nx: bool = False, px: int | None = None) -> bool:
        written = await super().set(key, value, nx=nx, px=px)
        if written:
            await self._save(key)
        return written

    async def claim(self, key: str, px: int) -> bool:
        if not await super().set(key, "1", nx=True, px=px):
            return False
        statements = self._statements(key)
        if self._batch is not None:
            self._batch.extend(statements)
            return True
        # Committed in order with every later write, but not waited for: whatever the claimed
        # work then saves (and waits for) is on disk only after the claim; work that saved
        # nothing lost nothing if a crash loses its claim, and may run again. A read-only
        # command is thus answered without waiting for an fsync.
        self._writer.enqueue(statements).add_done_callback(_claim_saved)
        return True

    async def set_if_equal(
        self, key: str, expected: str, value: str, px: int | None = None
    ) -> bool:
        written = await super().set_if_equal(key, expected, value, px)
        if written:
            await self._save(key)
        return written

    async def delete_if_equal(self, key: str, expected: str) -> bool:
        deleted = await super().delete_if_equal(key, expected)
        if deleted:
            await self._save(key)
        return deleted

    async def delete(self, *keys: str) -> int:
        removed = await super().delete(*keys)
        await self._commit([s for key in keys for s in _forget(key)])
        return removed

    async def incr(self, key: str, amount: int = 1) -> int:
        result = await super().incr(key, amount)
        await self._save(key)
        return result

    async def expire(self, key: str, seconds: int) -> bool:
        known = await super().expire(key, seconds)
        if known:
            await self._save(key, members=())
        return known

    async def hset(self, key: str, mapping: Mapping[str, str]) -> None:
        await super().hset(key, mapping)
        await self._save(key, members=mapping)

    async def hdel(self, key: str, *names: str) -> int:
        removed = await super().hdel(key, *names)
        await self._save(key, members=names)
        return removed

    async def hincrby(
        self, key: str, increments: Mapping[str, int], ttl: int | None = None
    ) -> None:
        async with self.atomic():  # the counts and their expiry: one commit
            await super().hincrby(key, increments, ttl)
            await self._save(key, members=increments)

    async def rpush(self, key: str, *values: str) -> int:
        length = await super().rpush(key, *values)
        await self._save(key)
        return length

    async def lpush(self, key: str, *values: str) -> int:
        length = await super().lpush(key, *values)
        await self._save(key)
        return length

    async def lpop(self, key: str) -> str | None:
        value = await super().lpop(key)
        if value is not None:
            await self._save(key)
        return value

    async def lset(self, key: str, index: int, value: str) -> None:
        await super().lset(key, index, value)
        await self._save(key)

    async def ltrim(self, key: str, start: int, stop: int) -> None:
        await super().ltrim(key, start, stop)
        await self._save(key)

    async def zadd(self, key: str, mapping: Mapping[str, float], *, nx: bool = False) -> int:
        added = await super().zadd(key, mapping, nx=nx)
        await self._save(key, members=mapping)
        return added

    async def zrem(self, key: str, *members: str) -> int:
        removed = await super().zrem(key, *members)
        await self._save(key, members=members)
        return removed

    async def sadd(self, key: str, *members: str) -> int:
        added = await super().sadd(key, *members)
        await self._save(key, members=members)
        return added

    async def srem(self, key: str, *members: str) -> int:
        removed = await super().srem(key, *members)
        await self._save(key, members=members)
        return removed

    # -- persistence -----------------------------------------------------------------------------

    async def _save(self, key: str, members: Iterable[str] | None = None) -> None:
        """Write `key` as memory now holds it: only the named fields or members of a hash, set
        or sorted set (None: all of them; empty: none, only its expiry)."""
        await self._commit(self._statements(key, members))

    def _statements(self, key: str, members: Iterable[str] | None = None) -> list[Statement]:
        value = self._data.get(key)
        if value is None:
            return _forget(key)
        statements: list[Statement] = []
        if isinstance(value, str):
            statements.append(("REPLACE INTO strings VALUES (?, ?)", (key, value)))
        elif isinstance(value, list):
            statements.append(("REPLACE INTO lists VALUES (?, ?)", (key, json.dumps(value))))
        else:
            table = (
                "hashes"
                if isinstance(value, dict)
                else "zsets"
                if isinstance(value, _SortedSet)
                else "sets"
            )
            if members is None:
                statements.append((f"DELETE FROM {table} WHERE key = ?", (key,)))
                names: Iterable[str] = list(_members(value))
            else:
                names = list(members)
            statements += [_member_statement(table, key, name, value) for name in names]
        deadline = self._deadlines.get(key)
        if deadline is None:
            statements.append(("DELETE FROM expiry WHERE key = ?", (key,)))
        else:
            at = time.time() + (deadline - time.monotonic())
            statements.append(("REPLACE INTO expiry VALUES (?, ?)", (key, at)))
        return statements

    async def _commit(self, statements: list[Statement]) -> None:
        if not statements:
            return
        if self._batch is not None:
            self._batch.extend(statements)
            return
        await self._writer.commit(statements)

    def _load(self, connection: sqlite3.Connection) -> None:
        now_wall, now_mono = time.time(), time.monotonic()
        expired = {
            k for k, at in connection.execute("SELECT key, at FROM expiry") if at <= now_wall
        }
        for key, at in connection.execute("SELECT key, at FROM expiry"):
            if key not in expired:
                self._deadlines[key] = now_mono + (at - now_wall)
        for key, value in connection.execute("SELECT key, value FROM strings"):
            self._data[key] = value
        for key, items in connection.execute("SELECT key, items FROM lists"):
            self._data[key] = list(json.loads(items))
        for key, field, value in connection.execute("SELECT key, field, value FROM hashes"):
            fields = self._data.setdefault(key, {})
            assert isinstance(fields, dict)
            fields[field] = value
        for key, member in connection.execute("SELECT key, member FROM sets"):
            members = self._data.setdefault(key, set())
            assert isinstance(members, set)
            members.add(member)
        for key, member, score in connection.execute("SELECT key, member, score FROM zsets"):
            zset = self._data.setdefault(key, _SortedSet())
            assert isinstance(zset, _SortedSet)
            zset.add(member, score)
        for key in expired:
            self._drop(key)
        if expired:
            with connection:
                for key in expired:
                    for sql, params in _forget(key):
                        connection.execute(sql, params)


def _members(value: dict[str, str] | builtins.set[str] | _SortedSet) -> Iterable[str]:
    return value.scores if isinstance(value, _SortedSet) else value


def _member_statement(
    table: str, key: str, name: str, value: dict[str, str] | builtins.set[str] | _SortedSet
) -> Statement:
    if isinstance(value, dict):
        if name in value:
            return ("REPLACE INTO hashes VALUES (?, ?, ?)", (key, name, value[name]))
    elif isinstance(value, _SortedSet):
        if name in value.scores:
            return ("REPLACE INTO zsets VALUES (?, ?, ?)", (key, name, value.scores[name]))
    elif name in value:
        return ("INSERT OR IGNORE INTO sets VALUES (?, ?)", (key, name))
    column = "field" if table == "hashes" else "member"
    return (f"DELETE FROM {table} WHERE key = ? AND {column} = ?", (key, name))


def _forget(key: str) -> list[Statement]:
    return [(f"DELETE FROM {t} WHERE key = ?", (key,)) for t in (*_TABLES, "expiry")]


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")  # in WAL mode: fsync on every commit
    connection.executescript(_SCHEMA)
    return connection


class _Writer(threading.Thread):
    """Commits statements in order; whatever waits when it is free goes in one transaction."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="sqlite-writer", daemon=True)
        self._path = path
        self._queue: queue.SimpleQueue[tuple[list[Statement], asyncio.Future[None]] | None] = (
            queue.SimpleQueue()
        )

    async def commit(self, statements: list[Statement]) -> None:
        await asyncio.shield(self.enqueue(statements))

    def enqueue(self, statements: list[Statement]) -> asyncio.Future[None]:
        """Queue statements; the future settles once they are committed (or failed to be)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put((statements, done))
        return done

    def stop(self) -> None:
        if self.is_alive():
            self._queue.put(None)
            self.join()

    def run(self) -> None:
        connection = _connect(self._path)
        try:
            while (item := self._queue.get()) is not None:
                batch = [item]
                stopping = False
                while not self._queue.empty():
                    more = self._queue.get_nowait()
                    if more is None:
                        stopping = True
                        break
                    batch.append(more)
                self._write(connection, batch)
                if stopping:
                    break
        finally:
            connection.close()

    def _write(
        self,
        connection: sqlite3.Connection,
        batch: list[tuple[list[Statement], asyncio.Future[None]]],
    ) -> None:
        error: BaseException | None = None
        try:
            connection.execute("BEGIN IMMEDIATE")
            for statements, _ in batch:
                for sql, params in statements:
                    connection.execute(sql, params)
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            error = exc
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
        for _, done in batch:
            _settle(done, error)


def _claim_saved(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and (error := done.exception()) is not None:
        log.warning("a delivery claim was not saved (%s): a redelivery may run again", error)


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    def resolve() -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(OSError(f"the embedded database could not save: {error}"))

    with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
        done.get_loop().call_soon_threadsafe(resolve)
