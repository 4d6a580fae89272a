"""The outbox: every outgoing post is queued in the store and delivered, in order, until it lands.

Posts are grouped in lanes (one per outage or incident): a lane is delivered strictly in order
and a failing head blocks only its own lane, retried with backoff or after the platform's
`Retry-After`. A post that starts a thread saves its message ID under a *ref*; later updates and
replies name that ref and find the ID when they are delivered, so they can be queued before the
first post has even gone out.

Platforms differ in what they can do (`Capabilities`): where one cannot thread, a reply is
posted on its own and names the post it follows; where one cannot edit, a change is posted anew,
unless the domain said a reply carries the same news (`if_no_edits="skip"`).

Chat posts are one kind of delivery. Other kinds (subscriber mail, webhooks) are delivered by
the `Sender` registered for their `kind`, with the same lanes, order, retries and set-aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from bot.chat.adapter import ChatAdapter, DeliveryError
from bot.chat.message import Message
from bot.metrics import Metrics
from bot.store.keyvalue import KeyValue

log = logging.getLogger(__name__)

_LANES = "outbox:lanes"  # sorted set: lane -> when its head may next be tried (epoch seconds)
_DEPTH = "outbox:depth"
_DEAD = "outbox:dead"
_BY_MESSAGE = "ref:by-message"
_ABOUT = "about"  # in a ref's hash: the one-line text of the post that started it
_MAX_BACKOFF = 300.0
_MAX_DEAD = 1000


CHAT = "chat"


class Delivery(BaseModel):
    """One post, update or thread reply waiting to be delivered (or, for another `kind`,
    whatever that kind's sender delivers: `platform` is then the kind, `channel` where it goes,
    `message.text` a one-line description for logs, and `payload` what the sender needs)."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    lane: str
    kind: str = CHAT
    platform: str
    channel: str
    op: Literal["post", "update", "reply"] = "post"
    message: Message
    ref: str | None = None  # post: save the message ID under this; update: the message to edit
    thread_ref: str | None = None  # reply: the ref of the thread's first message
    # update, on a platform that cannot edit: post the new version, or skip it (a reply says it)
    if_no_edits: Literal["post", "skip"] = "post"
    attempts: int = 0
    created_at: float = Field(default_factory=time.time)
    last_error: str | None = None
    uncertain: bool = False  # an attempt timed out after sending: look before posting again
    payload: dict[str, Any] = Field(default_factory=dict)  # what a sender needs


class Sender(Protocol):
    """Delivers the deliveries of one kind other than chat posts; raises DeliveryError as a chat
    adapter does (transient: retried with backoff; permanent: set aside)."""

    async def send(self, delivery: Delivery) -> None: ...


