"""Checks shared across replicas: components are split into partitions, leased in Redis.

Each live replica leases a fair share (live replicas announce themselves every third of the
lease); a replica runs the checks of the components in its partitions, so every component has
one writer (its alerts stay consistent) and no check runs twice. A replica that dies stops
renewing: its leases expire within the lease time and the others take its partitions over. A
replica that cannot reach the store keeps what it holds until it can (nobody else can take it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import zlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.store import UNAVAILABLE
from bot.store.keyvalue import KeyValue

log = logging.getLogger(__name__)

_REPLICAS = "replicas"  # sorted set: replica identity -> last heartbeat (epoch seconds)
COUNT = 32


def partition_of(component_id: str, count: int = COUNT) -> int:
    """The same on every replica and every run (not Python's salted hash)."""
    return zlib.crc32(component_id.encode()) % count


class Partitions:
    def __init__(
        self,
        kv: KeyValue,
        identity: str,
        *,
        count: int = COUNT,
        ttl: timedelta = timedelta(seconds=15),
    ) -> None:
        self._kv = kv
        self.identity = identity
        self.count = count
        self._ttl_s = ttl.total_seconds()
        self.held: set[int] = set()

    def owns(self, component_id: str) -> bool:
        return partition_of(component_id, self.count) in self.held

    async def tick(self) -> bool:
        """Announce this replica, renew its leases, give back or take its fair share; True when
        what it holds changed."""
        before = set(self.held)
        try:
            share = math.ceil(self.count / max(1, len(await self._live())))
            for partition in sorted(self.held):
                if not await self._renew(partition):
                    self.held.discard(partition)
            for partition in sorted(self.held, reverse=True)[: max(0, len(self.held) - share)]:
                await self._kv.delete_if_equal(_key(partition), self.identity)
                self.held.discard(partition)
            for partition in range(self.count):
                if len(self.held) >= share:
                    break
                if partition not in self.held and await self._kv.set(
                    _key(partition), self.identity, nx=True, px=self._ttl_ms
                ):
                    self.held.add(partition)
        except UNAVAILABLE as exc:
            log.warning("cannot reach the store to renew check partitions (%s): keeping them", exc)
        return self.held != before

    async def run(self, on_change: Callable[[], Awaitable[None]]) -> None:
        """Tick every third of the lease until cancelled; give everything back on the way out."""
        task = asyncio.current_task()
        try:
            while True:
                changed = await self.tick()
                if task is not None and task.cancelling():
                    # The store client may turn a cancellation into an error of its own.
                    raise asyncio.CancelledError
                if changed:
                    await on_change()
                await asyncio.sleep(self.tick_interval.total_seconds())
        finally:
            await self.release()

    async def release(self) -> None:
        for partition in sorted(self.held):
            try:
                await self._kv.delete_if_equal(_key(partition), self.identity)
            except UNAVAILABLE:
                break
        self.held.clear()
        with contextlib.suppress(*UNAVAILABLE):
            await self._kv.zrem(_REPLICAS, self.identity)

    @property
    def tick_interval(self) -> timedelta:
        return timedelta(seconds=self._ttl_s / 3)

    @property
    def _ttl_ms(self) -> int:
        return int(self._ttl_s * 1000)

    async def _renew(self, partition: int) -> bool:
        key = _key(partition)
        renewed = await self._kv.set_if_equal(key, self.identity, self.identity, px=self._ttl_ms)
        # (Expired while the store was away, and nobody took it: still ours.)
        return renewed or await self._kv.set(key, self.identity, nx=True, px=self._ttl_ms)

    async def _live(self) -> list[str]:
        now = time.time()
        await self._kv.zadd(_REPLICAS, {self.identity: now})
        gone = await self._kv.zrangebyscore(_REPLICAS, float("-inf"), now - self._ttl_s)
        if gone:
            await self._kv.zrem(_REPLICAS, *(member for member, _ in gone))
        return [
            member
            for member, _ in await self._kv.zrangebyscore(
                _REPLICAS, now - self._ttl_s, float("inf")
            )
        ]


def _key(partition: int) -> str:
    return f"partition:{partition}"
