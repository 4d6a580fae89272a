"""Adaptive Cards 1.4: how a platform-neutral message looks in Teams.

Text people or probes wrote is shown as text: Teams renders a Markdown subset in TextBlocks, so
its markup characters are escaped, and a mention is only ever made from our own mention marker.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    Fact,
    FactSet,
    OpenUrlAction,
    SubmitAction,
    TextBlock,
)
from microsoft_teams.cards.core import TextColor

from bot.chat.message import MENTION, Message, Tone

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Buttons: real ones where the bot hears the click; links where it cannot (webhooks).
Buttons = Literal["submit", "links"]

_MARKDOWN = re.compile(r"([\\`*_\[\]~<>])")  # emphasis, code, links, tags
_COLOUR: dict[Tone, TextColor] = {
    "alert": "Attention",
    "warning": "Warning",
    "recovered": "Good",
    "resolved": "Good",
    "incident": "Attention",
    "draft": "Accent",
}
_MAX_TEXT = 20_000  # keeps a card well within the 28 KB Teams accepts per message


def escape_markdown(text: str) -> str:
    """Make text inert in a TextBlock: no links, emphasis or headings from user input."""
    return _MARKDOWN.sub(r"\\\1", text)


def render_card(
    message: Message, *, buttons: Buttons, links: dict[str, str] | None = None
) -> dict[str, Any]:
    """The card for a message. `links`: label → URL, shown as Action.OpenUrl buttons."""
    mentions: dict[str, str] = {}
    body: list[CardElement] = []
    if message.follows:
        body.append(_text(f"Follows: {_inline(message.follows, mentions)}", subtle=True))
    heading = message.title or message.text
    body.append(
        TextBlock(
            text=_inline(heading, mentions),
            weight="Bolder",
            size="Medium",
            color=_COLOUR.get(message.tone),
            wrap=True,
        )
    )
    if message.title and message.text != message.title:
        body.append(_text(_inline(message.text, mentions)))
    lines = _text("\n\n".join(_inline(line, mentions) for line in message.lines))
    facts = FactSet(facts=[Fact(title=k, value=_inline(v, mentions)) for k, v in message.fields])
    parts: list[CardElement] = []
    if message.lines:
        parts.append(lines)
    if message.fields:
        parts.insert(0 if message.fields_first else len(parts), facts)
    body.extend(parts)
    if message.attachment:
        name, document = message.attachment
        body.append(_text(escape_markdown(name), subtle=True))
        body.append(
            TextBlock(text=escape_markdown(document)[:_MAX_TEXT], wrap=True, font_type="Monospace")
        )
    if message.context:
        body.append(_text(_inline(message.context, mentions), subtle=True))
    actions: list[Action] = []
    if buttons == "submit":
        actions += [
            SubmitAction(title=a.label, data={"action": a.action_id, "value": a.value})
            for a in message.actions
        ]
    actions += [OpenUrlAction(title=label, url=url) for label, url in (links or {}).items()]
    card = AdaptiveCard(version="1.4", body=body, actions=actions or None)
    content = card.model_dump(by_alias=True, exclude_none=True)
    content["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json"
    if mentions:
        content["msteams"] = {
            "entities": [
                {
                    "type": "mention",
                    "text": f"<at>{user}</at>",
                    "mentioned": {"id": user, "name": user},
                }
                for user in mentions
            ]
        }
    return content


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": content}


def _text(text: str, *, subtle: bool = False) -> TextBlock:
    return TextBlock(
        text=text[:_MAX_TEXT], wrap=True, is_subtle=subtle or None, size="Small" if subtle else None
    )


def _inline(text: str, mentions: dict[str, str]) -> str:
    """Escaped text, our mention markers turned into Teams' `<at>` tags (recorded for entities)."""
    out, last = [], 0
    for match in MENTION.finditer(text):
        out.append(escape_markdown(text[last : match.start()]))
        user = match.group(1)
        mentions[user] = user
        out.append(f"<at>{user}</at>")
        last = match.end()
    out.append(escape_markdown(text[last:]))
    return "".join(out)
