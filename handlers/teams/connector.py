"""The bot in Teams channels: posts, thread replies and card updates through the Bot Connector.

The Bot Connector's address comes with every activity Teams sends; it is kept in the store, so a
restarted or another replica posts to the same one. Until the first activity, TEAMS_SERVICE_URL.
"""

from __future__ import annotations

import contextlib
import ssl
from typing import Any

import httpx
from microsoft_teams.api import ApiClient
from microsoft_teams.api.activities.message.message import MessageActivityInput
from microsoft_teams.api.models.attachment.attachment import Attachment
from microsoft_teams.common import Client, ClientOptions

from bot.chat.adapter import Capabilities, DeliveryError
from bot.chat.message import Message
from bot.store import UNAVAILABLE
from bot.store.keyvalue import KeyValue
from handlers.teams.cards import CARD_CONTENT_TYPE, render_card
from handlers.teams.token import BotToken

_SERVICE_URL = "teams:service-url"


class ServiceUrl:
    """Where the Bot Connector is: the last address Teams gave us, else the configured one."""

    def __init__(self, kv: KeyValue, default: str) -> None:
        self._kv = kv
        self._default = default.rstrip("/")
        self._known: str | None = None

    async def get(self) -> str:
        if self._known is None:
            with contextlib.suppress(*UNAVAILABLE):  # the configured one, while the store is away
                self._known = await self._kv.get(_SERVICE_URL)
        return self._known or self._default

    async def remember(self, url: str) -> None:
        url = url.rstrip("/")
        if url and url != self._known:
            await self._kv.set(_SERVICE_URL, url)
            self._known = url


class TeamsBotAdapter:
    platform = "teams"
    destination_key = "teams_channel"
    capabilities = Capabilities(threads=True, edits=True, buttons=True, mentions=True)

    def __init__(self, token: BotToken, service_url: ServiceUrl, ssl_context: ssl.SSLContext):
        self.token = token
        self.service_url = service_url
        self._http = httpx.AsyncClient(verify=ssl_context, timeout=httpx.Timeout(15.0))
        client = Client(ClientOptions(token=token), _http=self._http)
        self._api = ApiClient("https://smba.trafficmanager.net/teams", client)

    async def post(
        self,
        channel: str,
        message: Message,
        thread: str | None = None,
        *,
        key: str | None = None,
        recheck: bool = False,
    ) -> str:
        conversation = f"{channel};messageid={thread}" if thread else channel
        return await self.send(conversation, message)

    async def update(self, channel: str, message_id: str, message: Message) -> None:
        activity = _activity(message)
        service_url = await self.service_url.get()
        await self._call(
            self._api.conversations.update_activity(
                channel, message_id, activity, service_url=service_url
            )
        )

    async def send(
        self, conversation: str, message: Message, *, extra: dict[str, Any] | None = None
    ) -> str:
        """Post into a conversation (a channel, a channel's thread, a personal chat)."""
        activity = _activity(message, extra)
        service_url = await self.service_url.get()
        sent = await self._call(
            self._api.conversations.create_activity(conversation, activity, service_url=service_url)
        )
        return str(sent.id)

    async def send_card(
        self,
        conversation: str,
        card: dict[str, Any],
        summary: str,
        *,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Post a prepared card (a form) into a conversation."""
        activity = _card_activity(card, summary, extra)
        service_url = await self.service_url.get()
        sent = await self._call(
            self._api.conversations.create_activity(conversation, activity, service_url=service_url)
        )
        return str(sent.id)

    async def aclose(self) -> None:
        await self._http.aclose()
        await self.token.aclose()

    async def _call(self, request: Any) -> Any:
        try:
            return await request
        except httpx.HTTPStatusError as exc:
            raise self._delivery_error(exc.response) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Bot Connector: {type(exc).__name__}: {exc}") from exc

    def _delivery_error(self, response: httpx.Response) -> DeliveryError:
        status = response.status_code
        retry_after = _seconds(response.headers.get("Retry-After"))
        if status == 429:
            return DeliveryError("Bot Connector: rate limited", retry_after=retry_after or 1.0)
        if status == 401:
            self.token.forget()  # expired or revoked: a fresh one may well work
            return DeliveryError("Bot Connector refused the bot's token (401)")
        if status >= 500 or status == 408:
            return DeliveryError(f"Bot Connector answered {status}", retry_after=retry_after)
        return DeliveryError(
            f"Bot Connector refused the post: HTTP {status} {response.text[:200]}", permanent=True
        )


def _card_activity(
    card: dict[str, Any], summary: str, extra: dict[str, Any] | None = None
) -> MessageActivityInput:
    # `summary` (the notification's one line) and `replyToId` are not declared fields of the
    # SDK's input model; it keeps undeclared fields as they are written.
    fields = {"type": "message", "summary": summary, **(extra or {})}
    activity = MessageActivityInput.model_validate(fields)
    return activity.add_attachments(Attachment(content_type=CARD_CONTENT_TYPE, content=card))


def _activity(message: Message, extra: dict[str, Any] | None = None) -> MessageActivityInput:
    return _card_activity(render_card(message, buttons="submit"), message.text, extra)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
