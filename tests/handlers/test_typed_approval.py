"""`/incident approve` and `/incident reject`: the draft's buttons as typed commands, same rules.

Typed on Slack and at the console (its operator is STATUSBOT_CONSOLE_USER, so four eyes hold
there too); Teams: tests/handlers/test_teams.py.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.keyvalue import KeyValue
from bot.wiring import build_dispatcher
from handlers.console.adapter import ConsoleAdapter
from handlers.console.prompt import answer
from tests.acceptance.test_run import write_config
from tests.support.builders import make_config
from tests.support.process import type_at_console
from tests.support.service import Service
from tests.support.slack_app import (
    COMMS,
    COMMS_CHANNEL,
    RESPONDER,
    VISITOR,
    SlackBot,
    displayed,
    eventually,
    redis_only,
    running_bot,
    slack_config,
)

SECOND_COMMS = "U0COMMS2"


@pytest.fixture
async def bot(kv: KeyValue) -> AsyncIterator[SlackBot]:
    config = slack_config(
        roles={"responders": [RESPONDER], "comms": [COMMS, SECOND_COMMS], "managers": []}
    )
    async with running_bot(kv, config=config) as running:
        yield running


async def drafted_incident(bot: SlackBot) -> None:
    """INC-1, opened by a responder: its investigating statement waits for comms."""
    reply = await bot.incident("open Login fails sev:1 components:web")
    assert reply.text.startswith("Declared INC-1"), reply.text

    def drafts() -> list[str]:
        return [p.args["text"] for p in bot.mock.posts(COMMS_CHANNEL)]

    await eventually(drafts, what="the draft in #comms")


async def test_a_comms_member_approves_by_typing_and_the_page_shows_it(bot: SlackBot) -> None:
    await drafted_incident(bot)

    reply = await bot.incident("approve INC-1", user=COMMS)

    assert reply.text == "Published the statement for INC-1."
    page = await bot.http.get(f"http://127.0.0.1:{bot.runtime.port}/api/v2/summary.json")
    [incident] = page.json()["incidents"]
    assert incident["incident_updates"][0]["body"].startswith("Since ")

    def edited() -> list[str]:
        return [
            u.args["text"]
            for u in bot.mock.calls_of("chat.update")
            if u.args["text"].startswith("Statement for INC-1 (investigating): published")
        ]

    [card] = await eventually(edited, what="the draft's card marked published")
    assert "published by" in card

    again = await bot.incident("approve 1", user=SECOND_COMMS)
    assert again.text == (
        "INC-1 has no statement waiting for approval; /incident statement INC-1 drafts one"
    )
    assert "Usage: /incident approve <ID>" in again.shown


@redis_only
async def test_only_comms_approve_and_never_the_author(bot: SlackBot) -> None:
    await drafted_incident(bot)

    visitor = await bot.incident("approve INC-1", user=VISITOR)
    responder = await bot.incident("approve INC-1", user=RESPONDER)
    assert visitor.text == (
        "Only comms may approve statements; ask someone with that role (config: roles.comms)."
    )
    assert responder.text == visitor.text

    drafted = await bot.incident("statement INC-1", user=COMMS)
    assert drafted.text.startswith("Drafted the customer statement for INC-1")
    own = await bot.incident("approve INC-1", user=COMMS)
    assert own.text == ("you wrote or edited this statement: another comms member must approve it")
    assert (await bot.incident("approve INC-1", user=SECOND_COMMS)).text == (
        "Published the statement for INC-1."
    )


@redis_only
async def test_a_comms_member_rejects_with_a_reason(bot: SlackBot) -> None:
    await drafted_incident(bot)

    refused = await bot.incident("reject INC-1 wrong tone", user=RESPONDER)
    assert refused.text.startswith("Only comms may reject statements")

    reply = await bot.incident("reject INC-1 Say which app versions are affected", user=COMMS)

    assert reply.text == (
        "Rejected the statement for INC-1; /incident statement INC-1 drafts another."
    )

    def rejected() -> list[str]:
        return [
            displayed(u)
            for u in bot.mock.calls_of("chat.update")
            if "rejected by" in u.args["text"]
        ]

    [card] = await eventually(rejected, what="the draft's card marked rejected")
    assert "Say which app versions are affected" in card
    timeline = [e.text for e in await bot.runtime.incidents.timeline(1)]
    assert "statement rejected: Say which app versions are affected" in timeline
    again = await bot.incident("approve INC-1", user=SECOND_COMMS)
    assert again.text.startswith("INC-1 has no statement waiting for approval")


async def test_unknown_incidents_are_one_line(bot: SlackBot) -> None:
    reply = await bot.incident("approve INC-42", user=COMMS)

    assert reply.text == "INC-42 does not exist; /incident list shows open incidents"


# -- the console: its operator is a person too ---------------------------------------------


@pytest.fixture
async def console(kv: KeyValue) -> AsyncIterator[tuple[Runtime, io.StringIO]]:
    out = io.StringIO()
    settings = Settings(slack_bot_token=None, redis_url=None, host="127.0.0.1", port=0)
    config = make_config(roles={"responders": ["alice"], "comms": ["alice", "carol"]})
    runtime = Runtime(settings, config, kv=kv, adapters={"console": ConsoleAdapter(out)})
    yield runtime, out
    await runtime.http.aclose()


@redis_only
async def test_four_eyes_hold_at_the_console(console: tuple[Runtime, io.StringIO]) -> None:
    runtime, out = console
    dispatcher = build_dispatcher(runtime)

    opened = await answer(dispatcher, "/incident open Login fails components:web", "alice")
    assert opened.startswith("Declared INC-1")
    assert await answer(dispatcher, "/incident approve INC-1", "alice") == (
        "you wrote or edited this statement: another comms member must approve it\n"
        "  Usage: /incident approve <ID>"
    )
    assert await answer(dispatcher, "/incident approve INC-1", "bob") == (
        "Only comms may approve statements; ask someone with that role (config: roles.comms)."
    )
    assert await answer(dispatcher, "/incident approve INC-1", "carol") == (
        "Published the statement for INC-1."
    )
    await runtime.outbox.drain()
    assert "Approved by @carol" in out.getvalue()


async def test_statusbot_run_types_as_statusbot_console_user(tmp_path: Path) -> None:
    service = await Service().start()
    try:
        config = write_config(tmp_path, service)
        config.write_text(
            config.read_text() + "roles: {responders: [alice], comms: [alice, carol]}\n"
        )
        seen = await type_at_console(
            config,
            tmp_path,
            ["/incident open Login fails sev:1 components:web"],
            until="Only responders",
            STATUSBOT_CONSOLE_USER="bob",
        )
    finally:
        await service.stop()
    assert "Only responders may open incidents; ask someone with that role" in seen
