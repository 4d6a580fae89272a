"""Slack views: the declare-incident modal, the statement review modals and the App Home tab."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.chat.message import Message
from bot.config import Config
from bot.incidents.models import Incident
from bot.statements.models import Statement
from handlers.commands.grammar import Severity
from handlers.slack.blocks import render_blocks
from handlers.slack.payloads import dig, state_values, text

OPEN_INCIDENT_CALLBACK = "incident_open"
EDIT_CALLBACK = "statement_edit"
REJECT_CALLBACK = "statement_reject"
_MAX_TITLE = 150
_SEVERITIES: dict[str, Severity] = {"1": 1, "2": 2, "3": 3, "4": 4}
_MAX_TEXT = 3000  # Slack's plain_text_input limit


@dataclass(frozen=True)
class IncidentFormValues:
    title: str
    severity: Severity
    components: tuple[str, ...]
    outage: str | None
    channel: str | None


def incident_form(config: Config, defaults: dict[str, str]) -> dict[str, Any]:
    language = config.languages[0]
    options = [
        {"text": {"type": "plain_text", "text": c.display_name(language)[:75]}, "value": c.id}
        for c in config.components
    ]
    severities = [
        {"text": {"type": "plain_text", "text": f"sev{n}"}, "value": str(n)} for n in (1, 2, 3, 4)
    ]
    severity = defaults.get("severity", "3")
    components_element: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": "components",
        "placeholder": {"type": "plain_text", "text": "Affected components"},
        "options": options,
    }
    chosen = [o for o in options if o["value"] in defaults.get("components", "").split(",")]
    if chosen:
        components_element["initial_options"] = chosen
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {
                "type": "plain_text_input",
                "action_id": "title",
                "max_length": _MAX_TITLE,
                "initial_value": defaults.get("title", ""),
            },
        },
        {
            "type": "input",
            "block_id": "severity",
            "label": {"type": "plain_text", "text": "Severity (sev1 is the most severe)"},
            "element": {
                "type": "static_select",
                "action_id": "severity",
                "options": severities,
                "initial_option": severities[int(severity) - 1]
                if severity in ("1", "2", "3", "4")
                else severities[2],
            },
        },
    ]
    if options:
        blocks.append(
            {
                "type": "input",
                "block_id": "components",
                "optional": True,
                "label": {"type": "plain_text", "text": "Components"},
                "element": components_element,
            }
        )
    if not defaults.get("title"):
        blocks[0]["element"].pop("initial_value")
    metadata = {"outage": defaults.get("outage") or None, "channel": defaults.get("channel")}
    return modal(
        OPEN_INCIDENT_CALLBACK, "Declare an incident", "Declare", blocks, json.dumps(metadata)
    )


def modal(
    callback_id: str, title: str, submit: str, blocks: list[dict[str, Any]], metadata: str
) -> dict[str, Any]:
    """A modal with a submit and a Cancel button; `metadata` comes back on submission."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": metadata,
        "blocks": blocks,
    }


def read_incident_form(
    config: Config, view: dict[str, Any]
) -> tuple[IncidentFormValues, dict[str, str]]:
    """The submitted values, and per-block errors to show in the modal (empty when valid)."""
    values = state_values(view)
    errors: dict[str, str] = {}
    title = text(values, "title", "title", "value").strip()
    if not title:
        errors["title"] = "Give the incident a title."
    severity_text = text(values, "severity", "severity", "selected_option", "value") or "3"
    if severity_text not in ("1", "2", "3", "4"):
        errors["severity"] = "Choose sev1 to sev4."
    picked = dig(values, "components", "components", "selected_options")
    known = {c.id for c in config.components}
    chosen = [text(option, "value") for option in picked] if isinstance(picked, list) else []
    components = tuple(c for c in chosen if c in known)
    try:
        metadata = json.loads(text(view, "private_metadata") or "{}")
    except json.JSONDecodeError:
        metadata = {}
    if not isinstance(metadata, dict):
        metadata = {}
    form = IncidentFormValues(
        title=title,
        severity=_SEVERITIES.get(severity_text, 3),
        components=components,
        outage=text(metadata, "outage") or None,
        channel=text(metadata, "channel") or None,
    )
    return form, errors


def home_view(overview: Message, incidents: list[Incident]) -> dict[str, Any]:
    blocks = render_blocks(overview)
    if incidents:
        blocks.append({"type": "divider"})
    return {"type": "home", "blocks": blocks[:100]}


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


def read_statement_texts(view: dict[str, Any]) -> dict[str, str]:
    """The edit modal's texts, by language."""
    return {
        block_id.removeprefix("text_"): text(block, "text", "value")
        for block_id, block in state_values(view).items()
        if block_id.startswith("text_")
    }


def read_reject_reason(view: dict[str, Any]) -> str:
    return text(state_values(view), "reason", "reason", "value")
