"""Email subscribers in the store: pending confirmations, confirmed subscribers, their
unsubscribe tokens, and the counters that rate-limit the form.

Keys (all under `subscribers:`):
- `pending:<sha256 of token>`: a confirmation waiting for its link to be opened (address,
  language); it expires with the link. Only the token's hash is kept, so reading the store does
  not give anyone a working link. Once used it is marked used (not deleted) until it expires, so
  a second click says "already confirmed" rather than "expired".
- `all`: hash, subscriber ID -> the subscriber (address, language, unsubscribe token).
- `unsubscribe`: hash, sha256 of an unsubscribe token -> subscriber ID.
- `confirmed`: sorted set of confirmed subscriber IDs (score: when they confirmed).
- `rate:<what>:<window>`: request counters that expire with their window.

Unsubscribing deletes the subscriber: nothing of the address is kept.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from pydantic import BaseModel

from bot.store.keyvalue import KeyValue

CONFIRM_WITHIN = timedelta(hours=48)

_PENDING = "subscribers:pending:"
_ALL = "subscribers:all"
_UNSUBSCRIBE = "subscribers:unsubscribe"
_CONFIRMED = "subscribers:confirmed"
_RATE = "subscribers:rate:"
_FANNED_OUT = "subscribers:fanned-out:"


class Subscriber(BaseModel):
    id: str
    address: str
    language: str
    unsubscribe_token: str
    confirmed_at: float


class PendingConfirmation(BaseModel):
    address: str
    language: str
    used_by: str | None = None  # the subscriber it confirmed, once used


def new_token() -> str:
    """A link token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SubscriberStore:
    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def add_pending(self, token: str, address: str, language: str) -> None:
        pending = PendingConfirmation(address=address, language=language)
        await self._kv.set(
            _PENDING + token_hash(token),
            pending.model_dump_json(),
            px=int(CONFIRM_WITHIN.total_seconds() * 1000),
        )

    async def pending(self, token: str) -> PendingConfirmation | None:
        raw = await self._kv.get(_PENDING + token_hash(token))
        return PendingConfirmation.model_validate_json(raw) if raw else None

    async def use_pending(self, token: str, pending: PendingConfirmation, by: str) -> bool:
        """Mark a confirmation used; False when another request used it first."""
        key = _PENDING + token_hash(token)
        raw = await self._kv.get(key)
        if raw is None or PendingConfirmation.model_validate_json(raw).used_by is not None:
            return False
        used = pending.model_copy(update={"used_by": by})
        # Compare-and-set: of two clicks at once, one confirms; the link dies with the pending
        # entry's original expiry at the latest.
        return await self._kv.set_if_equal(
            key, raw, used.model_dump_json(), px=int(CONFIRM_WITHIN.total_seconds() * 1000)
        )

    async def get(self, subscriber_id: str) -> Subscriber | None:
        raw = await self._kv.hget(_ALL, subscriber_id)
        return Subscriber.model_validate_json(raw) if raw else None

    async def confirm(self, subscriber_id: str, address: str, language: str) -> Subscriber:
        """Add a confirmed subscriber, or update the language of one who subscribed again
        (keeping the unsubscribe link of earlier mails working)."""
        existing = await self.get(subscriber_id)
        subscriber = Subscriber(
            id=subscriber_id,
            address=address,
            language=language,
            unsubscribe_token=existing.unsubscribe_token if existing else new_token(),
            confirmed_at=existing.confirmed_at if existing else time.time(),
        )
        async with self._kv.atomic():
            await self._kv.hset(_ALL, {subscriber_id: subscriber.model_dump_json()})
            await self._kv.hset(
                _UNSUBSCRIBE, {token_hash(subscriber.unsubscribe_token): subscriber_id}
            )
            await self._kv.zadd(_CONFIRMED, {subscriber_id: subscriber.confirmed_at})
        return subscriber

    async def by_unsubscribe_token(self, token: str) -> Subscriber | None:
        subscriber_id = await self._kv.hget(_UNSUBSCRIBE, token_hash(token))
        return await self.get(subscriber_id) if subscriber_id else None

    async def remove(self, subscriber: Subscriber) -> None:
        async with self._kv.atomic():
            await self._kv.zrem(_CONFIRMED, subscriber.id)
            await self._kv.hdel(_UNSUBSCRIBE, token_hash(subscriber.unsubscribe_token))
            await self._kv.hdel(_ALL, subscriber.id)

    async def confirmed_ids(self) -> list[str]:
        return [member for member, _ in await self._kv.zrangebyscore(_CONFIRMED, 0, float("inf"))]

    async def count_confirmed(self) -> int:
        return await self._kv.zcard(_CONFIRMED)

    async def within_rate(self, what: str, limit: int, window_s: int) -> bool:
        """Count one request for `what`; False when it is over `limit` in this window."""
        window = int(time.time() // window_s)
        key = f"{_RATE}{what}:{window}"
        count = await self._kv.incr(key)
        if count == 1:
            await self._kv.expire(key, window_s * 2)
        return count <= limit

    # -- which subscribers a statement was queued for (so a fan-out run again queues no one
    # twice) --------------------------------------------------------------------------------

    def fanned_out_key(self, statement_id: str) -> str:
        return _FANNED_OUT + statement_id

    async def fanned_out(self, statement_id: str) -> set[str]:
        return await self._kv.smembers(self.fanned_out_key(statement_id))