class Outbox:
    def __init__(
        self,
        kv: KeyValue,
        adapters: Mapping[str, ChatAdapter],
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.time,
        concurrency: int = 8,
    ) -> None:
        self._kv = kv
        self._adapters = adapters
        self._metrics = metrics
        self._clock = clock
        self._wake = asyncio.Event()
        self._busy: set[str] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._senders: dict[str, Sender] = {}

    def register(self, kind: str, sender: Sender) -> None:
        """Deliver deliveries of `kind` with `sender` from now on."""
        self._senders[kind] = sender

    @property
    def adapters(self) -> Mapping[str, ChatAdapter]:
        return self._adapters

    async def enqueue(self, delivery: Delivery) -> None:
        # Push before scheduling the lane: a worker that finds the lane empty re-checks
        # after removing it (see _finish_head), so no delivery is ever stranded.
        async with self._kv.atomic():  # queued, counted and scheduled, or none of it
            await self._kv.rpush(_lane_key(delivery.lane), delivery.model_dump_json())
            await self._kv.incr(_DEPTH)
            await self._kv.zadd(_LANES, {delivery.lane: self._clock()}, nx=True)
        self._wake.set()

    async def depth(self) -> int:
        return int(await self._kv.get(_DEPTH) or 0)

    async def message_id(self, ref: str, platform: str, channel: str) -> str | None:
        return await self._kv.hget(_ref_key(ref), f"{platform}:{channel}")

    async def ref_of(self, platform: str, channel: str, message_id: str) -> str | None:
        return await self._kv.hget(_BY_MESSAGE, f"{platform}:{channel}:{message_id}")

    async def dead_letters(self) -> list[Delivery]:
        return [Delivery.model_validate_json(raw) for raw in await self._kv.lrange(_DEAD, 0, -1)]

    async def run(self, poll_interval: float = 1.0) -> None:
        """Deliver until cancelled."""
        tasks: set[asyncio.Task[int]] = set()
        try:
            while True:
                self._wake.clear()
                try:
                    self._metrics.outbox_depth.set(await self.depth())
                    due = await self._due_lanes()
                except Exception as exc:
                    # The store is away: nothing is lost (the posts are in it); look again soon.
                    log.warning("the outbox cannot read the store (%s); retrying", exc)
                    due = []
                for lane in due:
                    if lane in self._busy:
                        continue
                    self._busy.add(lane)
                    task = asyncio.create_task(self._drain_lane(lane))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that lands as the event is set, and a deposed leader would keep delivering.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(poll_interval):
                        await self._wake.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> int:
        """Deliver everything due now, lane by lane; return how many were delivered (for tests)."""
        delivered = 0
        for lane in await self._due_lanes():
            delivered += await self._drain_lane(lane, track=False)
        return delivered

    async def _due_lanes(self) -> list[str]:
        due = await self._kv.zrangebyscore(_LANES, 0, self._clock(), limit=500)
        return [lane for lane, _ in due]

    async def _drain_lane(self, lane: str, track: bool = True) -> int:
        delivered = 0
        try:
            async with self._slots:
                while True:
                    raw = await self._kv.lindex(_lane_key(lane), 0)
                    if raw is None:
                        await self._forget_lane_if_empty(lane)
                        return delivered
                    delivery = Delivery.model_validate_json(raw)
                    if not await self._attempt(delivery):
                        return delivered
                    delivered += 1
        except Exception:
            # A store hiccup: leave the lane as it is; the next pass tries again.
            log.exception("outbox lane %s failed", lane)
            return delivered
        finally:
            if track:
                self._busy.discard(lane)

    async def _attempt(self, delivery: Delivery) -> bool:
        """Try the lane's head once; True when the lane may move on."""
        try:
            if delivery.kind == CHAT:
                adapter = self._adapters.get(delivery.platform)
                if adapter is None:
                    await self._set_aside(delivery, f"no {delivery.platform} adapter is configured")
                    return True
                await self._deliver(adapter, delivery)
            else:
                sender = self._senders.get(delivery.kind)
                if sender is None:
                    await self._set_aside(delivery, f"nothing delivers {delivery.kind} here")
                    return True
                await sender.send(delivery)
        except DeliveryError as exc:
            if exc.permanent:
                await self._set_aside(delivery, exc.reason)
                return True
            await self._retry_later(delivery, exc)
            return False
        await self._finish_head(delivery)
        self._metrics.outbox_delivered.labels(delivery.platform).inc()
        return True

    async def _deliver(self, adapter: ChatAdapter, delivery: Delivery) -> None:
        channel, message = delivery.channel, delivery.message
        can = adapter.capabilities
        if delivery.op == "update" and delivery.ref:
            if not can.edits:
                if delivery.if_no_edits == "skip":
                    return
                following = await self._following(message, delivery.ref)
                await adapter.post(channel, following, key=delivery.id, recheck=delivery.uncertain)
                return
            message_id = await self.message_id(delivery.ref, adapter.platform, channel)
            if message_id is not None:
                await adapter.update(channel, message_id, message)
                return
            # The original never landed (set aside): say it now rather than lose it.
        thread = None
        if delivery.op == "reply" and delivery.thread_ref:
            if can.threads:
                thread = await self.message_id(delivery.thread_ref, adapter.platform, channel)
            else:
                message = await self._following(message, delivery.thread_ref)
        message_id = await adapter.post(
            channel, message, thread=thread, key=delivery.id, recheck=delivery.uncertain
        )
        if delivery.ref and delivery.op != "reply":
            where = f"{adapter.platform}:{channel}"
            await self._kv.hset(_ref_key(delivery.ref), {where: message_id, _ABOUT: message.text})
            await self._kv.hset(_BY_MESSAGE, {f"{where}:{message_id}": delivery.ref})

    async def _following(self, message: Message, ref: str) -> Message:
        """The message marked with what it follows, for a platform that cannot thread or edit."""
        about = await self._kv.hget(_ref_key(ref), _ABOUT)
        return message.model_copy(update={"follows": about}) if about else message

    async def _finish_head(self, delivery: Delivery) -> None:
        await self._kv.lpop(_lane_key(delivery.lane))
        await self._kv.incr(_DEPTH, -1)

    async def _forget_lane_if_empty(self, lane: str) -> None:
        await self._kv.zrem(_LANES, lane)
        # An enqueue may have slipped in between the empty read and the removal.
        if await self._kv.llen(_lane_key(lane)):
            await self._kv.zadd(_LANES, {lane: self._clock()}, nx=True)

    async def _retry_later(self, delivery: Delivery, error: DeliveryError) -> None:
        attempts = delivery.attempts + 1
        backoff = min(_MAX_BACKOFF, 2.0 ** (attempts - 1)) * random.uniform(0.8, 1.2)
        delay = max(backoff, error.retry_after or 0.0)
        updated = delivery.model_copy(
            update={
                "attempts": attempts,
                "last_error": error.reason,
                "uncertain": delivery.uncertain or error.uncertain,
            }
        )
        await self._kv.lset(_lane_key(delivery.lane), 0, updated.model_dump_json())
        await self._kv.zadd(_LANES, {delivery.lane: self._clock() + delay})
        self._metrics.outbox_retries.labels(delivery.platform).inc()
        log.warning(
            "delivery to %s %s failed (%s); attempt %d, retrying in %.1fs",
            delivery.platform,
            delivery.channel,
            error.reason,
            attempts,
            delay,
        )

    async def _set_aside(self, delivery: Delivery, reason: str) -> None:
        log.error(
            "delivery to %s %s set aside: %s (%s)",
            delivery.platform,
            delivery.channel,
            reason,
            delivery.message.text,
        )
        dead = delivery.model_copy(update={"last_error": reason})
        await self._kv.lpush(_DEAD, dead.model_dump_json())
        await self._kv.ltrim(_DEAD, 0, _MAX_DEAD - 1)
        self._metrics.outbox_dead.labels(delivery.platform).inc()
        await self._finish_head(delivery)


def _lane_key(lane: str) -> str:
    return f"outbox:lane:{lane}"


def _ref_key(ref: str) -> str:
    return f"ref:{ref}"
