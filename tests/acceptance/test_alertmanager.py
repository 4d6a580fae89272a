"""The real Prometheus Alertmanager notifies the bot: one alert, no duplicate for its re-sends, a
recovery once it resolves; with the wrong credentials it gets 401s and nothing is posted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store.keyvalue import KeyValue
from tests.support.alertmanager import (
    TOKEN,
    WEBHOOK,
    AlertmanagerBot,
    AlertmanagerProcess,
    alertmanager_bot,
    prometheus_alert,
)
from tests.support.slack_app import ALERTS, eventually, redis_only

WAIT = 20.0  # Alertmanager groups for 1 s and flushes every 1 s: seconds, not minutes
FIRING = 'statusbot_alertmanager_alerts_total{outcome="firing"}'


@asynccontextmanager
async def notifying(
    bot: AlertmanagerBot, directory: Path, credentials: str
) -> AsyncIterator[AlertmanagerProcess]:
    manager = AlertmanagerProcess(directory, bot.base + WEBHOOK, credentials)
    try:
        yield await manager.start()
    finally:
        await manager.stop()


@redis_only
async def test_alertmanager_fires_repeats_and_resolves(kv: KeyValue, tmp_path: Path) -> None:
    started = datetime.now(UTC) - timedelta(minutes=3)
    alert = prometheus_alert(starts_at=started)
    async with alertmanager_bot(kv) as bot, notifying(bot, tmp_path, TOKEN) as manager:
        await manager.post_alerts(alert)
        [post] = await bot.slack.posts(ALERTS, 1, timeout=WAIT)
        local = started.astimezone(bot.slack.runtime.config.tz)
        assert post.args["text"] == (
            "Major outage: online account services "
            f"(alertmanager HighErrorRate: 5xx above 5%, since {local:%H:%M})"
        )

        # Prometheus keeps sending the alert and Alertmanager repeats the notification (every
        # 2 s here): the bot hears it again and again, and posts nothing more.
        await manager.post_alerts(alert)

        async def repeated() -> bool:
            return await bot.metric(FIRING) >= 3

        await eventually(repeated, timeout=WAIT, what="Alertmanager to repeat the notification")
        await bot.slack.settled()
        assert len(bot.slack.mock.posts(ALERTS)) == 1

        # Resolved: the alert again, ended a moment ago.
        ended = dict(alert, endsAt=(datetime.now(UTC) - timedelta(seconds=1)).isoformat())
        await manager.post_alerts(ended)
        posts = await bot.slack.posts(ALERTS, 2, timeout=WAIT)
        assert posts[1].args["text"] == "Recovered: online account services after 3m"
        assert posts[1].args["thread_ts"] == post.result["ts"]
        await asyncio.sleep(2)  # resolved notifications sent again change nothing either
        await bot.slack.settled()
        assert len(bot.slack.mock.posts(ALERTS)) == 2


@redis_only
async def test_alertmanager_with_the_wrong_credentials_gets_401s(
    kv: KeyValue, tmp_path: Path
) -> None:
    async with alertmanager_bot(kv) as bot, notifying(bot, tmp_path, "not-the-token") as manager:
        await manager.post_alerts(prometheus_alert())
        unauthorized = 'statusbot_alertmanager_requests_total{result="unauthorized"}'

        async def refused() -> bool:
            return await bot.metric(unauthorized) >= 2

        await eventually(refused, timeout=WAIT, what="Alertmanager's notifications to be refused")
        await asyncio.sleep(1.5)
        await bot.slack.settled()
        assert bot.slack.mock.posts(ALERTS) == []
        assert await bot.metric(FIRING) == 0
        assert await bot.slack.runtime.alert_signals.components() == set()
