"""dns checks end to end: real probes of a loopback DNS server to alerts, /status and the CLI."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.config import Config
from bot.incidents.store import IncidentStore
from bot.monitoring.checks.probe import (
    ProbeContext,
    build_ssl_context,
    make_http_client,
    run_check,
)
from bot.monitoring.checks.result import CheckResult
from bot.runtime import Runtime
from bot.settings import Settings
from bot.status_report import StatusReport
from bot.store import RedisKeyValue
from bot.store.keyvalue import KeyValue
from bot.timefmt import clock_time
from handlers.console.adapter import ConsoleAdapter
from tests.acceptance.test_cli import statusbot
from tests.support.builders import TEMPLATES, Clock, make_config
from tests.support.dns_server import DnsServer, Mode
from tests.support.slack_app import eventually, stop_runtime
from tests.support.slack_mock import MockSlack
from tests.test_alerts import Bot, build_bot

ZONE = {("www.example.test", "A"): ["127.0.0.1"]}


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsServer]:
    server = await DnsServer(dict(ZONE)).start()
    yield server
    await server.stop()


@pytest.fixture
async def probe() -> AsyncIterator[ProbeContext]:
    ssl_context = build_ssl_context(None)
    async with make_http_client(ssl_context) as http:
        yield ProbeContext(http=http, ssl_context=ssl_context)


def dns_config(server: DnsServer) -> Config:
    return make_config(
        checks=[
            {
                "id": "dns-web",
                "component": "web",
                "type": "dns",
                "host": "www.example.test",
                "nameserver": server.address,
                "timeout": "300ms",
                "conditions": ["[DNS_RCODE] == NOERROR", "[BODY] == 127.0.0.1"],
            }
        ]
    )


@pytest.fixture
async def bot(kv: KeyValue, slack: MockSlack, dns_server: DnsServer) -> AsyncIterator[Bot]:
    async with httpx.AsyncClient() as http:
        # The alerter's clock starts now: the probes' results carry the real time.
        built = build_bot(kv, slack, http, Clock(datetime.now(UTC)), dns_config(dns_server))
        await built.monitor._alerter.load()
        yield built


async def run(bot: Bot, probe: ProbeContext, times: int) -> list[CheckResult]:
    """Probe the DNS server for real `times` times and feed each result to the monitor."""
    check = bot.config.checks[0]
    results = []
    for _ in range(times):
        result = await run_check(check, probe)
        await bot.feed(result)
        results.append(result)
    return results


def break_server(server: DnsServer, how: str) -> None:
    if how == "nxdomain":
        server.zone.clear()
    elif how == "wrong answer":
        server.zone[("www.example.test", "A")] = ["10.9.9.9"]
    else:
        server.mode = {"refused": "refuse", "no answer": "silent"}[how]


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("nxdomain", "DNS NXDOMAIN"),
        ("refused", "DNS REFUSED"),
        ("no answer", "no answer from {server} within 300ms"),
        ("wrong answer", "[BODY] (10.9.9.9) == 127.0.0.1"),
    ],
)
async def test_dns_outage_is_alerted_once_and_its_recovery_posted(
    bot: Bot, dns_server: DnsServer, probe: ProbeContext, how: str, reason: str
) -> None:
    assert all(r.success for r in await run(bot, probe, 2)), "answering: no alert"
    assert bot.slack.posts() == []

    break_server(dns_server, how)
    failures = await run(bot, probe, 4)

    posts = bot.slack.posts("C0ALERTS")
    assert len(posts) == 1, "one alert per outage"
    since = clock_time(failures[0].started_at, bot.config.tz)
    expected = reason.format(server=dns_server.address)
    assert posts[0].args["text"] == (
        f"Major outage: online account services (dns-web: {expected}, 3 failures since {since})"
    )

    dns_server.zone.update(ZONE)
    dns_server.mode = "answer"
    bot.clock.advance(minutes=42, seconds=30)
    await run(bot, probe, 2)

    recovery = bot.slack.posts("C0ALERTS")[-1]
    assert recovery.args["text"] == "Recovered: online account services after 42m"
    assert len(bot.slack.posts()) == 2


async def test_status_of_a_component_lists_its_dns_check(
    bot: Bot, kv: KeyValue, dns_server: DnsServer, probe: ProbeContext
) -> None:
    dns_server.zone.clear()
    await run(bot, probe, 3)

    report = StatusReport(bot.config, bot.monitor.records, IncidentStore(kv), bot.clock)
    message = await report.component("web")

    line = next(line for line in message.lines if line.startswith("dns-web"))
    assert line.startswith("dns-web (dns): failing: DNS NXDOMAIN, ")
    assert any("dns-web: DNS NXDOMAIN" in line for line in message.lines), message.lines
    metrics = bot.monitor._metrics.registry
    labels = {"check": "dns-web", "result": "failure"}
    assert metrics.get_sample_value("statusbot_checks_total", labels) == 3


@pytest.mark.parametrize("mode", ["answer", "refuse"])
async def test_statusbot_check_runs_a_dns_check(
    tmp_path: Path, dns_server: DnsServer, mode: Mode
) -> None:
    dns_server.mode = mode
    config = tmp_path / "statusbot.yaml"
    config.write_text(
        f"""
