"""Microsoft Teams end to end: a Teams-only organisation gets alerts, drives incidents and
approves statements in Teams, through signed activities and a mock of Microsoft's side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.store.keyvalue import KeyValue
from bot.vocabulary import IncidentStatus
from tests.support.slack_app import eventually, redis_only
from tests.support.slack_mock import MockSlack
from tests.support.teams_app import (
    ALERTS,
    COMMS,
    COMMS_CHANNEL,
    INCIDENTS,
    LEAD,
    RESPONDER,
    VISITOR,
    WAR_ROOM,
    TeamsBot,
    microsoft,
    running_teams_bot,
    teams_config,
    teams_settings,
)


@pytest.fixture
async def bot(kv: KeyValue, tmp_path: Path) -> AsyncIterator[TeamsBot]:
    async with running_teams_bot(kv, tmp_path) as running:
        yield running


def buttons(card: dict[str, object]) -> list[str]:
    return [str(a["title"]) for a in card.get("actions", [])]  # type: ignore[attr-defined]


@redis_only
async def test_an_outage_is_one_card_per_channel_and_its_recovery_follows_it(bot: TeamsBot) -> None:
    await bot.fail_component()
    [alert] = await bot.posts(ALERTS, 1)
    summary = "Major outage: online account services (web-home: HTTP 503, 3 failures since"
    assert bot.mock.summary(alert).startswith(summary)
    assert buttons(bot.mock.card(alert)) == ["Declare incident", "Acknowledge", "Silence 1h"]
    [hooked] = await bot.webhook_posts("alerts", 1)
    assert hooked.startswith(summary)

    # A webhook card cannot take clicks: its buttons are links (the status page).
    webhook_card = bot.mock.of("webhook")[0].body["attachments"][0]
    assert webhook_card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert [(a["type"], a["url"]) for a in webhook_card["content"]["actions"]] == [
        ("Action.OpenUrl", "https://status.example.com/")
    ]

    await bot.fail_component(times=2)  # still down: no second alert anywhere
    await bot.repair_component()
    posts = await bot.webhook_posts("alerts", 2)
    assert posts[1].startswith("Recovered: online account services after")
    recovery = bot.mock.of("webhook")[1].body["attachments"][0]["content"]["body"]
    assert recovery[0]["inlines"][0]["text"].startswith("Follows: Major outage: online account")
    await bot.settled()
    assert [p for p in posts if p.startswith("Major outage")] == [posts[0]]
    # In the bot's channel the recovery is a reply in the alert's thread, and the card is edited.
    thread = bot.mock.activities(f"{ALERTS};messageid={alert.id}")
    assert [bot.mock.summary(r) for r in thread][-1].startswith("Recovered: online account")
    assert bot.mock.of("update"), "the alert card is kept current"


@redis_only
async def test_commands_in_a_channel_and_in_a_personal_chat(bot: TeamsBot) -> None:
    assert (await bot.say("status")).startswith("Status: all 2 components operational")
    assert (await bot.say("incident help")).startswith("Usage:")
    answer = await bot.say("incident open Login fails for card holders sev:1 components:web")
    assert answer.startswith("Declared INC-1 (sev1, investigating): Login fails for card holders.")
    [card] = await bot.posts(INCIDENTS, 1)
    assert bot.mock.summary(card) == "INC-1 (sev1, investigating): Login fails for card holders"
    # In the incident's thread the ID may be left out.
    thread = f"{INCIDENTS};messageid={card.id}"
    update = await bot.say("incident update Failover started", conversation=thread)
    assert update == "Posted the update to INC-1."
    assert (await bot.say("incident sev 1 9")).startswith("severity must be 1, 2, 3 or 4")
    assert (await bot.say("hello")).startswith("Not a command.")
    # A personal chat: no mention needed.
    personal = await bot.say("incident list", conversation="a:personal-chat", mention=False)
    assert personal == "1 open incident"
    refused = await bot.say("incident open Another", user=VISITOR)
    assert refused.startswith("Only responders may open incidents")


@redis_only
async def test_approval_in_teams_follows_the_same_rules_as_slack(bot: TeamsBot) -> None:
    await bot.say("incident open Login fails sev:1 components:web", user=LEAD)
    [draft] = await bot.posts(COMMS_CHANNEL, 1)
    assert bot.mock.summary(draft) == "Statement for INC-1 (investigating): awaiting approval"
    card = bot.mock.card(draft)
    assert buttons(card) == ["Approve", "Edit", "Reject"]
    assert "Login fails" not in str(card), "the internal title never reaches the draft"

    assert (await bot.click(draft, "Approve", user=RESPONDER)).startswith(
        "Only comms may approve statements"
    )
    assert "another comms member must approve it" in await bot.click(draft, "Approve", user=LEAD)
    assert await bot.click(draft, "Approve", user=COMMS) == "Published the statement for INC-1."
    assert await bot.click(draft, "Approve", user=COMMS) == "this statement is already published"

    updated = await eventually(
        lambda: [u for u in bot.mock.of("update") if "published by" in str(u.body)],
        what="the draft card to show its outcome",
    )
    assert "Approve" not in str(updated[-1].body["attachments"][0]["content"].get("actions", []))
    published = await bot.runtime.statements.published()
    assert [s.incident for s in published] == [1]
    managers = await bot.webhook_posts("managers", 2)
    assert any(m.startswith("Published statement for INC-1 (investigating)") for m in managers)


@redis_only
async def test_approval_can_be_typed_in_teams_too(bot: TeamsBot) -> None:
    await bot.say("incident open Login fails sev:1 components:web", user=LEAD)
    await bot.posts(COMMS_CHANNEL, 1)

    assert "another comms member must approve it" in await bot.say(
        "incident approve INC-1", user=LEAD
    )
    assert (await bot.say("incident reject INC-1", user=COMMS)).startswith("say why it is rejected")
    assert await bot.say("incident approve INC-1", user=COMMS) == (
        "Published the statement for INC-1."
    )
    assert [s.incident for s in await bot.runtime.statements.published()] == [1]


@redis_only
async def test_edit_and_reject_forms_are_cards_in_the_thread(bot: TeamsBot) -> None:
    await bot.say("incident open Login fails components:web", user=RESPONDER)
    [draft] = await bot.posts(COMMS_CHANNEL, 1)
    assert (await bot.click(draft, "Edit", user=RESPONDER)).startswith(
        "Only comms may edit or reject statements"
    )
    form_summary = await bot.click(draft, "Reject", user=COMMS)
    assert form_summary == "Opening the review form…"
    form = [
        r
        for r in bot.mock.activities(f"{COMMS_CHANNEL};messageid={draft.id}")
        if r.body.get("replyToId")
    ][-1]
    submit = bot.mock.card(form)["actions"][0]
    assert submit["title"] == "Reject"
    empty = await bot.submit(form, {**submit["data"], "reason": ""}, user=COMMS)
    assert empty.startswith("say why it is rejected")
    await bot.submit(form, {**submit["data"], "reason": "Too vague"}, user=COMMS, answer=False)

    async def rejected() -> bool:
        timeline = await bot.runtime.incidents.timeline(1)
        return timeline[-1].text == "statement rejected: Too vague"

    await eventually(rejected, what="the rejection in the timeline")
    assert await bot.runtime.statements.store.pending("incident:1") is None


@redis_only
async def test_declaring_from_an_alert_opens_a_form_card(bot: TeamsBot) -> None:
    await bot.fail_component()
    [alert] = await bot.posts(ALERTS, 1)
    assert (
        await bot.click(alert, "Declare incident", user=RESPONDER) == "Opening the incident form…"
    )
    form = [
        r for r in bot.mock.activities(f"{ALERTS};messageid={alert.id}") if r.body.get("replyToId")
    ][-1]
    card = bot.mock.card(form)
    title = next(e for e in card["body"] if e.get("id") == "title")
    assert title["value"] == "Major outage: online account services"
    data = card["actions"][0]["data"]
    await bot.submit(
        form,
        {**data, "title": title["value"], "severity": "1", "components": "web"},
        user=RESPONDER,
    )
    incident = await eventually(
        lambda: bot.runtime.incidents.for_outage(data["outage"]), what="the declared incident"
    )
    assert incident.severity == 1 and incident.components == ["web"]
    # A second declaration for the same outage is refused, whoever asks.
    again = await bot.click(alert, "Declare incident", user=LEAD)
    assert again == "INC-1 was already declared for this outage."
    assert incident.status == IncidentStatus.INVESTIGATING


def _forged(bot: TeamsBot) -> dict[str, str | None]:
    """Every way a request's token can be wrong, each a header value (None: no header)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    mock = bot.mock
    return {
        "missing": None,
        "not a bearer": "Basic c3RhdHVzYm90OnN0YXR1c2JvdA==",
        "garbage": "Bearer not-a-token",
        "empty": "Bearer",
        "signed by another key": f"Bearer {mock.sign(key=stranger)}",
        "unknown key id": f"Bearer {mock.sign(kid='somebody-elses-key')}",
        "expired": f"Bearer {mock.sign(expires_in=-3600)}",
        "another audience": f"Bearer {mock.sign(audience='another-bot')}",
        "another issuer": f"Bearer {mock.sign(issuer='https://login.microsoftonline.com/x/v2.0')}",
        "another service url": f"Bearer {mock.sign(service_url='https://evil.example/teams/')}",
        "unsigned": "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIn0.",
    }


