"""Teams Workflows webhooks: Adaptive Card posts, nothing more (no threads, edits or clicks).

A follow-up is a new post that names what it follows; buttons become links. Teams throttles
with HTTP 429 (and, on the legacy connector, with an HTTP 200 whose body reports a 429): both
are retried by the outbox, as are 5xx answers and network errors.
"""

from __future__ import annotations

import ssl
import uuid

import httpx

from bot.chat.adapter import Capabilities, DeliveryError
from bot.chat.message import Message
from handlers.teams.cards import CARD_CONTENT_TYPE, render_card

_TIMEOUT = httpx.Timeout(10.0)


class TeamsWebhookAdapter:
    platform = "teams-webhook"
    destination_key = "teams"
    capabilities = Capabilities()

    def __init__(self, ssl_context: ssl.SSLContext, public_url: str) -> None:
        self._http = httpx.AsyncClient(verify=ssl_context, timeout=_TIMEOUT)
        self._links = {"Status page": public_url.rstrip("/") + "/"}

    async def post(
        self,
        channel: str,
        message: Message,
        thread: str | None = None,
        *,
        key: str | None = None,
        recheck: bool = False,
    ) -> str:
        payload = {
            "type": "message",
            "summary": message.text,
            "attachments": [
                {
                    "contentType": CARD_CONTENT_TYPE,
                    "content": render_card(message, buttons="links", links=self._links),
                }
            ],
        }
        try:
            response = await self._http.post(channel, json=payload)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Teams webhook: {type(exc).__name__}: {exc}") from exc
        _raise_for(response)
        # A webhook gives the post no ID; ours names it in logs and in the outbox's refs.
        return uuid.uuid4().hex

    async def update(self, channel: str, message_id: str, message: Message) -> None:
        raise DeliveryError("Teams webhooks cannot edit posts", permanent=True)

    async def aclose(self) -> None:
        await self._http.aclose()


def _raise_for(response: httpx.Response) -> None:
    status = response.status_code
    retry_after = _seconds(response.headers.get("Retry-After"))
    if status == 429 or (status < 300 and "429" in response.text[:500]):
        raise DeliveryError("Teams webhook: rate limited", retry_after=retry_after or 1.0)
    if status >= 500 or status == 408:
        raise DeliveryError(f"Teams webhook answered {status}", retry_after=retry_after)
    if status >= 300:
        raise DeliveryError(
            f"Teams webhook refused the post: HTTP {status} {response.text[:200]}", permanent=True
        )


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
