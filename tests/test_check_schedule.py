"""The checks' schedule: a random first phase within the interval, then whole intervals; at
most one run of a check at a time; coalescing after a stall; checks taken over run soon."""

from __future__ import annotations

import asyncio
import io
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.config import Check
from bot.monitoring.check_schedule import CheckSchedule
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store import MemoryKeyValue
from handlers.console.adapter import ConsoleAdapter
from tests.support.builders import make_config
from tests.support.loopback import serve_on_loopback
from tests.support.slack_app import eventually, stop_runtime


def _checks(count: int, interval: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"k{n}",
            "component": "web",
            "type": "http",
            "url": f"http://127.0.0.1:9/k{n}",
            "interval": interval,
        }
        for n in range(count)
    ]


async def test_runs_at_the_first_due_time_then_every_interval() -> None:
    config = make_config(checks=_checks(3, "0.2s"))
    loop = asyncio.get_running_loop()
    calls: list[tuple[str, float, float]] = []  # check, due, when called
    schedule = CheckSchedule(lambda check, due: calls.append((check.id, due, loop.time())))
    start = loop.time()
    for offset, check in zip((0.05, 0.1, 0.15), config.checks, strict=True):
        schedule.add(check, start + offset)
    await asyncio.sleep(0.75)
    schedule.stop()

    for offset, check in zip((0.05, 0.1, 0.15), config.checks, strict=True):
        dues = [due for check_id, due, _ in calls if check_id == check.id]
        assert len(dues) in (3, 4), calls
        # Whole intervals after the first due time: no drift from run to run.
        assert [round(d - start - offset, 6) for d in dues] == [
            round(0.2 * n, 6) for n in range(len(dues))
        ]
    assert all(called >= due for _, due, called in calls), "never early"
    assert all(called - due < 0.1 for _, due, called in calls)


async def test_a_stall_starts_the_latest_due_run_once_not_a_backlog() -> None:
    config = make_config(checks=_checks(1, "0.1s"))
    (check,) = config.checks
    loop = asyncio.get_running_loop()
    dues: list[float] = []

    def on_due(_: Check, due: float) -> None:
        dues.append(due)
        if len(dues) == 1:
            time.sleep(0.35)  # the loop stalls for three and a half intervals

    schedule = CheckSchedule(on_due)
    start = loop.time()
    schedule.add(check, start)
    await asyncio.sleep(0.5)
    schedule.stop()
    assert [round(d - start, 6) for d in dues[:3]] == [0.0, 0.3, 0.4], dues


async def test_a_removed_check_no_longer_runs_and_stop_stops_all() -> None:
    config = make_config(checks=_checks(2, "0.05s"))
    kept, removed = config.checks
    seen: Counter[str] = Counter()
    schedule = CheckSchedule(lambda check, _: seen.update([check.id]))
    now = asyncio.get_running_loop().time()
    schedule.add(kept, now)
    schedule.add(removed, now)
    schedule.remove(removed.id)
    assert removed.id not in schedule and kept.id in schedule
    await asyncio.sleep(0.22)
    assert seen[removed.id] == 0
    assert seen[kept.id] >= 3
    schedule.stop()
    before = seen[kept.id]
    await asyncio.sleep(0.12)
    assert seen[kept.id] == before


async def _serve(handler: Any) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_get("/{check}", handler)
    return await serve_on_loopback(app)


async def test_monitor_spreads_first_runs_over_the_interval_and_runs_each_check_once_at_a_time() -> (
    None
):
    hits: Counter[str] = Counter()
    in_flight: Counter[str] = Counter()
    overlapping: list[str] = []

    async def slow(request: web.Request) -> web.Response:
        check = request.match_info["check"]
        hits[check] += 1
        in_flight[check] += 1
        if in_flight[check] > 1:
            overlapping.append(check)
        await asyncio.sleep(0.35)  # longer than the interval: the next turn finds it running
        in_flight[check] -= 1
        return web.json_response({"status": "UP"})

    runner, port = await _serve(slow)
    checks = [
        {
            "id": f"k{n}",
            "component": "web",
            "type": "http",
            "url": f"http://127.0.0.1:{port}/k{n}",
            "interval": "0.1s" if n == 0 else "20s",
            "timeout": "2s",
        }
        for n in range(20)
    ]
    config = make_config(checks=checks)
    runtime = Runtime(
        Settings(_env_file=None),
        config,
        kv=MemoryKeyValue(),
        adapters={"console": ConsoleAdapter(io.StringIO())},
    )
    try:
        scheduled_at = datetime.now(UTC)
        await runtime.start(serve_http=False)
        first = await eventually(runtime.monitor.first_runs, what="the checks scheduled")
        assert set(first) == {c.id for c in config.checks}
        phases = [(first[c.id] - scheduled_at).total_seconds() for c in config.checks[1:]]
        assert all(-0.01 <= p <= 20.5 for p in phases), phases
        assert max(phases) - min(phases) > 1, "spread at random, not all at once"
        await asyncio.sleep(1.2)
        # k0 is due every 0.1 s but each run takes 0.35 s: it never runs twice at once, and
        # the runs it had to skip are counted.
        assert overlapping == []
        assert 2 <= hits["k0"] <= 4, hits
        assert _value(runtime, "statusbot_check_runs_skipped_total") >= 5
    finally:
        await stop_runtime(runtime)
        await runner.cleanup()


async def test_checks_owned_anew_run_within_the_spread_given() -> None:
    hits: Counter[str] = Counter()

    async def health(request: web.Request) -> web.Response:
        hits[request.match_info["check"]] += 1
        return web.json_response({"status": "UP"})

    runner, port = await _serve(health)
    components = [{"id": f"c{n}", "name": f"C{n}"} for n in range(10)]
    checks = [
        {
            "id": f"k{n}",
            "component": f"c{n}",
            "type": "http",
            "url": f"http://127.0.0.1:{port}/k{n}",
            "interval": "60s",
        }
        for n in range(10)
    ]
    config = make_config(components=components, checks=checks, languages=["en"])
    runtime = Runtime(
        Settings(_env_file=None),
        config,
        kv=MemoryKeyValue(),
        adapters={"console": ConsoleAdapter(io.StringIO())},
        first_run_within=timedelta(seconds=60),
    )
    owned = {"c0"}
    try:
        runtime.monitor.schedule(owns=lambda component: component in owned)
        assert set(runtime.monitor.first_runs()) == {"k0"}
        # Taken over from a replica that died: overdue, so within the spread given, not 60 s.
        owned.update(f"c{n}" for n in range(1, 10))
        runtime.monitor.reassign(
            lambda component: component in owned, first_run_within=timedelta(seconds=0.5)
        )
        await eventually(lambda: len(hits.keys() - {"k0"}) == 9, timeout=3, what="taken over")
        owned.discard("c5")
        runtime.monitor.reassign(lambda component: component in owned)
        assert "k5" not in runtime.monitor.first_runs()
    finally:
        await runtime.monitor.stop_running()
        assert runtime.monitor.first_runs() == {}
        await runtime.http.aclose()
        await runner.cleanup()


def _value(runtime: Runtime, name: str) -> float:
    return sum(
        sample.value
        for metric in runtime.metrics.registry.collect()
        for sample in metric.samples
        if sample.name == name
    )
