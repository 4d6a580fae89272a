"""Adaptive Cards 1.4: how a platform-neutral message looks in Teams.

Every text of a message (people's words and probes' among them) is shown in RichTextBlocks,
whose text runs Teams never reads as Markdown: no link, emphasis or mention can be made from
user input. Mentions come only from our own mention marker: shown as `@id` in the text, and
made real by one TextBlock of `<at>` tags with their entities.
"""

from __future__ import annotations

from typing import Any, Literal

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    OpenUrlAction,
    RichTextBlock,
    SubmitAction,
    TextBlock,
    TextRun,
)
from microsoft_teams.cards.core import TextColor

from bot.chat.message import MENTION, Message, Tone

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Buttons: real ones where the bot hears the click; links where it cannot (webhooks).
Buttons = Literal["submit", "links"]

_COLOUR: dict[Tone, TextColor] = {
    "alert": "Attention",
    "warning": "Warning",
    "recovered": "Good",
    "resolved": "Good",
    "incident": "Attention",
    "draft": "Accent",
}
_MAX_TEXT = 20_000  # keeps a card well within the 28 KB Teams accepts per message


def render_card(
    message: Message, *, buttons: Buttons, links: dict[str, str] | None = None
) -> dict[str, Any]:
    """The card for a message. `links`: label → URL, shown as Action.OpenUrl buttons."""
    mentioned = message.mentioned
    body: list[CardElement] = []
    if message.follows:
        body.append(_rich(_run(f"Follows: {message.follows}", subtle=True, size="Small")))
    heading = message.title or message.text
    body.append(
        _rich(_run(heading, weight="Bolder", size="Medium", color=_COLOUR.get(message.tone)))
    )
    if message.title and message.text != message.title:
        body.append(_rich(_run(message.text)))
    lines = [_rich(_run(line)) for line in message.lines]
    facts = [
        _rich(_run(f"{label}: ", weight="Bolder"), _run(value)) for label, value in message.fields
    ]
    body += [*facts, *lines] if message.fields_first else [*lines, *facts]
    if message.attachment:
        name, document = message.attachment
        body.append(_rich(_run(name, subtle=True, size="Small")))
        body.append(_rich(_run(document, monospace=True)))
    if message.context:
        body.append(_rich(_run(message.context, subtle=True, size="Small")))
    if mentioned:
        tags = " ".join(f"<at>{user}</at>" for user in mentioned)
        body.append(TextBlock(text=tags, wrap=True, size="Small"))
    actions: list[Action] = []
    if buttons == "submit":
        actions += [
            SubmitAction(title=a.label, data={"action": a.action_id, "value": a.value})
            for a in message.actions
        ]
    actions += [OpenUrlAction(title=label, url=url) for label, url in (links or {}).items()]
    card = AdaptiveCard(version="1.4", body=body, actions=actions or None)
    content: dict[str, Any] = card.model_dump(by_alias=True, exclude_none=True)
    content["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json"
    if mentioned:
        content["msteams"] = {
            "entities": [
                {
                    "type": "mention",
                    "text": f"<at>{user}</at>",
                    "mentioned": {"id": user, "name": user},
                }
                for user in mentioned
            ]
        }
    return content


def _rich(*runs: TextRun) -> RichTextBlock:
    inlines: list[CardElement] = list(runs)
    return RichTextBlock(inlines=inlines)


def _run(
    text: str,
    *,
    weight: Literal["Bolder"] | None = None,
    size: Literal["Small", "Medium"] | None = None,
    color: TextColor | None = None,
    subtle: bool = False,
    monospace: bool = False,
) -> TextRun:
    return TextRun(
        text=_plain(text)[:_MAX_TEXT],
        weight=weight,
        size=size,
        color=color,
        is_subtle=subtle or None,
        font_type="Monospace" if monospace else None,
    )


def _plain(text: str) -> str:
    """Our mention markers as `@id` (the `<at>` tags that notify are added apart)."""
    return MENTION.sub(lambda m: f"@{m.group(1)}", text)
