"""How statements read in chat: the draft for comms (with its buttons) and the published notice."""

from __future__ import annotations

from bot.chat.message import Action, Message, mention
from bot.incidents.models import SYSTEM_ACTOR
from bot.statements.models import Statement, StatementState

APPROVE_ACTION = "statement_approve"
EDIT_ACTION = "statement_edit"
REJECT_ACTION = "statement_reject"


def render_draft(statement: Statement) -> Message:
    """The draft in #comms: every language, and Approve / Edit / Reject while it is pending."""
    lines: list[str] = []
    for language, text in statement.texts.items():
        lines.append(f"[{language}] {statement.name.get(language, '')}")
        lines.extend(f"    {paragraph}" for paragraph in text.split("\n\n"))
    state = {
        StatementState.PENDING: "awaiting approval",
        StatementState.PUBLISHED: f"published by {_who(statement.decided_by)}",
        StatementState.REJECTED: f"rejected by {_who(statement.decided_by)}: {statement.reason}",
        StatementState.SUPERSEDED: "superseded by a newer draft",
    }[statement.state]
    text = f"Statement for {statement.subject} ({statement.status}): {state}"
    fields = [("Drafted by", _who(statement.drafted_by))]
    if statement.edited_by:
        fields.append(("Edited by", ", ".join(_who(u) for u in statement.edited_by)))
    actions: tuple[Action, ...] = ()
    if statement.state == StatementState.PENDING:
        actions = (
            Action(action_id=APPROVE_ACTION, label="Approve", value=statement.id, style="primary"),
            Action(action_id=EDIT_ACTION, label="Edit", value=statement.id),
            Action(action_id=REJECT_ACTION, label="Reject", value=statement.id, style="danger"),
        )
    return Message(
        text=text,
        title=text,
        tone="draft" if statement.state == StatementState.PENDING else "info",
        lines=tuple(lines),
        fields=tuple(fields),
        actions=actions,
        context=f"Statement {statement.id} · only comms may approve, never its author",
    )


def render_published(statement: Statement, language: str) -> Message:
    """The approved text as published, for the incidents and managers channels."""
    text = statement.texts.get(language) or next(iter(statement.texts.values()))
    first = text.split("\n\n")[0]
    return Message(
        text=f"Published statement for {statement.subject} ({statement.status}): {first}",
        title=f"Customer statement published: {statement.name.get(language, '')}",
        lines=tuple(f"[{lang}] {body}" for lang, body in statement.texts.items()),
        context=f"Approved by {_who(statement.decided_by)}",
    )


def _who(user: str | None) -> str:
    if user is None:
        return "nobody"
    return SYSTEM_ACTOR if user == SYSTEM_ACTOR else mention(user)
