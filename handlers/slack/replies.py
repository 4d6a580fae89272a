"""What a Slack user sees of a command or a click: replies only they can see."""

from __future__ import annotations

import logging
from typing import Any

from handlers.commands.dispatcher import Reply
from handlers.slack.blocks import escape_mrkdwn, render_blocks

log = logging.getLogger(__name__)


def ephemeral(reply: Reply) -> dict[str, Any]:
    """A command's reply as Slack's response body: to the caller only, unless public."""
    message = reply.message
    return {
        "text": escape_mrkdwn(message.text),
        "blocks": render_blocks(message),
        "response_type": "in_channel" if reply.public else "ephemeral",
    }


async def tell(respond: Any, text: str) -> None:
    """A one-line answer to a click, for the clicker's eyes only, leaving the message as it is."""
    try:
        await respond(text=escape_mrkdwn(text), response_type="ephemeral", replace_original=False)
    except ValueError:
        # A click without a response_url (not one Slack sent): nobody to answer.
        log.warning("no response_url to answer a Slack click with: %s", text)
