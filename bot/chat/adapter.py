"""The one interface every chat platform implements, what each can do, and how delivery fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.chat.message import Message


@dataclass(frozen=True)
class Capabilities:
    """What a platform can do with a post. The outbox and the domain ask these, never a name.

    Without threads a reply becomes a new post that names what it follows; without edits a
    change is posted anew (or left out where a reply already says it).
    """

    threads: bool = False
    edits: bool = False
    files: bool = False  # attachments (post-mortems) as files rather than inline text
    buttons: bool = False  # interactive actions that come back to the bot
    mentions: bool = False  # a mention notifies the person


class DeliveryError(Exception):
    """A post could not be delivered now.

    Transient errors (rate limits, 5xx, network) are retried by the outbox, waiting at least
    `retry_after` seconds when the platform said so; permanent ones (unknown channel, bad token)
    are set aside, since retrying cannot fix them.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        uncertain: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        # The request went out but no answer came back: the platform may have the post.
        self.uncertain = uncertain


class ChatAdapter(Protocol):
    """Renders platform-neutral messages and delivers them to one platform."""

    @property
    def platform(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def destination_key(self) -> str | None:
        """Which key of a `channels.<kind>` entry names this platform's channel (`slack`,
        `teams`); None: every kind, the kind's name being the channel (the console)."""
        ...

    async def post(
        self,
        channel: str,
        message: Message,
        thread: str | None = None,
        *,
        key: str | None = None,
        recheck: bool = False,
    ) -> str:
        """Post a message (in a thread when `thread` is given); return the new message's ID.

        `key` names this delivery for good; `recheck` says an earlier attempt may have arrived
        (it timed out after sending): a platform that can find a post by its key returns the
        one it has instead of posting it twice."""
        ...

    async def update(self, channel: str, message_id: str, message: Message) -> None:
        """Replace a message the bot posted earlier (only asked of platforms with edits)."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ChannelCreator(Protocol):
    """A platform that can give an incident a channel of its own."""

    platform: str

    async def create_incident_channel(self, name: str, topic: str, members: list[str]) -> str:
        """Create (or reuse) a channel, set its topic, invite members; return its ID."""
        ...


@runtime_checkable
class GroupDirectory(Protocol):
    """A platform whose role entries may name groups of people (Slack's user groups)."""

    def is_group(self, entry: str) -> bool:
        """Whether a `roles` entry names a group of this platform rather than a person."""
        ...

    async def group_members(self, group_id: str) -> set[str]: ...
