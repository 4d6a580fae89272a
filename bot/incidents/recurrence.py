"""Recurrence: an outage on the components of an incident resolved recently is that one again.

The seeds' second outage was "related to the issue we experienced on April 1": whoever is on
call should see that at the first alert, and the new incident should carry the link (and so its
statements the earlier date) without anyone having to remember it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.durations import format_age
from bot.incidents.models import Incident
from bot.incidents.store import IncidentStore
from bot.vocabulary import incident_id


@dataclass(frozen=True)
class Recurrence:
    """The incident an outage looks like a return of, and when it was resolved."""

    number: int
    resolved_at: datetime

    @property
    def id(self) -> str:
        return incident_id(self.number)

    def describe(self, at: datetime) -> str:
        """`same components as INC-3, resolved 2d ago` (as seen at `at`)."""
        return f"same components as {self.id}, resolved {format_age(at - self.resolved_at)} ago"


class Recurrences:
    """Finds the incident, resolved within the window, that affected any of some components."""

    def __init__(self, store: IncidentStore, window: timedelta) -> None:
        self._store = store
        self._window = window

    async def earlier(
        self, components: Iterable[str], at: datetime, *, besides: int | None = None
    ) -> Recurrence | None:
        """The most recently resolved incident on `components` within the window before `at`."""
        wanted = set(components)
        if not wanted or self._window <= timedelta(0):
            return None
        for incident in await self._store.resolved_between(at - self._window, at):
            if incident.number != besides and wanted & set(incident.components):
                return _recurrence(incident)
        return None


def _recurrence(incident: Incident) -> Recurrence:
    assert incident.resolved_at is not None, "only resolved incidents recur"
    return Recurrence(number=incident.number, resolved_at=incident.resolved_at)
