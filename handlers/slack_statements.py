"""Slack: the comms review of statements — Approve, Edit (a modal per language), Reject (why)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.statements.messaging import APPROVE_ACTION, EDIT_ACTION, REJECT_ACTION
from bot.statements.models import Statement, StatementState
from bot.statements.service import StatementError, StatementService
from handlers.slack_replies import tell
from handlers.slack_views import modal


class AfterAckRunner(Protocol):
    def run(self, work: Coroutine[Any, Any, None]) -> None: ...


EDIT_CALLBACK = "statement_edit"
REJECT_CALLBACK = "statement_reject"
_MAX_TEXT = 3000  # Slack's plain_text_input limit


def register_statement_review(
    app: AsyncApp, statements: StatementService, later: AfterAckRunner
) -> None:
    @app.action(APPROVE_ACTION)
    async def approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        later.run(approve_statement(body, respond))

    async def approve_statement(body: dict[str, Any], respond: Any) -> None:
        statement_id = body["actions"][0].get("value", "")
        try:
            statement = await statements.approve(statement_id, body["user"]["id"])
        except StatementError as exc:
            await tell(respond, str(exc))
            return
        await tell(respond, f"Published the statement for {statement.subject}.")

    @app.action(EDIT_ACTION)
    async def edit(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        later.run(open_review_form(body, respond, client, edit_view))

    @app.action(REJECT_ACTION)
    async def reject(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        later.run(open_review_form(body, respond, client, reject_view))

    async def open_review_form(
        body: dict[str, Any],
        respond: Any,
        client: AsyncWebClient,
        form: Callable[[Statement], dict[str, Any]],
    ) -> None:
        statement = await _reviewable(statements, body, respond)
        if statement is not None:
            await client.views_open(trigger_id=body["trigger_id"], view=form(statement))

    @app.view(EDIT_CALLBACK)
    async def submit_edit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view.get("state", {}).get("values", {})
        texts = {
            block_id.removeprefix("text_"): str(block.get("text", {}).get("value") or "")
            for block_id, block in values.items()
            if block_id.startswith("text_")
        }
        try:
            await statements.edit(view.get("private_metadata", ""), body["user"]["id"], texts)
        except StatementError as exc:
            target = next(iter(values), "text_en")
            await ack(response_action="errors", errors={target: str(exc)})
            return
        await ack()

    @app.view(REJECT_CALLBACK)
    async def submit_reject(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view.get("state", {}).get("values", {})
        reason = str(values.get("reason", {}).get("reason", {}).get("value") or "")
        try:
            await statements.reject(view.get("private_metadata", ""), body["user"]["id"], reason)
        except StatementError as exc:
            await ack(response_action="errors", errors={"reason": str(exc)})
            return
        await ack()


async def _reviewable(
    statements: StatementService, body: dict[str, Any], respond: Any
) -> Statement | None:
    """The pending statement a button names, if this user may review it; else say why not."""
    statement = await statements.store.get(body["actions"][0].get("value", ""))
    if statement is None or statement.state != StatementState.PENDING:
        await tell(respond, "That statement is no longer waiting for review.")
        return None
    if not await statements.may_review(body["user"]["id"]):
        await tell(
            respond,
            "Only comms may edit or reject statements; "
            "ask someone with that role (config: roles.comms).",
        )
        return None
    return statement


def edit_view(statement: Statement) -> dict[str, Any]:
    blocks = [
        {
            "type": "input",
            "block_id": f"text_{language}",
            "label": {"type": "plain_text", "text": f"Statement ({language})"},
            "element": {
                "type": "plain_text_input",
                "action_id": "text",
                "multiline": True,
                "max_length": _MAX_TEXT,
                "initial_value": text[:_MAX_TEXT],
            },
        }
        for language, text in statement.texts.items()
    ]
    return modal(EDIT_CALLBACK, "Edit statement", "Save", blocks, statement.id)


def reject_view(statement: Statement) -> dict[str, Any]:
    reason = {
        "type": "input",
        "block_id": "reason",
        "label": {"type": "plain_text", "text": f"Why is the {statement.subject} draft rejected?"},
        "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True},
    }
    return modal(REJECT_CALLBACK, "Reject statement", "Reject", [reason], statement.id)
