"""Commands that come from buttons and forms rather than typed text, on any platform.

A button carries an action ID and a value (the bot wrote both when it rendered the message);
`from_button` turns them back into a command, which goes through the same dispatcher, the same
permission policy and the same domain services as a typed command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar, Literal

from bot.access import Act
from bot.monitoring.alerts import ACKNOWLEDGE_ACTION, DECLARE_ACTION, SILENCE_ACTION
from bot.statements.messaging import APPROVE_ACTION, EDIT_ACTION, REJECT_ACTION


@dataclass(frozen=True)
class DeclareFromAlert:
    """Declare incident on an alert: the declare form, prefilled from the outage."""

    act: ClassVar[Act | None] = Act.DECLARE_FROM_ALERT
    subcommand: ClassVar[str] = "open"
    outage: str
    component: str
    impact: str


@dataclass(frozen=True)
class Acknowledge:
    act: ClassVar[Act | None] = Act.ACKNOWLEDGE_ALERT
    subcommand: ClassVar[str] = ""
    component: str


@dataclass(frozen=True)
class Silence:
    act: ClassVar[Act | None] = Act.SILENCE_ALERT
    subcommand: ClassVar[str] = ""
    component: str


@dataclass(frozen=True)
class Approve:
    act: ClassVar[Act | None] = Act.APPROVE_STATEMENT
    subcommand: ClassVar[str] = ""
    statement: str


@dataclass(frozen=True)
class ReviewForm:
    """Edit or Reject on a draft: the form that asks for new words or a reason."""

    act: ClassVar[Act | None] = Act.REVIEW_STATEMENT
    subcommand: ClassVar[str] = ""
    statement: str
    kind: Literal["edit", "reject"]


@dataclass(frozen=True)
class EditStatement:
    act: ClassVar[Act | None] = Act.EDIT_STATEMENT
    subcommand: ClassVar[str] = ""
    statement: str
    texts: tuple[tuple[str, str], ...]  # (language, text)


@dataclass(frozen=True)
class RejectStatement:
    act: ClassVar[Act | None] = Act.REJECT_STATEMENT
    subcommand: ClassVar[str] = ""
    statement: str
    reason: str


Action = (
    DeclareFromAlert
    | Acknowledge
    | Silence
    | Approve
    | ReviewForm
    | EditStatement
    | RejectStatement
)
BUTTONS = (
    DECLARE_ACTION,
    ACKNOWLEDGE_ACTION,
    SILENCE_ACTION,
    APPROVE_ACTION,
    EDIT_ACTION,
    REJECT_ACTION,
)


class StaleButton(ValueError):
    """A button whose value the bot cannot read (an old message, a garbled payload)."""


def from_button(action_id: str, value: str) -> Action:
    if action_id in (APPROVE_ACTION, EDIT_ACTION, REJECT_ACTION):
        if action_id == APPROVE_ACTION:
            return Approve(value)
        return ReviewForm(value, "edit" if action_id == EDIT_ACTION else "reject")
    try:
        outage = json.loads(value or "{}")
    except json.JSONDecodeError as exc:
        raise StaleButton("That button is out of date.") from exc
    if not isinstance(outage, dict):
        raise StaleButton("That button is out of date.")
    component = str(outage.get("component", ""))
    if action_id == DECLARE_ACTION:
        return DeclareFromAlert(
            str(outage.get("outage", "")), component, str(outage.get("impact", ""))
        )
    if action_id == ACKNOWLEDGE_ACTION:
        return Acknowledge(component)
    if action_id == SILENCE_ACTION:
        return Silence(component)
    raise StaleButton(f"unknown button {action_id!r}")
