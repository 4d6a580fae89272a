"""What a statement template may see: customer-safe facts only, already in the reader's language.

Internal titles, notes and updates never get here; templates cannot reach anything else (they
run sandboxed, and an unknown name is an error).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

_AND = {"en": "and", "it": "e", "de": "und", "fr": "et", "es": "y"}


@dataclass(frozen=True)
class StatementContext:
    language: str
    status: str
    components: list[str]  # affected component names in this language
    components_phrase: str  # "our phone services, online account services and mobile app"
    started_at: str  # "11:30 CET on 22 November 2026"
    next_update_at: str | None  # "12:00 CET"
    previous_statement: str | None  # the last published text in this language
    related_dates: list[str] = field(default_factory=list)  # "1 April 2026"
    window_start: str | None = None  # maintenance only
    window_end: str | None = None

    def variables(self) -> dict[str, Any]:
        return asdict(self)


def join_names(names: list[str], language: str) -> str:
    """`a`, `a and b`, `a, b and c` in the reader's language."""
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    conjunction = _AND.get(language, "&")
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def components_phrase(names: list[str], language: str) -> str:
    joined = join_names(names, language)
    if language == "en" and joined:
        return f"our {joined}"
    return joined
