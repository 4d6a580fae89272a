"""The reference for checks.py: blackbox_exporter probing the same endpoints at the same rate.

blackbox_exporter runs as its own process on loopback with a config of its own (module
`http_2xx`: GET, status 200, the checks' timeout). This process plays Prometheus: each target is
scraped through `/probe?module=http_2xx&target=...` once per interval at a random phase, open
loop (a request leaves on time whatever the exporter's pace), over keep-alive connections. The
exporter's CPU (user + system from /proc) over the measured window gives probes per CPU-second.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp

BINARY = "prometheus-blackbox-exporter"
LOOPBACK = "127.0.0.1"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class BlackboxFigures:
    """What the exporter did over the measured window."""

    # Scrapes answered in the window: the exporter ran the probe, passed or not (as statusbot's
    # figure counts its failed checks too).
    probes: int
    failed: int  # scrapes in the window that were not a passing probe, answered or not
    cpu_s: float  # the exporter process's user + system CPU over the window
    window_s: float
    peak_rss_mb: float
    late_p99_s: float  # how late this process sent its scrapes: large means the driver lagged
    failures: dict[str, int]  # why scrapes failed: the exporter's probe or this process's request

    @property
    def probes_per_cpu_s(self) -> float:
        return self.probes / self.cpu_s if self.cpu_s else float("inf")


def find_binary() -> str | None:
    return shutil.which(BINARY) or next(
        (p for p in (f"/usr/bin/{BINARY}", f"/usr/sbin/{BINARY}") if Path(p).exists()), None
    )


def measure_blackbox(
    binary: str,
    endpoint_port: int,
    endpoints: int,
    *,
    interval_s: float,
    timeout_s: float,
    warmup_s: float,
    window_s: float,
) -> BlackboxFigures:
    """Run the exporter, scrape every endpoint once per interval, measure over the window."""
    with tempfile.TemporaryDirectory(prefix="bench-blackbox-") as directory:
        config = Path(directory) / "blackbox.yml"
        config.write_text(
            "modules:\n"
            "  http_2xx:\n"
            "    prober: http\n"
            f"    timeout: {timeout_s:g}s\n"
            "    http:\n"
            "      method: GET\n"
            "      valid_status_codes: [200]\n"
            "      preferred_ip_protocol: ip4\n"
        )
        port = _free_port()
        exporter = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--web.listen-address={LOOPBACK}:{port}",
                "--log.level=warn",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_ready(exporter, port)
            return asyncio.run(
                _scrape(
                    exporter.pid,
                    port,
                    endpoint_port,
                    endpoints,
                    interval_s=interval_s,
                    timeout_s=timeout_s,
                    warmup_s=warmup_s,
                    window_s=window_s,
                )
            )
        finally:
            exporter.terminate()
            try:
                exporter.wait(5)
            except subprocess.TimeoutExpired:
                exporter.kill()
                exporter.wait(5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _wait_ready(exporter: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if exporter.poll() is not None:
            error = exporter.stderr.read().decode(errors="replace") if exporter.stderr else ""
            raise RuntimeError(f"blackbox_exporter exited: {error.strip()}")
        healthy = f"http://{LOOPBACK}:{port}/-/healthy"
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(healthy, timeout=1),
        ):
            return
        time.sleep(0.1)
    raise TimeoutError("blackbox_exporter did not answer within 10 s")


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _scrape(
    pid: int,
    port: int,
    endpoint_port: int,
    endpoints: int,
    *,
    interval_s: float,
    timeout_s: float,
    warmup_s: float,
    window_s: float,
) -> BlackboxFigures:
    loop = asyncio.get_running_loop()
    begin = loop.time()
    window = (begin + warmup_s, begin + warmup_s + window_s)
    # Every scrape due before the window ends, each target at its own random phase.
    due = sorted(
        (begin + phase + k * interval_s, index)
        for index in range(endpoints)
        for phase in (random.uniform(0, interval_s),)
        for k in range(int((window[1] - begin - phase) // interval_s) + 1)
    )
    probes = failed = 0
    failures: Counter[str] = Counter()
    late: list[float] = []
    base = f"http://{LOOPBACK}:{port}/probe?module=http_2xx&target="
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": f"{timeout_s:g}"}
    cpu0 = cpu1 = 0.0

    async def scrape(session: aiohttp.ClientSession, index: int) -> None:
        nonlocal probes, failed
        target = f"http://{LOOPBACK}:{endpoint_port}/svc/{index}"
        why = ""
        answered = False
        try:
            async with session.get(base + target, headers=headers) as response:
                body = await response.read()
            answered = response.status == 200
            if response.status != 200:
                why = f"exporter answered {response.status}"
            elif b"\nprobe_success 1\n" not in body:
                status = re.search(rb"\nprobe_http_status_code (\S+)\n", body)
                why = f"probe failed, HTTP status {status[1].decode() if status else '?'}"
        except (aiohttp.ClientError, TimeoutError) as error:
            why = f"scrape failed: {type(error).__name__}"
        if window[0] <= loop.time() < window[1]:
            probes += answered
            failed += bool(why)
            if why:
                failures[why] += 1

    async def sample_cpu() -> None:
        nonlocal cpu0, cpu1
        await asyncio.sleep(max(0.0, window[0] - loop.time()))
        cpu0 = _cpu_s(pid)
        await asyncio.sleep(max(0.0, window[1] - loop.time()))
        cpu1 = _cpu_s(pid)

    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=timeout_s + 2)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        sampler = asyncio.create_task(sample_cpu())
        tasks = []
        for when, index in due:
            delay = when - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            late.append(loop.time() - when)
            tasks.append(asyncio.create_task(scrape(session, index)))
        await sampler
        # Scrapes still in flight after the window do not count; bounded by their timeout.
        _, pending = await asyncio.wait(tasks, timeout=timeout_s + 3)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        peak_rss_mb = _peak_rss_mb(pid)
    late.sort()
    return BlackboxFigures(
        probes=probes,
        failed=failed,
        cpu_s=cpu1 - cpu0,
        window_s=window[1] - window[0],
        peak_rss_mb=peak_rss_mb,
        late_p99_s=late[int(0.99 * (len(late) - 1))] if late else float("nan"),
        failures=dict(failures),
    )
