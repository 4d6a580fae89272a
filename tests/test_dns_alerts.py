"""A dns check end to end: real probes of a loopback DNS server → monitor → alerter → Slack mock,
the `/status <component>` report and `statusbot check`."""

from __future__ import annotations

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
from bot.status_report import StatusReport
from bot.store.keyvalue import KeyValue
from bot.timefmt import clock_time
from tests.acceptance.test_cli import statusbot
from tests.support.builders import TEMPLATES, Clock, make_config
from tests.support.dns_server import DnsServer, Mode
from tests.support.slack_mock import MockSlack
from tests.test_alerts import Bot, build_bot

ZONE = {("www.example.test", "A"): ["127.0.0.1"]}


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsServer]:
    server = await DnsServer(dict(ZONE)).start()
    yield server
    await server.stop()


@pytest.fixture
async def slack() -> AsyncIterator[MockSlack]:
    server = await MockSlack().start()
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
