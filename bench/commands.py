"""Benchmark: signed /status and /incident slash commands, statusbot beside a bare Bolt app."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import hashlib
import hmac
import json
import logging
import math
import os
import pstats
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import urlencode

import aiohttp
import psutil
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

# Everything this benchmark serves or connects to stays on the loopback interface.
LOOPBACK = "127.0.0.1"
BOT_TOKEN = "xoxb-bench"
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent

# Targets: Slack drops a slash command not acknowledged within 3 s; we want a wide margin at a
# realistic peak (p99 < 50 ms at 200 req/s) and the bot's own work to cost little beside Bolt's.
TARGET_P99_S = 0.050
TARGET_RATE = 200
TARGET_RATIO = 1.5

COMPONENTS = 10
OPEN_INCIDENTS = 4
REQUEST_TIMEOUT_S = 10.0
DRAIN_S = REQUEST_TIMEOUT_S + 2.0  # how long a run waits for its last responses
WARMUP_SERIAL = 10  # requests sent one by one first (Bolt's auth.test happens on the first)

ServerKind = Literal["statusbot", "bare"]
Stop = Callable[[], Awaitable[None]]
KINDS: tuple[ServerKind, ...] = ("statusbot", "bare")
LABELS: dict[ServerKind, str] = {"statusbot": "statusbot", "bare": "bare Bolt"}
# What a correct reply contains (the bare app acknowledges with an empty body).
EXPECTED: dict[ServerKind, dict[str, bytes]] = {
    "statusbot": {"/status": b"Component 9", "/incident": b"open incidents"},
    "bare": {"/status": b"", "/incident": b""},
}


# -- the servers, each in its own process --------------------------------------------------------


def config_document() -> dict[str, Any]:
    """Ten components, and the incident and alert channels a small team would configure."""
    return {
        "components": [{"id": f"comp-{c}", "name": f"Component {c}"} for c in range(COMPONENTS)],
        "channels": {"incidents": {"slack": "C0INCIDENTS"}, "alerts": {"slack": "C0ALERTS"}},
    }


async def _start_statusbot(mock_url: str) -> tuple[int, Stop]:
    """The real Runtime with its Slack listeners; a few open incidents for /incident list."""
    from bot.config import parse_config
    from bot.settings import Settings
    from bot.store import MemoryKeyValue
    from bot.wiring import build_runtime, install_chat

    settings = Settings(
        _env_file=None,
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_app_token=None,
        slack_api_url=mock_url,
        host=LOOPBACK,
        port=0,
    )
    runtime = build_runtime(settings, parse_config(config_document(), "bench"), kv=MemoryKeyValue())
    install_chat(runtime)
    for number in range(OPEN_INCIDENTS):
        await runtime.incidents.open(
            title=f"Bench incident {number}: elevated errors",
            reporter="U0BENCH",
            severity=1 + number % 4,
            components=[f"comp-{number}", f"comp-{number + 1}"],
        )
    await runtime.start()
    if runtime.port is None:
        raise RuntimeError("statusbot is not listening")
    return runtime.port, runtime.stop


async def _start_bare(mock_url: str, polling: bool) -> tuple[int, Stop]:
    """A Bolt app whose listeners only acknowledge, served the same way over aiohttp.

    Bolt's fast path, as statusbot runs it (process_before_response=True): the answer leaves
    when the listener returns. With `polling`, Bolt's default instead: listeners run beside the
    response and Bolt polls for ack() every 10 ms.
    """
    client = AsyncWebClient(token=BOT_TOKEN, base_url=mock_url, retry_handlers=[], timeout=10)
    bolt = AsyncApp(
        client=client, signing_secret=SIGNING_SECRET, process_before_response=not polling
    )

    @bolt.command("/status")
    async def status(ack: Any) -> None:
        await ack()

    @bolt.command("/incident")
    async def incident(ack: Any) -> None:
        await ack()

    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    app = web.Application()
    app.router.add_post("/slack/events", slack_events)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, 0)
    await site.start()
    port = next(a[1] for a in runner.addresses if isinstance(a, tuple) and len(a) >= 2)

    return int(port), runner.cleanup


def _server_stats() -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}


async def _serve(kind: ServerKind, lifetime_s: float, polling: bool) -> None:
    """Serve until told to stop on stdin (or stdin closes, or the lifetime runs out).

    Speaks one JSON line per command on stdout: the port when ready, CPU figures on "stats".
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.support.slack_mock import MockSlack

    mock = await MockSlack().start()
    if kind == "statusbot":
        port, stop = await _start_statusbot(mock.url)
    else:
        port, stop = await _start_bare(mock.url, polling)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"port": port, "pid": os.getpid()}), flush=True)
    deadline = loop.time() + lifetime_s
    try:
        while (remaining := deadline - loop.time()) > 0:
            try:
                line = await asyncio.wait_for(reader.readline(), remaining)
            except TimeoutError:
                break
            command = line.strip().decode()
            if command == "stats":
                print(json.dumps(_server_stats()), flush=True)
            elif command in ("", "stop"):
                break
    finally:
        await stop()
        await mock.stop()


