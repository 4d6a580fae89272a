"""The one interface every chat platform implements, and how delivery failures are reported."""

from __future__ import annotations

from typing import Protocol

from bot.chat.message import Message


class DeliveryError(Exception):
    """A post could not be delivered now.

    Transient errors (rate limits, 5xx, network) are retried by the outbox, waiting at least
    `retry_after` seconds when the platform said so; permanent ones (unknown channel, bad token)
    are set aside, since retrying cannot fix them.
    """

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class ChatAdapter(Protocol):
    """Renders platform-neutral messages and delivers them to one platform."""

    platform: str

    async def post(self, channel: str, message: Message, thread: str | None = None) -> str:
        """Post a message (in a thread when `thread` is given); return the new message's ID."""
        ...

    async def update(self, channel: str, message_id: str, message: Message) -> None:
        """Replace a message the bot posted earlier."""
        ...

    async def aclose(self) -> None: ...


class ChannelCreator(Protocol):
    """A platform that can give an incident a channel of its own."""

    platform: str

    async def create_incident_channel(self, name: str, topic: str, members: list[str]) -> str:
        """Create (or reuse) a channel, set its topic, invite members; return its ID."""
        ...