components: [{{id: web, name: Web}}]
checks:
  - {{id: dns-web, component: web, type: dns, host: www.example.test, record_type: A,
      nameserver: "{dns_server.address}", conditions: ["[BODY] == 127.0.0.1"]}}
statements: {{templates: {TEMPLATES}}}
"""
    )
    code, out, err = await statusbot("check", "--config", str(config), cwd=tmp_path)

    row = next(line.split() for line in out.splitlines() if line.startswith("dns-web"))
    if mode == "answer":
        assert (code, row[:4]) == (0, ["dns-web", "web", "dns", "ok"]), out + err
    else:
        assert (code, row[:4]) == (1, ["dns-web", "web", "dns", "FAIL"]), out + err
        assert out.splitlines()[1].endswith("[BODY] (no answer) == 127.0.0.1")


async def test_dns_check_history_keeps_the_reason(
    bot: Bot, dns_server: DnsServer, probe: ProbeContext
) -> None:
    dns_server.mode = "refuse"
    await run(bot, probe, 2)

    failures = await bot.monitor.records.history.recent_failures(["dns-web"])
    assert [f.reason for f in failures] == ["DNS REFUSED", "DNS REFUSED"]
    day = timedelta(hours=24)
    uptime = await bot.monitor.records.history.uptime(["dns-web"], day, bot.clock.now)
    assert (uptime.ok, uptime.total) == (0, 2)


async def test_replicas_share_dns_checks_and_alert_through_the_console(
    redis_url: str, unique_prefix: str, dns_server: DnsServer
) -> None:
    # The whole bot twice on one Redis: partitioned schedules, real dns probes, console alerts.
    names = [f"c{n}.example.test" for n in range(10)]
    dns_server.zone.update({(name, "A"): ["127.0.0.1"] for name in names})
    config = make_config(
        languages=["en"],
        components=[{"id": f"c{n}", "name": f"Service {n}"} for n in range(10)],
        checks=[
            {
                "id": f"dns-c{n}",
                "component": f"c{n}",
                "type": "dns",
                "host": name,
                "nameserver": dns_server.address,
                "interval": "0.5s",
                "timeout": "1s",
                "failure_threshold": 2,
            }
            for n, name in enumerate(names)
        ],
    )
    settings = Settings(_env_file=None, host="127.0.0.1", port=0)  # type: ignore[call-arg]
    consoles = [io.StringIO(), io.StringIO()]
    runtimes = [
        Runtime(
            settings,
            config,
            kv=RedisKeyValue.from_url(redis_url, unique_prefix),
            adapters={"console": ConsoleAdapter(console)},
            lease_ttl=timedelta(seconds=1.5),
            first_run_within=timedelta(seconds=0.5),
        )
        for console in consoles
    ]
    try:
        for runtime in runtimes:
            await runtime.start(serve_http=False)
        await eventually(
            lambda: {name for _, name, _ in dns_server.queries} >= set(names),
            timeout=6,
            what="every dns check to run",
        )
        dns_server.queries.clear()
        await asyncio.sleep(1.5)
        asked = Counter(name for _, name, _ in dns_server.queries)
        assert set(asked) == set(names)
        assert max(asked.values()) <= 5, f"no check runs on both replicas: {asked}"

        del dns_server.zone[("c3.example.test", "A")]
        alert = "Major outage: Service 3 (dns-c3: DNS NXDOMAIN, 2 failures since "
        await eventually(
            lambda: any(alert in console.getvalue() for console in consoles),
            timeout=6,
            what="the NXDOMAIN alert on the console",
        )
    finally:
        for runtime in runtimes:
            await stop_runtime(runtime)
