"""Outage alerts end to end: monitor → alerter → outbox → a mock Slack Web API over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from bot.chat.outbox import Outbox
from bot.chat.poster import Poster
from bot.config import Config
from bot.metrics import Metrics
from bot.monitoring.alerts import Alerter
from bot.monitoring.checks.probe import ProbeContext, build_ssl_context, make_http_client
from bot.monitoring.checks.result import CheckResult
from bot.monitoring.monitor import Monitor
from bot.monitoring.records import Records
from bot.store.keyvalue import KeyValue
from handlers.slack.adapter import SlackAdapter
from tests.support.builders import Clock, failure, make_config, success, timeout
from tests.support.slack_mock import MockSlack


@dataclass
class Bot:
    """The alerting half of statusbot, wired as in production but driven result by result."""

    monitor: Monitor
    outbox: Outbox
    slack: MockSlack
    clock: Clock
    config: Config

    async def feed(self, result: CheckResult) -> None:
        check = next(c for c in self.config.checks if c.id == result.check_id)
        await self.monitor.record(check, result)
        await self.outbox.drain()

    async def fail(self, check_id: str, times: int, every: float = 30, status: int = 503) -> None:
        for _ in range(times):
            await self.feed(failure(check_id, self.clock.now, status))
            self.clock.advance(seconds=every)

    async def succeed(self, check_id: str, times: int, every: float = 30) -> None:
        for _ in range(times):
            await self.feed(success(check_id, self.clock.now))
            self.clock.advance(seconds=every)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def build_bot(
    kv: KeyValue,
    slack: MockSlack,
    http: httpx.AsyncClient,
    clock: Clock,
    config: Config | None = None,
) -> Bot:
    config = config or make_config()
    metrics = Metrics()
    adapter = SlackAdapter.create("xoxb-test", slack.url, None)
    outbox = Outbox(kv, {"slack": adapter}, metrics, clock=lambda: clock.now.timestamp())
    alerter = Alerter(config, kv, Poster(config, outbox), metrics, clock)
    probe = ProbeContext(
        http=make_http_client(build_ssl_context(None)), ssl_context=build_ssl_context(None)
    )
    monitor = Monitor(config, Records.in_store(config, kv), probe, alerter, metrics, clock)
    return Bot(monitor, outbox, slack, clock, config)


@pytest.fixture
async def bot(kv: KeyValue, slack: MockSlack, http: httpx.AsyncClient) -> Bot:
    built = build_bot(kv, slack, http, Clock())
    await built.monitor._alerter.load()
    return built


async def test_one_alert_per_outage_with_the_one_line_text(bot: Bot) -> None:
    await bot.fail("web-home", 2)
    assert bot.slack.posts() == [], "below the failure threshold nothing is posted"

    await bot.fail("web-home", 5)

    posts = bot.slack.posts("C0ALERTS")
    assert len(posts) == 1
    assert posts[0].args["text"] == (
        "Major outage: online account services (web-home: HTTP 503, 3 failures since 11:30)"
    )
    blocks = str(posts[0].args["blocks"])
    assert "[STATUS] (503) == 200" in blocks
    actions = next(b for b in posts[0].args["blocks"] if b["type"] == "actions")
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "Declare incident",
        "Acknowledge",
        "Silence 1h",
    ]


async def test_recovery_is_posted_in_the_thread_with_the_duration(bot: Bot) -> None:
    await bot.fail("web-home", 3, every=60)  # failing since 11:30, outage from the 3rd failure
    await bot.fail("web-home", 39, every=60)
    await bot.succeed("web-home", 2, every=60)

    root = bot.slack.posts("C0ALERTS")[0]
    root_ts = "1700000000.000001"
    recovery = bot.slack.posts("C0ALERTS")[-1]
    assert recovery.args["text"] == "Recovered: online account services after 43m"
    assert recovery.args["thread_ts"] == root_ts
    assert recovery.args["reply_broadcast"] is True
    assert root.args["text"].startswith("Major outage")
    updates = [c for c in bot.slack.calls if c.method == "chat.update"]
    assert updates[-1].args["ts"] == root_ts
    assert updates[-1].args["text"] == "Recovered: online account services after 43m"
    assert len(bot.slack.posts()) == 2


async def test_a_second_failing_check_replies_in_the_thread(bot: Bot) -> None:
    await bot.fail("web-home", 3)
    for _ in range(3):
        await bot.feed(timeout("web-login", bot.clock.now))
        bot.clock.advance(seconds=30)

    posts = bot.slack.posts("C0ALERTS")
    assert len(posts) == 2
    assert posts[1].args["thread_ts"] == posts[0].args.get("ts", "1700000000.000001")
    assert posts[1].args["text"].startswith("Still major outage: online account services")


async def test_worse_impact_is_replied_and_the_root_updated(bot: Bot) -> None:
    for _ in range(3):
        await bot.feed(timeout("web-login", bot.clock.now))
        bot.clock.advance(seconds=30)
    assert bot.slack.texts()[0].startswith(
        "Partial outage: online account services (web-login: timed out"
    )

    await bot.fail("web-home", 3)

    assert bot.slack.texts()[-1] == "Major outage: online account services (was partial outage)"
    assert bot.slack.texts("chat.update")[-1].startswith("Major outage: online account services")


async def test_restart_mid_outage_does_not_alert_again(
    kv: KeyValue, slack: MockSlack, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    first = build_bot(kv, slack, http, clock)
    await first.fail("web-home", 4)
    assert len(slack.posts()) == 1

    restarted = build_bot(kv, slack, http, clock)
    await restarted.monitor._alerter.load()
    await restarted.fail("web-home", 10)
    await restarted.succeed("web-home", 2)

    texts = slack.texts()
    assert len(texts) == 2
    assert texts[1].startswith("Recovered: online account services after")


async def test_rate_limited_post_is_delivered_once_in_order(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    await bot.fail("web-home", 3, every=0)
    assert bot.slack.posts() == []
    assert await bot.outbox.depth() == 1

    bot.clock.advance(seconds=0.5)
    await bot.outbox.drain()
    assert bot.slack.posts() == [], "Retry-After is honoured"

    await bot.succeed("web-home", 2, every=0)  # the recovery queues behind the alert
    bot.clock.advance(seconds=2)
    await bot.outbox.drain()

    texts = bot.slack.texts()
    assert len(texts) == 2
    assert texts[0].startswith("Major outage")
    assert texts[1].startswith("Recovered")
    assert await bot.outbox.depth() == 0


async def test_flapping_is_posted_once_then_held_back(
    kv: KeyValue, slack: MockSlack, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    bot = build_bot(kv, slack, http, clock)
    for _ in range(5):
        await bot.fail("app-api", 1, every=60)
        await bot.succeed("app-api", 1, every=60)

    texts = slack.texts()
    assert texts[:4] == [
        "Major outage: mobile app (app-api: HTTP 503, 1 failure since 11:30)",
        "Recovered: mobile app after 1m",
        "Major outage: mobile app (app-api: HTTP 503, 1 failure since 11:32)",
        "Recovered: mobile app after 1m",
    ]
    assert texts[4] == "Flapping: mobile app (3 outages in 30m)"
    assert len(texts) == 5, "no more alerts or recoveries while it flaps"

    clock.advance(minutes=31)
    await bot.succeed("app-api", 1)
    assert slack.texts()[-1] == "Stable: mobile app has been operational for 30m"


async def test_no_alert_during_maintenance(
    kv: KeyValue, slack: MockSlack, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    window = {
        "components": ["web"],
        "start": (clock.now - timedelta(minutes=5)).isoformat(),
        "end": (clock.now + timedelta(minutes=30)).isoformat(),
        "title": "Planned upgrade",
    }
    bot = build_bot(kv, slack, http, clock, make_config(maintenance=[window]))
    await bot.fail("web-home", 5)
    assert slack.posts() == []

    clock.advance(minutes=30)
    await bot.fail("web-home", 1)
    assert len(slack.posts()) == 1, "still down after the window: now it alerts"


async def test_silence_holds_back_new_outage_alerts(bot: Bot) -> None:
    await bot.monitor._alerter.silence("web", timedelta(hours=1))
    await bot.fail("web-home", 4)
    await bot.succeed("web-home", 2)
    assert bot.slack.posts() == []


async def test_history_gives_uptime_and_p95(bot: Bot) -> None:
    await bot.succeed("web-home", 6, every=10)
    await bot.fail("web-home", 2, every=10)
    history = bot.monitor.records.history
    uptime = await history.uptime(["web-home"], timedelta(hours=24), bot.clock.now)
    assert (uptime.ok, uptime.total) == (6, 8)
    assert await history.p95_latency_ms(["web-home"], timedelta(days=7), bot.clock.now) == 150
    failures = await history.recent_failures(["web-home"])
    assert [f.reason for f in failures] == ["HTTP 503", "HTTP 503"]


async def test_simultaneous_acknowledgements_each_count_once(bot: Bot) -> None:
    await bot.fail("web-home", 3)
    alerter = bot.monitor._alerter
    people = [f"U0ENG{n}" for n in range(8)]
    await asyncio.gather(*(alerter.acknowledge("web", user) for user in people * 3))
    await bot.outbox.drain()
    replies = [t for t in bot.slack.texts() if t.startswith("Acknowledged by")]
    assert sorted(replies) == sorted(f"Acknowledged by <@{user}>" for user in people)
    outage = await alerter.open_outage("web")
    assert outage is not None and sorted(outage.acknowledged_by) == people