def serve(kind: ServerKind, lifetime_s: float, profile: Path | None, polling: bool) -> int:
    """Process entry for --serve: one server, optionally under cProfile."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    try:
        asyncio.run(_serve(kind, lifetime_s, polling))
    finally:
        if profiler is not None and profile is not None:
            profiler.disable()
            profiler.dump_stats(profile)
    return 0


@dataclass
class Server:
    """A server process this benchmark started, and how to talk to it."""

    kind: ServerKind
    process: asyncio.subprocess.Process
    port: int
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/slack/events"

    async def stats(self) -> dict[str, float]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(b"stats\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if not line:
            raise RuntimeError(f"the {self.kind} server exited:\n{self.log_tail()}")
        stats: dict[str, float] = json.loads(line)
        return stats

    async def stop(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            with contextlib.suppress(ConnectionError):
                self.process.stdin.write(b"stop\n")
                self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.terminate()
                await asyncio.wait_for(self.process.wait(), 5)
        self.log.close()

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        return _tail(self.log.name, lines)


def _tail(path: str, lines: int = 30) -> str:
    text = Path(path).read_text(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


async def start_server(
    kind: ServerKind, lifetime_s: float, profile: Path | None, polling: bool
) -> Server:
    log = tempfile.NamedTemporaryFile(prefix=f"bench-{kind}-", suffix=".log", delete=False)  # noqa: SIM115
    args = [str(SCRIPT), "--serve", kind, "--lifetime", f"{lifetime_s:.0f}"]
    if profile is not None:
        args += ["--profile", str(profile)]
    if polling:
        args.append("--polling-bare")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        cwd=ROOT,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
    except TimeoutError:
        line = b""
    if not line:
        if process.returncode is None:
            process.terminate()
        await process.wait()
        raise RuntimeError(f"the {kind} server did not start:\n{_tail(log.name)}")
    return Server(kind, process, int(json.loads(line)["port"]), log)


# -- the load generator --------------------------------------------------------------------------


def slash_command(command: str, text: str, trigger_id: str) -> tuple[bytes, dict[str, str]]:
    """A slash command as Slack sends it: form-encoded, signed with the signing secret."""
    body = urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "team_domain": "bench",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": "U0BENCH",
            "user_name": "bench",
            "command": command,
            "text": text,
            "api_app_id": "A0BENCH",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T1/1/bench",
            "trigger_id": trigger_id,
        }
    )
    timestamp = str(int(time.time()))
    digest = hmac.new(
        SIGNING_SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256
    ).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    return body.encode(), headers


@dataclass
class RunResult:
    """One app at one rate."""

    kind: ServerKind
    rate: float
    duration_s: float
    sent: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, successful replies only
    lateness: list[float] = field(default_factory=list)  # send time minus scheduled time
    errors: int = 0
    first_error: str = ""
    elapsed_s: float = 0.0  # first scheduled send to the last response or scheduled end
    server_cpu_s: float = 0.0
    machine_busy: float = 0.0  # percent of all CPUs, every process on the machine, over the run
    slice_p99: list[float] = field(default_factory=list)  # each slice's own p99, in order

    def p(self, q: float) -> float:
        return quantile(sorted(self.latencies), q)

    @property
    def achieved_rate(self) -> float:
        return len(self.latencies) / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_s / self.sent if self.sent else math.nan

    def add(self, other: RunResult) -> None:
        """Fold in another slice of the same app at the same rate."""
        busy = self.machine_busy * self.elapsed_s + other.machine_busy * other.elapsed_s
        self.duration_s += other.duration_s
        self.sent += other.sent
        self.latencies += other.latencies
        self.slice_p99.append(other.p(0.99))
        self.lateness += other.lateness
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error
        self.elapsed_s += other.elapsed_s
        self.server_cpu_s += other.server_cpu_s
        self.machine_busy = busy / self.elapsed_s if self.elapsed_s else 0.0


class LoadGenerator:
    """Open loop: requests leave on a fixed schedule whatever the server's pace."""

    def __init__(self, session: aiohttp.ClientSession, run_id: str) -> None:
        self._session = session
        self._run_id = run_id
        self._sequence = 0

    async def send(self, server: Server, index: int) -> tuple[float, str | None]:
        """Latency of one command, and what went wrong if anything did."""
        command, text = ("/status", "") if index % 2 == 0 else ("/incident", "list")
        self._sequence += 1
        body, headers = slash_command(command, text, f"{self._run_id}.{self._sequence}")
        loop = asyncio.get_running_loop()
        sent = loop.time()
        try:
            async with self._session.post(server.url, data=body, headers=headers) as response:
                payload = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return loop.time() - sent, f"{type(exc).__name__}: {exc}"
        latency = loop.time() - sent
        if status != 200:
            return latency, f"HTTP {status}: {payload[:200]!r}"
        if EXPECTED[server.kind][command] not in payload or b"Sorry" in payload:
            return latency, f"unexpected reply to {command} {text}: {payload[:200]!r}"
        return latency, None

    async def run(self, server: Server, rate: float, duration_s: float) -> RunResult:
        result = RunResult(server.kind, rate, duration_s)
        loop = asyncio.get_running_loop()
        count = max(1, round(rate * duration_s))
        start = loop.time() + 0.05
        last_done = start
        tasks: set[asyncio.Task[None]] = set()

        async def one(index: int, due: float) -> None:
            nonlocal last_done
            result.lateness.append(loop.time() - due)
            latency, error = await self.send(server, index)
            last_done = max(last_done, loop.time())
            if error is None:
                result.latencies.append(latency)
            else:
                result.errors += 1
                result.first_error = result.first_error or error

        before = await server.stats()
        psutil.cpu_percent(None)
        for index in range(count):
            due = start + index / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(index, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            result.sent += 1
        if tasks:
            _, pending = await asyncio.wait(set(tasks), timeout=DRAIN_S)
            for task in pending:
                task.cancel()
            result.errors += len(pending)
            if pending and not result.first_error:
                result.first_error = f"{len(pending)} requests unanswered after {DRAIN_S:g} s"
        result.machine_busy = psutil.cpu_percent(None)
        after = await server.stats()
        result.elapsed_s = max(last_done, start + count / rate) - start
        result.server_cpu_s = after["cpu_s"] - before["cpu_s"]
        return result

    async def warm_up(self, server: Server, rate: float, duration_s: float) -> None:
        """Serial requests (Bolt's auth.test, first imports), then a short burst; all must pass."""
        for index in range(WARMUP_SERIAL):
            _, error = await self.send(server, index)
            if error is not None:
                raise RuntimeError(
                    f"{LABELS[server.kind]} failed a warm-up request: {error}\n{server.log_tail()}"
                )
        result = await self.run(server, rate, duration_s)
        if result.errors:
            raise RuntimeError(
                f"{LABELS[server.kind]} failed {result.errors} warm-up requests: "
                f"{result.first_error}\n{server.log_tail()}"
            )


def quantile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# -- the report ----------------------------------------------------------------------------------


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f}"


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _ratio(results: dict[tuple[ServerKind, float], RunResult], rate: float) -> float:
    return results["statusbot", rate].p(0.99) / results["bare", rate].p(0.99)


