"""The leader lease: one replica leads; another takes over when the lease lapses."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.leader import LeaderLease
from bot.store.keyvalue import KeyValue


async def test_only_one_replica_leads_and_another_takes_over(kv: KeyValue) -> None:
    ttl = timedelta(milliseconds=300)
    first, second = LeaderLease(kv, ttl), LeaderLease(kv, ttl)

    assert await first.try_acquire() is True
    assert await second.try_acquire() is False
    assert await first.try_acquire() is True, "the leader renews its own lease"

    await asyncio.sleep(0.4)  # the leader died without releasing
    assert await second.try_acquire() is True
    assert await first.try_acquire() is False, "the old leader notices it was deposed"


async def test_a_released_lease_is_taken_at_once(kv: KeyValue) -> None:
    first, second = LeaderLease(kv), LeaderLease(kv)
    assert await first.try_acquire()
    await first.release()
    assert await second.try_acquire()


async def test_run_calls_back_on_election_and_on_stop(kv: KeyValue) -> None:
    lease = LeaderLease(kv, timedelta(milliseconds=300))
    events: list[str] = []

    async def elected() -> None:
        events.append("elected")

    async def deposed() -> None:
        events.append("deposed")

    task = asyncio.create_task(lease.run(elected, deposed))
    await asyncio.sleep(0.25)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert events == ["elected", "deposed"]
    assert await LeaderLease(kv).try_acquire(), "released on the way out"
