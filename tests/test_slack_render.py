"""Block Kit rendering: within Slack's limits however long the message, and always readable."""

from __future__ import annotations

from bot.chat.message import Action, Message, mention
from handlers.slack.blocks import escape_mrkdwn, render_blocks


def texts(blocks: list[dict[str, object]]) -> list[str]:
    found = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            found.append(str(text["text"]))
        for field in block.get("fields", []):  # type: ignore[attr-defined]
            found.append(str(field["text"]))
    return found


def test_a_long_timeline_is_split_into_sections_slack_accepts() -> None:
    timeline = tuple(f"22:{i % 60:02d} · update {i}: " + "x" * 120 for i in range(400))
    message = Message(
        text="INC-1 (sev1, identified): Login fails",
        title="INC-1 (sev1, identified): Login fails",
        fields=(("Status", "identified"),),
        lines=timeline,
        fields_first=True,
        actions=(Action(action_id="a", label="A", value="1"),),
        context="footer",
    )
    blocks = render_blocks(message)
    assert len(blocks) <= 50
    assert all(len(t) <= 3000 for t in texts(blocks))
    assert blocks[1]["fields"], "details before the timeline"
    assert blocks[-2]["type"] == "actions"
    assert blocks[-1]["type"] == "context"


def test_a_text_only_message_shows_its_text() -> None:
    blocks = render_blocks(Message(text="INC-1 update: failing over", context="by someone"))
    assert texts(blocks)[0] == "INC-1 update: failing over"


def test_mentions_render_and_broadcasts_never_do() -> None:
    text = escape_mrkdwn(f"{mention('U123')} says <!channel> @here & <https://x|y>")
    assert text == "<@U123> says &lt;!channel&gt; @\u2060here &amp; &lt;https://x|y&gt;"
