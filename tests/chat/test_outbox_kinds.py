"""Deliveries of other kinds than chat posts: the registered Sender delivers them with the same
lanes, order, retries and set-aside as chat posts."""

from __future__ import annotations

from bot.chat.adapter import DeliveryError
from bot.chat.message import Message
from bot.chat.outbox import Delivery, Outbox
from bot.metrics import Metrics
from bot.store.keyvalue import KeyValue
from tests.support.builders import EpochClock


class Recorder:
    """A sender that fails as told, then records what it delivered."""

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.failures: list[DeliveryError] = []

    async def send(self, delivery: Delivery) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(delivery.payload["n"])


def item(lane: str, n: str, kind: str = "note") -> Delivery:
    return Delivery(
        lane=lane,
        kind=kind,
        platform=kind,
        channel="somewhere",
        message=Message(text=f"note {n}"),
        payload={"n": n},
    )


async def test_a_kind_is_delivered_by_its_sender_in_order_with_retries(kv: KeyValue) -> None:
    clock = EpochClock()
    outbox = Outbox(kv, {}, Metrics(), clock=clock)
    sender = Recorder()
    outbox.register("note", sender)
    sender.failures = [DeliveryError("busy", retry_after=30)]
    for n in ("1", "2"):
        await outbox.enqueue(item("a", n))
    await outbox.enqueue(item("b", "3"))

    await outbox.drain()
    assert sender.delivered == ["3"]  # lane a waits for its head
    clock.now += 10
    await outbox.drain()
    assert sender.delivered == ["3"]  # Retry-After: 30
    clock.now += 25
    await outbox.drain()
    assert sender.delivered == ["3", "1", "2"]
    assert await outbox.depth() == 0


async def test_permanent_failures_and_unknown_kinds_are_set_aside(kv: KeyValue) -> None:
    outbox = Outbox(kv, {}, Metrics(), clock=EpochClock())
    sender = Recorder()
    outbox.register("note", sender)
    sender.failures = [DeliveryError("no such mailbox", permanent=True)]
    await outbox.enqueue(item("a", "1"))
    await outbox.enqueue(item("a", "2"))
    await outbox.enqueue(item("a", "3", kind="pigeon"))

    await outbox.drain()

    assert sender.delivered == ["2"]
    dead = await outbox.dead_letters()
    assert sorted((d.kind, d.last_error) for d in dead) == [
        ("note", "no such mailbox"),
        ("pigeon", "nothing delivers pigeon here"),
    ]
