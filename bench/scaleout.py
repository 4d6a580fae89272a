"""Benchmark: checks shared by three replica processes on one Redis, one killed mid-run.

    .venv/bin/python bench/scaleout.py                 # 10,000 checks every 30 s, 3 replicas
    .venv/bin/python bench/scaleout.py --quick         # 1,000 checks every 10 s

nginx answers every check (Debian: apt-get install nginx-light); a redis-server of its own
(on a free port, no persistence) is the shared store; the replicas are real `statusbot run`
processes. Figures, each beside its target: coverage, each replica's share, probes per due
check, CPU per probe, and how long the checks of a killed replica go unprobed.
Everything stays on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

import psutil

LOOPBACK = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
REPLICAS = 3
LEASE_S = 15.0
TARGET_SHARE = 0.15  # of all runs, every replica
TARGET_RUNS_PER_DUE = 1.05
TARGET_COVERAGE = 0.98


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
    return port


def write_config(path: Path, checks: int, interval: float, nginx_port: int) -> None:
    components = max(1, checks // 20)
    document = {
        "languages": ["en"],
        "components": [{"id": f"c{n}", "name": f"Component {n}"} for n in range(components)],
        "checks": [
            {
                "id": f"k{n}",
                "component": f"c{n % components}",
                "type": "http",
                "url": f"http://{LOOPBACK}:{nginx_port}/k{n}",
                "interval": f"{interval:g}s",
                "timeout": "5s",
                "conditions": ["[STATUS] == 200"],
            }
            for n in range(checks)
        ],
    }
    path.write_text(json.dumps(document))  # JSON is YAML


def checks_total(port: int) -> float:
    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        float(v) for v in re.findall(r"^statusbot_checks_total\{[^}]*\} ([\d.e+]+)$", text, re.M)
    )


def hits_since(log: Path, offset: int) -> tuple[Counter[str], int, list[tuple[float, str]]]:
    counts: Counter[str] = Counter()
    stamped: list[tuple[float, str]] = []
    with log.open() as lines:
        lines.seek(offset)
        for line in lines:
            stamp, _, path = line.strip().partition(" ")
            counts[path] += 1
            stamped.append((float(stamp), path))
        return counts, lines.tell(), stamped


NGINX = """
worker_processes 1;
daemon off;
error_log {root}/error.log;
pid {root}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  log_format stamped '$msec $uri';
  access_log {root}/access.log stamped;
  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  server {{ listen {host}:{port}; keepalive_requests 100000; location / {{ return 200 'UP'; }} }}
}}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--measure", type=float, default=90.0, help="seconds before the kill")
    args = parser.parse_args()
    if args.quick:
        args.checks, args.interval, args.measure = 1000, 10.0, 30.0
    for tool in ("nginx", "redis-server"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(f"{tool} is not installed")
            return 2
    scratch = Path(tempfile.mkdtemp(prefix="scaleout-"))
    scratch.chmod(0o755)
    (scratch / "tmp").mkdir()
    nginx_port, redis_port = free_port(), free_port()
    (scratch / "nginx.conf").write_text(NGINX.format(root=scratch, host=LOOPBACK, port=nginx_port))
    nginx = subprocess.Popen(
        [
            shutil.which("nginx") or "/usr/sbin/nginx",
            "-c",
            str(scratch / "nginx.conf"),
            "-p",
            str(scratch),
        ]
    )
    redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)  # fmt: skip
    config = scratch / "statusbot.yaml"
    write_config(config, args.checks, args.interval, nginx_port)
    ports = [free_port() for _ in range(REPLICAS)]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "REDIS_URL": f"redis://{LOOPBACK}:{redis_port}/0",
        "STATUSBOT_HOST": LOOPBACK,
    }
    time.sleep(1)
    replicas = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=scratch,
            env={**env, "PORT": str(port)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        time.sleep(args.interval + 5)  # every replica up, shares settled, first runs spread
        log = scratch / "access.log"
        _, offset, _ = hits_since(log, 0)
        before = [checks_total(p) for p in ports]
        cpu_before = [psutil.Process(r.pid).cpu_times() for r in replicas]
        time.sleep(args.measure)
        after = [checks_total(p) for p in ports]
        cpu_after = [psutil.Process(r.pid).cpu_times() for r in replicas]
        counts, offset, _ = hits_since(log, offset)
        runs = [a - b for a, b in zip(after, before, strict=True)]
        cpu = sum(
            (a.user + a.system) - (b.user + b.system)
            for a, b in zip(cpu_after, cpu_before, strict=True)
        )
        due = args.checks * args.measure / args.interval
        killed_at = time.time()
        replicas[0].send_signal(signal.SIGKILL)
        replicas[0].wait()
        time.sleep(LEASE_S + args.interval + 5)
        _, _, stamped = hits_since(log, offset)
    finally:
        for process in (*replicas, nginx, redis):
            if process.poll() is None:
                process.terminate()
        for process in (*replicas, nginx, redis):
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
    # Takeover: after the kill, the last check to be probed again shows how long its part waited.
    first_after: dict[str, float] = {}
    for stamp, path in stamped:
        if stamp >= killed_at and path not in first_after:
            first_after[path] = stamp
    covered_after = len(first_after) / args.checks
    takeover = max(first_after.values()) - killed_at if first_after else float("inf")
    total = sum(runs)
    shares = [r / total for r in runs] if total else [0.0] * REPLICAS
    coverage = len(counts) / args.checks
    per_due = total / due
    per_cpu_s = total / cpu if cpu else 0.0
    rows = [
        ("coverage (checks probed in the window)", f"≥ {TARGET_COVERAGE:.0%}", f"{coverage:.1%}", coverage >= TARGET_COVERAGE),
        ("probes per due check, all replicas", f"≤ {TARGET_RUNS_PER_DUE}", f"{per_due:.3f}", per_due <= TARGET_RUNS_PER_DUE),
        *(
            (f"replica {n + 1}'s share of the runs", f"≥ {TARGET_SHARE:.0%}", f"{share:.1%}", share >= TARGET_SHARE)
            for n, share in enumerate(shares)
        ),
        ("probes per CPU-second (replicas together)", "", f"{per_cpu_s:,.0f}", True),
        ("after a kill -9: every check probed again within", f"≤ {LEASE_S:.0f} s + {args.interval:g} s", f"{takeover:.1f} s ({covered_after:.0%} seen)", takeover <= LEASE_S + args.interval and covered_after >= TARGET_COVERAGE),
    ]  # fmt: skip
    print(
        f"\n{args.checks:,} checks every {args.interval:g} s over {REPLICAS} replicas, {args.measure:g} s measured\n"
    )
    ok = True
    for name, target, value, passed in rows:
        ok &= passed
        verdict = ("PASS" if passed else "MISS") if target else ""
        print(f"{name:50} {target:>18} {value:>22}  {verdict}")
    shutil.rmtree(scratch, ignore_errors=True)
    print("\nall targets met" if ok else "\nsome targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
