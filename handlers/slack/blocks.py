"""Block Kit: how a platform-neutral message looks in Slack, within Slack's limits."""

from __future__ import annotations

import re
from typing import Any

from bot.chat.message import MENTION, Message, Tone

_BROADCAST_MENTION = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_MAX_FIELDS = 10  # Block Kit's limits: fields per section, characters per text and per field
_MAX_TEXT = 3000
_MAX_FIELD = 2000
_MAX_BLOCKS = 50
_EMOJI: dict[Tone, str] = {
    "alert": ":red_circle:",
    "warning": ":warning:",
    "recovered": ":large_green_circle:",
    "incident": ":rotating_light:",
    "resolved": ":white_check_mark:",
    "draft": ":memo:",
}


def escape_mrkdwn(text: str) -> str:
    """Make user or probe text inert: no `<!channel>`-style pings, no links, no broken markup."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A zero-width joiner keeps "@here" readable but stops it from ever becoming a mention.
    text = _BROADCAST_MENTION.sub(lambda m: "@\u2060" + m.group(1), text)
    return MENTION.sub(lambda m: f"<@{m.group(1)}>", text)


def render_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if not message.title:
        # With blocks present Slack shows only them: the one-line text must be one of them.
        blocks.append(_section(escape_mrkdwn(message.text)))
    if message.title:
        title = escape_mrkdwn(message.title)
        emoji = f"{_EMOJI[message.tone]} " if message.tone in _EMOJI else ""
        blocks.append(_section(f"{emoji}*{title}*"))
    lines = _line_sections(message.lines)
    fields = _field_sections(message.fields)
    blocks.extend([*fields, *lines] if message.fields_first else [*lines, *fields])
    if message.actions:
        buttons: list[dict[str, Any]] = []
        for action in message.actions:
            button: dict[str, Any] = {
                "type": "button",
                "action_id": action.action_id,
                "text": {"type": "plain_text", "text": action.label, "emoji": True},
                "value": action.value,
            }
            if action.style:
                button["style"] = action.style
            buttons.append(button)
        blocks.append({"type": "actions", "elements": buttons})
    if message.context:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": escape_mrkdwn(message.context)}],
            }
        )
    # Keep the actions and context of a very long message: trim the middle, not the end.
    if len(blocks) > _MAX_BLOCKS:
        blocks = blocks[: _MAX_BLOCKS - 2] + blocks[-2:]
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:_MAX_TEXT]}}


def _line_sections(lines: tuple[str, ...]) -> list[dict[str, Any]]:
    """Lines as sections of at most 3,000 characters each (Block Kit's limit per text)."""
    sections: list[dict[str, Any]] = []
    chunk: list[str] = []
    size = 0
    for line in (escape_mrkdwn(line)[:_MAX_TEXT] for line in lines):
        if chunk and size + len(line) + 1 > _MAX_TEXT:
            sections.append(_section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        sections.append(_section("\n".join(chunk)))
    return sections


def _field_sections(fields: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{escape_mrkdwn(k)}*\n{escape_mrkdwn(v)}"[:_MAX_FIELD]}
                for k, v in fields[start : start + _MAX_FIELDS]
            ],
        }
        for start in range(0, len(fields), _MAX_FIELDS)
    ]
