"""Modals, alert buttons and App Home, clicked and submitted as Slack sends them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.monitoring.alerts import ACKNOWLEDGE_ACTION, DECLARE_ACTION, SILENCE_ACTION
from bot.store.keyvalue import KeyValue
from tests.support.slack_app import (
    ALERTS,
    INCIDENTS,
    ONCALL_MEMBER,
    RESPONDER,
    VISITOR,
    SlackBot,
    break_component,
    button_value,
    displayed,
    eventually,
    form_values,
    redis_only,
    repair_component,
    running_bot,
    texts_in,
    values_of,
)
from tests.support.slack_mock import Call

ALERT_TEXT = "Major outage: online account services (web-home: HTTP 503, 3 failures since"


@pytest.fixture
async def bot(kv: KeyValue) -> AsyncIterator[SlackBot]:
    async with running_bot(kv) as running:
        yield running


async def opened_view(bot: SlackBot, count: int = 1) -> tuple[Call, dict[str, Any]]:
    """The `count`-th views.open call and the view as Slack would hand it back (with its id)."""
    call = (await bot.calls("views.open", count))[count - 1]
    return call, {**call.args["view"], "id": call.result["view"]["id"]}


async def alert(bot: SlackBot) -> Call:
    """Break `web` until it is alerted; return the alert in the alerts channel."""
    await break_component(bot)
    [posted] = await bot.posts(ALERTS, 1)
    assert posted.args["text"].startswith(ALERT_TEXT), posted.args["text"]
    return posted


def replies_to(bot: SlackBot, root: Call) -> list[str]:
    ts = root.result["ts"]
    return [p.args["text"] for p in bot.mock.posts(ALERTS) if p.args.get("thread_ts") == ts]


def edits_of(bot: SlackBot, root: Call) -> list[Call]:
    ts = root.result["ts"]
    return [u for u in bot.mock.calls_of("chat.update") if u.args.get("ts") == ts]


# -- the declare-incident modal ------------------------------------------------------------


@redis_only
async def test_open_without_text_opens_the_form(bot: SlackBot) -> None:
    reply = await bot.incident("open", trigger_id="trigger-form-1")

    assert reply.status == 200
    call, view = await opened_view(bot)
    assert call.args["trigger_id"] == "trigger-form-1"
    assert view["callback_id"] == "incident_open"
    assert view["type"] == "modal"
    assert [b["block_id"] for b in view["blocks"]] == ["title", "severity", "components"]
    options = view["blocks"][2]["element"]["options"]
    assert [o["value"] for o in options] == ["web", "app"]


@redis_only
async def test_the_form_is_for_responders(bot: SlackBot) -> None:
    reply = await bot.incident("open", user=VISITOR)

    assert reply.text == (
        "Only responders may open incidents; ask someone with that role (config: roles.responders)."
    )
    await bot.incident("list")  # a later request has been answered: the form would be open
    assert bot.mock.calls_of("views.open") == []


async def test_submitting_the_form_declares_the_incident(bot: SlackBot) -> None:
    await bot.incident("open")
    _, view = await opened_view(bot)

    reply = await bot.submit(view, form_values("Phones ring out", "2", ("app", "web")))

    assert reply.status == 200
    assert reply.body.get("response_action") is None, reply.body
    [card] = await bot.posts(INCIDENTS, 1)
    assert card.args["text"] == "INC-1 (sev2, investigating): Phones ring out"
    assert "mobile app, online account services" in displayed(card)
    incident = await bot.runtime.incidents.get(1)
    assert (incident.reporter, incident.severity, incident.components) == (
        RESPONDER,
        2,
        ["app", "web"],
    )


@redis_only
async def test_an_empty_title_is_shown_as_an_error_in_the_form(bot: SlackBot) -> None:
    await bot.incident("open")
    _, view = await opened_view(bot)

    reply = await bot.submit(view, form_values("   ", "2"))

    assert reply.status == 200
    assert reply.body == {
        "response_action": "errors",
        "errors": {"title": "Give the incident a title."},
    }
    await bot.settled()
    assert await bot.runtime.incidents.open_incidents() == []
    assert bot.mock.posts(INCIDENTS) == []


@redis_only
async def test_a_visitor_cannot_submit_the_form(bot: SlackBot) -> None:
    await bot.incident("open")
    _, view = await opened_view(bot)

    reply = await bot.submit(view, form_values("Phones ring out"), user=VISITOR)

    assert reply.body == {
        "response_action": "errors",
        "errors": {"title": "Only responders may open incidents."},
    }
    await bot.settled()
    assert await bot.runtime.incidents.open_incidents() == []


async def test_submitting_the_same_form_twice_declares_once(bot: SlackBot) -> None:
    await bot.incident("open")
    _, view = await opened_view(bot)
    values = form_values("Phones ring out", "2", ("app",))

    first = await bot.submit(view, values)
    second = await bot.submit(view, values)

    assert (first.status, second.status) == (200, 200)
    await bot.posts(INCIDENTS, 1)
    # The second submission's listener runs after its ack; a later incident shows it is done.
    await bot.incident("open Barrier incident")
    await bot.posts(INCIDENTS, 2)
    await bot.settled()
    titles = [i.title for i in await bot.runtime.incidents.open_incidents()]
    assert titles == ["Phones ring out", "Barrier incident"]


# -- alert buttons ---------------------------------------------------------------------------


@redis_only
async def test_an_alert_carries_declare_acknowledge_and_silence(bot: SlackBot) -> None:
    posted = await alert(bot)

    actions = next(b for b in posted.args["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        DECLARE_ACTION,
        ACKNOWLEDGE_ACTION,
        SILENCE_ACTION,
    ]
    value = json.loads(actions["elements"][0]["value"])
    assert value["component"] == "web"
    assert value["impact"] == "major_outage"


async def test_acknowledge_shows_who_is_on_it_once(bot: SlackBot) -> None:
    posted = await alert(bot)
    value = button_value(posted, ACKNOWLEDGE_ACTION)

    reply, _ = await bot.click(ACKNOWLEDGE_ACTION, value, message=posted)

    assert reply.status == 200
    await eventually(lambda: replies_to(bot, posted), what="the acknowledgement")
    await bot.settled()
    assert replies_to(bot, posted) == [f"Acknowledged by <@{RESPONDER}>"]
    [edit] = edits_of(bot, posted)
    assert edit.args["channel"] == ALERTS
    assert edit.args["text"].startswith(ALERT_TEXT)
    assert f"*Acknowledged by*\n<@{RESPONDER}>" in displayed(edit)
    assert any(b["type"] == "actions" for b in edit.args["blocks"]), "the buttons stay"

    await bot.click(ACKNOWLEDGE_ACTION, value, message=posted)
    # Another responder's click is answered after the repeated one: wait for it.
    await bot.click(ACKNOWLEDGE_ACTION, value, user=ONCALL_MEMBER, message=posted)
    await eventually(lambda: len(replies_to(bot, posted)) >= 2, what="the second acknowledgement")
    await bot.settled()

    assert replies_to(bot, posted) == [
        f"Acknowledged by <@{RESPONDER}>",
        f"Acknowledged by <@{ONCALL_MEMBER}>",
    ]
    assert len(edits_of(bot, posted)) == 2
    assert f"<@{RESPONDER}>, <@{ONCALL_MEMBER}>" in displayed(edits_of(bot, posted)[-1])
    outage = await bot.runtime.alerter.open_outage("web")
    assert outage is not None
    assert outage.acknowledged_by == [RESPONDER, ONCALL_MEMBER]


@redis_only
async def test_acknowledging_an_outage_that_is_over_says_so(bot: SlackBot) -> None:
    posted = await alert(bot)
    await repair_component(bot)
    await bot.posts(ALERTS, 2)

    _, token = await bot.click(ACKNOWLEDGE_ACTION, button_value(posted, ACKNOWLEDGE_ACTION))

    answer = await bot.response(token)
    assert answer["text"] == "That outage is over."
    assert answer["response_type"] == "ephemeral"


@redis_only
async def test_silence_says_for_how_long_and_by_whom(bot: SlackBot) -> None:
    posted = await alert(bot)

    await bot.click(SILENCE_ACTION, button_value(posted, SILENCE_ACTION), message=posted)

    [said] = await eventually(lambda: replies_to(bot, posted), what="the silence reply")
    assert said == f"Silenced for 1h by <@{RESPONDER}>"


async def test_silence_holds_back_the_next_outage_of_that_component(bot: SlackBot) -> None:
    posted = await alert(bot)
    await bot.click(SILENCE_ACTION, button_value(posted, SILENCE_ACTION), message=posted)
    await eventually(lambda: replies_to(bot, posted), what="the silence reply")
    silenced = await bot.runtime.alerter.silenced_until("web")
    assert silenced is not None

    await repair_component(bot)  # the recovery still closes the outage
    await eventually(
        lambda: any(
            t.startswith("Recovered: online account services") for t in replies_to(bot, posted)
        ),
        what="the recovery",
    )
    await break_component(bot)  # a new outage while silenced: held back
    await break_component(bot, "app-api", times=1)  # another component still alerts
    await eventually(
        lambda: any(
            p.args["text"].startswith("Major outage: mobile app") for p in bot.mock.posts(ALERTS)
        ),
        what="the mobile app alert",
    )
    await bot.settled()

    roots = [p.args["text"] for p in bot.mock.posts(ALERTS) if "thread_ts" not in p.args]
    assert len(roots) == 2, roots
    assert roots[0].startswith(ALERT_TEXT)
    assert roots[1].startswith("Major outage: mobile app")
    outage = await bot.runtime.alerter.open_outage("web")
    assert outage is not None
    assert not outage.posted


async def test_declare_opens_the_form_prefilled_then_says_it_was_declared(
    bot: SlackBot,
) -> None:
    posted = await alert(bot)
    value = button_value(posted, DECLARE_ACTION)
    outage_id = json.loads(value)["outage"]

    reply, token = await bot.click(DECLARE_ACTION, value, message=posted)

    assert reply.status == 200
    call, view = await opened_view(bot)
    assert call.args["trigger_id"] == f"trigger-{token}"
    assert view["callback_id"] == "incident_open"
    title, severity, components = view["blocks"]
    assert title["element"]["initial_value"] == "Major outage: online account services"
    assert severity["element"]["initial_option"]["value"] == "1"
    assert [o["value"] for o in components["element"]["initial_options"]] == ["web"]
    assert json.loads(view["private_metadata"])["outage"] == outage_id

    submitted = await bot.submit(view, values_of(view))

    assert submitted.status == 200
    [card] = await bot.posts(INCIDENTS, 1)
    assert card.args["text"] == "INC-1 (sev1, investigating): Major outage: online account services"
    incident = await bot.runtime.incidents.for_outage(outage_id)
    assert incident is not None
    assert incident.id == "INC-1"

    _, token = await bot.click(DECLARE_ACTION, value, message=posted)

    answer = await bot.response(token)
    assert answer["text"] == "INC-1 was already declared for this outage."
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert len(bot.mock.calls_of("views.open")) == 1


@redis_only
async def test_two_declare_forms_for_one_outage_declare_one_incident(bot: SlackBot) -> None:
    # A double click (or two responders at once) opens two forms before either is submitted.
    posted = await alert(bot)
    value = button_value(posted, DECLARE_ACTION)
    await bot.click(DECLARE_ACTION, value, message=posted)
    await bot.click(DECLARE_ACTION, value, user=ONCALL_MEMBER, message=posted)
    _, first = await opened_view(bot, 1)
    _, second = await opened_view(bot, 2)

    await bot.submit(first, values_of(first))
    await bot.submit(second, values_of(second), user=ONCALL_MEMBER)
    await bot.posts(INCIDENTS, 1)
    await bot.incident("open Barrier incident")  # answered after both submissions are handled
    await eventually(
        lambda: any("Barrier incident" in p.args["text"] for p in bot.mock.posts(INCIDENTS)),
        what="the barrier incident",
    )
    await bot.settled()

    titles = [i.title for i in await bot.runtime.incidents.open_incidents()]
    assert titles.count("Major outage: online account services") == 1, titles


@pytest.mark.parametrize(
    ("action", "what"),
    [
        (DECLARE_ACTION, "declare incidents"),
        (ACKNOWLEDGE_ACTION, "acknowledge alerts"),
        (SILENCE_ACTION, "silence alerts"),
    ],
)
async def test_a_visitor_clicking_an_alert_button_is_refused(
    redis_kv: KeyValue, action: str, what: str
) -> None:
    async with running_bot(redis_kv) as bot:
        posted = await alert(bot)

        reply, token = await bot.click(
            action, button_value(posted, action), user=VISITOR, message=posted
        )

        assert reply.status == 200
        answer = await bot.response(token)
        assert answer["text"] == (
            f"Only responders may {what}; ask someone with that role (config: roles.responders)."
        )
        assert answer["response_type"] == "ephemeral"
        await bot.settled()
        assert bot.mock.calls_of("views.open") == []
        assert replies_to(bot, posted) == []
        assert edits_of(bot, posted) == []
        assert await bot.runtime.alerter.silenced_until("web") is None


# -- App Home --------------------------------------------------------------------------------


@redis_only
async def test_app_home_shows_the_status(bot: SlackBot) -> None:
    await bot.incident("open Phones ring out sev:1 components:app")

    reply = await bot.event(
        {"type": "app_home_opened", "user": VISITOR, "channel": "D0HOME", "tab": "home"},
        event_id="Ev0HOME1",
    )

    assert reply.status == 200
    [published] = await bot.calls("views.publish")
    assert published.args["user_id"] == VISITOR
    view = published.args["view"]
    assert view["type"] == "home"
    text = "\n".join(texts_in(view["blocks"]))
    assert "Service status" in text
    assert "mobile app (app): Major outage" in text
    assert "INC-1 (sev1, investigating): Phones ring out" in text


async def test_a_retried_app_home_event_publishes_once(bot: SlackBot) -> None:
    event = {"type": "app_home_opened", "user": VISITOR, "channel": "D0HOME", "tab": "home"}
    await bot.event(event, event_id="Ev0HOME2")
    await bot.calls("views.publish")

    retry = await bot.event(event, event_id="Ev0HOME2")
    assert retry.status == 200
    await bot.event(event, event_id="Ev0HOME3")  # a new event is published
    await bot.calls("views.publish", 2)
    await bot.settled()

    assert len(bot.mock.calls_of("views.publish")) == 2
