"""How long customers were left without word: the seeds' failure, measured for every incident.

Two figures, both read from the timeline (a published statement is a `statement-published`
entry): from the start of the outage (its first failing probe, or the incident's start) to the
first published statement, and the longest gap between published statements, counting the
current silence while the incident is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from bot.durations import format_duration
from bot.incidents.models import Incident, TimelineEntry

PUBLISHED = "statement-published"


@dataclass(frozen=True)
class WithoutWord:
    until_first_word: timedelta  # so far, while nothing has been published
    first_word_given: bool
    longest_gap: timedelta | None  # None until a statement has been published

    def describe(self) -> str:
        """`first word after 12m, longest silence 35m` / `no word yet after 20m`."""
        if not self.first_word_given:
            return f"no word yet after {format_duration(self.until_first_word)}"
        text = f"first word after {format_duration(self.until_first_word)}"
        if self.longest_gap is not None and self.longest_gap > timedelta(0):
            text += f", longest silence {format_duration(self.longest_gap)}"
        return text


def impact_start(incident: Incident) -> datetime:
    """When customers were first affected: the outage's first failing probe, if earlier."""
    started = incident.impact_started_at
    return min(started, incident.created_at) if started else incident.created_at


def publications(timeline: list[TimelineEntry]) -> list[datetime]:
    return sorted(entry.at for entry in timeline if entry.kind == PUBLISHED)


def without_word(incident: Incident, timeline: list[TimelineEntry], now: datetime) -> WithoutWord:
    start = impact_start(incident)
    published = publications(timeline)
    if not published:
        end = incident.resolved_at or now
        return WithoutWord(end - start, first_word_given=False, longest_gap=None)
    gaps = [later - earlier for earlier, later in pairwise(published)]
    if incident.is_open:
        gaps.append(now - published[-1])  # the silence customers are in right now
    return WithoutWord(
        published[0] - start, first_word_given=True, longest_gap=max(gaps, default=None)
    )


def silence_before(
    incident: Incident, timeline: list[TimelineEntry], at: datetime
) -> tuple[str, timedelta]:
    """For a statement published at `at`: (`first_word`, time since the impact started) for the
    first one, else (`gap`, time since the previous publication)."""
    earlier = [moment for moment in publications(timeline) if moment <= at]
    if not earlier:
        return "first_word", at - impact_start(incident)
    return "gap", at - earlier[-1]
