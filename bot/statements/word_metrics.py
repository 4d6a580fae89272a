"""Exports how long customers waited for each published statement, as a histogram."""

from __future__ import annotations

from bot.incidents.service import IncidentService
from bot.incidents.without_word import silence_before
from bot.metrics import Metrics
from bot.statements.models import Statement


class WithoutWordMetrics:
    """A published-statement listener: the wait before the first word, then each gap."""

    def __init__(self, incidents: IncidentService, metrics: Metrics) -> None:
        self._incidents = incidents
        self._metrics = metrics

    async def on_published(self, statement: Statement) -> None:
        if statement.incident is None or statement.decided_at is None:
            return  # maintenance notices come before anything happens: nobody waits for them
        incident = await self._incidents.get(statement.incident)
        timeline = await self._incidents.timeline(statement.incident)
        kind, waited = silence_before(incident, timeline, statement.decided_at)
        self._metrics.without_word.labels(kind).observe(max(0.0, waited.total_seconds()))
