"""Benchmark: N http checks through the real monitor, probes, history and alerter, vs targets."""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import io
import logging
import math
import multiprocessing
import os
import resource
import sys
import time
import timeit
import traceback
import uuid
from array import array
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import redis.asyncio
from aiohttp import web
from blackbox_reference import BlackboxFigures, find_binary, measure_blackbox
from prometheus_client import Counter, Histogram

from bot.config import Config, parse_config
from bot.metrics import Metrics
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store import MemoryKeyValue, RedisKeyValue
from bot.store.keyvalue import KeyValue
from handlers.console.adapter import ConsoleAdapter

# Everything this benchmark serves or connects to stays on the loopback interface.
LOOPBACK = "127.0.0.1"
REDIS_URL = f"redis://{LOOPBACK}:6379/0"
HEALTHY_BODY = b'{"status":"UP"}'

# Targets (bench/README.md says where they come from): one process carries 10,000 endpoints on
# 30 s, and a probe costs no more CPU than in Prometheus's blackbox_exporter, measured in the
# same run on the same endpoints (about 1,000 probes per core-second when it is not installed).
TARGET_LAG_P99_S = 1.0
TARGET_RSS_MB = 300.0
TARGET_VS_BLACKBOX = 1.0  # statusbot's probes per CPU-second over blackbox_exporter's
TARGET_PROBES_PER_CPU_S = 1000.0  # the estimate used when blackbox_exporter is not installed
TARGET_RATE_SHARE = 0.99  # of the runs due in the window, completed in it
TARGET_COVERAGE = 0.98  # of the runs due in the window, reaching their endpoint
# APScheduler never starts a run early, so a request belongs to the latest due time before it;
# this much slack absorbs float rounding of the due times.
_EARLY_S = 0.05


@dataclass(frozen=True)
class RunSpec:
    """One benchmark run: how many endpoints, on what schedule, measured for how long."""

    endpoints: int
    components: int
    interval_s: float
    timeout_s: float
    warmup_s: float
    window_s: float
    grace_s: float
    store: str  # "memory" or "redis"


@dataclass(frozen=True)
class BotReport:
    """What the bot process measured about itself over the window."""

    first_runs: list[float]  # per endpoint index, its first scheduled run (epoch seconds)
    window: tuple[float, float]  # epoch seconds
    checks_done: float
    checks_failed: float
    cpu_s: float
    cpu_system_s: float  # the kernel's share of cpu_s: sockets, epoll
    peak_rss_mb: float
    lag_buckets: list[tuple[float, float]]  # (upper bound s, cumulative runs) over the window
    alerts: float  # alert posts queued over the window: every endpoint is up, so all are false
    warnings_logged: dict[str, int]  # WARNING and above over the window: message template -> count
    setup_s: float


@dataclass(frozen=True)
class Arrivals:
    """Requests the endpoint server saw: which endpoint, when (epoch seconds)."""

    indexes: array[int]
    times: array[float]
    cpu_s: float


@dataclass(frozen=True)
class Figures:
    """Everything one run is judged on."""

    spec: RunSpec
    checks_per_s: float
    due_per_s: float  # runs due in the window (the random phases make it differ from N/interval)
    failures: int
    probes_per_cpu_s: float
    cpu_share: float  # of one core, over the window
    system_share: float  # of the bot's CPU, spent in the kernel
    peak_rss_mb: float
    lag_p50_s: float
    lag_p99_s: float
    lag_max_s: float
    runs_expected: int
    runs_missed: int
    hist_p50: str
    hist_p99: str
    alerts: int
    warnings_logged: dict[str, int]
    server_cpu_share: float
    setup_s: float
    blackbox: BlackboxFigures | None  # None: blackbox_exporter is not installed


# -- the endpoints, in their own process ---------------------------------------------------------


def serve_endpoints(count: int, conn: Connection, lifetime_s: float) -> None:
    """Process entry: serve /svc/0 .. /svc/{count-1} on loopback until told to stop.

    Told "arrivals", it sends the arrivals so far and forgets them (the reference's requests
    come after); told "stop", it sends them and stops."""
    asyncio.run(_serve_endpoints(count, conn, lifetime_s))


