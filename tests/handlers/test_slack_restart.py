"""What Slack was told survives a restart: incidents, timelines, threads and queued posts."""

from __future__ import annotations

import asyncio

import pytest

from bot.chat.message import Message
from bot.store import MemoryKeyValue, RedisKeyValue
from tests.support.slack_app import (
    INCIDENTS,
    MANAGERS,
    eventually,
    running_bot,
    slack_config,
    start_runtime,
)
from tests.support.slack_mock import Call, MockSlack


@pytest.fixture
async def store_url(redis_kv: RedisKeyValue, redis_url: str) -> str:
    # redis_kv checks Redis answers and removes this test's keys (its unique prefix) afterwards.
    return redis_url


async def test_an_incident_survives_a_restart_with_its_timeline_and_thread(
    store_url: str, unique_prefix: str, slack: MockSlack
) -> None:
    async with running_bot(RedisKeyValue.from_url(store_url, unique_prefix), mock=slack) as bot:
        opened = await bot.incident("open Card payments declined sev:1 components:web")
        assert opened.text.startswith("Declared INC-1")
        await bot.incident("update 1 Card processor restarted")
        [card, _] = await bot.posts(INCIDENTS, 2)
        await bot.settled()

    async with running_bot(RedisKeyValue.from_url(store_url, unique_prefix), mock=slack) as bot:
        shown = await bot.incident("show INC-1")

        assert shown.text == "INC-1 (sev1, investigating): Card payments declined"
        assert "declared: Card payments declined" in shown.shown
        assert "update: Card processor restarted" in shown.shown
        assert shown.shown.index("declared:") < shown.shown.index("update:")
        listed = await bot.incident("list")
        assert "INC-1 (sev1, investigating): Card payments declined" in listed.shown

        await bot.incident("update 1 Payments flowing again")
        posts = await bot.posts(INCIDENTS, 3)
        assert posts[-1].args["thread_ts"] == card.result["ts"], "the same thread after restart"
        second = await bot.incident("open Phones ring out")
        assert second.text.startswith("Declared INC-2 "), "numbers carry on"


async def test_posts_queued_while_slack_is_down_are_delivered_after_a_restart(
    store_url: str, unique_prefix: str, slack: MockSlack
) -> None:
    slack.fail_next(
        "chat.postMessage", status=503, error="service_unavailable", retry_after=None, times=1000
    )
    kv = RedisKeyValue.from_url(store_url, unique_prefix)
    async with running_bot(kv, mock=slack, settle=False) as bot:
        opened = await bot.incident("open Card payments declined sev:1")
        assert opened.text.startswith("Declared INC-1"), "acknowledged to the user"
        # Tried, failed, and tried again after a backoff: the outbox keeps it.
        await eventually(lambda: len(failed_posts(slack)) >= 2, what="a retried delivery")
        assert slack.posts() == []
        assert await bot.runtime.outbox.depth() >= 2

    slack.clear_failures()
    async with running_bot(RedisKeyValue.from_url(store_url, unique_prefix), mock=slack) as bot:
        await bot.settled(timeout=10)

        [card] = slack.posts(INCIDENTS)
        assert card.args["text"] == "INC-1 (sev1, investigating): Card payments declined"
        [line] = slack.posts(MANAGERS)
        assert line.args["text"] == "INC-1 (sev1, investigating) declared: Card payments declined"
        assert slack.posts().index(card) < slack.posts().index(line), "in order"


def failed_posts(slack: MockSlack) -> list[Call]:
    return [c for c in slack.calls if c.method == "chat.postMessage" and c.args.get("_failed")]


async def test_stopping_as_a_post_is_queued_does_not_hang(memory_kv: MemoryKeyValue) -> None:
    # SIGTERM during a deploy, or a replica losing the leader lease, stops the outbox worker
    # just as something is queued. The worker must end: a deposed leader that keeps delivering
    # duplicates posts, and a process that does not stop is killed mid-delivery.
    slack = await MockSlack().start()
    try:
        runtime = await start_runtime(slack_config(), memory_kv, slack)
        await runtime.poster.post("managers", Message(text="Started"), lane="deploy")
        await eventually(lambda: slack.posts(MANAGERS), what="the outbox worker to deliver")

        async def idle() -> bool:
            return await runtime.outbox.depth() == 0

        await eventually(idle, what="the outbox to be idle")
        await runtime.poster.post("managers", Message(text="Deploying statusbot"), lane="deploy")

        stopping = asyncio.ensure_future(runtime.stop())
        done, _ = await asyncio.wait({stopping}, timeout=1.5)

        if not done:
            stopping.cancel()  # a second cancel gets through; clean up before failing
            await asyncio.wait({stopping}, timeout=3)
        assert done, "Runtime.stop() hung: the outbox worker swallowed its cancellation"
    finally:
        await slack.stop()
