"""The incident lifecycle through the outbox to a mock Slack: card, thread, managers, channels."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.chat.outbox import Outbox
from bot.chat.poster import Poster
from bot.config import Config
from bot.incidents.models import IncidentStatus
from bot.incidents.service import IncidentError, IncidentService
from bot.incidents.store import IncidentStore
from bot.metrics import Metrics
from bot.store.keyvalue import KeyValue
from handlers.slack.adapter import SlackAdapter
from tests.support.builders import Clock, make_config
from tests.support.slack_mock import MockSlack

CHANNELS = {
    "alerts": {"slack": "C0ALERTS"},
    "incidents": {"slack": "C0INCIDENTS"},
    "managers": {"slack": "C0MANAGERS"},
}


@dataclass
class Desk:
    incidents: IncidentService
    outbox: Outbox
    slack: MockSlack
    clock: Clock

    async def deliver(self) -> None:
        await self.outbox.drain()


def build(kv: KeyValue, slack: MockSlack, config: Config) -> Desk:
    clock = Clock()
    adapter = SlackAdapter.create("xoxb-test", slack.url, None)
    outbox = Outbox(kv, {"slack": adapter}, Metrics(), clock=lambda: clock.now.timestamp())
    service = IncidentService(
        config, IncidentStore(kv), Poster(config, outbox), clock, channels=adapter
    )
    return Desk(service, outbox, slack, clock)


@pytest.fixture
def desk(kv: KeyValue, slack: MockSlack) -> Desk:
    return build(kv, slack, make_config(channels=CHANNELS))


async def test_every_change_is_threaded_carded_and_told_to_managers(desk: Desk) -> None:
    incident = await desk.incidents.open(
        title="Login fails", reporter="U1", severity=2, components=["web"]
    )
    desk.clock.advance(minutes=5)
    await desk.incidents.update(incident.number, "U1", "Failover started")
    await desk.incidents.change_status(incident.number, "U1", IncidentStatus.IDENTIFIED, "DNS")
    desk.clock.advance(minutes=40)
    await desk.incidents.resolve(incident.number, "U1", "Rolled back")
    await desk.deliver()

    card = desk.slack.posts("C0INCIDENTS")[0]
    assert card.args["text"] == "INC-1 (sev2, investigating): Login fails"
    replies = desk.slack.posts("C0INCIDENTS")[1:]
    assert [r.args["text"] for r in replies] == [
        "INC-1 update: Failover started",
        "INC-1 is now identified: DNS",
        "INC-1 resolved after 45m: Rolled back",
    ]
    assert {r.args["thread_ts"] for r in replies} == {"1700000000.000001"}
    assert [m.args["text"] for m in desk.slack.posts("C0MANAGERS")] == [
        "INC-1 (sev2, investigating) declared: Login fails",
        "INC-1 (sev2, investigating) update: Failover started",
        "INC-1 (sev2, identified) is now identified: DNS",
        "INC-1 (sev2, resolved) resolved after 45m: Rolled back",
    ]
    assert desk.slack.texts("chat.update")[-1] == "INC-1 (sev2, resolved): Login fails"
    timeline = await desk.incidents.timeline(incident.number)
    assert [(e.kind, e.actor) for e in timeline] == [
        ("opened", "U1"),
        ("update", "U1"),
        ("status", "U1"),
        ("resolved", "U1"),
    ]
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)


async def test_links_are_recorded_both_ways(desk: Desk) -> None:
    first = await desk.incidents.open(title="Login fails", reporter="U1")
    second = await desk.incidents.open(title="Login fails again", reporter="U1")
    await desk.incidents.link(second.number, first.number, "U1")
    assert (await desk.incidents.get(1)).links == [2]
    assert (await desk.incidents.get(2)).links == [1]
    assert (await desk.incidents.timeline(1))[-1].text == "linked to INC-2"
    with pytest.raises(IncidentError, match="already linked"):
        await desk.incidents.link(first.number, second.number, "U1")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("resolve twice", "INC-1 is already resolved"),
        ("update resolved", "INC-1 is resolved; open a new incident and link it"),
        ("unknown incident", "INC-9 does not exist"),
        ("same severity", "INC-1 is already sev3"),
        ("unknown component", "unknown component 'atm'; expected one of web, app"),
        ("blank title", "the incident needs a title"),
    ],
)
async def test_impossible_changes_are_refused_with_a_reason(
    desk: Desk, action: str, message: str
) -> None:
    await desk.incidents.open(title="Login fails", reporter="U1")
    with pytest.raises(IncidentError, match=message):
        match action:
            case "resolve twice":
                await desk.incidents.resolve(1, "U1")
                await desk.incidents.resolve(1, "U1")
            case "update resolved":
                await desk.incidents.resolve(1, "U1")
                await desk.incidents.update(1, "U1", "more")
            case "unknown incident":
                await desk.incidents.update(9, "U1", "more")
            case "same severity":
                await desk.incidents.change_severity(1, "U1", 3)
            case "unknown component":
                await desk.incidents.open(title="ATMs", reporter="U1", components=["atm"])
            case "blank title":
                await desk.incidents.open(title="   ", reporter="U1")


async def test_an_incident_channel_is_created_when_configured(
    kv: KeyValue, slack: MockSlack
) -> None:
    config = make_config(channels=CHANNELS, incidents={"create_channel": True})
    desk = build(kv, slack, config)
    slack.fail_next("conversations.create", status=200, error="name_taken", retry_after=None)
    incident = await desk.incidents.open(title="Login fails: 503!", reporter="U1", commander="U2")
    await desk.incidents.update(incident.number, "U2", "Failover started")
    await desk.deliver()

    creates = [c.args["name"] for c in slack.calls if c.method == "conversations.create"]
    assert creates == ["inc-1-login-fails-503", "inc-1-login-fails-503-2"]
    channel = (await desk.incidents.get(1)).channel
    assert channel is not None and channel.startswith("CINC")
    invite = next(c for c in slack.calls if c.method == "conversations.invite")
    assert (invite.args["channel"], invite.args["users"]) == (channel, "U2")
    topic = next(c for c in slack.calls if c.method == "conversations.setTopic")
    assert topic.args["topic"] == "INC-1 (sev3): Login fails: 503!"
    assert [p.args["text"] for p in slack.posts(channel)] == [
        "INC-1 (sev3, investigating): Login fails: 503!",
        "INC-1 update: Failover started",
    ]
    assert await desk.incidents.store.by_channel(channel) == 1
    assert len(slack.posts("C0INCIDENTS")) == 1, "the incidents channel keeps the card"


async def test_one_incident_per_outage_whoever_declares_it(desk: Desk) -> None:
    first = await desk.incidents.open(
        title="Major outage: web", reporter="U1", components=["web"], outage="web-20261201T1130"
    )
    with pytest.raises(IncidentError, match=r"^INC-1 was already declared for this outage\.$"):
        await desk.incidents.open(
            title="Web down", reporter="U2", components=["web"], outage="web-20261201T1130"
        )
    assert await desk.incidents.for_outage("web-20261201T1130") == first
    assert [i.number for i in await desk.incidents.open_incidents()] == [1]


async def test_a_channel_topic_cannot_ping_or_link(kv: KeyValue, slack: MockSlack) -> None:
    desk = build(kv, slack, make_config(channels=CHANNELS, incidents={"create_channel": True}))
    await desk.incidents.open(title="<!channel> see <http://evil|here> @here", reporter="U2")
    await desk.deliver()
    topic = next(c for c in slack.calls if c.method == "conversations.setTopic").args["topic"]
    assert "<!channel>" not in topic and "<http" not in topic
    assert "@\u2060here" in topic


async def test_a_title_of_invisible_characters_is_no_title(desk: Desk) -> None:
    for title in ("\u200b", "\u200b\u200c\ufeff", "\x1b\x07\x00 "):
        with pytest.raises(IncidentError, match="the incident needs a title"):
            await desk.incidents.open(title=title, reporter="U1")
    incident = await desk.incidents.open(title="Login\x1b[31m fails\x00", reporter="U1")
    assert incident.title == "Login[31m fails"
