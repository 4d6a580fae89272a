"""Platforms that cannot thread or edit: the outbox degrades by what each adapter declares."""

from __future__ import annotations

import itertools

from bot.chat.adapter import Capabilities
from bot.chat.message import Message
from bot.chat.outbox import Outbox
from bot.chat.poster import Poster
from bot.metrics import Metrics
from bot.store.keyvalue import KeyValue
from handlers.slack.adapter import SlackAdapter
from tests.support.builders import make_config
from tests.support.slack_mock import MockSlack


class PostsOnly:
    """A platform like a Teams Workflows webhook: new posts only, no threads, no edits."""

    platform = "posts-only"
    destination_key = "teams"
    capabilities = Capabilities()

    def __init__(self) -> None:
        self.posts: list[tuple[str, Message, str | None]] = []
        self._ids = itertools.count(1)

    async def post(
        self,
        channel: str,
        message: Message,
        thread: str | None = None,
        *,
        key: str | None = None,
        recheck: bool = False,
    ) -> str:
        self.posts.append((channel, message, thread))
        return str(next(self._ids))

    async def update(self, channel: str, message_id: str, message: Message) -> None:
        raise AssertionError("a platform without edits is never asked to edit")

    async def aclose(self) -> None:
        pass


def make_poster(kv: KeyValue, slack: MockSlack, webhook: PostsOnly) -> tuple[Poster, Outbox]:
    config = make_config(
        channels={"alerts": {"slack": "C0ALERTS", "teams": "https://hooks.example/alerts"}}
    )
    adapters = {
        "slack": SlackAdapter.create("xoxb-test", slack.url, None),
        webhook.platform: webhook,
    }
    outbox = Outbox(kv, adapters, Metrics())
    return Poster(config, outbox), outbox


async def test_each_platform_gets_its_own_channel_of_the_kind(
    kv: KeyValue, slack: MockSlack
) -> None:
    webhook = PostsOnly()
    poster, _ = make_poster(kv, slack, webhook)
    assert poster.destinations("alerts") == [
        ("slack", "C0ALERTS"),
        ("posts-only", "https://hooks.example/alerts"),
    ]
    assert poster.destinations("managers") == []


async def test_replies_and_changes_name_what_they_follow_where_there_are_no_threads(
    kv: KeyValue, slack: MockSlack
) -> None:
    webhook = PostsOnly()
    poster, outbox = make_poster(kv, slack, webhook)
    alert = Message(text="Major outage: mobile app (app-api: HTTP 503)", title="Major outage")
    await poster.post("alerts", alert, lane="outage:app", ref="outage:1")
    # A card refresh that a reply also says: skipped where edits are impossible.
    await poster.update(
        "alerts",
        alert.model_copy(update={"lines": ("3 failures",)}),
        lane="outage:app",
        ref="outage:1",
        if_no_edits="skip",
    )
    await poster.reply(
        "alerts",
        Message(text="Recovered: mobile app after 4m"),
        lane="outage:app",
        thread_ref="outage:1",
    )
    # A change nobody replies about (a draft's new state): posted anew.
    await poster.update(
        "alerts", Message(text="Statement for INC-1: published"), lane="outage:app", ref="outage:1"
    )
    await outbox.drain()

    assert [(m.text, m.follows, thread) for _, m, thread in webhook.posts] == [
        ("Major outage: mobile app (app-api: HTTP 503)", None, None),
        ("Recovered: mobile app after 4m", "Major outage: mobile app (app-api: HTTP 503)", None),
        ("Statement for INC-1: published", "Major outage: mobile app (app-api: HTTP 503)", None),
    ]
    # Slack threads and edits as before: a post, an edit, a reply in the thread, an edit.
    assert [c.method for c in slack.calls] == [
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
        "chat.update",
    ]
    reply = slack.calls[2]
    assert reply.args["thread_ts"] == slack.calls[0].result["ts"]
