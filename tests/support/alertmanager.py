"""Alertmanager for tests: webhook payloads made by hand, a bot with the webhook on, and the real
Prometheus Alertmanager (Debian's `prometheus-alertmanager`, which scripts/check installs)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.config import Config
from bot.store.keyvalue import KeyValue
from bot.wiring import build_runtime, install_chat
from tests.support.process import free_port
from tests.support.slack_app import SlackBot, eventually, slack_config, slack_settings, stop_runtime
from tests.support.slack_mock import MockSlack

TOKEN = "am-test-token-0123456789"
WEBHOOK = "/webhooks/alertmanager"
STEP_TIMEOUT = 20.0


def webhook_alert(
    alertname: str = "HighErrorRate",
    *,
    component: str | None = "web",
    summary: str = "5xx above 5%",
    status: str = "firing",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    fingerprint: str = "3f2a9c1e5b7d0a41",
    **labels: str,
) -> dict[str, Any]:
    """One alert as Alertmanager puts it in a webhook (a firing one has Go's zero end time)."""
    starts = starts_at or datetime.now(UTC) - timedelta(minutes=12)
    ends = ends_at or (datetime.now(UTC) if status == "resolved" else None)
    all_labels = {"alertname": alertname, **labels}
    if component is not None:
        all_labels["component"] = component
    return {
        "status": status,
        "labels": all_labels,
        "annotations": {"summary": summary},
        "startsAt": _iso(starts),
        "endsAt": _iso(ends) if ends else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def webhook_payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": "statusbot",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class AlertmanagerBot:
    """A running bot with the webhook on, Slack mocked, and a client for the webhook."""

    slack: SlackBot

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.slack.runtime.port}"

    async def send(
        self, body: dict[str, Any] | bytes, *, token: str | None = TOKEN, **headers: str
    ) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **headers}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return await self.slack.http.post(self.base + WEBHOOK, content=content, headers=all_headers)

    async def metric(self, sample: str) -> float:
        """One sample of /metrics, e.g. `statusbot_alertmanager_alerts_total{outcome="firing"}`
        (0 while it has never been counted)."""
        text = (await self.slack.http.get(self.base + "/metrics")).text
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            if name == sample:
                return float(value)
        return 0.0


@contextlib.asynccontextmanager
async def alertmanager_bot(
    kv: KeyValue, *, config: Config | None = None, token: str | None = TOKEN
) -> AsyncIterator[AlertmanagerBot]:
    mock = await MockSlack().start()
    settings = slack_settings(mock).model_copy(
        update={"alertmanager_token": SecretStr(token) if token is not None else None}
    )
    runtime = build_runtime(settings, config or slack_config(), kv=kv)
    install_chat(runtime)
    await runtime.start()
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            bot = AlertmanagerBot(SlackBot(runtime, mock, http))
            yield bot
            await bot.slack.settled()
    finally:
        try:
            await stop_runtime(runtime)
        finally:
            await mock.stop()


def alertmanager_binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found is None:
        pytest.fail(
            "Prometheus Alertmanager is not installed: `apt-get install -y "
            "--no-install-recommends prometheus-alertmanager` (scripts/check does this)"
        )
    return found


class AlertmanagerProcess:
    """The real Alertmanager on a loopback port, clustering off, notifying one webhook."""

    def __init__(self, directory: Path, webhook_url: str, credentials: str) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._webhook_url = webhook_url
        self._credentials = credentials
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> AlertmanagerProcess:
        # JSON is YAML: no YAML writer needed, and the credentials are quoted safely.
        config = {
            "route": {
                "receiver": "statusbot",
                "group_by": ["alertname", "component"],
                "group_wait": "1s",
                "group_interval": "1s",
                # Short, so the same firing alert is sent again while the test watches.
                "repeat_interval": "2s",
            },
            "receivers": [
                {
                    "name": "statusbot",
                    "webhook_configs": [
                        {
                            "url": self._webhook_url,
                            "send_resolved": True,
                            "max_alerts": 100,
                            "http_config": {"authorization": {"credentials": self._credentials}},
                        }
                    ],
                }
            ],
        }
        config_file = self.directory / "alertmanager.yml"
        config_file.write_text(json.dumps(config, indent=2))
        storage = self.directory / "data"
        storage.mkdir(exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            alertmanager_binary(),
            f"--config.file={config_file}",
            f"--storage.path={storage}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=warn",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        async with httpx.AsyncClient(timeout=2) as http:

            async def ready() -> bool:
                if self.process is not None and self.process.returncode is not None:
                    return True  # reported below
                with contextlib.suppress(httpx.HTTPError):
                    return (await http.get(f"{self.url}/-/ready")).status_code == 200
                return False

            await eventually(ready, timeout=STEP_TIMEOUT, what="Alertmanager to be ready")
        if self.process.returncode is not None:
            assert self.process.stderr is not None
            error = (await self.process.stderr.read()).decode(errors="replace")[-2000:]
            pytest.fail(f"Alertmanager exited with {self.process.returncode}: {error}")
        return self

    async def post_alerts(self, *alerts: dict[str, Any]) -> None:
        """What Prometheus does: POST /api/v2/alerts."""
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.post(f"{self.url}/api/v2/alerts", json=list(alerts))
        assert response.status_code == 200, response.text

    async def stop(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()


def prometheus_alert(
    alertname: str = "HighErrorRate",
    *,
    component: str = "web",
    summary: str = "5xx above 5%",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> dict[str, Any]:
    """An alert as Prometheus posts it to Alertmanager; an end in the past resolves it."""
    alert: dict[str, Any] = {
        "labels": {"alertname": alertname, "component": component},
        "annotations": {"summary": summary},
        "generatorURL": "http://prometheus.example:9090/graph",
    }
    if starts_at is not None:
        alert["startsAt"] = _iso(starts_at)
    if ends_at is not None:
        alert["endsAt"] = _iso(ends_at)
    return alert
