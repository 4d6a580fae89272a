"""Reading what Slack sends without trusting its shape: a wrong shape is an answer, not a crash.

Signed requests are Slack's, but a payload can still be stale, truncated or hand-made; every
field is looked up here with its type checked, and a missing or wrong one reads as absent.
"""

from __future__ import annotations

from typing import Any


def dig(value: Any, *path: str | int) -> Any:
    """`value[path[0]][path[1]]…`, or None where a step is missing or of the wrong kind."""
    for step in path:
        if isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


def text(value: Any, *path: str | int) -> str:
    """A string field, or "" when it is missing or not a string."""
    found = dig(value, *path)
    return found if isinstance(found, str) else ""


def user_id(body: dict[str, Any]) -> str:
    return text(body, "user", "id")


def state_values(view: Any) -> dict[str, Any]:
    """A modal's submitted inputs by block ID (empty when the view carries none)."""
    values = dig(view, "state", "values")
    return values if isinstance(values, dict) else {}
