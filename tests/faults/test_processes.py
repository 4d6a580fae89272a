"""Faults injected into real processes, all on loopback and bounded in time: a replica killed
mid-outage, Redis killed (AOF) and the bot killed, with nothing acknowledged lost."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.acceptance.test_run import write_config
from tests.support.process import BotProcess, bot_environment, wait_for
from tests.support.redis_server import RedisServer
from tests.support.service import Service
from tests.support.slack_app import SECRET, sign
from tests.support.slack_mock import MockSlack

LEASE_S = 15  # the product's leader lease


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    (tmp_path / "redis").mkdir()
    server = await RedisServer(tmp_path / "redis").start()
    yield server
    await server.stop()


def _env(slack: MockSlack, redis: RedisServer) -> dict[str, str]:
    return bot_environment(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.url,
        REDIS_URL=redis.url,
        STATUSBOT_REDIS_PREFIX="faults:",
    )


async def _incident(bot: BotProcess, text: str) -> str:
    body = urlencode(
        {
            "command": "/incident",
            "text": text,
            "user_id": "U0ENG1",
            "channel_id": "C0WARROOM",
            "team_id": "T1",
            "trigger_id": f"t{time.monotonic_ns()}",
            "response_url": "http://127.0.0.1:9/unused",
        }
    )
    ts = int(time.time())
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(body, ts),
    }
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json().get("text", ""))


def _leading(bot: BotProcess) -> bool:
    return any("this replica now leads" in line for line in bot.output)


async def test_a_killed_leader_is_replaced_without_a_second_alert(
    tmp_path: Path, service: Service, slack: MockSlack, redis_server: RedisServer
) -> None:
    config = write_config(tmp_path, service)
    env = _env(slack, redis_server)
    first = await BotProcess(config, env, tmp_path).start()
    second = await BotProcess(config, env, tmp_path).start()
    try:
        await wait_for(lambda: _leading(first) or _leading(second), what="a leader")
        leader, survivor = (first, second) if _leading(first) else (second, first)
        service.status = 503
        await wait_for(lambda: slack.posts("C0ALERTS"), what="the outage alert")
        assert leader.process is not None
        leader.process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await wait_for(lambda: _leading(survivor), timeout=LEASE_S + 10, what="the takeover")
        takeover = time.monotonic() - killed_at
        assert takeover <= LEASE_S + 6, f"took over after {takeover:.1f}s"
        await asyncio.sleep(3)  # the survivor probes the still-broken service a few times
        service.status = 200
        await wait_for(
            lambda: any(t.startswith("Recovered:") for t in slack.texts()),
            what="the recovery, posted by the survivor",
        )
    finally:
        await first.stop()
        await second.stop()
    alerts = [t for t in slack.texts() if t.startswith("Major outage")]
    recoveries = [t for t in slack.texts() if t.startswith("Recovered:")]
    assert len(alerts) == 1, slack.texts()
    assert len(recoveries) == 1, slack.texts()


async def test_nothing_acknowledged_is_lost_when_redis_or_the_bot_is_killed(
    tmp_path: Path, service: Service, slack: MockSlack, redis_server: RedisServer
) -> None:
    config = write_config(tmp_path, service)
    env = _env(slack, redis_server)
    bot = await BotProcess(config, env, tmp_path).start()
    try:
        assert (await _incident(bot, "open Payments fail sev:1")).startswith("Declared INC-1")
        assert (await _incident(bot, "update 1 Failing over")).startswith("Posted the update")
        await redis_server.stop(kill=True)
        assert (await _incident(bot, "list")).startswith("The store is unavailable")
        await redis_server.start()
        assert await _incident(bot, "list") == "1 open incident"
        assert await _incident(bot, "show 1") == "INC-1 (sev1, investigating): Payments fail"
        assert bot.process is not None
        bot.process.send_signal(signal.SIGKILL)
        await bot.process.wait()
    finally:
        await bot.stop()
    restarted = await BotProcess(config, env, tmp_path).start()
    try:
        assert await _incident(restarted, "show 1") == "INC-1 (sev1, investigating): Payments fail"
        assert (await _incident(restarted, "open Second")).startswith("Declared INC-2")
    finally:
        await restarted.stop()


async def test_posts_made_while_slack_is_down_arrive_once_in_order(
    tmp_path: Path, service: Service, slack: MockSlack, redis_server: RedisServer
) -> None:
    config = write_config(tmp_path, service)
    bot = await BotProcess(config, _env(slack, redis_server), tmp_path).start()
    try:
        slack.fail_next("chat.postMessage", status=503, error="service_unavailable", times=10_000)
        down_at = time.monotonic()
        service.status = 503
        await asyncio.sleep(4)  # the outage is noticed and its alert queued
        service.status = 200
        await asyncio.sleep(max(0.0, 10 - (time.monotonic() - down_at)))
        slack.clear_failures()  # Slack is back after 10 s
        await wait_for(lambda: len(slack.posts("C0ALERTS")) >= 2, timeout=40, what="delivery")
        await asyncio.sleep(1)
    finally:
        await bot.stop()
    texts = [p.args["text"] for p in slack.posts("C0ALERTS")]
    assert len(texts) == 2, texts
    assert texts[0].startswith("Major outage: online account services")
    assert texts[1].startswith("Recovered: online account services")
    assert slack.posts("C0ALERTS")[1].args["thread_ts"] == slack.posts("C0ALERTS")[0].result["ts"]
