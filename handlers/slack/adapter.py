"""Slack delivery: posts, updates, files and channels through the Web API (slack_sdk)."""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.adapter import Capabilities, DeliveryError
from bot.chat.message import Message
from handlers.slack.blocks import escape_mrkdwn, render_blocks

# Every post carries its delivery ID in message metadata, so one whose answer was lost can be
# found again instead of being posted twice.
_DELIVERY_EVENT = "statusbot_delivery"

# Slack errors worth retrying; anything else (channel_not_found, invalid_auth...) will not heal.
_TRANSIENT_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}


class SlackAdapter:
    platform = "slack"
    destination_key = "slack"
    capabilities = Capabilities(threads=True, edits=True, files=True, buttons=True, mentions=True)

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    @classmethod
    def create(
        cls,
        token: str,
        base_url: str,
        ssl_context: ssl.SSLContext | None,
        *,
        timeout: float = 10,
    ) -> SlackAdapter:
        if not base_url.endswith("/"):
            base_url += "/"
        # The outbox owns retries (ordered, persistent), so the SDK's own retry handlers are off.
        client = AsyncWebClient(
            token=token,
            base_url=base_url,
            ssl=ssl_context,
            retry_handlers=[],
            timeout=timeout,  # type: ignore[arg-type]  # typed int; aiohttp takes float seconds
        )
        return cls(client)

    async def post(
        self,
        channel: str,
        message: Message,
        thread: str | None = None,
        *,
        key: str | None = None,
        recheck: bool = False,
    ) -> str:
        if key and recheck:
            landed = await self._find(channel, key, thread)
            if landed is not None:
                return landed  # the timed-out attempt did arrive: not again
        kwargs: dict[str, Any] = {}
        if key:
            kwargs["metadata"] = {"event_type": _DELIVERY_EVENT, "event_payload": {"id": key}}
        if thread:
            kwargs["thread_ts"] = thread
            if message.broadcast:
                kwargs["reply_broadcast"] = True
        if message.attachment is not None:
            return await self._upload(channel, message, thread)
        response = await self._call(
            "chat.postMessage",
            channel=channel,
            text=escape_mrkdwn(message.text),
            blocks=render_blocks(message),
            unfurl_links=False,
            unfurl_media=False,
            **kwargs,
        )
        return str(response["ts"])

    async def _find(self, channel: str, key: str, thread: str | None) -> str | None:
        """The message this bot posted under a delivery key, among the channel's (or the
        thread's) latest, if it is there."""
        if thread:
            found = await self._call(
                "conversations.replies",
                channel=channel,
                ts=thread,
                include_all_metadata=True,
                limit=200,
            )
        else:
            found = await self._call(
                "conversations.history", channel=channel, include_all_metadata=True, limit=100
            )
        for posted in found.get("messages") or []:
            metadata = posted.get("metadata") or {}
            if metadata.get("event_type") == _DELIVERY_EVENT and (
                (metadata.get("event_payload") or {}).get("id") == key
            ):
                return str(posted["ts"])
        return None

    async def create_incident_channel(self, name: str, topic: str, members: list[str]) -> str:
        for attempt in range(5):
            candidate = name if attempt == 0 else f"{name}-{attempt + 1}"
            try:
                response = await self._call("conversations.create", name=candidate[:80])
            except DeliveryError as exc:
                if "name_taken" in exc.reason:
                    continue
                raise
            channel = str(response["channel"]["id"])
            break
        else:
            raise DeliveryError(f"every channel name like {name} is taken", permanent=True)
        topic = escape_mrkdwn(topic)[:250]  # people's titles: no pings, links or markup
        await self._call("conversations.setTopic", channel=channel, topic=topic)
        if members:
            await self._call("conversations.invite", channel=channel, users=",".join(members))
        return channel

    def is_group(self, entry: str) -> bool:
        return entry.startswith("S")  # user-group IDs start with S, users' with U or W

    async def group_members(self, group_id: str) -> set[str]:
        response = await self._call("usergroups.users.list", usergroup=group_id)
        return set(response.get("users", []))

    async def update(self, channel: str, message_id: str, message: Message) -> None:
        await self._call(
            "chat.update",
            channel=channel,
            ts=message_id,
            text=escape_mrkdwn(message.text),
            blocks=render_blocks(message),
        )

    async def aclose(self) -> None:
        session = self.client.session
        if session is not None and not session.closed:
            await session.close()

    async def _upload(self, channel: str, message: Message, thread: str | None) -> str:
        """Attach a document (files_upload_v2: get an upload URL, send, complete)."""
        assert message.attachment is not None
        filename, content = message.attachment
        try:
            response = await self.client.files_upload_v2(
                channel=channel,
                filename=filename,
                title=filename,
                content=content,
                initial_comment=escape_mrkdwn(message.text),
                thread_ts=thread,
            )
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"files.upload: {type(exc).__name__}: {exc}") from exc
        files = response.get("files") or [{}]
        return str(files[0].get("id", ""))

    async def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return await self.client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (TimeoutError, aiohttp.ServerDisconnectedError) as exc:
            # Sent, but no answer: Slack may well have it (it is looked for before a retry).
            raise DeliveryError(
                f"{method}: no answer ({type(exc).__name__})", uncertain=True
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(f"{method}: {type(exc).__name__}: {exc}") from exc


def _delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    status = response.status_code
    error = str(response.get("error", "")) if isinstance(response.data, dict) else ""
    retry_after = _retry_after(response.headers)
    if status == 429 or error == "ratelimited":
        return DeliveryError("rate limited", retry_after=retry_after or 1.0)
    if status >= 500 or error in _TRANSIENT_ERRORS:
        return DeliveryError(f"Slack answered {status} {error}".strip(), retry_after=retry_after)
    return DeliveryError(f"Slack refused the post: {error or status}", permanent=True)


def _retry_after(headers: Any) -> float | None:
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name) if headers else None
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            try:
                return float(value)
            except ValueError:
                return None
    return None
