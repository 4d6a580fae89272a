"""Leader election with a lease in the store: exactly one replica runs checks and schedules."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.store import UNAVAILABLE
from bot.store.keyvalue import KeyValue

log = logging.getLogger(__name__)

_KEY = "leader"


class LeaderLease:
    """Holds `leader` in the store while alive; another replica takes over within `ttl`."""

    def __init__(self, kv: KeyValue, ttl: timedelta = timedelta(seconds=15)) -> None:
        self._kv = kv
        self._ttl_ms = int(ttl.total_seconds() * 1000)
        self.identity = uuid.uuid4().hex
        self.is_leader = False

    async def try_acquire(self) -> bool:
        """Take or renew the lease; return whether this replica leads now."""
        try:
            if self.is_leader:
                held = await self._kv.set_if_equal(
                    _KEY, self.identity, self.identity, px=self._ttl_ms
                ) or await self._kv.set(_KEY, self.identity, nx=True, px=self._ttl_ms)
                # (The lease ran out while the store was away and nobody took it: still ours.)
            else:
                held = await self._kv.set(_KEY, self.identity, nx=True, px=self._ttl_ms)
        except UNAVAILABLE as exc:
            # Nobody can take the lease while the store is away: the leader keeps probing (its
            # results wait in memory) and steps down only if the store, back, says otherwise.
            log.warning("cannot reach the store to renew the leader lease (%s)", exc)
            held = self.is_leader
        except Exception:
            log.exception("could not renew the leader lease")
            held = False
        self.is_leader = held
        return held

    async def release(self) -> None:
        if self.is_leader:
            with contextlib.suppress(Exception):
                await self._kv.delete_if_equal(_KEY, self.identity)
        self.is_leader = False

    async def run(
        self,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], Awaitable[None]],
    ) -> None:
        """Renew every third of the lease until cancelled, calling back on each change."""
        task = asyncio.current_task()
        try:
            while True:
                was_leader = self.is_leader
                leader = await self.try_acquire()
                if task is not None and task.cancelling():
                    # The store client may turn a cancellation into an error of its own.
                    raise asyncio.CancelledError
                if leader and not was_leader:
                    log.info("this replica now leads: running checks and schedules")
                    await on_elected()
                elif was_leader and not leader:
                    log.warning("lost the leader lease: stopping checks and schedules")
                    await on_deposed()
                await asyncio.sleep(self._ttl_ms / 3000)
        finally:
            if self.is_leader:
                await on_deposed()
            await self.release()