@redis_only
async def test_bad_tokens_get_401_and_change_nothing(bot: TeamsBot) -> None:
    for name, authorization in _forged(bot).items():
        activity = bot.activity(RESPONDER, WAR_ROOM, text="<at>statusbot</at> incident open Forged")
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        response = await bot.http.post("/api/messages", json=activity, headers=headers)
        assert response.status_code == 401, name
    # Garbled bodies: 401 without a good token, 400 with one; never a 5xx.
    for body in (
        b"{",
        b"[]",
        b"null",
        b"\xff\xfe",
        b'{"type": 7}',
        b'{"type": "message", "from": "x"}',
    ):
        unsigned = await bot.http.post("/api/messages", content=body)
        assert unsigned.status_code == 401, body
        signed = await bot.http.post(
            "/api/messages", content=body, headers={"Authorization": f"Bearer {bot.mock.sign()}"}
        )
        assert signed.status_code == 400, body
    await bot.settled()
    assert await bot.runtime.incidents.open_incidents() == []
    assert bot.mock.activities() == []
    # The good token, for contrast, works.
    assert (await bot.say("incident open Real one")).startswith("Declared INC-1")


@redis_only
async def test_a_redelivered_activity_runs_once(bot: TeamsBot) -> None:
    activity = bot.activity(RESPONDER, WAR_ROOM, text="<at>statusbot</at> incident open Twice")
    for _ in range(2):
        assert (await bot.send(activity)).status_code == 200
    await eventually(lambda: bot.answers_to(activity["id"]), what="the answer")
    await bot.settled()
    assert [i.number for i in await bot.runtime.incidents.open_incidents()] == [1]
    assert len(bot.answers_to(activity["id"])) == 1


