"""A platform-neutral chat message: what the domain says, before Slack or Teams renders it."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

# What a post means, for each platform to show in its own way (an emoji, a colour, an icon).
Tone = Literal["alert", "warning", "recovered", "incident", "resolved", "draft", "info"]


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
    tone: Tone = "info"
    # The one-line text of the post this one follows, where the platform cannot thread or
    # edit (set by the outbox): the reader sees what it is about, not a second alert.
    follows: str | None = None

    @property
    def mentioned(self) -> list[str]:
        """The people this message mentions, in order, once each."""
        texts = [self.text, self.title or "", *self.lines, *(v for _, v in self.fields)]
        found = (m.group(1) for t in texts for m in MENTION.finditer(t))
        return list(dict.fromkeys(found))


# A user mention inside message text. Domain code writes `mention(user)`; each adapter turns it
# into its own markup *after* escaping, so mentions survive while user-typed markup cannot.
_MENTION_OPEN, _MENTION_CLOSE = "\ue000", "\ue001"
MENTION = re.compile(f"{_MENTION_OPEN}([A-Za-z0-9_.:-]+){_MENTION_CLOSE}")


def mention(user_id: str) -> str:
    return f"{_MENTION_OPEN}{user_id}{_MENTION_CLOSE}"


# Control characters (but tab and newline) and invisible format characters: nothing a person
# means to type, and nothing that should reach a page, a feed or a channel.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def clean_user_text(text: str) -> str:
    """Text people typed, made safe to show: no mention markers of ours (nobody can forge one),
    no control or invisible characters (a title of only a zero-width space is empty)."""
    return _UNWANTED.sub("", text.replace(_MENTION_OPEN, "").replace(_MENTION_CLOSE, ""))
