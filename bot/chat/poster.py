"""Posting to a kind of channel (alerts, incidents, managers, comms) on every platform."""

from __future__ import annotations

from typing import Literal

from bot.chat.message import Message
from bot.chat.outbox import Delivery, Outbox
from bot.config import Config

ChannelKind = Literal["alerts", "incidents", "managers", "comms"]
CHANNEL_KINDS: tuple[ChannelKind, ...] = ("alerts", "incidents", "managers", "comms")


class Poster:
    """Turns "tell the alerts channel" into one queued delivery per destination."""

    def __init__(self, config: Config, outbox: Outbox) -> None:
        self._config = config
        self._outbox = outbox

    def destinations(self, kind: ChannelKind) -> list[tuple[str, str]]:
        """Each platform's channel for this kind of post (`channels.<kind>.<platform key>`)."""
        destination = getattr(self._config.channels, kind)
        found: list[tuple[str, str]] = []
        for platform, adapter in self._outbox.adapters.items():
            key = adapter.destination_key
            channel = kind if key is None else getattr(destination, key, None)
            if channel:
                found.append((platform, channel))
        return found

    async def post(
        self, kind: ChannelKind, message: Message, *, lane: str, ref: str | None = None
    ) -> None:
        await self._fan_out(kind, message, lane=lane, op="post", ref=ref)

    async def post_to(self, platform: str, channel: str, message: Message, *, lane: str) -> None:
        """Post to one specific channel (where a command was typed)."""
        await self._outbox.enqueue(
            Delivery(lane=lane, platform=platform, channel=channel, message=message)
        )

    async def ref_of(self, platform: str, channel: str, message_id: str) -> str | None:
        """The ref a message was posted under (`incident:7`), if the bot posted it."""
        return await self._outbox.ref_of(platform, channel, message_id)

    async def update(
        self,
        kind: ChannelKind,
        message: Message,
        *,
        lane: str,
        ref: str,
        if_no_edits: Literal["post", "skip"] = "post",
    ) -> None:
        """Replace what was posted under `ref`. `if_no_edits="skip"`: a reply says the same
        news, so a platform that cannot edit need not post this again."""
        await self._fan_out(kind, message, lane=lane, op="update", ref=ref, if_no_edits=if_no_edits)

    async def reply(
        self, kind: ChannelKind, message: Message, *, lane: str, thread_ref: str
    ) -> None:
        await self._fan_out(kind, message, lane=lane, op="reply", thread_ref=thread_ref)

    async def _fan_out(
        self,
        kind: ChannelKind,
        message: Message,
        *,
        lane: str,
        op: Literal["post", "update", "reply"],
        ref: str | None = None,
        thread_ref: str | None = None,
        if_no_edits: Literal["post", "skip"] = "post",
    ) -> None:
        for platform, channel in self.destinations(kind):
            await self._outbox.enqueue(
                Delivery(
                    lane=lane,
                    platform=platform,
                    channel=channel,
                    message=message,
                    op=op,
                    ref=ref,
                    thread_ref=thread_ref,
                    if_no_edits=if_no_edits,
                )
            )
