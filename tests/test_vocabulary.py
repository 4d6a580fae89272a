"""The shared words: incident IDs, severity and impact, times as people read them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.timefmt import clock_time, day_name, local_time, public_date, public_moment
from bot.vocabulary import (
    ComponentStatus,
    impact_status,
    incident_id,
    parse_incident_id,
    severity_for_status,
    severity_impact,
    severity_status,
)


@pytest.mark.parametrize(
    ("text", "number"),
    [("INC-7", 7), ("inc-7", 7), ("inc7", 7), ("7", 7), ("INC-", None), ("x7", None)],
)
def test_incident_ids_in_every_spelling(text: str, number: int | None) -> None:
    assert parse_incident_id(text) == number
    if number is not None:
        assert incident_id(number) == "INC-7"


def test_an_absurdly_long_id_is_not_an_id() -> None:
    assert parse_incident_id("INC-" + "9" * 5000) is None


def test_severity_impact_and_back() -> None:
    assert [severity_status(s) for s in (1, 2, 3, 4)] == [
        ComponentStatus.MAJOR_OUTAGE,
        ComponentStatus.PARTIAL_OUTAGE,
        ComponentStatus.DEGRADED_PERFORMANCE,
        ComponentStatus.DEGRADED_PERFORMANCE,
    ]
    assert [severity_impact(s) for s in (1, 2, 3, 4, 9)] == [
        "critical",
        "major",
        "minor",
        "minor",
        "minor",
    ]
    assert impact_status("critical") == ComponentStatus.MAJOR_OUTAGE
    assert impact_status("none") == ComponentStatus.OPERATIONAL
    assert severity_for_status("partial_outage") == 2
    assert severity_for_status("degraded_performance") == 3
    assert severity_for_status("nonsense") == 3


def test_times_in_the_configured_zone_and_the_readers_language() -> None:
    rome = ZoneInfo("Europe/Rome")
    at = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
    assert clock_time(at, rome) == "11:30"
    assert local_time(at, rome) == "2026-11-22 11:30 CET"
    assert public_date(at, rome, "it") == "22 novembre 2026"
    assert public_moment(at, rome, "en") == "11:30 CET on 22 November 2026"
    assert public_moment(at, rome, "it") == "22 novembre 2026 alle 11:30 CET"
    assert day_name(date(2026, 9, 1), "en", short=True) == "1 Sep 2026"
    assert day_name(date(2026, 9, 1), "de") == "2026-09-01"
