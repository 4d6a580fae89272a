"""`POST /webhooks/alertmanager` with payloads made by hand, against a running bot: an alert
naming a component acts like a failing check of it; bad tokens and bad bodies change nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import ConfigError
from bot.monitoring.alerts import ACKNOWLEDGE_ACTION
from bot.store.keyvalue import KeyValue
from tests.support.alertmanager import (
    TOKEN,
    WEBHOOK,
    AlertmanagerBot,
    alertmanager_bot,
    webhook_alert,
    webhook_payload,
)
from tests.support.builders import failure, success
from tests.support.slack_app import (
    ALERTS,
    button_value,
    displayed,
    eventually,
    redis_only,
    slack_config,
)
from tests.support.slack_mock import Call

FIRING = 'statusbot_alertmanager_alerts_total{outcome="firing"}'


def alert_texts(bot: AlertmanagerBot) -> list[str]:
    return [str(p.args["text"]) for p in bot.slack.mock.posts(ALERTS)]


def since(at: datetime) -> str:
    return f"{at.astimezone(slack_config().tz):%H:%M}"


async def quiet(bot: AlertmanagerBot) -> None:
    """Long enough for the watcher (every second) to act on anything, and the outbox to post."""
    await asyncio.sleep(1.5)
    await bot.slack.settled()


async def test_fire_resend_and_resolve_post_one_alert_and_one_recovery(kv: KeyValue) -> None:
    started = datetime.now(UTC) - timedelta(minutes=12)
    firing = webhook_payload(webhook_alert(starts_at=started))
    async with alertmanager_bot(kv) as bot:
        response = await bot.send(firing)
        assert response.status_code == 200
        assert response.json()["firing"] == 1
        [alert] = await bot.slack.posts(ALERTS, 1)
        assert alert.args["text"] == (
            "Major outage: online account services "
            f"(alertmanager HighErrorRate: 5xx above 5%, since {since(started)})"
        )

        # Alertmanager sends the group again (group_interval, repeat_interval): no second alert.
        for _ in range(3):
            assert (await bot.send(firing)).status_code == 200
        await quiet(bot)
        assert alert_texts(bot) == [alert.args["text"]]
        assert await bot.metric(FIRING) == 4
        assert any(
            "webhook on at POST /webhooks/alertmanager" in line
            for line in bot.slack.runtime.describe()
        )
        assert await bot.metric('statusbot_component_status{component="web"}') == 4
        status = await bot.slack.status("web")
        assert "Major outage" in status.text
        [line] = [x for x in status.shown.splitlines() if x.startswith("alertmanager")]
        assert line.startswith("alertmanager HighErrorRate: firing since")
        assert since(started) in line and line.endswith(": 5xx above 5%")

        resolved = webhook_payload(webhook_alert(status="resolved", starts_at=started))
        assert (await bot.send(resolved)).json()["resolved"] == 1
        posts = await bot.slack.posts(ALERTS, 2)
        assert posts[1].args["text"] == "Recovered: online account services after 12m"
        assert posts[1].args["thread_ts"] == alert.result["ts"]

        # A late copy of the firing alert does not open the outage again.
        assert (await bot.send(firing)).json()["stale"] == 1
        await quiet(bot)
        assert len(alert_texts(bot)) == 2


@redis_only
async def test_an_acknowledged_alert_still_shows_what_alertmanager_said(kv: KeyValue) -> None:
    started = datetime.now(UTC) - timedelta(minutes=3)
    async with alertmanager_bot(kv) as bot:
        await bot.send(webhook_payload(webhook_alert(starts_at=started)))
        [alert] = await bot.slack.posts(ALERTS, 1)

        await bot.slack.click(
            ACKNOWLEDGE_ACTION, button_value(alert, ACKNOWLEDGE_ACTION), message=alert
        )

        def redrawn() -> list[Call]:
            return [
                u
                for u in bot.slack.mock.calls_of("chat.update")
                if "Acknowledged by" in displayed(u)
            ]

        [card] = await eventually(redrawn, what="the alert redrawn with who acknowledged it")
        assert card.args["text"] == alert.args["text"]
        assert "alertmanager HighErrorRate" in displayed(card)
        assert "5xx above 5%" in displayed(card)


@redis_only
async def test_the_alert_combines_with_the_components_checks(kv: KeyValue) -> None:
    async with alertmanager_bot(kv) as bot:
        runtime = bot.slack.runtime
        check = next(c for c in runtime.config.checks if c.id == "web-login")  # partial outage
        for _ in range(3):
            await runtime.monitor.record(check, failure(check.id, runtime.clock()))
        [alert] = await bot.slack.posts(ALERTS, 1)
        assert alert.args["text"].startswith("Partial outage: online account services (web-login")

        # The alert is worse (major outage): worst wins, said in the alert's thread.
        await bot.send(webhook_payload(webhook_alert()))
        posts = await bot.slack.posts(ALERTS, 2)
        assert posts[1].args["text"] == (
            "Major outage: online account services (was partial outage)"
        )
        # The check stays down after the alert resolves: no recovery yet.
        await bot.send(webhook_payload(webhook_alert(status="resolved")))
        posts = await bot.slack.posts(ALERTS, 3)
        assert posts[2].args["text"] == (
            "Partial outage: online account services (was major outage)"
        )
        assert not any(t.startswith("Recovered:") for t in alert_texts(bot))
        await runtime.monitor.record(check, success(check.id, runtime.clock()))
        await runtime.monitor.record(check, success(check.id, runtime.clock()))
        posts = await bot.slack.posts(ALERTS, 4)
        assert posts[3].args["text"].startswith("Recovered: online account services after")


@redis_only
async def test_a_check_recovering_does_not_end_an_outage_an_alert_still_holds(
    kv: KeyValue,
) -> None:
    async with alertmanager_bot(kv) as bot:
        runtime = bot.slack.runtime
        await bot.send(webhook_payload(webhook_alert(impact="partial_outage")))
        [alert] = await bot.slack.posts(ALERTS, 1)
        assert alert.args["text"].startswith("Partial outage: online account services")
        check = next(c for c in runtime.config.checks if c.id == "web-home")
        await runtime.monitor.record(check, success(check.id, runtime.clock()))
        await quiet(bot)
        assert len(alert_texts(bot)) == 1


@redis_only
async def test_an_alert_that_is_never_resolved_expires_at_its_end(kv: KeyValue) -> None:
    ends = datetime.now(UTC) + timedelta(seconds=2)
    async with alertmanager_bot(kv) as bot:
        await bot.send(webhook_payload(webhook_alert(ends_at=ends)))
        await bot.slack.posts(ALERTS, 1)
        posts = await bot.slack.posts(ALERTS, 2, timeout=6)
        assert posts[1].args["text"] == "Recovered: online account services after 12m"


@redis_only
async def test_severity_mapping_and_a_component_named_by_alertname(kv: KeyValue) -> None:
    config = slack_config(
        alertmanager={
            "components": {"MobileApiDown": "app"},
            "severities": {"warning": "degraded_performance"},
        }
    )
    async with alertmanager_bot(kv, config=config) as bot:
        alert = webhook_alert(
            "MobileApiDown", component=None, summary="app API 503", severity="warning"
        )
        await bot.send(webhook_payload(alert))
        [post] = await bot.slack.posts(ALERTS, 1)
        assert post.args["text"].startswith(
            "Degraded performance: mobile app (alertmanager MobileApiDown: app API 503, since"
        )


@redis_only
async def test_an_unknown_component_is_accepted_counted_and_ignored(kv: KeyValue) -> None:
    async with alertmanager_bot(kv) as bot:
        for _ in range(2):
            response = await bot.send(webhook_payload(webhook_alert(component="billing")))
            assert response.status_code == 200
            assert response.json()["unknown_component"] == 1
        await quiet(bot)
        assert alert_texts(bot) == []
        assert (
            await bot.metric('statusbot_alertmanager_alerts_total{outcome="unknown_component"}')
            == 2
        )


@redis_only
async def test_no_alert_during_maintenance(kv: KeyValue) -> None:
    now = datetime.now(UTC)
    window = {
        "components": ["web"],
        "start": (now - timedelta(minutes=5)).isoformat(),
        "end": (now + timedelta(minutes=30)).isoformat(),
        "title": "Planned upgrade",
    }
    async with alertmanager_bot(kv, config=slack_config(maintenance=[window])) as bot:
        assert (await bot.send(webhook_payload(webhook_alert()))).status_code == 200
        await quiet(bot)
        assert alert_texts(bot) == []


@redis_only
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer", ""],
)
async def test_a_missing_or_wrong_token_gets_401_and_changes_nothing(
    kv: KeyValue, authorization: str | None
) -> None:
    async with alertmanager_bot(kv) as bot:
        headers = {} if authorization is None else {"Authorization": authorization}
        response = await bot.send(webhook_payload(webhook_alert()), token=None, **headers)
        assert response.status_code == 401
        assert "bearer token" in response.json()["error"]
        await quiet(bot)
        assert alert_texts(bot) == []
        assert await bot.slack.runtime.alert_signals.components() == set()
        assert await bot.metric('statusbot_alertmanager_requests_total{result="unauthorized"}') == 1


@redis_only
@pytest.mark.parametrize("token", [None, "", "  "])
async def test_without_a_token_the_webhook_is_off(kv: KeyValue, token: str | None) -> None:
    async with alertmanager_bot(kv, token=token) as bot:
        response = await bot.send(
            webhook_payload(webhook_alert()), token=(token or "").strip() or None
        )
        assert response.status_code == 404
        response = await bot.send(
            webhook_payload(webhook_alert()), token=None, Authorization="Bearer"
        )
        assert response.status_code == 404
        assert not any("alertmanager" in line for line in bot.slack.runtime.describe())
        await quiet(bot)
        assert alert_texts(bot) == []


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


MALFORMED: list[tuple[str, bytes, int, str]] = [
    ("not JSON", b"{nope", 400, "the body is not JSON"),
    ("empty", b"", 400, "the body is not JSON"),
    ("not UTF-8", b'{"version": "4", "x": "\xff\xfe"}', 400, "not UTF-8"),
    ("a list", b"[]", 400, "expected a JSON object"),
    ("wrong version", json.dumps({**webhook_payload(), "version": "3"}).encode(), 400, "version"),
    ("no version", json.dumps({"alerts": []}).encode(), 400, "version"),
    (
        "alerts not a list",
        json.dumps({**webhook_payload(), "alerts": {"a": 1}}).encode(),
        400,
        "alerts: Input should be a valid list",
    ),
    (
        "labels not a dict",
        json.dumps(webhook_payload({**webhook_alert(), "labels": ["component", "web"]})).encode(),
        400,
        "alerts[0].labels",
    ),
    (
        "a label value not a string",
        json.dumps(webhook_payload({**webhook_alert(), "labels": {"component": 1}})).encode(),
        400,
        "alerts[0].labels.component",
    ),
    (
        "an unknown status",
        json.dumps(webhook_payload({**webhook_alert(), "status": "pending"})).encode(),
        400,
        "alerts[0].status",
    ),
    (
        "a bad time",
        json.dumps(webhook_payload({**webhook_alert(), "startsAt": "yesterday"})).encode(),
        400,
        "alerts[0].startsAt",
    ),
    (
        "a fingerprint that is no fingerprint",
        json.dumps(webhook_payload({**webhook_alert(), "fingerprint": "../../x"})).encode(),
        400,
        "alerts[0].fingerprint",
    ),
    ("nested too deeply", _deep(100_000), 400, "nested too deeply"),
    ("huge", b'{"version": "4", "pad": "' + b"x" * 2_000_000 + b'"}', 413, "larger than"),
]


@redis_only
async def test_malformed_bodies_get_4xx_with_one_line_and_change_nothing(kv: KeyValue) -> None:
    async with alertmanager_bot(kv) as bot:
        for name, body, status, reason in MALFORMED:
            response = await bot.send(body)
            assert response.status_code == status, (name, response.text)
            error = response.json()["error"]
            assert reason in error, (name, error)
            assert "\n" not in error and len(error) < 300, (name, error)
        await quiet(bot)
        assert alert_texts(bot) == []
        assert await bot.slack.runtime.alert_signals.components() == set()


@redis_only
async def test_a_body_over_the_limit_without_a_length_is_refused(kv: KeyValue) -> None:
    async def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 65536

    async with alertmanager_bot(kv) as bot:
        response = await bot.slack.http.post(
            bot.base + WEBHOOK, content=chunks(), headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status_code == 413


def test_the_mapping_must_name_known_components() -> None:
    with pytest.raises(ConfigError) as caught:
        slack_config(alertmanager={"components": {"HighErrorRate": "nope"}, "impact": "bad"})
    messages = [str(issue) for issue in caught.value.issues]
    assert any("alertmanager.impact" in m for m in messages), messages
    with pytest.raises(ConfigError) as caught:
        slack_config(alertmanager={"components": {"HighErrorRate": "nope"}})
    [issue] = caught.value.issues
    assert issue.path == "alertmanager.components.HighErrorRate"
    assert "unknown component 'nope'" in issue.message
    with pytest.raises(ConfigError) as caught:
        slack_config(alertmanager={"labels": "component"})
    assert caught.value.issues[0].path == "alertmanager.labels"
