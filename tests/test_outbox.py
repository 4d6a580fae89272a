"""The outbox: ordered per lane, retried with backoff and Retry-After, persistent, never lost."""

from __future__ import annotations

import asyncio
import io

import httpx

from bot.chat.message import Message
from bot.chat.outbox import Delivery, Outbox
from bot.metrics import Metrics
from bot.store.keyvalue import KeyValue
from handlers.slack.adapter import SlackAdapter
from tests.support.builders import EpochClock
from tests.support.slack_mock import MockSlack


def make_outbox(kv: KeyValue, slack: MockSlack, clock: EpochClock) -> Outbox:
    return Outbox(
        kv, {"slack": SlackAdapter.create("xoxb-test", slack.url, None)}, Metrics(), clock=clock
    )


def post(lane: str, text: str, **kwargs: object) -> Delivery:
    return Delivery(lane=lane, platform="slack", channel="C1", message=Message(text=text), **kwargs)  # type: ignore[arg-type]


async def test_a_failing_head_blocks_only_its_own_lane(kv: KeyValue, slack: MockSlack) -> None:
    clock = EpochClock()
    outbox = make_outbox(kv, slack, clock)
    slack.fail_next("chat.postMessage", status=503, error="service_unavailable", retry_after=None)
    await outbox.enqueue(post("a", "a1"))
    await outbox.enqueue(post("a", "a2"))
    await outbox.enqueue(post("b", "b1"))

    await outbox.drain()
    assert slack.texts() == ["b1"]

    clock.now += 5
    await outbox.drain()
    assert slack.texts() == ["b1", "a1", "a2"]
    assert await outbox.depth() == 0


async def test_permanent_errors_are_set_aside_and_the_lane_moves_on(
    kv: KeyValue, slack: MockSlack
) -> None:
    outbox = make_outbox(kv, slack, EpochClock())
    slack.fail_next("chat.postMessage", status=200, error="channel_not_found", retry_after=None)
    await outbox.enqueue(post("a", "lost"))
    await outbox.enqueue(post("a", "next"))

    await outbox.drain()

    assert slack.texts() == ["next"]
    dead = await outbox.dead_letters()
    assert [d.message.text for d in dead] == ["lost"]
    assert dead[0].last_error == "Slack refused the post: channel_not_found"


async def test_updates_and_replies_find_the_thread_by_ref(kv: KeyValue, slack: MockSlack) -> None:
    outbox = make_outbox(kv, slack, EpochClock())
    await outbox.enqueue(post("a", "root", ref="outage:1"))
    await outbox.enqueue(post("a", "root edited", op="update", ref="outage:1"))
    await outbox.enqueue(post("a", "in thread", op="reply", thread_ref="outage:1"))

    await outbox.drain()

    root_ts = await outbox.message_id("outage:1", "slack", "C1")
    assert root_ts is not None
    update = next(c for c in slack.calls if c.method == "chat.update")
    assert update.args["ts"] == root_ts
    reply = slack.posts()[-1]
    assert (reply.args["text"], reply.args["thread_ts"]) == ("in thread", root_ts)


async def test_queued_posts_survive_a_restart(kv: KeyValue, slack: MockSlack) -> None:
    clock = EpochClock()
    slack.fail_next("chat.postMessage", times=3, retry_after=1)
    first = make_outbox(kv, slack, clock)
    await first.enqueue(post("a", "one"))
    await first.enqueue(post("a", "two"))
    await first.drain()
    assert slack.texts() == []

    clock.now += 10
    restarted = make_outbox(kv, slack, clock)
    for _ in range(3):
        await restarted.drain()
        clock.now += 10

    assert slack.texts() == ["one", "two"]