async def _serve_endpoints(count: int, conn: Connection, lifetime_s: float) -> None:
    indexes: array[int] = array("I")
    times: array[float] = array("d")

    async def healthy(request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        if not 0 <= index < count:
            raise web.HTTPNotFound()
        indexes.append(index)
        times.append(time.time())
        return web.Response(body=HEALTHY_BODY, content_type="application/json")

    app = web.Application()
    app.router.add_get("/svc/{index}", healthy)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, 0, backlog=1024)
    await site.start()
    conn.send(_bound_port(runner))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime_s
    told = asyncio.Event()
    loop.add_reader(conn.fileno(), told.set)
    message = "stop"
    while loop.time() < deadline:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(told.wait(), deadline - loop.time())
        if not told.is_set():
            break
        told.clear()
        if not conn.poll():
            continue  # the reader fired again before the message was read: nothing new
        message = conn.recv()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(Arrivals(indexes, times, usage.ru_utime + usage.ru_stime))
        if message == "stop":
            break
        indexes, times = array("I"), array("d")
    loop.remove_reader(conn.fileno())
    await runner.cleanup()


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    raise RuntimeError("the endpoint server is not listening")


# -- the bot, in its own process -----------------------------------------------------------------


def config_document(spec: RunSpec, port: int) -> dict[str, Any]:
    """A config with `spec.endpoints` http checks spread over `spec.components` components."""
    return {
        "components": [
            {"id": f"comp-{c}", "name": f"Component {c}"} for c in range(spec.components)
        ],
        "checks": [
            {
                "id": f"svc-{i}",
                "type": "http",
                "component": f"comp-{i % spec.components}",
                "url": f"http://{LOOPBACK}:{port}/svc/{i}",
                "interval": spec.interval_s,
                "timeout": spec.timeout_s,
                "conditions": ["[STATUS] == 200", "[BODY].status == UP"],
            }
            for i in range(spec.endpoints)
        ],
    }


