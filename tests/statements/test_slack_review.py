"""The comms review through Slack: draft → refused self-approval → refused non-comms → approval
→ published, in both languages; edit; reject; double clicks publish once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.statements.messaging import APPROVE_ACTION, EDIT_ACTION, REJECT_ACTION
from bot.statements.models import StatementState
from bot.store.keyvalue import KeyValue
from tests.support.slack_app import (
    COMMS,
    COMMS_CHANNEL,
    INCIDENTS,
    MANAGERS,
    ONCALL_GROUP,
    RESPONDER,
    SlackBot,
    button_value,
    eventually,
    running_bot,
    slack_config,
    values_of,
)
from tests.support.slack_mock import Call

OTHER_COMMS = "U0COMMS2"
INTERNAL_TITLE = "DB primary OOM after a bad deploy"


@pytest.fixture
async def bot(kv: KeyValue) -> AsyncIterator[SlackBot]:
    roles = {
        "responders": [RESPONDER, ONCALL_GROUP],
        "comms": [COMMS, OTHER_COMMS],
        "managers": ["U0MGR1"],
    }
    async with running_bot(kv, config=slack_config(roles=roles)) as running:
        yield running


async def draft_in_comms(bot: SlackBot, count: int = 1) -> Call:
    """The latest statement draft posted in the comms channel."""
    posts = await bot.posts(COMMS_CHANNEL, count)
    await bot.settled()
    return posts[-1]


async def answer_to(bot: SlackBot, token: str) -> str:
    return str((await bot.response(token)).get("text", ""))


async def test_draft_refusals_approval_and_publishing(bot: SlackBot) -> None:
    await bot.incident(f"open {INTERNAL_TITLE} sev:1 components:web,app")
    await draft_in_comms(bot)
    reply = await bot.incident("statement 1", user=COMMS)  # comms may draft too
    assert reply.text.startswith("Drafted the customer statement for INC-1 (en, it)")
    draft = await draft_in_comms(bot, 2)
    assert draft.args["text"] == "Statement for INC-1 (investigating): awaiting approval"
    assert INTERNAL_TITLE not in str(draft.args["blocks"])
    statement_id = button_value(draft, APPROVE_ACTION)

    _, token = await bot.click(APPROVE_ACTION, statement_id, user=COMMS, message=draft)
    assert "another comms member must approve it" in await answer_to(bot, token)
    _, token = await bot.click(APPROVE_ACTION, statement_id, user=RESPONDER, message=draft)
    assert (await answer_to(bot, token)).startswith("Only comms may approve statements")

    _, first = await bot.click(APPROVE_ACTION, statement_id, user=OTHER_COMMS, message=draft)
    _, second = await bot.click(APPROVE_ACTION, statement_id, user=OTHER_COMMS, message=draft)
    answers = {await answer_to(bot, first), await answer_to(bot, second)}
    assert answers == {"Published the statement for INC-1.", "this statement is already published"}
    await bot.settled()

    published = await bot.runtime.statements.published()
    assert [(s.id, s.state) for s in published] == [(statement_id, StatementState.PUBLISHED)]
    assert set(published[0].texts) == {"en", "it"}
    for channel in (INCIDENTS, MANAGERS):
        notices = [
            p for p in bot.mock.posts(channel) if p.args["text"].startswith("Published statement")
        ]
        assert len(notices) == 1, channel
        assert (
            notices[0]
            .args["text"]
            .startswith("Published statement for INC-1 (investigating): Since ")
        )
    updates = [
        c for c in bot.mock.calls_of("chat.update") if c.args.get("channel") == COMMS_CHANNEL
    ]
    assert updates[-1].args["text"].startswith("Statement for INC-1 (investigating): published by")
    kinds = [e.kind for e in await bot.runtime.incidents.timeline(1)]
    assert kinds.count("statement-published") == 1
    assert "statement-approved" in kinds


async def test_edit_then_approve_publishes_the_edited_words(bot: SlackBot) -> None:
    await bot.incident("open Logins fail components:web")
    draft = await draft_in_comms(bot)
    statement_id = button_value(draft, EDIT_ACTION)
    await bot.click(EDIT_ACTION, statement_id, user=COMMS, message=draft)
    view = (await bot.calls("views.open"))[-1].result["view"]
    assert [b["block_id"] for b in view["blocks"]] == ["text_en", "text_it"]

    values = values_of(view)
    values["text_en"]["text"]["value"] = (
        "Logins are failing. <!channel> We are on it.\n\nNext update at 12:00."
    )
    reply = await bot.submit(view, values, user=COMMS)
    assert reply.status == 200
    edited = await eventually(
        lambda: bot.runtime.statements.store.get(statement_id), what="the statement"
    )
    assert edited.edited_by == [COMMS]

    _, token = await bot.click(APPROVE_ACTION, statement_id, user=COMMS, message=draft)
    assert "another comms member" in await answer_to(bot, token)
    await bot.click(APPROVE_ACTION, statement_id, user=OTHER_COMMS, message=draft)
    published = await eventually(bot.runtime.statements.published, what="publication")
    assert (
        published[0].texts["en"]
        == "Logins are failing. <!channel> We are on it.\n\nNext update at 12:00."
    )
    await bot.settled()
    for call in bot.mock.calls:
        for text in (call.args.get("text", ""), str(call.args.get("blocks", ""))):
            assert "<!channel>" not in text, "comms' words are posted inert"


async def test_reject_asks_why_and_records_it(bot: SlackBot) -> None:
    await bot.incident("open Logins fail components:web")
    draft = await draft_in_comms(bot)
    statement_id = button_value(draft, REJECT_ACTION)
    await bot.click(REJECT_ACTION, statement_id, user=COMMS, message=draft)
    view = (await bot.calls("views.open"))[-1].result["view"]

    empty = await bot.submit(
        view, {"reason": {"reason": {"type": "plain_text_input", "value": " "}}}, user=COMMS
    )
    assert empty.body["response_action"] == "errors"
    assert "say why" in empty.body["errors"]["reason"]

    await bot.submit(
        view, {"reason": {"reason": {"type": "plain_text_input", "value": "Too vague"}}}, user=COMMS
    )
    rejected = await eventually(
        lambda: _state_is(bot, statement_id, StatementState.REJECTED), what="the rejection"
    )
    assert rejected
    timeline = await bot.runtime.incidents.timeline(1)
    assert timeline[-1].text == "statement rejected: Too vague"
    _, token = await bot.click(APPROVE_ACTION, statement_id, user=OTHER_COMMS, message=draft)
    assert await answer_to(bot, token) == "this statement is already rejected"


async def test_non_comms_cannot_open_the_edit_form(bot: SlackBot) -> None:
    await bot.incident("open Logins fail components:web")
    draft = await draft_in_comms(bot)
    _, token = await bot.click(
        EDIT_ACTION, button_value(draft, EDIT_ACTION), user=RESPONDER, message=draft
    )
    assert (await answer_to(bot, token)).startswith("Only comms may edit or reject statements")
    assert bot.mock.calls_of("views.open") == []


async def _state_is(bot: SlackBot, statement_id: str, state: StatementState) -> bool:
    statement = await bot.runtime.statements.store.get(statement_id)
    return statement is not None and statement.state == state