async def test_the_worker_delivers_as_soon_as_something_is_queued(
    kv: KeyValue, slack: MockSlack
) -> None:
    outbox = Outbox(kv, {"slack": SlackAdapter.create("xoxb-test", slack.url, None)}, Metrics())
    worker = asyncio.create_task(outbox.run(poll_interval=5))
    try:
        await outbox.enqueue(post("a", "hello"))
        for _ in range(100):
            if slack.texts():
                break
            await asyncio.sleep(0.02)
        assert slack.texts() == ["hello"]
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def test_mentions_in_text_cannot_ping(kv: KeyValue, slack: MockSlack) -> None:
    outbox = make_outbox(kv, slack, EpochClock())
    await outbox.enqueue(post("a", "<!channel> @here is <https://evil|a link>"))
    await outbox.drain()
    text = slack.texts()[0]
    assert "<!channel>" not in text
    assert "@here" not in text
    assert "<https" not in text


async def test_the_worker_outlives_a_store_outage(slack: MockSlack) -> None:
    from bot.store import RedisKeyValue

    unreachable = RedisKeyValue.from_url("redis://127.0.0.1:1/0", "statusbot-test:away:")
    outbox = Outbox(
        unreachable, {"slack": SlackAdapter.create("xoxb-test", slack.url, None)}, Metrics()
    )
    worker = asyncio.create_task(outbox.run(poll_interval=0.05))
    try:
        await asyncio.sleep(0.3)
        assert not worker.done(), "a store outage must not end deliveries for good"
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await unreachable.close()


async def test_metrics_show_posts_queued_before_a_restart(memory_kv: KeyValue) -> None:
    """A replica that is not (yet) the leader still reports what waits in the outbox."""
    from bot.runtime import Runtime
    from bot.settings import Settings
    from handlers.console.adapter import ConsoleAdapter
    from tests.support.builders import make_config

    await Outbox(memory_kv, {}, Metrics()).enqueue(
        Delivery(lane="a", platform="console", channel="alerts", message=Message(text="queued"))
    )
    await memory_kv.set("leader", "another-replica", px=60_000)
    settings = Settings(_env_file=None, host="127.0.0.1", port=0)  # type: ignore[call-arg]
    runtime = Runtime(
        settings, make_config(), adapters={"console": ConsoleAdapter(io.StringIO())}, kv=memory_kv
    )
    await runtime.start()
    try:
        async with httpx.AsyncClient() as http:
            scraped = (await http.get(f"http://127.0.0.1:{runtime.port}/metrics")).text
        assert "statusbot_outbox_depth 1.0" in scraped
    finally:
        await runtime.stop()


async def test_a_post_whose_answer_was_lost_is_not_posted_again(
    kv: KeyValue, slack: MockSlack
) -> None:
    """Slack carried out chat.postMessage but its answer came after the client gave up: the
    retry finds the post by the delivery ID in its metadata instead of posting a copy."""
    clock = EpochClock()
    adapter = SlackAdapter.create("xoxb-test", slack.url, None, timeout=0.3)
    outbox = Outbox(kv, {"slack": adapter}, Metrics(), clock=clock)
    slack.slow_next("chat.postMessage", 1.0)
    await outbox.enqueue(post("a", "root", ref="outage:1"))
    await outbox.enqueue(
        Delivery(
            lane="a",
            platform="slack",
            channel="C1",
            message=Message(text="reply"),
            op="reply",
            thread_ref="outage:1",
        )
    )
    await outbox.drain()
    assert len(slack.posts()) == 1, "Slack has it, though nobody heard so"
    clock.now += 5
    await outbox.drain()
    assert slack.texts() == ["root", "reply"]
    root_ts = slack.posts()[0].result["ts"]
    assert await outbox.message_id("outage:1", "slack", "C1") == root_ts
    assert slack.posts()[1].args["thread_ts"] == root_ts
    assert slack.posts()[0].args["metadata"]["event_type"] == "statusbot_delivery"

    # A reply whose answer is lost twice is still in the thread once.
    slack.slow_next("chat.postMessage", 1.0, times=2)
    await outbox.enqueue(
        Delivery(
            lane="a",
            platform="slack",
            channel="C1",
            message=Message(text="again"),
            op="reply",
            thread_ref="outage:1",
        )
    )
    for _ in range(3):
        await outbox.drain()
        clock.now += 60
    assert slack.texts().count("again") == 1
    assert await outbox.depth() == 0
    await adapter.aclose()
