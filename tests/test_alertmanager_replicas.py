"""The Alertmanager webhook with several replicas, restarts and a store outage: any replica may
receive an alert, the component's owner alone decides, and signals live in the store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr

from bot.runtime import Runtime
from bot.store import RedisKeyValue, SqliteKeyValue
from bot.wiring import build_runtime, install_chat
from tests.support.alertmanager import (
    TOKEN,
    WEBHOOK,
    alertmanager_bot,
    webhook_alert,
    webhook_payload,
)
from tests.support.builders import success
from tests.support.redis_server import RedisServer
from tests.support.slack_app import (
    ALERTS,
    eventually,
    slack_config,
    slack_settings,
    stop_runtime,
)
from tests.support.slack_mock import MockSlack

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def web_status(runtime: Runtime) -> float | None:
    """The component status this replica last worked out for `web` (4: major outage)."""
    return runtime.metrics.registry.get_sample_value(
        "statusbot_component_status", {"component": "web"}
    )


async def test_any_replica_receives_and_the_owner_alone_alerts(
    redis_url: str, unique_prefix: str
) -> None:
    mock = await MockSlack().start()
    settings = slack_settings(mock, unique_prefix).model_copy(
        update={"alertmanager_token": SecretStr(TOKEN)}
    )
    runtimes: list[Runtime] = []
    try:
        for _ in range(2):
            kv = RedisKeyValue.from_url(redis_url, unique_prefix)
            runtime = build_runtime(
                settings, slack_config(), kv=kv, lease_ttl=timedelta(seconds=1.5)
            )
            install_chat(runtime)
            await runtime.start()
            runtimes.append(runtime)

        def shared() -> bool:
            return sorted(len(r.partitions.held) for r in runtimes if r.partitions) == [16, 16]

        await eventually(shared, timeout=8, what="the partitions to be shared")
        [owner] = [r for r in runtimes if r.partitions and r.partitions.owns("web")]
        [other] = [r for r in runtimes if r is not owner]
        firing = webhook_payload(webhook_alert())
        async with httpx.AsyncClient(timeout=10) as http:
            url = f"http://127.0.0.1:{other.port}{WEBHOOK}"
            assert (await http.post(url, json=firing, headers=AUTH)).status_code == 200
            await eventually(lambda: mock.posts(ALERTS), timeout=8, what="the alert")
            # Both replicas hear the re-sends; still one alert.
            for runtime in runtimes:
                url = f"http://127.0.0.1:{runtime.port}{WEBHOOK}"
                assert (await http.post(url, json=firing, headers=AUTH)).status_code == 200
            await eventually(
                lambda: web_status(owner) == 4,
                what="the owner to have decided",
            )
            assert web_status(other) is None, "only the owner decides"
            resolved = webhook_payload(webhook_alert(status="resolved"))
            url = f"http://127.0.0.1:{other.port}{WEBHOOK}"
            assert (await http.post(url, json=resolved, headers=AUTH)).status_code == 200
            posts = await eventually(
                lambda: len(found := mock.posts(ALERTS)) >= 2 and found, timeout=8, what="recovery"
            )
        assert [p.args["text"].split(" (")[0] for p in posts] == [
            "Major outage: online account services",
            "Recovered: online account services after 12m",
        ]
    finally:
        for runtime in runtimes:
            await stop_runtime(runtime)
        await mock.stop()


async def test_signals_survive_a_restart_without_a_second_alert(tmp_path: Path) -> None:
    database = tmp_path / "statusbot.db"
    async with alertmanager_bot(SqliteKeyValue(database)) as bot:
        await bot.send(webhook_payload(webhook_alert()))
        await bot.slack.posts(ALERTS, 1)
    async with alertmanager_bot(SqliteKeyValue(database)) as bot:
        runtime = bot.slack.runtime
        # The restarted bot knows the component is down: a passing check does not recover it.
        check = next(c for c in runtime.config.checks if c.id == "web-home")
        await runtime.monitor.record(check, success(check.id, runtime.clock()))
        await eventually(
            lambda: web_status(runtime) == 4,
            what="the restarted bot to act on the signal",
        )
        await bot.slack.settled()
        assert bot.slack.mock.posts(ALERTS) == [], "no second alert after the restart"
        await bot.send(webhook_payload(webhook_alert(status="resolved")))
        [recovery] = await bot.slack.posts(ALERTS, 1)
        assert recovery.args["text"] == "Recovered: online account services after 12m"


async def test_a_store_outage_answers_503_and_alertmanager_retries(
    tmp_path: Path, unique_prefix: str
) -> None:
    server = await RedisServer(tmp_path).start()
    kv = RedisKeyValue.from_url(server.url, unique_prefix)
    try:
        async with alertmanager_bot(kv) as bot:
            await server.stop(kill=True)
            response = await bot.send(webhook_payload(webhook_alert()))
            assert response.status_code == 503
            assert "try again" in response.json()["error"]
            await server.start()
            assert (await bot.send(webhook_payload(webhook_alert()))).status_code == 200
            [alert] = await bot.slack.posts(ALERTS, 1, timeout=10)
            assert alert.args["text"].startswith("Major outage: online account services")
            assert (
                await bot.metric('statusbot_alertmanager_requests_total{result="unavailable"}') == 1
            )
    finally:
        await kv.close()
        await server.stop()
