"""Outbox senders: deliveries that are not chat posts get the same lanes, retries and set-aside,
and the poster never fans a chat post out to them."""

from __future__ import annotations

from bot.chat.adapter import DeliveryError
from bot.chat.message import Message
from bot.chat.outbox import Delivery, Outbox
from bot.chat.poster import Poster
from bot.metrics import Metrics
from bot.store.keyvalue import KeyValue
from tests.support.builders import EpochClock, make_config


class Recorder:
    """A sender that keeps what it was given, failing as told first."""

    def __init__(self, *failures: DeliveryError) -> None:
        self.sent: list[tuple[str, dict[str, object], bool]] = []
        self._failures = list(failures)

    async def send(self, delivery: Delivery) -> None:
        if self._failures:
            raise self._failures.pop(0)
        self.sent.append((delivery.lane, delivery.payload, delivery.uncertain))


def request(lane: str, n: int) -> Delivery:
    return Delivery(
        lane=lane,
        kind="mirror",
        platform="mirror",
        channel="page",
        message=Message(text=f"#{n}"),
        payload={"n": n},
    )


async def test_a_sender_delivers_in_order_and_retries_after_an_uncertain_failure(
    kv: KeyValue,
) -> None:
    clock = EpochClock()
    outbox = Outbox(kv, {}, Metrics(), clock=clock)
    sender = Recorder(DeliveryError("no answer", uncertain=True, retry_after=30))
    outbox.register("mirror", sender)
    await outbox.enqueue(request("x", 1))
    await outbox.enqueue(request("x", 2))
    await outbox.enqueue(request("y", 3))

    await outbox.drain()
    assert sender.sent == [("y", {"n": 3}, False)]  # lane x waits behind its head

    clock.now += 10
    await outbox.drain()
    assert len(sender.sent) == 1  # Retry-After is honoured

    clock.now += 30
    await outbox.drain()
    assert sender.sent[1:] == [("x", {"n": 1}, True), ("x", {"n": 2}, False)]
    assert await outbox.depth() == 0


async def test_a_permanent_failure_is_set_aside_and_the_lane_moves_on(kv: KeyValue) -> None:
    outbox = Outbox(kv, {}, Metrics(), clock=EpochClock())
    sender = Recorder(DeliveryError("HTTP 422: invalid", permanent=True))
    outbox.register("mirror", sender)
    await outbox.enqueue(request("x", 1))
    await outbox.enqueue(request("x", 2))

    await outbox.drain()

    assert [payload for _, payload, _ in sender.sent] == [{"n": 2}]
    dead = await outbox.dead_letters()
    assert [(d.payload, d.last_error) for d in dead] == [({"n": 1}, "HTTP 422: invalid")]


async def test_the_poster_does_not_fan_chat_posts_out_to_senders(kv: KeyValue) -> None:
    outbox = Outbox(kv, {}, Metrics(), clock=EpochClock())
    outbox.register("mirror", Recorder())
    poster = Poster(make_config(), outbox)
    assert poster.destinations("alerts") == []
