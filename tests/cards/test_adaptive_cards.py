"""Every kind of Teams card the bot sends, parsed, validated and rendered by Microsoft's own
Adaptive Cards renderer (npm `adaptivecards`, installed by scripts/check) in headless Chromium."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.chat.message import Action, Message, mention
from bot.chat.outbox import Outbox
from bot.chat.poster import Poster
from bot.incidents.messaging import render_card as render_incident
from bot.incidents.models import Incident
from bot.metrics import Metrics
from bot.monitoring.alerts import Alerter, Outage
from bot.statements.messaging import render_draft, render_published
from bot.statements.models import Statement, StatementState
from bot.store.memory_kv import MemoryKeyValue
from bot.vocabulary import ComponentStatus, IncidentStatus
from handlers.commands.dispatcher import IncidentForm, StatementForm
from handlers.teams.cards import render_card
from handlers.teams.forms import render_form
from tests.support.browser import browser
from tests.support.slack_app import slack_config

RENDERER = (
    Path(__file__).parent / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js"
)
NOW = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)

CHECK = """
(() => {
  const results = {};
  for (const [name, payload] of Object.entries(window.CARDS)) {
    const card = new AdaptiveCards.AdaptiveCard();
    const context = new AdaptiveCards.SerializationContext();
    card.parse(payload, context);
    const events = [];
    for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i).message);
    const validation = card.validateProperties().validationEvents.map((e) => e.message);
    const element = card.render();
    document.body.appendChild(element);
    results[name] = {
      events, validation,
      text: element.innerText,
      buttons: [...element.querySelectorAll("button")].map((b) => b.innerText.trim()),
      inputs: element.querySelectorAll("input, textarea, select").length,
    };
  }
  return results;
})()
"""


def _cards() -> dict[str, dict[str, Any]]:
    config = slack_config()
    outage = Outage(
        id="web-20261201T103000",
        component="web",
        status=ComponentStatus.MAJOR_OUTAGE,
        started_at=NOW - timedelta(minutes=3),
        failing={"web-home": "HTTP 503"},
        acknowledged_by=["aad-responder"],
    )
    kv = MemoryKeyValue()
    alerter = Alerter(config, kv, Poster(config, Outbox(kv, {}, Metrics())), Metrics())
    alert = alerter.render_outage(outage, {})
    incident = Incident(
        number=7,
        title="Login fails *for* [card](http://x) holders <at>x</at>",
        severity=1,
        status=IncidentStatus.IDENTIFIED,
        components=["web", "app"],
        reporter="aad-lead",
        commander="aad-responder",
        created_at=NOW,
        updated_at=NOW,
        last_update_at=NOW,
        links=[3],
    )
    statement = Statement(
        id="abc123",
        incident=7,
        status="investigating",
        name={"en": "Disruption to our online account services", "it": "Disservizio"},
        texts={"en": "Since 11:30 CET some customers…\n\nWe are sorry.", "it": "Dalle 11:30…"},
        drafted_by="aad-lead",
        drafted_at=NOW,
    )
    published = statement.model_copy(
        update={"state": StatementState.PUBLISHED, "decided_by": "aad-comms"}
    )
    recovery = Message(
        text="Recovered: online account services after 3m",
        follows="Major outage: online account services (web-home: HTTP 503)",
        tone="recovered",
    )
    postmortem = Message(
        text="Post-mortem draft for INC-7",
        attachment=("inc-7-postmortem.md", "# INC-7\n\n| a | b |"),
    )
    return {
        "alert": render_card(alert, buttons="submit"),
        "alert by webhook": render_card(
            alert, buttons="links", links={"Status page": "https://status.example.com/"}
        ),
        "recovery": render_card(recovery, buttons="links"),
        "incident": render_card(render_incident(config, incident, NOW), buttons="submit"),
        "draft": render_card(render_draft(statement), buttons="submit"),
        "published": render_card(render_published(published, "en"), buttons="submit"),
        "mention": render_card(
            Message(text=f"{mention('aad-responder')} now commands INC-7."), buttons="submit"
        ),
        "postmortem": render_card(postmortem, buttons="submit"),
        "declare form": render_form(
            config,
            IncidentForm(
                {"title": "Major outage: web", "severity": "1", "components": "web", "outage": "o1"}
            ),
        ),
        "edit form": render_form(config, StatementForm(statement, "edit")),
        "reject form": render_form(config, StatementForm(statement, "reject")),
        "action": render_card(
            Message(text="x", actions=(Action(action_id="a", label="Go", value="v"),)),
            buttons="submit",
        ),
    }


async def test_every_card_parses_validates_and_renders(tmp_path: Path) -> None:
    if not RENDERER.exists():
        pytest.fail(
            "npm's adaptivecards is not installed: scripts/check installs it (npm ci --prefix tests/cards)"
        )
    cards = _cards()
    page = tmp_path / "cards.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<script src='{RENDERER.as_uri()}'></script>"
        f"<script>window.CARDS = {json.dumps(cards)};</script></head><body></body></html>"
    )
    async with browser(tmp_path / "profile") as tools:
        await tools.send("Page.navigate", url=page.as_uri())
        await tools.event("Page.loadEventFired")
        results = await tools.evaluate(CHECK)
    for name, result in results.items():
        assert result["events"] == [], name
        assert result["validation"] == [], name
    assert "Major outage: online account services" in results["alert"]["text"]
    assert results["alert"]["buttons"] == ["Declare incident", "Acknowledge", "Silence 1h"]
    assert results["alert by webhook"]["buttons"] == ["Status page"]
    assert "Follows: Major outage" in results["recovery"]["text"]
    assert results["draft"]["buttons"] == ["Approve", "Edit", "Reject"]
    assert results["published"]["buttons"] == []
    # User text is shown as text: no link, no emphasis, no mention made of it.
    assert "Login fails *for* [card](http://x) holders <at>x</at>" in results["incident"]["text"]
    assert "@aad-responder now commands INC-7." in results["mention"]["text"]
    assert results["declare form"]["inputs"] >= 3 and results["declare form"]["buttons"] == [
        "Declare"
    ]
    assert results["edit form"]["inputs"] == 2
    assert results["reject form"]["inputs"] == 1
