"""A platform-neutral chat message: what the domain says, before Slack or Teams renders it."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Action(BaseModel):
    """A button. `value` carries what its handler needs (JSON, at most 2,000 characters)."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    label: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None


class Message(BaseModel):
    """One post.

    `text` is the one-line summary a person acts on from a phone's lock screen (Slack's
    notification fallback, the Teams card summary). The rest is the rich body. Every string
    here is plain text: adapters escape it for their own markup.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    title: str | None = None
    lines: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    context: str | None = None
    actions: tuple[Action, ...] = ()
    # For replies: also show the reply in the channel (recoveries).
    broadcast: bool = False
    # Show the fields before the lines (details, then a long list such as a timeline).
    fields_first: bool = False
    # A document to attach, as (file name, text): post-mortems, long reports.
    attachment: tuple[str, str] | None = None
    emoji: str | None = Field(None, description="a Slack-style :shortcode: shown before the title")


# A user mention inside message text. Domain code writes `mention(user)`; each adapter turns it
# into its own markup *after* escaping, so mentions survive while user-typed markup cannot.
_MENTION_OPEN, _MENTION_CLOSE = "\ue000", "\ue001"
MENTION = re.compile(f"{_MENTION_OPEN}([A-Za-z0-9_.:-]+){_MENTION_CLOSE}")


def mention(user_id: str) -> str:
    return f"{_MENTION_OPEN}{user_id}{_MENTION_CLOSE}"


def clean_user_text(text: str) -> str:
    """Strip our mention markers (and NULs) from text people typed, so they cannot forge one."""
    return text.replace(_MENTION_OPEN, "").replace(_MENTION_CLOSE, "").replace("\x00", "")
