"""`statusbot run` as a process: real checks, real Redis, Slack's Web API mocked as a server."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.builders import TEMPLATES
from tests.support.process import BotProcess, bot_environment, wait_for
from tests.support.service import Service
from tests.support.slack_mock import MockSlack


def metrics_of(bot: BotProcess) -> str:
    return httpx.get(f"{bot.url}/metrics").text


def _failures_seen(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith('statusbot_check_failures_total{check="web-home"}'):
            return float(line.split()[-1])
    return 0.0


def write_config(tmp_path: Path, service: Service) -> Path:
    path = tmp_path / "statusbot.yaml"
    path.write_text(f"""
timezone: Europe/Rome
languages: [en]
components:
  - {{id: web, name: {{en: "online account services"}}}}
checks:
  - id: web-home
    component: web
    type: http
    url: http://127.0.0.1:{service.port}/health
    interval: 1s
    timeout: 1s
    conditions: ["[STATUS] == 200", "[BODY].status == UP"]
    failure_threshold: 2
    success_threshold: 2
channels:
  alerts: {{slack: C0ALERTS}}
statements:
  templates: {TEMPLATES}
""")
    return path


async def test_outage_alert_restart_and_recovery_through_slack(
    tmp_path: Path, service: Service, slack: MockSlack, redis_url: str, unique_prefix: str
) -> None:
    config = write_config(tmp_path, service)
    env = bot_environment(
        SLACK_BOT_TOKEN="xoxb-not-a-real-token",
        SLACK_SIGNING_SECRET="shh",
        SLACK_API_URL=slack.url,
        REDIS_URL=redis_url,
        STATUSBOT_REDIS_PREFIX=unique_prefix,
    )
    bot = await BotProcess(config, env, tmp_path).start()
    try:
        service.status = 503
        await wait_for(lambda: slack.posts("C0ALERTS"), what="the outage alert")
        text = slack.texts()[0]
        assert text.startswith(
            "Major outage: online account services (web-home: HTTP 503, 2 failures since "
        )
        assert "Major outage: online account services" in text
    finally:
        await bot.stop()

    restarted = await BotProcess(config, env, tmp_path).start()
    try:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{restarted.url}/readyz")).status_code == 200
            metrics = (await client.get(f"{restarted.url}/metrics")).text
        assert "statusbot_checks_total" in metrics
        assert "statusbot_outbox_depth" in metrics
        # Still down, and checked again and again after the restart: no second alert.
        await wait_for(lambda: _failures_seen(metrics_of(restarted)) >= 3, what="3 failed runs")
        assert len(slack.posts("C0ALERTS")) == 1
        service.status = 200
        await wait_for(lambda: len(slack.posts("C0ALERTS")) == 2, what="the recovery")
    finally:
        await restarted.stop()

    texts = slack.texts()
    assert len(texts) == 2, (
        f"one alert and one recovery, no second alert after the restart: {texts}"
    )
    assert texts[1].startswith("Recovered: online account services after ")
    assert slack.posts()[1].args["thread_ts"] == "1700000000.000001"
    assert all("xoxb-not-a-real-token" not in line for line in bot.output + restarted.output)


async def test_without_credentials_it_runs_on_the_console_and_says_so(
    tmp_path: Path, service: Service
) -> None:
    config = write_config(tmp_path, service)
    bot = await BotProcess(config, bot_environment(), tmp_path).start()
    try:
        service.status = 503
        await wait_for(
            lambda: any(
                "[#alerts] Major outage: online account services" in line for line in bot.output
            ),
            what="the console alert",
        )
    finally:
        assert await bot.stop() == 0
    assert any(
        "store: embedded, SQLite database statusbot.db (REDIS_URL is not set)" in line
        for line in bot.output
    )
    assert (tmp_path / "statusbot.db").exists()
