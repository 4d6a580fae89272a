"""Webhook subscribers: one signed POST per published statement, the incident in summary.json's
shape, retried on 5xx and 429 (after Retry-After) and delivered once, never retried on 4xx."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import ConfigError
from bot.statements.store import maintenance_subject
from bot.store.keyvalue import KeyValue
from tests.statuspage.test_public_routes import INCIDENT_KEYS, UPDATE_KEYS
from tests.subscribers.conftest import PUBLIC_URL, Receiver, publish_statement
from tests.support.slack_app import COMMS, eventually, redis_only, running_bot, slack_config

SECRET = "whsec-0123456789"


def verify(body: bytes, header: str, secret: str = SECRET) -> bool:
    """What the README tells receivers to do."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


async def test_a_published_statement_is_posted_once_signed_in_summary_json_shape(
    kv: KeyValue, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATUS_WEBHOOK_SECRET", SECRET)
    config = slack_config(
        subscribers={"webhooks": [{"url": receiver.url(), "secret": "${STATUS_WEBHOOK_SECRET}"}]}
    )
    receiver.answers = [(500, {})]  # the receiver is down for the first attempt
    async with running_bot(kv, config=config, environment={"public_url": PUBLIC_URL}) as bot:
        statement_id = await publish_statement(bot)
        await eventually(lambda: len(receiver.requests) >= 2, timeout=10, what="the retry")
        await bot.settled()
        summary_url = f"http://127.0.0.1:{bot.runtime.port}/api/v2/summary.json"

        async def summary_with_incident() -> dict[str, Any] | None:
            found: dict[str, Any] = (await bot.http.get(summary_url)).json()
            return found if found["incidents"] else None

        # The page may serve its previous copy while it renders the new one.
        summary = await eventually(summary_with_incident, what="summary.json with the incident")
        statement = await bot.runtime.statements.store.get(statement_id)
        metrics = (await bot.http.get(f"http://127.0.0.1:{bot.runtime.port}/metrics")).text
    assert statement is not None

    assert [status for _, _, status in receiver.requests] == [500, 200]
    (first_headers, first_body, _), (headers, body, _) = receiver.requests
    assert first_body == body  # the same bytes on every attempt
    assert first_headers["X-Statusbot-Delivery"] == headers["X-Statusbot-Delivery"]
    assert verify(body, headers["X-Statusbot-Signature"])
    assert not verify(body, headers["X-Statusbot-Signature"], "another secret")
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Statusbot-Event"] == "statement.published"

    payload = json.loads(body)
    assert set(payload) == {"page", "incident", "meta"}
    assert payload["page"] == {**summary["page"], "updated_at": payload["page"]["updated_at"]}
    incident = payload["incident"]
    assert set(incident) == INCIDENT_KEYS
    assert incident == summary["incidents"][0] | {"updated_at": incident["updated_at"]} | {
        "components": incident["components"]
    }
    assert incident["id"] == "inc-1"
    assert incident["name"] == statement.name["en"]
    (update,) = incident["incident_updates"]
    assert set(update) == UPDATE_KEYS
    assert (update["id"], update["status"], update["body"]) == (
        statement_id,
        "investigating",
        statement.texts["en"],
    )
    assert payload["meta"]["event"] == "statement.published"
    assert payload["meta"]["statement_id"] == statement_id
    assert payload["meta"]["delivery_id"] == headers["X-Statusbot-Delivery"]
    assert SECRET not in body.decode()
    assert 'statusbot_webhook_deliveries_total{result="delivered"} 1.0' in metrics
    assert 'statusbot_webhook_deliveries_total{result="failed"} 1.0' in metrics


@redis_only
async def test_429_waits_for_retry_after_and_other_4xx_are_not_retried(
    kv: KeyValue, receiver: Receiver
) -> None:
    config = slack_config(
        subscribers={
            "webhooks": [
                {"url": receiver.url("/hook"), "secret": SECRET},
                {"url": receiver.url("/refuses"), "secret": "other"},
            ]
        }
    )
    answers = {"/hook": [(429, {"Retry-After": "2"})], "/refuses": [(404, {})]}
    receiver.answers = []
    receiver.by_path = answers
    async with running_bot(kv, config=config, environment={"public_url": PUBLIC_URL}) as bot:
        await publish_statement(bot)
        await eventually(
            lambda: len(receiver.on("/hook")) >= 2, timeout=10, what="the retry after 429"
        )
        await bot.settled()
        dead = await bot.runtime.outbox.dead_letters()
    hook, refused = receiver.on("/hook"), receiver.on("/refuses")
    assert [r.status for r in hook] == [429, 200]
    assert hook[1].at - hook[0].at >= 1.9  # Retry-After: 2
    assert [r.status for r in refused] == [404]
    assert [(d.kind, d.last_error) for d in dead] == [
        ("webhook", "webhook 127.0.0.1 refused the delivery: HTTP 404")
    ]


@redis_only
async def test_a_maintenance_notice_is_posted_in_the_scheduled_maintenance_shape(
    kv: KeyValue, receiver: Receiver
) -> None:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    config = slack_config(
        maintenance=[
            {
                "components": ["app"],
                "start": start.isoformat(),
                "end": (start + timedelta(hours=2)).isoformat(),
                "title": "Planned upgrade",
            }
        ],
        subscribers={"webhooks": [{"url": receiver.url(), "secret": SECRET}]},
    )
    async with running_bot(kv, config=config, environment={"public_url": PUBLIC_URL}) as bot:
        statements = bot.runtime.statements
        notice = await statements.draft_maintenance(config.maintenance[0])
        await statements.approve(notice.id, COMMS)
        await eventually(lambda: receiver.requests, timeout=10, what="the webhook")
        await bot.settled()
        assert await statements.store.pending(maintenance_subject(notice.maintenance or "")) is None
    ((headers, body, _),) = receiver.requests
    assert verify(body, headers["X-Statusbot-Signature"])
    incident = json.loads(body)["incident"]
    assert incident["id"] == f"maintenance-{notice.maintenance}"
    assert incident["impact"] == "maintenance"
    assert incident["status"] == "scheduled"
    assert incident["scheduled_for"] == start.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    assert incident["incident_updates"][0]["body"] == notice.texts["en"]


@pytest.mark.parametrize(
    ("webhook", "path", "message"),
    [
        (
            {"url": "ftp://hooks.example.com/x", "secret": "s"},
            "subscribers.webhooks[0].url",
            "expected an http:// or https:// URL, got 'ftp://hooks.example.com/x'",
        ),
        (
            {"url": "https://hooks.example.com/x", "secret": ""},
            "subscribers.webhooks[0].secret",
            "the secret cannot be empty",
        ),
        (
            {"url": "https://hooks.example.com/x"},
            "subscribers.webhooks[0].secret",
            "required key is missing",
        ),
        (
            {"url": "https://hooks.example.com/x", "secret": "s", "header": "x"},
            "subscribers.webhooks[0].header",
            "unknown key",
        ),
        (
            {"url": "https://hooks.example.com/x", "secret": "${NOT_SET_ANYWHERE_42}"},
            "subscribers.webhooks[0].secret",
            "environment variable NOT_SET_ANYWHERE_42 is not set",
        ),
    ],
)
def test_webhook_config_errors_name_the_key(
    webhook: dict[str, str], path: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        slack_config(subscribers={"webhooks": [webhook]})
    found = [(i.path, i.message) for i in caught.value.issues]
    assert any(p == path and message in m for p, m in found), found
    assert [p for p, _ in found].count(path) == 1, found  # one line per mistake


def test_a_secret_never_shows_in_the_config() -> None:
    config = slack_config(
        subscribers={"webhooks": [{"url": "https://hooks.example.com/x", "secret": SECRET}]}
    )
    assert SECRET not in repr(config)
    assert SECRET not in str(config.model_dump())
