"""Checks shared across replicas: partitions of components leased in Redis, a fair share each,
none twice, and a dead replica's share taken over within the lease."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.monitoring.partitions import COUNT, Partitions
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store import RedisKeyValue
from handlers.console.adapter import ConsoleAdapter
from tests.support.builders import make_config
from tests.support.loopback import serve_on_loopback
from tests.support.slack_app import eventually, stop_runtime

LEASE = timedelta(seconds=0.6)


async def _rounds(replicas: list[Partitions], times: int = 3) -> None:
    for _ in range(times):
        for replica in replicas:
            await replica.tick()


async def test_replicas_share_the_partitions_and_take_over_a_dead_ones(
    redis_url: str, unique_prefix: str
) -> None:
    stores = [RedisKeyValue.from_url(redis_url, unique_prefix) for _ in range(4)]
    try:
        replicas = [Partitions(kv, f"replica-{n}", ttl=LEASE) for n, kv in enumerate(stores[:3])]
        await _rounds(replicas)
        held = [r.held for r in replicas]
        assert sorted(len(h) for h in held) == [10, 11, 11]
        assert set().union(*held) == set(range(COUNT))
        assert sum(len(h) for h in held) == COUNT, "no partition twice"

        # One dies (stops renewing, gives nothing back): its share moves within the lease.
        _, *alive = replicas
        await asyncio.sleep(LEASE.total_seconds() + 0.1)
        await _rounds(alive)
        assert set().union(*(r.held for r in alive)) == set(range(COUNT))
        assert sorted(len(r.held) for r in alive) == [16, 16]

        # A newcomer gets a fair share from the others.
        newcomer = Partitions(stores[3], "replica-3", ttl=LEASE)
        await _rounds([*alive, newcomer], times=4)
        shares = [len(r.held) for r in (*alive, newcomer)]
        assert sorted(shares) == [10, 11, 11], shares
        assert sum(shares) == COUNT
    finally:
        for kv in stores:
            await kv.close()


async def test_three_replicas_each_run_a_fair_part_and_cover_for_one_that_stops(
    redis_url: str, unique_prefix: str
) -> None:
    hits: Counter[str] = Counter()

    async def health(request: web.Request) -> web.Response:
        hits[request.match_info["check"]] += 1
        return web.json_response({"status": "UP"})

    app = web.Application()
    app.router.add_get("/{check}", health)
    runner, port = await serve_on_loopback(app)
    components = [{"id": f"c{n}", "name": f"C{n}"} for n in range(30)]
    checks: list[dict[str, Any]] = [
        {
            "id": f"k{n}",
            "component": f"c{n}",
            "type": "http",
            "url": f"http://127.0.0.1:{port}/k{n}",
            "interval": "0.5s",
            "timeout": "1s",
        }
        for n in range(30)
    ]
    config = make_config(components=components, checks=checks, languages=["en"])
    settings = Settings(_env_file=None, host="127.0.0.1", port=0)  # type: ignore[call-arg]
    stores = [RedisKeyValue.from_url(redis_url, unique_prefix) for _ in range(3)]
    runtimes = [
        Runtime(
            settings,
            config,
            kv=kv,
            adapters={"console": ConsoleAdapter(io.StringIO())},
            lease_ttl=timedelta(seconds=1.5),
            first_run_within=timedelta(seconds=0.5),
        )
        for kv in stores
    ]
    try:
        for runtime in runtimes:
            await runtime.start(serve_http=False)

        def shared() -> bool:
            held = [len(r.partitions.held) for r in runtimes if r.partitions]
            return sorted(held) == [10, 11, 11]

        await eventually(shared, timeout=6, what="a fair share each")
        hits.clear()
        before = [_runs(r) for r in runtimes]
        await asyncio.sleep(3)
        runs = [_runs(r) - b for r, b in zip(runtimes, before, strict=True)]
        total = sum(runs)
        assert all(share >= 0.15 * total for share in runs), runs
        # Every check about six times in 3 s at 0.5 s, by one replica only.
        assert len(hits) == 30
        assert max(hits.values()) <= 7, hits.most_common(3)
        assert total <= 30 * 6 * 1.05 + 30

        await stop_runtime(runtimes[0])
        await eventually(
            lambda: (
                sorted(len(r.partitions.held) for r in runtimes[1:] if r.partitions) == [16, 16]
            ),
            timeout=5,
            what="the others to take its part",
        )
        hits.clear()
        await asyncio.sleep(2)
        assert len(hits) == 30, "every check still runs"
    finally:
        for runtime in runtimes[1:]:
            await stop_runtime(runtime)
        await runner.cleanup()


def _runs(runtime: Runtime) -> float:
    total = 0.0
    for metric in runtime.metrics.checks_run.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                total += sample.value
    return total