def summary_line(results: dict[tuple[ServerKind, float], RunResult], rate: float) -> str:
    """One rate at a glance, as soon as it is measured: both apps, the ratio and its verdict."""
    bot, bare = results["statusbot", rate], results["bare", rate]
    ratio = _ratio(results, rate)
    lines = [
        f"  {rate:g} req/s: p99 ratio {ratio:.2f}× (target ≤ {TARGET_RATIO:g}×) "
        f"{_verdict(ratio <= TARGET_RATIO)}; load average {os.getloadavg()[0]:.2f}"
    ]
    for result in (bot, bare):
        slices_ms = ", ".join(f"{1000 * p:.1f}" for p in result.slice_p99)
        lines.append(
            f"    {LABELS[result.kind]:<9} p50/p99 {_ms(result.p(0.5))}/{_ms(result.p(0.99))} ms, "
            f"CPU {result.cpu_ms_per_request:.3f} ms/req, machine busy "
            f"{result.machine_busy:.0f}%, {result.errors} errors; p99 per slice, ms: {slices_ms}"
        )
    return "\n".join(lines)


def render_table(results: dict[tuple[ServerKind, float], RunResult], rates: Sequence[float]) -> str:
    rows: list[list[str]] = [
        [
            "rate req/s",
            "statusbot p50/p99 ms",
            "bare Bolt p50/p99 ms",
            f"p99 ratio (≤ {TARGET_RATIO:g}×)",
            "errors (bot/bare)",
            "achieved req/s (bot/bare)",
            "server CPU ms/req (bot/bare)",
            "send lateness p99 ms (bot/bare)",
            "machine CPU busy (bot/bare)",
        ]
    ]
    for rate in rates:
        bot, bare = results["statusbot", rate], results["bare", rate]
        ratio = _ratio(results, rate)
        rows.append(
            [
                f"{rate:g}",
                f"{_ms(bot.p(0.50))} / {_ms(bot.p(0.99))}",
                f"{_ms(bare.p(0.50))} / {_ms(bare.p(0.99))}",
                f"{ratio:.2f}× {_verdict(ratio <= TARGET_RATIO)}",
                f"{bot.errors} / {bare.errors}",
                f"{bot.achieved_rate:.1f} / {bare.achieved_rate:.1f}",
                f"{bot.cpu_ms_per_request:.3f} / {bare.cpu_ms_per_request:.3f}",
                f"{_ms(quantile(sorted(bot.lateness), 0.99))} / "
                f"{_ms(quantile(sorted(bare.lateness), 0.99))}",
                f"{bot.machine_busy:.0f}% / {bare.machine_busy:.0f}%",
            ]
        )
    return _table(rows)


