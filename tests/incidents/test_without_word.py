"""How long customers were left without word: measured, shown to people, exported on /metrics."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.incidents.models import Incident, TimelineEntry
from bot.incidents.without_word import without_word
from bot.store.keyvalue import KeyValue
from tests.support.builders import Clock
from tests.support.slack_app import (
    COMMS,
    COMMS_CHANNEL,
    MANAGERS,
    SlackBot,
    break_component,
    eventually,
    running_bot,
    slack_config,
)

T0 = datetime(2026, 11, 22, 10, 30, tzinfo=Clock().now.tzinfo)


def incident(**fields: object) -> Incident:
    base: dict[str, object] = {
        "number": 1,
        "title": "x",
        "reporter": "U1",
        "created_at": T0,
        "updated_at": T0,
        "last_update_at": T0,
    }
    return Incident.model_validate({**base, **fields})


def published(minutes: float) -> TimelineEntry:
    return TimelineEntry(
        at=T0 + timedelta(minutes=minutes), actor="U0COMMS1", kind="statement-published", text=""
    )


def test_nothing_published_yet_counts_the_silence_so_far() -> None:
    shown = without_word(incident(), [], T0 + timedelta(minutes=20)).describe()
    assert shown == "no word yet after 20m"


def test_the_wait_counts_from_the_first_failing_probe_when_that_came_first() -> None:
    early = incident(impact_started_at=T0 - timedelta(minutes=10))
    measured = without_word(early, [published(5)], T0 + timedelta(minutes=6))
    assert measured.until_first_word == timedelta(minutes=15)
    assert measured.describe() == "first word after 15m, longest silence 1m"


def test_the_longest_gap_includes_the_current_silence_only_while_open() -> None:
    timeline = [published(10), published(40), published(55)]
    still_open = without_word(incident(), timeline, T0 + timedelta(minutes=120))
    assert still_open.longest_gap == timedelta(minutes=65)
    resolved = incident(status="resolved", resolved_at=T0 + timedelta(minutes=54))
    assert without_word(resolved, timeline, T0 + timedelta(days=1)).longest_gap == timedelta(
        minutes=30
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(kv: KeyValue, clock: Clock) -> AsyncIterator[SlackBot]:
    async with running_bot(kv, clock=clock, config=slack_config()) as running:
        yield running


def histogram(metrics: str, kind: str) -> dict[str, float]:
    pattern = (
        rf'statusbot_customers_without_word_seconds_bucket{{kind="{kind}",le="([^"]+)"}} (\S+)'
    )
    return {le: float(count) for le, count in re.findall(pattern, metrics)}


async def approve_the_draft(bot: SlackBot, before: int) -> None:
    await eventually(lambda: len(bot.mock.posts(COMMS_CHANNEL)) > before, what="a draft in #comms")
    assert (await bot.incident("approve INC-1", user=COMMS)).text == (
        "Published the statement for INC-1."
    )


async def test_an_outage_declared_late_and_answered_late_is_measured_from_its_first_probe(
    bot: SlackBot, clock: Clock
) -> None:
    await break_component(bot)  # first failing probe at 11:30 Rome time
    clock.advance(minutes=10)
    await bot.incident("open Login fails sev:1 components:web")
    clock.advance(minutes=5)
    await approve_the_draft(bot, 0)

    shown = await bot.incident("show INC-1")
    assert "first word after 15m" in shown.shown
    metrics = (await bot.http.get(f"http://127.0.0.1:{bot.runtime.port}/metrics")).text
    first = histogram(metrics, "first_word")
    assert first["600.0"] == 0 and first["900.0"] == 1

    clock.advance(minutes=40)
    drafts = len(bot.mock.posts(COMMS_CHANNEL))
    await bot.incident("status INC-1 identified Session store failover")
    await approve_the_draft(bot, drafts)
    metrics = (await bot.http.get(f"http://127.0.0.1:{bot.runtime.port}/metrics")).text
    gap = histogram(metrics, "gap")
    assert gap["1800.0"] == 0 and gap["3600.0"] == 1

    clock.advance(minutes=50)
    summary = await bot.runtime.cadence.render_summary(
        await bot.runtime.incidents.open_incidents(), clock.now
    )
    assert "    customers: first word after 15m, longest silence 50m" in summary.lines
    await bot.incident("postmortem INC-1")
    await bot.calls("files.completeUploadExternal")
    [document] = [content.decode() for content in bot.mock.uploads.values()]
    assert "- Customers without word: first word after 15m, longest silence 50m" in document
    assert bot.mock.posts(MANAGERS)
