"""Sample template data, so `statusbot validate` can render every template before it is needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.statements.context import (
    StatementContext,
    components_phrase,
)
from bot.statements.templates import StatementTemplates, shipped_templates
from bot.timefmt import public_date, public_moment, zoned_time

_SAMPLE_NAMES = {
    "en": ["online account services", "mobile app"],
    "it": ["servizi online del conto", "app mobile"],
}


_ZONE = ZoneInfo("Europe/Rome")
_START = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


def sample_context(language: str) -> StatementContext:
    names = _SAMPLE_NAMES.get(language, ["service A", "service B"])
    return StatementContext(
        language=language,
        status="investigating",
        components=names,
        components_phrase=components_phrase(names, language),
        started_at=public_moment(_START, _ZONE, language),
        next_update_at=zoned_time(_START + timedelta(minutes=30), _ZONE),
        previous_statement="An earlier statement.",
        related_dates=[public_date(_START - timedelta(days=30), _ZONE, language)],
        window_start=public_moment(_START, _ZONE, language),
        window_end=public_moment(_START + timedelta(hours=2), _ZONE, language),
    )


def template_problems(config: Config) -> list[str]:
    """Every missing or broken template for the configured languages, rendered with samples."""
    templates = StatementTemplates(config.statements.templates or shipped_templates())
    samples = {language: sample_context(language) for language in config.languages}
    return templates.problems(config.languages, samples)