def render_targets(
    results: dict[tuple[ServerKind, float], RunResult], rates: Sequence[float]
) -> tuple[str, list[str]]:
    """Each target beside the figure measured for it; the names of the targets missed."""
    rows: list[list[str]] = [["target", "measured", "verdict"]]
    misses: list[str] = []

    def add(target: str, measured: str, passed: bool | None) -> None:
        verdict = "n/a" if passed is None else _verdict(passed)
        rows.append([target, measured, verdict])
        if passed is False:
            misses.append(target)

    for rate in rates:
        bot = results["statusbot", rate]
        name = f"statusbot p99 < {_ms(TARGET_P99_S)} ms at {rate:g} req/s"
        measured = f"{_ms(bot.p(0.99))} ms ({bot.p(0.99) / TARGET_P99_S:.2f}× target)"
        if rate == TARGET_RATE:
            add(name, measured, bot.p(0.99) < TARGET_P99_S)
        else:
            add(name + " (indicative)", measured, None)
    if TARGET_RATE not in rates:
        add(f"statusbot p99 < {_ms(TARGET_P99_S)} ms at {TARGET_RATE} req/s", "not run", None)
    for rate in rates:
        ratio = _ratio(results, rate)
        add(
            f"statusbot p99 ≤ {TARGET_RATIO:g}× bare Bolt at {rate:g} req/s",
            f"{ratio:.2f}× ({ratio / TARGET_RATIO:.2f}× target)",
            ratio <= TARGET_RATIO,
        )
    for rate in rates:
        bot, bare = results["statusbot", rate], results["bare", rate]
        cpu = bot.cpu_ms_per_request / bare.cpu_ms_per_request
        add(
            f"server CPU per request, statusbot ÷ bare, at {rate:g} req/s (indicative)",
            f"{cpu:.2f}× ({bot.cpu_ms_per_request:.3f} vs {bare.cpu_ms_per_request:.3f} ms)",
            None,
        )
    for rate in rates:
        bot, bare = results["statusbot", rate], results["bare", rate]
        detail = bot.first_error or bare.first_error
        add(
            f"no errors at {rate:g} req/s",
            f"{bot.errors} / {bare.errors} of {bot.sent} / {bare.sent}"
            + (f" (first: {detail[:80]})" if detail else ""),
            bot.errors == 0 and bare.errors == 0,
        )
        slow = min(bot.achieved_rate, bare.achieved_rate) / rate
        add(f"achieved ≥ 95% of {rate:g} req/s", f"{slow:.0%} (lower of the two)", slow >= 0.95)
    return _table(rows), misses


def print_profile(path: Path, top: int) -> None:
    if not path.exists():
        print(f"no profile was written to {path}")
        return
    stats = pstats.Stats(str(path))
    for order in ("tottime", "cumulative"):
        print(f"\nstatusbot server profile, top {top} by {order} (cProfile; figures inflated):")
        stats.sort_stats(order).print_stats(top)


