"""Outages that come back: named in the alert, linked to the new incident, dated in statements."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.durations import format_age
from bot.monitoring.alerts import DECLARE_ACTION
from bot.store.keyvalue import KeyValue
from tests.support.builders import Clock
from tests.support.slack_app import (
    ALERTS,
    COMMS_CHANNEL,
    INCIDENTS,
    SlackBot,
    break_component,
    button_value,
    displayed,
    eventually,
    repair_component,
    running_bot,
    slack_config,
    values_of,
)
from tests.support.slack_mock import Call


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(kv: KeyValue, clock: Clock) -> AsyncIterator[SlackBot]:
    async with running_bot(kv, clock=clock) as running:
        yield running


async def resolved_incident_on_web(bot: SlackBot) -> None:
    """INC-1 on web, opened at 11:30 Rome time on 22 November and resolved at once."""
    opened = await bot.incident("open Login failing sev:2 components:web")
    assert opened.status == 200
    resolved = await bot.incident("resolve INC-1 fixed the session store")
    assert resolved.status == 200
    assert not (await bot.runtime.incidents.get(1)).is_open


async def alert_for_web(bot: SlackBot) -> str:
    await break_component(bot)
    await eventually(lambda: bot.mock.posts(ALERTS), what="the outage alert")
    [posted] = bot.mock.posts(ALERTS)
    return str(posted.args["text"])


async def test_an_outage_within_the_window_names_the_incident_it_looks_like(
    bot: SlackBot, clock: Clock
) -> None:
    await resolved_incident_on_web(bot)
    clock.advance(days=2)

    text = await alert_for_web(bot)

    assert text == (
        "Major outage: online account services (web-home: HTTP 503, 3 failures since 11:30; "
        "same components as INC-1, resolved 2d ago)"
    )
    [alert] = bot.mock.posts(ALERTS)
    assert "Recurrence of" in displayed(alert)


async def test_declaring_from_that_alert_links_the_incidents_and_dates_the_statement(
    bot: SlackBot, clock: Clock
) -> None:
    await resolved_incident_on_web(bot)
    clock.advance(days=2)
    await alert_for_web(bot)
    [alert] = bot.mock.posts(ALERTS)

    await bot.click(DECLARE_ACTION, button_value(alert, DECLARE_ACTION), message=alert)
    [opened] = await bot.calls("views.open")
    view = {**opened.args["view"], "id": opened.result["view"]["id"]}
    assert (await bot.submit(view, values_of(view))).status == 200

    def new_cards() -> list[Call]:
        return [p for p in bot.mock.posts(INCIDENTS) if p.args["text"].startswith("INC-2 (")]

    # INC-2's card is posted once both ends are linked.
    [card] = await eventually(new_cards, what="INC-2's card")
    new, earlier = await bot.runtime.incidents.get(2), await bot.runtime.incidents.get(1)
    assert new.links == [1]
    assert earlier.links == [2]
    timeline = [e.text for e in await bot.runtime.incidents.timeline(2)]
    assert "linked automatically: same components as INC-1, resolved 2d ago" in timeline

    shown = await bot.incident("show INC-2")
    assert "INC-1" in shown.shown

    def drafts() -> list[str]:
        posts = [displayed(p) for p in bot.mock.posts(COMMS_CHANNEL)]
        return [text for text in posts if "Statement for INC-2" in text]

    [draft] = await eventually(drafts, what="the statement draft for INC-2")
    assert "related to the issue we experienced on 22 November 2026" in draft
    assert "collegato a quello del 22 novembre 2026" in draft
    assert "INC-1" in displayed(card)


async def test_a_typed_open_on_the_same_components_is_linked_too(
    bot: SlackBot, clock: Clock
) -> None:
    await resolved_incident_on_web(bot)
    clock.advance(hours=5)

    await bot.incident("open Dashboard errors again components:app,web")
    await bot.incident("resolve INC-2")
    clock.advance(hours=1)
    await bot.incident("open App crashes components:app")

    assert (await bot.runtime.incidents.get(2)).links == [1, 3], "linked both ways"
    assert (await bot.runtime.incidents.get(3)).links == [2], "app: INC-2, not INC-1 (web only)"
    await bot.incident("open Something else entirely")
    assert (await bot.runtime.incidents.get(4)).links == [], "no components, no recurrence"
    await bot.incident("postmortem INC-2")
    await bot.calls("files.completeUploadExternal")
    [document] = [content.decode() for content in bot.mock.uploads.values()]
    related = document.split("## Related incidents", 1)[1]
    assert "INC-1" in related and "INC-3" in related


async def test_an_outage_after_the_window_is_a_new_story(bot: SlackBot, clock: Clock) -> None:
    await resolved_incident_on_web(bot)
    clock.advance(days=8)

    text = await alert_for_web(bot)

    assert "INC-1" not in text
    await repair_component(bot)


@pytest.mark.parametrize("kv", ["sqlite"], indirect=True)
async def test_the_window_is_configurable_and_zero_turns_it_off(kv: KeyValue, clock: Clock) -> None:
    config = slack_config(incidents={"recurrence_window": "0s"})
    async with running_bot(kv, config=config, clock=clock) as bot:
        await resolved_incident_on_web(bot)
        clock.advance(minutes=10)
        text = await alert_for_web(bot)
        await bot.incident("open Again components:web")

        assert "INC-1" not in text
        assert (await bot.runtime.incidents.get(2)).links == []
        raw = json.loads(button_value(bot.mock.posts(ALERTS)[0], DECLARE_ACTION))
        assert raw["component"] == "web"


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(seconds=40), "40s"),
        (timedelta(minutes=59, seconds=59), "59m"),
        (timedelta(hours=5, minutes=50), "5h"),
        (timedelta(days=2, hours=23), "2d"),
        (timedelta(seconds=-5), "0s"),
    ],
)
def test_ages_read_in_their_largest_unit(delta: timedelta, shown: str) -> None:
    assert format_age(delta) == shown