class _CountingHandler(logging.Handler):
    """Counts what the bot logs at WARNING and above instead of printing it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.name}: {record.msg}"] += 1


def run_bot(spec: RunSpec, port: int, conn: Connection) -> None:
    """Process entry: run the real Runtime against the endpoints; send back a BotReport."""
    logged = _CountingHandler()
    logging.getLogger().addHandler(logged)
    try:
        conn.send(asyncio.run(_measure_bot(spec, port, logged)))
    except Exception:
        conn.send(traceback.format_exc())
    finally:
        conn.close()


async def _measure_bot(spec: RunSpec, port: int, logged: _CountingHandler) -> BotReport:
    setup_started = time.perf_counter()
    config = parse_config(config_document(spec, port), "bench")
    kv, forget = _open_store(spec.store)
    runtime = Runtime(
        Settings(_env_file=None),
        config,
        kv=kv,
        adapters={"console": ConsoleAdapter(io.StringIO())},
        first_run_within=None,
    )
    await runtime.start(serve_http=False)
    try:
        first_runs = await _first_runs(runtime, config)
        scheduled_at = time.time()
        setup_s = time.perf_counter() - setup_started
        # Every check has had its first run once one interval has passed since scheduling.
        await asyncio.sleep(max(0.0, scheduled_at + spec.warmup_s - time.time()))
        done0, failed0 = _checks_done(runtime.metrics)
        lag0 = _lag_buckets(runtime.metrics.schedule_lag)
        alerts0, logged0 = _total(runtime.metrics.alerts_sent), logged.counts.copy()
        (cpu0, system0), start = _cpu_s(), time.time()
        await asyncio.sleep(spec.window_s)
        (cpu1, system1), end = _cpu_s(), time.time()
        alerts1, logged1 = _total(runtime.metrics.alerts_sent), logged.counts.copy()
        done1, failed1 = _checks_done(runtime.metrics)
        lag1 = _lag_buckets(runtime.metrics.schedule_lag)
        peak_rss_mb = _peak_rss_mb()
        # Runs due inside the window but started late still reach the endpoints.
        await asyncio.sleep(spec.grace_s)
    finally:
        await runtime.stop()
        await forget()
    return BotReport(
        first_runs=first_runs,
        window=(start, end),
        checks_done=done1 - done0,
        checks_failed=failed1 - failed0,
        cpu_s=cpu1 - cpu0,
        cpu_system_s=system1 - system0,
        peak_rss_mb=peak_rss_mb,
        lag_buckets=[(bound, lag1[bound] - lag0.get(bound, 0.0)) for bound in sorted(lag1)],
        alerts=alerts1 - alerts0,
        warnings_logged=dict(logged1 - logged0),
        setup_s=setup_s,
    )


def _open_store(store: str) -> tuple[KeyValue, Callable[[], Awaitable[None]]]:
    """The store and how to remove what the run left in it (only its own keys)."""
    if store == "memory":

        async def nothing() -> None:
            return None

        return MemoryKeyValue(), nothing
    prefix = f"statusbot-bench:{uuid.uuid4().hex}:"

    async def delete_prefix() -> None:
        client = redis.asyncio.Redis.from_url(REDIS_URL)
        try:
            batch: list[bytes] = []
            async for key in client.scan_iter(match=f"{prefix}*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    await client.delete(*batch)
                    batch.clear()
            if batch:
                await client.delete(*batch)
        finally:
            await client.aclose()

    return RedisKeyValue.from_url(REDIS_URL, prefix), delete_prefix


async def _first_runs(runtime: Runtime, config: Config) -> list[float]:
    """Each check's first scheduled run (epoch seconds), read from the monitor once it holds the
    leader lease and has scheduled them; later runs follow at exact multiples of the interval."""
    for _ in range(200):
        runs = runtime.monitor.first_runs()
        if len(runs) == len(config.checks):
            return [runs[check.id].timestamp() for check in config.checks]
        await asyncio.sleep(0.05)
    raise RuntimeError("the bot did not schedule its checks within 10 s")


def _checks_done(metrics: Metrics) -> tuple[float, float]:
    """Checks recorded so far, and how many failed.

    statusbot_checks_total has a series per check: collecting 10,000 of them blocks the event
    loop under measurement for ~0.15 s, so count the per-component duration histogram (observed
    beside it for every result) and the failures counter (a series per failing check only).
    """
    done = sum(
        sample.value
        for metric in metrics.check_latency.collect()
        for sample in metric.samples
        if sample.name.endswith("_count")
    )
    return done, _total(metrics.check_failures)


def _total(counter: Counter) -> float:
    return sum(
        sample.value
        for metric in counter.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def _lag_buckets(histogram: Histogram) -> dict[float, float]:
    return {
        float(sample.labels["le"]): sample.value
        for metric in histogram.collect()
        for sample in metric.samples
        if sample.name.endswith("_bucket")
    }


def _peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux's ru_maxrss would do, but a spawned child inherits its parent's peak through exec, so
    read the high-water mark of this process's own address space where the kernel shows it.
    """
    with contextlib.suppress(OSError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> tuple[float, float]:
    """CPU seconds of this process so far: (user + system, system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_stime


# -- orchestration -------------------------------------------------------------------------------


def measure(spec: RunSpec, blackbox_binary: str | None) -> Figures:
    """Start the endpoint server and the bot as separate processes; combine what both saw.
    Then, with the bot stopped, blackbox_exporter probes the same endpoints at the same rate."""
    context = multiprocessing.get_context("spawn")
    server_conn, server_end = context.Pipe()
    bot_conn, bot_end = context.Pipe()
    budget_s = 120 + spec.warmup_s + spec.window_s + spec.grace_s
    server = context.Process(
        target=serve_endpoints,
        args=(spec.endpoints, server_end, budget_s),
        name="bench-endpoints",
        daemon=True,
    )
    bot: BaseProcess | None = None
    server.start()
    server_end.close()
    try:
        port = _receive(server_conn, 30, "endpoint server port")
        bot = context.Process(
            target=run_bot, args=(spec, port, bot_end), name="bench-bot", daemon=True
        )
        started = time.monotonic()
        bot.start()
        bot_end.close()
        report = _receive(bot_conn, budget_s, "bot report")
        elapsed = time.monotonic() - started
        if isinstance(report, str):
            raise RuntimeError(f"the bot process failed:\n{report}")
        server_conn.send("arrivals")
        arrivals = _receive(server_conn, 30, "endpoint arrivals")
        bot.join(15)
        blackbox = None
        if blackbox_binary is not None:
            blackbox = measure_blackbox(
                blackbox_binary,
                port,
                spec.endpoints,
                interval_s=spec.interval_s,
                timeout_s=spec.timeout_s,
                warmup_s=min(5.0, spec.interval_s),
                window_s=spec.window_s,
            )
        server_conn.send("stop")
        _receive(server_conn, 30, "endpoint server stop")
        server.join(15)
    finally:
        for process in (bot, server):
            if process is not None and process.is_alive():
                process.terminate()
                process.join(5)
    return _figures(spec, report, arrivals, elapsed, blackbox)


def _receive(conn: Connection, timeout_s: float, what: str) -> Any:
    if not conn.poll(timeout_s):
        raise TimeoutError(f"no {what} within {timeout_s:.0f} s")
    return conn.recv()


def _figures(
    spec: RunSpec,
    report: BotReport,
    arrivals: Arrivals,
    elapsed_s: float,
    blackbox: BlackboxFigures | None,
) -> Figures:
    window_s = report.window[1] - report.window[0]
    checks = report.checks_done
    lags, expected, missed = _endpoint_lags(spec, report, arrivals)
    return Figures(
        spec=spec,
        checks_per_s=checks / window_s,
        due_per_s=expected / window_s,
        failures=int(report.checks_failed),
        probes_per_cpu_s=checks / report.cpu_s if report.cpu_s else math.inf,
        cpu_share=report.cpu_s / window_s,
        system_share=report.cpu_system_s / report.cpu_s if report.cpu_s else 0.0,
        peak_rss_mb=report.peak_rss_mb,
        lag_p50_s=_quantile(lags, 0.50),
        lag_p99_s=_quantile(lags, 0.99),
        lag_max_s=lags[-1] if lags else math.nan,
        runs_expected=expected,
        runs_missed=missed,
        hist_p50=_format_bound(_bucket_quantile(report.lag_buckets, 0.50)),
        hist_p99=_format_bound(_bucket_quantile(report.lag_buckets, 0.99)),
        alerts=int(report.alerts),
        warnings_logged=report.warnings_logged,
        server_cpu_share=arrivals.cpu_s / elapsed_s,
        setup_s=report.setup_s,
        blackbox=blackbox,
    )


def _endpoint_lags(
    spec: RunSpec, report: BotReport, arrivals: Arrivals
) -> tuple[list[float], int, int]:
    """Exact lag of every run due in the window: arrival at the endpoint minus the due time.

    It includes the time to send the request, so it bounds the lag of the job's own start (what
    the product's histogram measures) from above.
    """
    interval = spec.interval_s
    start, end = report.window
    seen: set[tuple[int, int]] = set()
    lags: list[float] = []
    for index, arrived in zip(arrivals.indexes, arrivals.times, strict=True):
        first = report.first_runs[index]
        run = math.floor((arrived - first + _EARLY_S) / interval)
        due = first + run * interval
        if run >= 0 and start <= due < end and (index, run) not in seen:
            seen.add((index, run))
            lags.append(max(0.0, arrived - due))
    expected = 0
    for first in report.first_runs:
        first_run = max(0, math.ceil((start - first) / interval))
        last_run = math.ceil((end - first) / interval) - 1
        expected += max(0, last_run - first_run + 1)
    lags.sort()
    return lags, expected, expected - len(seen)


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _bucket_quantile(buckets: Sequence[tuple[float, float]], q: float) -> float:
    """The upper bound of the histogram bucket holding quantile q (all the histogram can say)."""
    total = buckets[-1][1] if buckets else 0.0
    if not total:
        return math.nan
    for bound, cumulative in buckets:
        if cumulative >= q * total:
            return bound
    return math.inf


def _format_bound(bound: float) -> str:
    if math.isnan(bound):
        return "no runs"
    if math.isinf(bound):
        return "> 30 s"
    return f"≤ {bound:g} s"


# -- the report ----------------------------------------------------------------------------------


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def _rows(figures: Figures) -> list[tuple[str, str, str]]:
    """(figure, target, measured with ratio and verdict) for one run."""
    f = figures
    rate_ratio = f.checks_per_s / f.due_per_s
    coverage = 1 - f.runs_missed / f.runs_expected if f.runs_expected else math.nan
    return [
        (
            "checks/s completed",
            f"≥ {TARGET_RATE_SHARE:.0%} of due",
            f"{f.checks_per_s:,.1f} (due {f.due_per_s:,.1f}: {rate_ratio:.2f}×) "
            f"{_verdict(rate_ratio >= TARGET_RATE_SHARE)}",
        ),
        (
            "runs missed or later than grace",
            "0",
            f"{f.runs_missed:,} of {f.runs_expected:,} {_verdict(f.runs_missed == 0)}",
        ),
        (
            "coverage (due runs that reached their endpoint)",
            f"≥ {TARGET_COVERAGE:.0%}",
            f"{coverage:.2%} {_verdict(coverage >= TARGET_COVERAGE)}",
        ),
        ("failed checks (all endpoints up)", "0", f"{f.failures:,} {_verdict(f.failures == 0)}"),
        ("false outage alerts", "0", f"{f.alerts:,} {_verdict(f.alerts == 0)}"),
        ("schedule lag p50, exact ¹", "", f"{f.lag_p50_s:.3f} s"),
        (
            "schedule lag p99, exact ¹",
            f"< {TARGET_LAG_P99_S:g} s",
            f"{f.lag_p99_s:.3f} s ({f.lag_p99_s / TARGET_LAG_P99_S:.2f}× of limit) "
            f"{_verdict(f.lag_p99_s < TARGET_LAG_P99_S)}",
        ),
        ("schedule lag max, exact ¹", "", f"{f.lag_max_s:.3f} s"),
        ("schedule lag p50 / p99, histogram ²", "", f"{f.hist_p50} / {f.hist_p99}"),
        *_probe_cost_rows(f),
        ("bot CPU, share of one core", "", f"{f.cpu_share:.0%}"),
        (
            "peak RSS",
            f"< {TARGET_RSS_MB:g} MB",
            f"{f.peak_rss_mb:,.0f} MB ({f.peak_rss_mb / TARGET_RSS_MB:.2f}× of limit) "
            f"{_verdict(f.peak_rss_mb < TARGET_RSS_MB)}",
        ),
        ("warnings logged by the bot ³", "", f"{sum(f.warnings_logged.values()):,}"),
        ("endpoint server CPU (not the bot)", "", f"{f.server_cpu_share:.0%} of one core"),
        ("set-up (config, scheduling)", "", f"{f.setup_s:.1f} s"),
    ]


def _probe_cost_rows(f: Figures) -> list[tuple[str, str, str]]:
    """statusbot's probes per CPU-second beside blackbox_exporter's on the same endpoints."""
    box = f.blackbox
    if box is None:
        estimate = f.probes_per_cpu_s / TARGET_PROBES_PER_CPU_S
        return [
            (
                "probes per CPU-second, statusbot",
                f"≥ {TARGET_PROBES_PER_CPU_S:,.0f} (estimate)",
                f"{f.probes_per_cpu_s:,.0f} ({estimate:.2f}×) "
                f"{_verdict(f.probes_per_cpu_s >= TARGET_PROBES_PER_CPU_S)}",
            ),
            (
                "probes per CPU-second, blackbox_exporter",
                "",
                "not measured: install prometheus-blackbox-exporter",
            ),
            ("CPU s per 1,000 checks", "", _cpu_per_1000(f)),
        ]
    ratio = f.probes_per_cpu_s / box.probes_per_cpu_s if box.probes else math.nan
    return [
        (
            "probes per CPU-second, statusbot",
            f"≥ {TARGET_VS_BLACKBOX:g}× blackbox",
            f"{f.probes_per_cpu_s:,.0f} ({ratio:.2f}× blackbox_exporter) "
            f"{_verdict(ratio >= TARGET_VS_BLACKBOX)}",
        ),
        (
            "probes per CPU-second, blackbox_exporter ⁴",
            "",
            f"{box.probes_per_cpu_s:,.0f} ({box.probes:,} probes, {box.failed:,} failed, "
            f"{box.cpu_s:.1f} CPU s in {box.window_s:.0f} s, peak RSS {box.peak_rss_mb:,.0f} MB)"
            + "".join(f"; {why}: {count:,}" for why, count in box.failures.items()),
        ),
        (
            "CPU s per 1,000 checks",
            "",
            f"{_cpu_per_1000(f)}; blackbox_exporter {1000 / box.probes_per_cpu_s:.2f} s",
        ),
    ]


def _cpu_per_1000(f: Figures) -> str:
    return f"{1000 / f.probes_per_cpu_s:.2f} s ({f.system_share:.0%} in the kernel)"


FOOTNOTES = (
    "¹ request arrival at the endpoint minus the run's due time (from Monitor.first_runs()): "
    "includes waiting for a probe slot and sending the request.",
    "² statusbot_check_schedule_lag_seconds, bucket upper bounds only: observed once the run "
    "has a probe slot, before the request is sent.",
    "⁴ after the bot has stopped: blackbox_exporter on loopback (module http_2xx, status 200, "
    "same timeout) scraped by this process for every endpoint once per interval at a random "
    "phase, open loop, over the same-length window; its process's user + system CPU.",
)


def render_warnings(results: Sequence[Figures]) -> list[str]:
    """³ The commonest warning of each run, so a MISS comes with the bot's own explanation."""
    lines = []
    for figures in results:
        if figures.warnings_logged:
            message, count = max(figures.warnings_logged.items(), key=lambda item: item[1])
            lines.append(
                f"³ {figures.spec.endpoints:,} endpoints, most often ({count:,}×): {message[:160]}"
            )
    return lines


def render_table(results: Sequence[Figures]) -> str:
    """One row per figure, one column per endpoint count, each figure beside its target."""
    columns = [_rows(figures) for figures in results]
    header = ["figure", "target", *(f"{f.spec.endpoints:,} endpoints" for f in results)]
    body = [
        [name, target, *(column[row][2] for column in columns)]
        for row, (name, target, _) in enumerate(columns[0])
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def render_verdicts(results: Sequence[Figures]) -> list[str]:
    lines = []
    for figures in results:
        misses = [name for name, _, cell in _rows(figures) if cell.endswith("MISS")]
        verdict = "all targets met" if not misses else "MISS: " + ", ".join(misses)
        lines.append(f"{figures.spec.endpoints:,} endpoints on one process: {verdict}")
    return lines


def python_speed_us() -> float:
    """How fast this machine runs plain Python, so figures from different machines compare."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


# -- command line --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run N http checks through statusbot's real monitor against loopback "
        "endpoints and compare throughput, CPU, memory and schedule lag with their targets."
    )
    parser.add_argument("--endpoints", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--interval", type=float, default=30.0, help="check interval, seconds")
    parser.add_argument(
        "--duration",
        type=float,
        default=75.0,
        help="seconds per run: one interval of warm-up, the rest measured (default 75)",
    )
    parser.add_argument("--components", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=5.0, help="check timeout, seconds")
    parser.add_argument("--store", choices=["memory", "redis"], default="memory")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 200 endpoints, 5 s interval, 12 s"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.endpoints, args.interval, args.duration = [200], 5.0, 12.0
    if args.duration <= args.interval:
        parser.error("--duration must be longer than --interval (one interval is warm-up)")
    if min(args.endpoints) < 1 or args.components < 1:
        parser.error("--endpoints and --components must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    window_s = args.duration - args.interval
    store = "embedded store" if args.store == "memory" else f"Redis at {REDIS_URL}"
    print(
        f"statusbot checks benchmark: {store}, interval {args.interval:g} s, timeout "
        f"{args.timeout:g} s, {args.components} components; {args.interval:g} s warm-up, "
        f"{window_s:g} s measured"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, Python speed reference {python_speed_us():.1f} µs "
        f"(sum(range(1000))); endpoints served by a separate process on {LOOPBACK}"
    )
    blackbox = find_binary()
    if blackbox is None:
        print("blackbox_exporter: not measured: install prometheus-blackbox-exporter")
    results = []
    for endpoints in args.endpoints:
        spec = RunSpec(
            endpoints=endpoints,
            components=min(args.components, endpoints),
            interval_s=args.interval,
            timeout_s=args.timeout,
            warmup_s=args.interval,
            window_s=window_s,
            grace_s=min(args.interval / 2, 5.0),
            store=args.store,
        )
        load = os.getloadavg()[0]
        print(f"running {endpoints:,} endpoints (load average {load:.2f}) ...", flush=True)
        results.append(measure(spec, blackbox))
    print()
    print(render_table(results))
    for footnote in [*FOOTNOTES, *render_warnings(results)]:
        print(footnote)
    print()
    for line in render_verdicts(results):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
