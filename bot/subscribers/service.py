"""Subscriptions: double opt-in by email, and telling every subscriber (mail and webhooks) of
each published statement through the outbox.

A publication queues one delivery per webhook and one fan-out delivery; the fan-out, run by the
outbox like any delivery, queues one mail per confirmed subscriber on that subscriber's own lane
(so one bad mailbox holds up nobody else, and each subscriber's mails stay in order). Which
subscribers a statement was queued for is kept with the queued mail, in one transaction: a
fan-out interrupted and run again queues nobody twice. A mail is composed when it is sent, for
whoever is still subscribed then: unsubscribing stops mails already queued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from bot.chat.adapter import DeliveryError
from bot.chat.message import Message
from bot.chat.outbox import Delivery, Outbox
from bot.metrics import Metrics
from bot.statements.models import Statement
from bot.statements.store import StatementStore
from bot.store.keyvalue import KeyValue
from bot.subscribers.addresses import normalize_address, subscriber_id
from bot.subscribers.mail import MailComposer
from bot.subscribers.smtp import SmtpTransport
from bot.subscribers.store import SubscriberStore, new_token
from bot.subscribers.webhooks import KIND as WEBHOOK
from bot.subscribers.webhooks import WebhookSender

log = logging.getLogger(__name__)

MAIL = "email"
FAN_OUT = "email-fan-out"
_FAN_OUT_LANE = "subscribers:fan-out"
_FANNED_OUT_TTL_S = 30 * 86400
# A person cannot have more confirmation mails sent to one address than this per hour, from
# however many networks: the form cannot be used to flood someone's inbox.
_CONFIRMATIONS_PER_ADDRESS = 3
MAX_TOKEN = 128


@dataclass(frozen=True)
class Confirmation:
    outcome: Literal["confirmed", "already", "expired"]
    language: str | None


@dataclass(frozen=True)
class Mailing:
    """What email subscriptions need: how to write the mails and where to send them."""

    composer: MailComposer
    transport: SmtpTransport


class Subscriptions:
    def __init__(
        self,
        kv: KeyValue,
        outbox: Outbox,
        statements: StatementStore,
        languages: list[str],
        metrics: Metrics,
        webhooks: WebhookSender,
        mailing: Mailing | None,
    ) -> None:
        self.store = SubscriberStore(kv)
        self.languages = languages
        self.mailing = mailing
        self.webhooks = webhooks
        self._kv = kv
        self._outbox = outbox
        self._statements = statements
        self._metrics = metrics
        outbox.register(WEBHOOK, webhooks)
        if mailing is not None:
            outbox.register(FAN_OUT, _FanOut(self))
            outbox.register(MAIL, _Mailer(self, mailing))
            metrics.before_scrape.append(self.count)

    @property
    def by_email(self) -> bool:
        return self.mailing is not None

    def language(self, requested: str | None) -> str:
        wanted = (requested or "").strip().lower()
        return wanted if wanted in self.languages else self.languages[0]

    # -- the form and its links -------------------------------------------------------------

    async def subscribe(self, raw_address: str, language: str) -> None:
        """Send a confirmation link (AddressError for an address we will not write to). The
        same for a new address and a subscribed one: the answer never tells which."""
        address = normalize_address(raw_address)
        sid = subscriber_id(address)
        if not await self.store.within_rate(f"address:{sid}", _CONFIRMATIONS_PER_ADDRESS, 3600):
            log.info("subscriber %s: confirmation mails held back (too many this hour)", sid)
            return
        token = new_token()
        await self.store.add_pending(token, address, language)
        await self._outbox.enqueue(
            Delivery(
                lane=_mail_lane(sid),
                kind=MAIL,
                platform=MAIL,
                channel=sid,
                message=Message(text=f"confirmation mail to subscriber {sid}"),
                payload={"type": "confirmation", "address": address, "language": language,
                         "token": token},
            )
        )  # fmt: skip

    async def confirm(self, token: str) -> Confirmation:
        if not token or len(token) > MAX_TOKEN:
            return Confirmation("expired", None)
        pending = await self.store.pending(token)
        if pending is None:
            return Confirmation("expired", None)
        sid = subscriber_id(pending.address)
        if pending.used_by is None and await self.store.use_pending(token, pending, sid):
            await self.store.confirm(sid, pending.address, pending.language)
            log.info("subscriber %s confirmed (%s)", sid, pending.language)
            return Confirmation("confirmed", pending.language)
        # Used before (a second click, a mail scanner that opened it first).
        still = await self.store.get(pending.used_by or sid)
        return Confirmation("already" if still else "expired", pending.language)

    async def unsubscribe(self, token: str) -> str | None:
        """End a subscription; the subscriber's language, None when the link is unknown (for
        instance already used: unsubscribing twice is not an error)."""
        if not token or len(token) > MAX_TOKEN:
            return None
        subscriber = await self.store.by_unsubscribe_token(token)
        if subscriber is None:
            return None
        await self.store.remove(subscriber)
        log.info("subscriber %s unsubscribed", subscriber.id)
        return subscriber.language

    async def within_rate(self, client: str, limit: int, window_s: int) -> bool:
        return await self.store.within_rate(f"client:{client}", limit, window_s)

    async def count(self) -> None:
        self._metrics.subscribers.labels("confirmed").set(await self.store.count_confirmed())

    # -- publication --------------------------------------------------------------------------

    async def on_published(self, statement: Statement) -> None:
        """A statement was published: queue its webhooks and its mails."""
        try:
            deliveries = await self.webhooks.deliveries(statement)
        except Exception:
            # The body is rendered by the page's code; a fault there must not hold back the
            # statement's own publication (chat, page) that runs after this listener.
            log.exception("the webhook body of statement %s could not be rendered", statement.id)
            deliveries = []
        for delivery in deliveries:
            await self._outbox.enqueue(delivery)
        if self.mailing is not None:
            await self._outbox.enqueue(
                Delivery(
                    id=f"fan-out-{statement.id}",
                    lane=_FAN_OUT_LANE,
                    kind=FAN_OUT,
                    platform=FAN_OUT,
                    channel="subscribers",
                    message=Message(text=f"mail statement {statement.id} to subscribers"),
                    payload={"statement": statement.id},
                )
            )

    async def fan_out(self, statement_id: str) -> int:
        """Queue the statement's mail for every confirmed subscriber not queued yet."""
        done = await self.store.fanned_out(statement_id)
        queued = 0
        for sid in await self.store.confirmed_ids():
            if sid in done:
                continue
            async with self._kv.atomic():
                await self._outbox.enqueue(
                    Delivery(
                        id=f"{statement_id}.{sid}",
                        lane=_mail_lane(sid),
                        kind=MAIL,
                        platform=MAIL,
                        channel=sid,
                        message=Message(text=f"statement {statement_id} to subscriber {sid}"),
                        payload={"type": "statement", "statement": statement_id,
                                 "subscriber": sid},
                    )
                )  # fmt: skip
                await self._kv.sadd(self.store.fanned_out_key(statement_id), sid)
            queued += 1
        await self._kv.expire(self.store.fanned_out_key(statement_id), _FANNED_OUT_TTL_S)
        return queued

    async def mail(self, delivery: Delivery, mailing: Mailing) -> None:
        payload = delivery.payload
        kind = payload.get("type", "")
        if kind == "confirmation":
            message = mailing.composer.confirmation(
                payload["address"], payload["language"], payload["token"], delivery.id
            )
        elif kind == "statement":
            subscriber = await self.store.get(payload["subscriber"])
            if subscriber is None:
                return  # unsubscribed since it was queued
            statement = await self._statements.get(payload["statement"])
            if statement is None:
                raise DeliveryError("the statement is no longer in the store", permanent=True)
            message = mailing.composer.statement(
                subscriber.address,
                subscriber.language,
                statement,
                subscriber.unsubscribe_token,
                delivery.id,
            )
        else:
            raise DeliveryError(f"unknown kind of mail {kind!r}", permanent=True)
        try:
            await mailing.transport.send(message)
        except DeliveryError:
            self._metrics.subscriber_mails.labels(kind, "failed").inc()
            raise
        self._metrics.subscriber_mails.labels(kind, "sent").inc()


class _FanOut:
    def __init__(self, subscriptions: Subscriptions) -> None:
        self._subscriptions = subscriptions

    async def send(self, delivery: Delivery) -> None:
        await self._subscriptions.fan_out(delivery.payload["statement"])


class _Mailer:
    def __init__(self, subscriptions: Subscriptions, mailing: Mailing) -> None:
        self._subscriptions = subscriptions
        self._mailing = mailing

    async def send(self, delivery: Delivery) -> None:
        await self._subscriptions.mail(delivery, self._mailing)


def _mail_lane(sid: str) -> str:
    return f"mail:{sid}"
