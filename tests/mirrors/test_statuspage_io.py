"""Mirroring approved statements to an Atlassian Statuspage page, against a mock of its API.

The bot runs for real (Slack's Web API and Statuspage's mocked by servers on loopback): an
incident is opened with a slash command, comms approve its drafts with the Approve button, and
the tests read what reached Statuspage.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.config import Config
from bot.statements.messaging import APPROVE_ACTION
from bot.statements.models import Statement
from bot.store.keyvalue import KeyValue
from bot.wiring import build_runtime, install_chat
from tests.support.slack_app import (
    COMMS,
    COMMS_CHANNEL,
    INCIDENTS,
    SlackBot,
    button_value,
    eventually,
    redis_only,
    slack_config,
    slack_settings,
    stop_runtime,
)
from tests.support.slack_mock import MockSlack
from tests.support.statuspage_io_mock import API_KEY, PAGE_ID, MockStatuspageIo, Request

INTERNAL_TITLE = "DB primary OOM after the 14:02 deploy"
MAPPING = {"web": "cmp_web_id", "app": "cmp_app_id"}


def mirrored_config(**overrides: Any) -> Config:
    return slack_config(statuspage_io={"page_id": PAGE_ID, "components": MAPPING}, **overrides)


@pytest.fixture
async def statuspage() -> AsyncIterator[MockStatuspageIo]:
    server = await MockStatuspageIo().start()
    yield server
    await server.stop()


@asynccontextmanager
async def mirrored_bot(
    kv: KeyValue,
    statuspage: MockStatuspageIo,
    *,
    api_key: str | None = API_KEY,
    config: Config | None = None,
    settle: bool = True,
) -> AsyncIterator[SlackBot]:
    slack = await MockSlack().start()
    settings = slack_settings(slack).model_copy(
        update={
            "statuspage_api_key": SecretStr(api_key) if api_key else None,
            "statuspage_api_url": statuspage.url,
        }
    )
    runtime = build_runtime(settings, config or mirrored_config(), kv=kv)
    install_chat(runtime)
    await runtime.start()
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            bot = SlackBot(runtime, slack, http)
            yield bot
            if settle:
                await bot.settled(timeout=10)
    finally:
        try:
            await stop_runtime(runtime)
        finally:
            await slack.stop()


async def approve_draft(bot: SlackBot, drafts: int) -> Statement:
    """Comms approve the `drafts`-th draft posted in the comms channel; the published one."""
    draft = (await bot.posts(COMMS_CHANNEL, drafts))[-1]
    await bot.settled()
    statement_id = button_value(draft, APPROVE_ACTION)
    await bot.click(APPROVE_ACTION, statement_id, user=COMMS, message=draft)

    async def published() -> Statement | None:
        found = [s for s in await bot.runtime.statements.published() if s.id == statement_id]
        return found[0] if found else None

    return await eventually(published, what="the statement to be published")


async def requests(
    statuspage: MockStatuspageIo, count: int, *, method: str | None = None, timeout: float = 10
) -> list[Request]:
    """Wait for at least `count` requests (of one method) that were answered or dropped."""

    def seen() -> list[Request]:
        found = [r for r in statuspage.requests if method is None or r.method == method]
        return found if len(found) >= count else []

    return await eventually(seen, timeout=timeout, what=f"{count} {method or ''} requests")


@redis_only
async def test_nothing_is_sent_before_approval(kv: KeyValue, statuspage: MockStatuspageIo) -> None:
    async with mirrored_bot(kv, statuspage) as bot:
        await bot.incident(f"open {INTERNAL_TITLE} sev:1 components:web,app")
        await bot.posts(COMMS_CHANNEL, 1)  # the draft waits for comms
        await bot.incident("status 1 identified")
        await bot.posts(COMMS_CHANNEL, 2)
        await bot.settled()
    assert statuspage.requests == []


async def test_the_first_approval_creates_later_ones_update_and_resolution_resolves(
    kv: KeyValue, statuspage: MockStatuspageIo
) -> None:
    async with mirrored_bot(kv, statuspage) as bot:
        await bot.incident(f"open {INTERNAL_TITLE} sev:1 components:web,app")
        first = await approve_draft(bot, 1)

        (create,) = await requests(statuspage, 1)
        assert (create.method, create.path) == ("POST", f"/v1/pages/{PAGE_ID}/incidents")
        assert create.headers["Authorization"] == f"OAuth {API_KEY}"
        assert create.headers["Content-Type"] == "application/json"
        assert create.body == {
            "incident": {
                "name": first.name["en"],
                "status": "investigating",
                "body": first.texts["en"],
                "component_ids": ["cmp_web_id", "cmp_app_id"],
                "components": {"cmp_web_id": "major_outage", "cmp_app_id": "major_outage"},
            }
        }
        assert first.name["en"] == "Disruption to our online account services and mobile app"
        (remote_id,) = statuspage.incidents
        mirror = bot.runtime.statuspage_io
        assert mirror is not None
        assert await mirror.remote_id("incident:1") == remote_id

        await bot.incident("status 1 identified")
        second = await approve_draft(bot, 2)
        update = (await requests(statuspage, 2))[-1]
        assert (update.method, update.path) == (
            "PATCH",
            f"/v1/pages/{PAGE_ID}/incidents/{remote_id}",
        )
        assert update.incident["status"] == "identified"
        assert update.incident["body"] == second.texts["en"]
        assert update.incident["components"] == {
            "cmp_web_id": "major_outage",
            "cmp_app_id": "major_outage",
        }

        await bot.incident("resolve 1 rolled back")
        third = await approve_draft(bot, 3)
        resolve = (await requests(statuspage, 3))[-1]
        assert (resolve.method, resolve.path) == (
            "PATCH",
            f"/v1/pages/{PAGE_ID}/incidents/{remote_id}",
        )
        assert resolve.incident["status"] == "resolved"
        assert resolve.incident["body"] == third.texts["en"]
        assert resolve.incident["components"] == {
            "cmp_web_id": "operational",
            "cmp_app_id": "operational",
        }

    assert len(statuspage.incidents) == 1
    assert statuspage.incidents[remote_id]["status"] == "resolved"
    for request in statuspage.requests:
        assert INTERNAL_TITLE not in request.raw
        assert "OOM" not in request.raw
    # The page's language only (the first configured): the Italian text stays with us.
    assert first.texts["it"] not in create.raw


@redis_only
async def test_components_not_mapped_are_left_out_and_the_impact_follows_severity(
    kv: KeyValue, statuspage: MockStatuspageIo
) -> None:
    config = slack_config(statuspage_io={"page_id": PAGE_ID, "components": {"app": "cmp_app"}})
    async with mirrored_bot(kv, statuspage, config=config) as bot:
        await bot.incident("open Slow logins sev:3 components:web,app")
        await approve_draft(bot, 1)
        (create,) = await requests(statuspage, 1)
    assert create.incident["component_ids"] == ["cmp_app"]
    assert create.incident["components"] == {"cmp_app": "degraded_performance"}


@redis_only
async def test_a_500_is_retried_and_makes_exactly_one_incident(
    kv: KeyValue, statuspage: MockStatuspageIo
) -> None:
    statuspage.fail_next("POST", status=500)
    async with mirrored_bot(kv, statuspage) as bot:
        await bot.incident("open Logins fail sev:2 components:web")
        await approve_draft(bot, 1)
        await eventually(lambda: statuspage.incidents, timeout=10, what="the incident there")
        await bot.settled(timeout=10)
    assert [(r.method, r.status) for r in statuspage.requests] == [
        ("POST", 500),
        # A create that failed is looked for before it is sent again.
        ("GET", 200),
        ("POST", 201),
    ]
    assert len(statuspage.incidents) == 1


@redis_only
async def test_a_429_waits_for_its_retry_after(kv: KeyValue, statuspage: MockStatuspageIo) -> None:
    statuspage.fail_next("POST", status=429, error="Rate limit exceeded", retry_after=2)
    async with mirrored_bot(kv, statuspage) as bot:
        await bot.incident("open Logins fail components:web")
        await approve_draft(bot, 1)
        posts = await requests(statuspage, 2, method="POST")
    assert [r.status for r in posts] == [429, 201]
    assert posts[1].at - posts[0].at >= 1.9
    assert len(statuspage.incidents) == 1


async def test_a_create_whose_answer_was_lost_is_found_not_made_twice(
    kv: KeyValue, statuspage: MockStatuspageIo
) -> None:
    statuspage.drop_after_next_create()
    async with mirrored_bot(kv, statuspage) as bot:
        await bot.incident("open Logins fail sev:1 components:web")
        await approve_draft(bot, 1)
        (remote_id,) = await eventually(lambda: list(statuspage.incidents), what="the incident")
        await requests(statuspage, 2)

        async def adopted() -> bool:
            mirror = bot.runtime.statuspage_io
            assert mirror is not None
            return await mirror.remote_id("incident:1") == remote_id

        await eventually(adopted, timeout=10, what="the lost incident to be found")

        await bot.incident("status 1 monitoring")
        await approve_draft(bot, 2)
        await requests(statuspage, 1, method="PATCH")

    assert [(r.method, r.status) for r in statuspage.requests] == [
        ("POST", 0),  # created there, but the answer never came
        ("GET", 200),  # found among the unresolved incidents by its name
        ("PATCH", 200),
    ]
    assert statuspage.requests[1].path == f"/v1/pages/{PAGE_ID}/incidents/unresolved"
    assert statuspage.requests[2].path.endswith(f"/incidents/{remote_id}")
    assert len(statuspage.incidents) == 1
    assert statuspage.incidents[remote_id]["status"] == "monitoring"


@redis_only
async def test_a_lost_create_is_not_confused_with_an_older_incident_of_the_same_name(
    kv: KeyValue, statuspage: MockStatuspageIo
) -> None:
    # Someone's own incident there, with the same public name, from yesterday.
    statuspage.incidents["old0001"] = {
        "id": "old0001",
        "name": "Disruption to our online account services",
        "status": "investigating",
        "created_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "components": {},
        "incident_updates": [],
    }
    statuspage.fail_next("POST", status=503)
    async with mirrored_bot(kv, statuspage) as bot:
        await bot.incident("open Logins fail components:web")
        await approve_draft(bot, 1)
        await requests(statuspage, 2, method="POST")
        await bot.settled(timeout=10)
        mirror = bot.runtime.statuspage_io
        assert mirror is not None
        remote_id = await mirror.remote_id("incident:1")
    assert remote_id is not None and remote_id != "old0001"
    assert len(statuspage.incidents) == 2


@redis_only
async def test_a_refusal_is_not_retried_and_is_told_in_the_incident_thread(
    kv: KeyValue, statuspage: MockStatuspageIo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    statuspage.fail_next("POST", status=422, error=["Component ids is invalid"])
    async with mirrored_bot(kv, statuspage) as bot:
        await bot.incident("open Logins fail components:web")
        await approve_draft(bot, 1)

        def notice() -> list[str]:
            return [
                p.args["text"]
                for p in bot.mock.posts(INCIDENTS)
                if "Statuspage.io" in p.args["text"] and p.args.get("thread_ts")
            ]

        (text,) = await eventually(notice, what="the notice in the incident's thread")
        assert text == "Statuspage.io refused the update: HTTP 422: Component ids is invalid"
        await bot.settled()
        dead = await bot.runtime.outbox.dead_letters()
        assert [d.platform for d in dead] == ["statuspage_io"]
        assert len(statuspage.of("POST")) == 1  # not retried

        # The page is not stuck: the next published statement creates the incident there.
        await bot.incident("status 1 identified")
        await approve_draft(bot, 2)
        posts = await requests(statuspage, 2, method="POST")
    assert [r.status for r in posts] == [422, 201]
    assert posts[1].incident["status"] == "identified"
    assert "Component ids is invalid" in caplog.text
    assert API_KEY not in caplog.text


@redis_only
async def test_a_wrong_key_is_refused_and_told(kv: KeyValue, statuspage: MockStatuspageIo) -> None:
    async with mirrored_bot(kv, statuspage, api_key="not-the-key") as bot:
        await bot.incident("open Logins fail components:web")
        await approve_draft(bot, 1)
        await eventually(
            lambda: [
                p
                for p in bot.mock.posts(INCIDENTS)
                if p.args["text"]
                == "Statuspage.io refused the update: HTTP 401: Could not authenticate"
            ],
            what="the refusal",
        )
    assert [r.status for r in statuspage.requests] == [401]
    assert statuspage.incidents == {}


@redis_only
async def test_off_without_the_key(kv: KeyValue, statuspage: MockStatuspageIo) -> None:
    async with mirrored_bot(kv, statuspage, api_key=None) as bot:
        assert bot.runtime.statuspage_io is None
        assert (
            "statuspage.io: the config has a statuspage_io section but STATUSPAGE_API_KEY is "
            "not set: nothing is mirrored to that page"
        ) in bot.runtime.describe()
        await bot.incident("open Logins fail components:web")
        await approve_draft(bot, 1)
        await bot.settled()
    assert statuspage.requests == []


@redis_only
async def test_off_without_the_config_section(kv: KeyValue, statuspage: MockStatuspageIo) -> None:
    async with mirrored_bot(kv, statuspage, config=slack_config()) as bot:
        assert bot.runtime.statuspage_io is None
        assert any(
            line.startswith("statuspage.io: STATUSPAGE_API_KEY is set but the config has no")
            for line in bot.runtime.describe()
        )


@redis_only
async def test_a_maintenance_notice_becomes_scheduled_maintenance(
    kv: KeyValue, statuspage: MockStatuspageIo
) -> None:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    window = {
        "components": ["web", "app"],
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
        "title": "Upgrade the core banking database (internal)",
    }
    async with mirrored_bot(kv, statuspage, config=mirrored_config(maintenance=[window])) as bot:
        await bot.runtime.statements.draft_due_maintenance(datetime.now(UTC))
        statement = await approve_draft(bot, 1)
        (create,) = await requests(statuspage, 1)
    assert create.incident == {
        "name": statement.name["en"],
        "body": statement.texts["en"],
        "status": "scheduled",
        "scheduled_for": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scheduled_until": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scheduled_auto_in_progress": True,
        "scheduled_auto_completed": True,
        "auto_transition_to_maintenance_state": True,
        "auto_transition_to_operational_state": True,
        "component_ids": ["cmp_web_id", "cmp_app_id"],
    }
    assert "internal" not in create.raw