@redis_only
async def test_the_bots_token_is_asked_for_once_and_reused(bot: TeamsBot) -> None:
    for text in ("status", "incident list", "incident open One", "incident open Two"):
        await bot.say(text)
    await bot.settled()
    assert len(bot.mock.of("token")) == 1
    form = bot.mock.of("token")[0].body
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "https://api.botframework.com/.default"
    assert all(r.headers["authorization"].startswith("Bearer ey") for r in bot.mock.of("activity"))


@redis_only
async def test_the_service_url_teams_gives_is_kept_for_posts_after_a_restart(
    kv: KeyValue, tmp_path: Path
) -> None:
    async with microsoft(tmp_path) as mock:
        # Configured wrongly on purpose: only an activity can tell the bot where to post.
        settings = teams_settings(mock, mock.pki).model_copy(
            update={"teams_service_url": f"{mock.url}/not-the-connector/"}
        )
        async with running_teams_bot(kv, tmp_path, mock=mock, settings=settings) as bot:
            assert (await bot.say("status")).startswith("Status:")
        async with running_teams_bot(kv, tmp_path, mock=mock, settings=settings) as restarted:
            await restarted.fail_component()
            [alert] = await restarted.posts(ALERTS, 1)
            assert restarted.mock.summary(alert).startswith("Major outage")
            assert await restarted.runtime.outbox.dead_letters() == []


@redis_only
async def test_a_mixed_organisation_gets_slack_and_teams(kv: KeyValue, tmp_path: Path) -> None:
    slack = await MockSlack().start()
    try:
        async with microsoft(tmp_path) as mock:
            settings = teams_settings(mock, mock.pki).model_copy(
                update={
                    "slack_bot_token": SecretStr("xoxb-test"),
                    "slack_signing_secret": SecretStr("test-signing-secret"),
                    "slack_api_url": slack.url,
                }
            )
            channels = {
                "alerts": {"slack": "C0ALERTS", "teams_channel": ALERTS},
                "incidents": {"slack": "C0INCIDENTS", "teams_channel": INCIDENTS},
                "managers": {"slack": "C0MANAGERS", "teams": mock.webhook("managers")},
                "comms": {"teams_channel": COMMS_CHANNEL},
            }
            config = teams_config(mock, channels=channels)
            async with running_teams_bot(
                kv, tmp_path, mock=mock, settings=settings, config=config
            ) as bot:
                assert sorted(bot.runtime.adapters) == ["slack", "teams", "teams-webhook"]
                await bot.fail_component()
                [teams_alert] = await bot.posts(ALERTS, 1)
                slack_alert = await eventually(
                    lambda: slack.posts("C0ALERTS"), what="the Slack alert"
                )
                assert bot.mock.summary(teams_alert) == slack_alert[0].args["text"]
                await bot.say("incident open Login fails components:web")
                await bot.posts(INCIDENTS, 1)
                await eventually(lambda: slack.posts("C0INCIDENTS"), what="the Slack incident card")
                managers = await bot.webhook_posts("managers", 1)
                assert managers[0] == "INC-1 (sev3, investigating) declared: Login fails"
    finally:
        await slack.stop()
