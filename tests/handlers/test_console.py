"""The console adapter drives the same grammar as Slack: type a command, read the answer."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.keyvalue import KeyValue
from bot.wiring import build_dispatcher
from handlers.commands.dispatcher import Dispatcher
from handlers.console.adapter import ConsoleAdapter
from handlers.console.prompt import answer, parse_line, read_commands
from tests.acceptance.test_run import write_config
from tests.support.builders import make_config
from tests.support.process import type_at_console
from tests.support.service import Service


@pytest.fixture
async def console_bot(kv: KeyValue) -> AsyncIterator[tuple[Dispatcher, Runtime, io.StringIO]]:
    out = io.StringIO()
    settings = Settings(slack_bot_token=None, redis_url=None, host="127.0.0.1", port=0)
    runtime = Runtime(settings, make_config(), kv=kv, adapters={"console": ConsoleAdapter(out)})
    yield build_dispatcher(runtime), runtime, out
    await runtime.http.aclose()


def test_only_commands_are_taken() -> None:
    assert parse_line("/incident open Login fails\n") == ("incident", "open Login fails")
    assert parse_line("/status") == ("status", "")
    assert parse_line("/statusx") is None
    assert parse_line("hello") is None


async def test_a_whole_incident_from_the_console(
    console_bot: tuple[Dispatcher, Runtime, io.StringIO],
) -> None:
    dispatcher, runtime, out = console_bot
    reply = await answer(
        dispatcher, "/incident open Login fails for card holders sev:1 components:web"
    )
    assert reply.startswith("Declared INC-1 (sev1, investigating): Login fails for card holders.")
    assert "INC-1 (sev1, investigating)" in await answer(dispatcher, "/incident list")
    assert (
        await answer(dispatcher, "/incident update inc-1 Failover started")
        == "Posted the update to INC-1."
    )
    assert (
        await answer(dispatcher, "/incident status 1 identified DNS") == "INC-1 is now identified."
    )
    assert await answer(dispatcher, "/incident resolve INC-1 Fixed") == "INC-1 is resolved."
    shown = await answer(dispatcher, "/incident show 1")
    assert "update: Failover started" in shown and "resolved after" in shown
    assert "# INC-1: Login fails for card holders" in await answer(
        dispatcher, "/incident postmortem 1"
    )

    await runtime.outbox.drain()
    printed = out.getvalue()
    assert "[#incidents] INC-1 (sev1, investigating): Login fails for card holders" in printed
    assert "[#managers] INC-1 (sev1, identified) is now identified: DNS" in printed


async def test_mistakes_get_one_line_and_the_usage(
    console_bot: tuple[Dispatcher, Runtime, io.StringIO],
) -> None:
    dispatcher, _, _ = console_bot
    assert await answer(dispatcher, "/incident sev 1 9") == (
        "severity must be 1, 2, 3 or 4 (sev1 is the most severe), got '9'\n  Usage: /incident sev <ID> <1-4>"
    )
    assert (
        await answer(dispatcher, "/incident show 42")
        == "INC-42 does not exist; /incident list shows open incidents\n  Usage: /incident show <ID>"
    )
    assert (await answer(dispatcher, "/status nope")).startswith(
        "unknown component 'nope'; expected one of web, app"
    )
    assert (await answer(dispatcher, "/incident open")).endswith(
        "(the console has no forms: /incident open <title> [sev:1-4] [components:a,b])"
    )
    assert "Not a command" in await answer(dispatcher, "status")


async def test_commands_are_read_from_standard_input(
    console_bot: tuple[Dispatcher, Runtime, io.StringIO],
) -> None:
    dispatcher, _, _ = console_bot
    out = io.StringIO()
    stdin = io.StringIO("/incident open Phones down sev:2\n\n/incident list\n")
    await asyncio.wait_for(read_commands(dispatcher, stdin, out), 5)
    assert "Declared INC-1 (sev2, investigating): Phones down." in out.getvalue()
    assert "INC-1 (sev2, investigating): Phones down" in out.getvalue().split("Declared")[1]


async def test_statusbot_run_answers_commands_typed_at_its_prompt(tmp_path: Path) -> None:
    service = await Service().start()
    try:
        config = write_config(tmp_path, service)
        seen = await type_at_console(
            config,
            tmp_path,
            ["/incident open Login fails sev:1 components:web", "/status"],
            until="Open incidents:",
        )
    finally:
        await service.stop()
    assert "Declared INC-1 (sev1, investigating): Login fails." in seen
    assert "online account services (web): Major outage" in seen


def test_settings_never_show_secrets() -> None:
    settings = Settings(slack_bot_token=SecretStr("xoxb-secret-value"))
    assert "xoxb-secret-value" not in repr(settings)
    assert "xoxb-secret-value" not in str(settings.model_dump())


async def test_an_absurd_incident_id_is_one_line_not_a_crash(
    console_bot: tuple[Dispatcher, Runtime, io.StringIO],
) -> None:
    dispatcher, _, _ = console_bot
    answer_text = await answer(dispatcher, "/incident show INC-" + "9" * 5000)
    assert answer_text.splitlines()[0].endswith(
        "is not an incident ID; write it like INC-7, inc-7 or 7"
    )
    # And the prompt keeps reading.
    out = io.StringIO()
    stdin = io.StringIO("/incident show INC-" + "9" * 5000 + "\n/incident list\n")
    await asyncio.wait_for(read_commands(dispatcher, stdin, out), 5)
    assert "No open incidents." in out.getvalue()
