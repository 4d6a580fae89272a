"""`{name}` in a journey step's request: a value an earlier step extracted, or `{totp}`.

Only `{identifier}` is a placeholder, so JSON and other braces in a body are sent as written.
Doubled braces are the escape: `{{name}}` sends `{name}` itself, and each further pair of braces
around a name is one pair sent (`{{{name}}}` sends `{{name}}`). A name no earlier step extracts
is a config error, found here before any probe runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from bot.monitoring.checks.result import step_label

TOTP = "totp"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The request fields of a step where placeholders are filled in (the YAML keys).
REQUEST_FIELDS = ("url", "headers", "body", "form", "json")

# A name in braces: a placeholder when a single brace opens or closes it, else an escape.
_BRACED = re.compile(r"(\{+)([A-Za-z_][A-Za-z0-9_]*)(\}+)")

Path = tuple[str | int, ...]


def _is_placeholder(match: re.Match[str]) -> bool:
    return len(match[1]) == 1 or len(match[3]) == 1


def names_in(text: str) -> list[str]:
    """The placeholder names in `text`, in order, each once."""
    return list(dict.fromkeys(m[2] for m in _BRACED.finditer(text) if _is_placeholder(m)))


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{name}` replaced by its value and one pair of braces taken off each
    escaped name (`{{name}}` → `{name}`)."""

    def substitute(match: re.Match[str]) -> str:
        opening, name, closing = match[1][1:], match[2], match[3][1:]
        if not _is_placeholder(match):
            return opening + name + closing
        # A validated config knows every name by the time its step runs; a check built in
        # code without validation sends an unknown one as written.
        return opening + values.get(name, "{" + name + "}") + closing

    return _BRACED.sub(substitute, text)


def fill_json(node: Any, values: Mapping[str, str]) -> Any:
    """A JSON body with placeholders filled in its string values (keys are sent as written)."""
    if isinstance(node, str):
        return fill(node, values)
    if isinstance(node, dict):
        return {key: fill_json(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [fill_json(value, values) for value in node]
    return node


def strings_in(node: Any) -> list[str]:
    """Every string value in a JSON document."""
    return [text for _, text in _json_texts(node, ())]


def escape(text: str) -> str:
    """`{name}` → `{{name}}`: for text that must reach the request as it is (a password read
    from the environment), not be taken for a placeholder."""
    return _BRACED.sub(lambda match: "{" + match[0] + "}", text)


def journey_issues(check: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """Placeholders a journey (its YAML, as parsed) cannot fill: (key path, reason) pairs.

    Read from the document rather than the models, so these come in the same round as every
    other mistake, even when another part of the file did not validate.
    """
    steps = check.get("steps")
    if not isinstance(steps, list):
        return
    journey = check.get("id") if isinstance(check.get("id"), str) else "this journey"
    has_totp = check.get("totp_secret") is not None
    first_extracted_at: dict[str, int] = {}
    for index, step in enumerate(steps):
        for name in _extracted_names(step):
            first_extracted_at.setdefault(name, index)
    available: set[str] = set()
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        label = f"{_label(index, step)} of {journey}"
        for path, text in _request_texts(step, ("steps", index)):
            for name in names_in(text):
                if name in available:
                    continue
                if name == TOTP:
                    if not has_totp:
                        yield path, f"{label} uses {{totp}}, but the check has no totp_secret"
                    continue
                where = first_extracted_at.get(name)
                if where is None:
                    yield (
                        path,
                        f"{label} uses {{{name}}}, which no earlier step extracts; write "
                        f"{{{{{name}}}}} to send the braces as they are",
                    )
                elif where == index:
                    yield (
                        path,
                        f"{label} uses {{{name}}}, which it extracts from its own response; "
                        f"extract it at an earlier step",
                    )
                else:
                    extractor = _label(where, steps[where])
                    yield path, f"{label} uses {{{name}}} before {extractor} extracts it"
        available.update(_extracted_names(step))


def _extracted_names(step: Any) -> list[str]:
    extract = step.get("extract") if isinstance(step, dict) else None
    if not isinstance(extract, dict):
        return []
    return [n for n in extract if isinstance(n, str) and NAME.match(n) and n != TOTP]


def _label(index: int, step: Any) -> str:
    name = step.get("name") if isinstance(step, dict) else None
    url = step.get("url") if isinstance(step, dict) else None
    return step_label(
        index + 1, name if isinstance(name, str) else None, url if isinstance(url, str) else ""
    )


def _request_texts(step: dict[str, Any], at: Path) -> Iterator[tuple[Path, str]]:
    for field in REQUEST_FIELDS:
        value = step.get(field)
        if field in ("headers", "form") and isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str):
                    yield (*at, field, str(key)), item
        elif field == "json":
            yield from _json_texts(value, (*at, field))
        elif isinstance(value, str):
            yield (*at, field), value


def _json_texts(node: Any, at: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(node, str):
        yield at, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _json_texts(value, (*at, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _json_texts(value, (*at, index))