# -- orchestration -------------------------------------------------------------------------------


async def benchmark(args: argparse.Namespace) -> int:
    rates: list[float] = args.rates
    slices = max(1, math.ceil(args.duration / args.slice))
    # A bound on the servers' life: every slice at its worst (drained to the client's timeout).
    lifetime_s = 180 + len(rates) * 2 * (args.duration + slices * (DRAIN_S + 1)) + 4 * args.warmup
    print(
        f"statusbot slash-command benchmark: open loop, {args.duration:g} s per rate per app, "
        f"alternating signed /status and /incident list; {COMPONENTS} components, "
        f"{OPEN_INCIDENTS} open incidents, embedded store"
    )
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs, shared (other tests may be running; load average "
        f"{load[0]:.2f} at start); each server in its own process on {LOOPBACK}, the load "
        "generator in this one"
    )
    if args.polling_bare:
        print(
            "bare Bolt runs its listeners beside the response and polls for ack() every 10 ms "
            "(process_before_response=False): not the reference the ratio target is set against"
        )
    else:
        print(
            "bare Bolt on its fast path, as statusbot: process_before_response=True, listeners "
            "that only ack()"
        )
    profile: Path | None = args.profile
    if profile is not None:
        print(f"profiling the statusbot server with cProfile into {profile}: latencies inflated")
    servers: dict[ServerKind, Server] = {}
    results: dict[tuple[ServerKind, float], RunResult] = {}
    connector = aiohttp.TCPConnector(limit=1000, limit_per_host=1000)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            for kind in KINDS:
                servers[kind] = await start_server(
                    kind, lifetime_s, profile if kind == "statusbot" else None, args.polling_bare
                )
            pids = ", ".join(f"{LABELS[k]} pid {s.pid} port {s.port}" for k, s in servers.items())
            print(f"servers: {pids} (attach py-spy to a pid to profile it)", flush=True)
            generator = LoadGenerator(session, uuid.uuid4().hex[:12])
            for kind in KINDS:
                await generator.warm_up(servers[kind], min(rates), args.warmup)
            print(f"warmed up both apps ({args.warmup:g} s at {min(rates):g} req/s each)")
            print(
                f"each rate: {slices} slices of {args.duration / slices:g} s per app, the apps "
                "interleaved (ABBA) so both meet the same background load"
            )
            for rate in rates:
                for kind in KINDS:
                    results[kind, rate] = RunResult(kind, rate, 0.0)
                for number in range(slices):
                    # A B B A ...: neither app always runs first or last.
                    order = KINDS if number % 2 == 0 else KINDS[::-1]
                    for kind in order:
                        piece = await generator.run(servers[kind], rate, args.duration / slices)
                        results[kind, rate].add(piece)
                        await asyncio.sleep(0.2)
                print(summary_line(results, rate), flush=True)
    finally:
        for server in servers.values():
            await server.stop()
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}\n")
    print(render_table(results, rates))
    print()
    targets, misses = render_targets(results, rates)
    print(targets)
    print()
    print("all targets met" if not misses else f"MISS: {'; '.join(misses)}")
    if profile is not None:
        print_profile(profile, 30)
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Send signed slash commands at fixed rates to statusbot and to a bare Bolt "
        "app, each in its own process on loopback, and compare latency with the targets."
    )
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 200.0, 500.0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per rate per app")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per app")
    parser.add_argument(
        "--slice",
        type=float,
        default=5.0,
        help="seconds per slice: each app's time at a rate is cut into slices, interleaved",
    )
    parser.add_argument("--quick", action="store_true", help="smoke test: 20 and 50 req/s, 5 s")
    parser.add_argument(
        "--profile", type=Path, help="run the statusbot server under cProfile, stats to this file"
    )
    parser.add_argument(
        "--polling-bare",
        action="store_true",
        help="run the bare app as Bolt does by default (process_before_response=False): its "
        "listeners run beside the response and Bolt polls for ack() every 10 ms",
    )
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--lifetime", type=float, default=600.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rates, args.duration, args.warmup, args.slice = [20.0, 50.0], 5.0, 1.0, 2.5
    if min(args.rates) <= 0 or args.duration <= 0 or args.slice <= 0:
        parser.error("--rates, --duration and --slice must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        return serve(args.serve, args.lifetime, args.profile, args.polling_bare)
    return asyncio.run(benchmark(args))


if __name__ == "__main__":
    sys.exit(main())
