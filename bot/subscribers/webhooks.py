"""Webhook subscribers (config `subscribers.webhooks`): one signed JSON POST per published
statement, through the outbox.

The body is the incident in summary.json's shape (rendered by the status page's own code, so
the shapes cannot drift) with the page and a `meta` block. It is rendered once, when the
statement is published, and kept in the delivery, so every retry sends the same bytes with the
same `X-Statusbot-Delivery` ID: a receiver that got it twice can tell. The signature is
`X-Statusbot-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>`; the secret
stays in the config and never enters the store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import ssl
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from bot.chat.adapter import DeliveryError
from bot.chat.message import Message
from bot.chat.outbox import Delivery
from bot.config import WebhookSubscriber
from bot.metrics import Metrics
from bot.statements.models import Statement
from bot.statuspage.public import StatusPage
from bot.statuspage.summary import iso, render_incident_event

log = logging.getLogger(__name__)

KIND = "webhook"
EVENT = "statement.published"
SIGNATURE_HEADER = "X-Statusbot-Signature"
DELIVERY_HEADER = "X-Statusbot-Delivery"
EVENT_HEADER = "X-Statusbot-Event"
_TIMEOUT = httpx.Timeout(10.0)
_MAX_RETRY_AFTER_S = 3600.0


def signature(body: bytes, secret: str) -> str:
    """`sha256=<hex>`: what receivers compute from the raw body with their secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_key(url: str) -> str:
    """Names a webhook in the store and the outbox without its URL (which may hold a token)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


class WebhookSender:
    """Queues and delivers the POSTs of every configured webhook."""

    def __init__(
        self,
        webhooks: list[WebhookSubscriber],
        page: StatusPage,
        metrics: Metrics,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._webhooks = {webhook_key(w.url): w for w in webhooks}
        self._page = page
        self._metrics = metrics
        # Only where webhooks are configured: most processes never post one.
        self._http = (
            httpx.AsyncClient(verify=ssl_context or True, timeout=_TIMEOUT, follow_redirects=False)
            if webhooks
            else None
        )

    async def deliveries(self, statement: Statement) -> list[Delivery]:
        """One delivery per webhook for a statement just published (none when customers
        cannot see what it is about)."""
        if not self._webhooks:
            return []
        language = self._page.config.languages[0]
        status = await self._page.status(language, history=False)
        event = render_incident_event(
            status,
            self._page.public_url,
            self._page.config.timezone,
            incident=statement.incident,
            maintenance=statement.maintenance,
        )
        if event is None:
            log.warning("statement %s is not on the public page: no webhook", statement.id)
            return []
        found = []
        for key, webhook in self._webhooks.items():
            delivery_id = uuid.uuid4().hex
            meta = {
                "event": EVENT,
                "delivery_id": delivery_id,
                "statement_id": statement.id,
                "language": language,
                "generated_at": iso(datetime.now(UTC)),
            }
            body = json.dumps({**event, "meta": meta}, ensure_ascii=False, separators=(",", ":"))
            found.append(
                Delivery(
                    id=delivery_id,
                    lane=f"webhook:{key}",
                    kind=KIND,
                    platform=KIND,
                    channel=_host(webhook.url),
                    message=Message(text=f"statement {statement.id} ({statement.subject})"),
                    payload={"webhook": key, "body": body},
                )
            )
        return found

    async def send(self, delivery: Delivery) -> None:
        webhook = self._webhooks.get(delivery.payload.get("webhook", ""))
        if webhook is None or self._http is None:
            raise DeliveryError("this webhook is no longer configured", permanent=True)
        body = delivery.payload["body"].encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "statusbot",
            SIGNATURE_HEADER: signature(body, webhook.secret.get_secret_value()),
            DELIVERY_HEADER: delivery.id,
            EVENT_HEADER: EVENT,
        }
        host = _host(webhook.url)
        try:
            response = await self._http.post(webhook.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self._metrics.webhook_deliveries.labels("failed").inc()
            # A timeout after sending may have arrived: receivers de-duplicate by the ID.
            raise DeliveryError(f"webhook {host}: {type(exc).__name__}") from None
        status = response.status_code
        if status < 300:
            self._metrics.webhook_deliveries.labels("delivered").inc()
            return
        self._metrics.webhook_deliveries.labels("failed").inc()
        if status in (408, 429) or status >= 500:
            raise DeliveryError(
                f"webhook {host} answered HTTP {status}",
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
        # Another 4xx (or a redirect, which is not followed): asking again changes nothing.
        raise DeliveryError(f"webhook {host} refused the delivery: HTTP {status}", permanent=True)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _host(url: str) -> str:
    return urlsplit(url).hostname or "?"


def _retry_after(value: str | None) -> float | None:
    """Seconds, or an HTTP date, as Retry-After may be written; bounded."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_S)
