"""Sample template data, so `statusbot validate` can render every template before it is needed."""

from __future__ import annotations

from bot.config import Config
from bot.statements.context import StatementContext, components_phrase
from bot.statements.templates import StatementTemplates

_SAMPLE_NAMES = {
    "en": ["online account services", "mobile app"],
    "it": ["servizi online del conto", "app mobile"],
}


def sample_context(language: str) -> StatementContext:
    names = _SAMPLE_NAMES.get(language, ["service A", "service B"])
    return StatementContext(
        language=language,
        status="investigating",
        components=names,
        components_phrase=components_phrase(names, language),
        started_at="11:30 CET",
        next_update_at="12:00 CET",
        previous_statement="An earlier statement.",
        related_dates=["1 April 2026"],
        window_start="01:00 CET",
        window_end="03:00 CET",
    )


def template_problems(config: Config) -> list[str]:
    """Every missing or broken template for the configured languages, rendered with samples."""
    templates = StatementTemplates(config.statements.templates)
    samples = {language: sample_context(language) for language in config.languages}
    return templates.problems(config.languages, samples)
