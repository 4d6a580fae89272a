"""Forms in Teams: where Slack opens a modal, the bot posts a card with inputs in the thread.

Submitting one sends a message whose `value` holds the card's data and every input; `read_form`
turns that back into the command the Slack modal would have produced.
"""

from __future__ import annotations

from typing import Any

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    SubmitAction,
    TextBlock,
    TextInput,
)

from bot.config import Config
from handlers.commands import actions, grammar
from handlers.commands.dispatcher import IncidentForm, StatementForm

FORM_ACTION = "statusbot_form"
_SEVERITIES: dict[str, grammar.Severity] = {"1": 1, "2": 2, "3": 3, "4": 4}
_MAX_TITLE = 150


class FormError(ValueError):
    """A submitted form the bot cannot read (stale, or a field missing)."""


def render_form(config: Config, form: IncidentForm | StatementForm) -> dict[str, Any]:
    if isinstance(form, IncidentForm):
        return _incident_form(config, form.defaults)
    statement = form.statement
    if form.kind == "edit":
        body: list[CardElement] = [
            TextBlock(
                text=f"Edit the statement for {statement.subject}", weight="Bolder", wrap=True
            )
        ]
        body += [
            TextInput(
                id=f"text_{language}",
                label=f"Statement ({language})",
                value=text,
                is_multiline=True,
                is_required=True,
                error_message=f"The {language} text cannot be empty.",
                max_length=5000,
            )
            for language, text in statement.texts.items()
        ]
        return _card(body, "Save", {"form": "edit", "statement": statement.id})
    body = [
        TextBlock(text=f"Reject the {statement.subject} draft", weight="Bolder", wrap=True),
        TextInput(
            id="reason",
            label="Why is it rejected?",
            is_multiline=True,
            is_required=True,
            error_message="Say why it is rejected, so the next draft can be better.",
        ),
    ]
    return _card(body, "Reject", {"form": "reject", "statement": statement.id})


def read_form(config: Config, value: dict[str, Any]) -> grammar.Open | actions.Action:
    """The command a submitted form asks for."""
    kind = value.get("form")
    statement = str(value.get("statement") or "")
    if kind == "edit":
        texts = tuple(
            (str(key).removeprefix("text_"), str(text))
            for key, text in value.items()
            if str(key).startswith("text_")
        )
        return actions.EditStatement(statement, texts)
    if kind == "reject":
        return actions.RejectStatement(statement, str(value.get("reason") or ""))
    if kind == "incident":
        title = str(value.get("title") or "").strip()
        if not title:
            raise FormError("Give the incident a title.")
        known = {c.id for c in config.components}
        picked = str(value.get("components") or "").split(",")
        return grammar.Open(
            title=title[:_MAX_TITLE],
            severity=_SEVERITIES.get(str(value.get("severity")), 3),
            components=tuple(c for c in picked if c in known),
            outage=str(value.get("outage") or "") or None,
        )
    raise FormError("That form is out of date.")


def _incident_form(config: Config, defaults: dict[str, str]) -> dict[str, Any]:
    language = config.languages[0]
    severity = defaults.get("severity", "3")
    body: list[CardElement] = [
        TextBlock(text="Declare an incident", weight="Bolder", size="Medium", wrap=True),
        TextInput(
            id="title",
            label="Title",
            value=defaults.get("title") or None,
            is_required=True,
            error_message="Give the incident a title.",
            max_length=_MAX_TITLE,
        ),
        ChoiceSetInput(
            id="severity",
            label="Severity (sev1 is the most severe)",
            value=severity if severity in _SEVERITIES else "3",
            choices=[Choice(title=f"sev{n}", value=str(n)) for n in (1, 2, 3, 4)],
        ),
    ]
    if config.components:
        body.append(
            ChoiceSetInput(
                id="components",
                label="Components",
                is_multi_select=True,
                value=defaults.get("components") or None,
                choices=[
                    Choice(title=c.display_name(language)[:75], value=c.id)
                    for c in config.components
                ],
            )
        )
    return _card(body, "Declare", {"form": "incident", "outage": defaults.get("outage", "")})


def _card(body: list[CardElement], submit: str, data: dict[str, str]) -> dict[str, Any]:
    action = SubmitAction(title=submit, data={"action": FORM_ACTION, **data})
    card = AdaptiveCard(version="1.4", body=body, actions=[action])
    return card.model_dump(by_alias=True, exclude_none=True)
