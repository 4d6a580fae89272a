"""Reminders to the commander and managers' summaries: on time, not repeated, and they stop."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from bot.chat.outbox import Outbox
from bot.chat.poster import Poster
from bot.incidents.cadence import Cadence
from bot.incidents.service import IncidentService
from bot.incidents.store import IncidentStore
from bot.metrics import Metrics
from bot.store.keyvalue import KeyValue
from handlers.console.adapter import ConsoleAdapter
from tests.support.builders import Clock, make_config

CADENCE = {
    "update_reminder": {"sev1": "10m", "sev2": "20m", "sev3": "1h", "sev4": "1d"},
    "summary_interval": "30m",
}


@dataclass
class Desk:
    incidents: IncidentService
    cadence: Cadence
    outbox: Outbox
    console: ConsoleAdapter
    clock: Clock

    async def tick(self, **advance: float) -> list[tuple[str, str]]:
        """Move time on, run the cadence, deliver; return (channel, text) of new posts."""
        before = len(self.console.posts)
        self.clock.advance(**advance)
        await self.cadence.tick()
        await self.outbox.drain()
        return [(channel, m.text) for channel, m, _ in self.console.posts[before:]]


def build_desk(kv: KeyValue, clock: Clock) -> Desk:
    config = make_config(incidents=CADENCE)
    console = ConsoleAdapter(io.StringIO())
    outbox = Outbox(kv, {"console": console}, Metrics(), clock=lambda: clock.now.timestamp())
    poster = Poster(config, outbox)
    incidents = IncidentService(config, IncidentStore(kv), poster, clock)
    return Desk(incidents, Cadence(config, kv, incidents, poster, clock), outbox, console, clock)


@pytest.fixture
def desk(kv: KeyValue) -> Desk:
    return build_desk(kv, Clock())


async def test_the_commander_is_reminded_after_the_quiet_interval(desk: Desk) -> None:
    await desk.incidents.open(title="Login fails", reporter="U1", severity=1, commander="U2")
    await desk.outbox.drain()

    assert await desk.tick(minutes=9) == []
    posts = await desk.tick(minutes=1)
    assert posts == [
        (
            "incidents",
            "\ue000U2\ue001: INC-1 has had no update for 10m. Post one with /incident update INC-1 <text>",
        )
    ]
    assert await desk.tick(minutes=5) == [], "not again until another interval passes"
    assert len(await desk.tick(minutes=5)) == 1

    await desk.incidents.update(1, "U2", "failing over")
    await desk.outbox.drain()
    assert await desk.tick(minutes=9) == [], "an update restarts the count"
    timeline = await desk.incidents.timeline(1)
    assert [e.kind for e in timeline].count("reminder") == 2


async def test_managers_get_a_summary_every_interval_while_incidents_are_open(desk: Desk) -> None:
    await desk.incidents.open(title="Login fails", reporter="U1", severity=2, components=["web"])
    await desk.incidents.open(title="App slow", reporter="U1", severity=3, components=["app"])
    await desk.outbox.drain()

    def managers(posts: list[tuple[str, str]]) -> list[str]:
        return [text for channel, text in posts if channel == "managers"]

    assert managers(await desk.tick(seconds=1)) == []  # the interval starts now
    assert managers(await desk.tick(minutes=29)) == []
    summary = managers(await desk.tick(minutes=1))
    assert summary == [
        "Incident summary: 2 open incidents, worst sev2: INC-1 sev2 investigating; INC-2 sev3 investigating"
    ]
    message = next(m for channel, m, _ in reversed(desk.console.posts) if channel == "managers")
    assert any(
        "online account services" in line and "Login fails" in line for line in message.lines
    )

    await desk.incidents.resolve(1, "U1")
    await desk.incidents.resolve(2, "U1")
    await desk.outbox.drain()
    assert managers(await desk.tick(minutes=31)) == [], "stops when all resolve"


async def test_cadence_survives_a_restart(kv: KeyValue) -> None:
    clock = Clock()
    first = build_desk(kv, clock)
    await first.incidents.open(title="Login fails", reporter="U1", severity=1)
    await first.outbox.drain()
    assert len(await first.tick(minutes=10)) == 1

    restarted = build_desk(kv, clock)
    assert await restarted.tick(minutes=5) == [], "the reminder sent before the restart counts"
    assert len(await restarted.tick(minutes=5)) == 1


def test_the_tick_follows_the_shortest_interval(kv: KeyValue) -> None:
    clock = Clock()
    desk = build_desk(kv, clock)
    assert desk.cadence.tick_interval().total_seconds() == 30
    fast = make_config(incidents={"update_reminder": {"sev3": "2s"}, "summary_interval": "4s"})
    cadence = Cadence(fast, kv, desk.incidents, desk.incidents._poster, clock)
    assert cadence.tick_interval().total_seconds() == 1
    deadline = make_config(incidents={"statement_deadline": {"sev1": "40s"}})
    cadence = Cadence(deadline, kv, desk.incidents, desk.incidents._poster, clock)
    assert cadence.tick_interval().total_seconds() == 10, "a deadline is nagged on time too"
