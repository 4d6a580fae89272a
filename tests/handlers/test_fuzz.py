"""Seeded fuzzing of what people and platforms send: command text through the shared grammar
and dispatcher, and signed Slack interaction payloads through the real route. Every answer is a
reply or a 4xx, never a 5xx, never a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from bot.store.keyvalue import KeyValue
from bot.wiring import build_dispatcher
from handlers.commands.dispatcher import Dispatcher, Invocation
from tests.support.slack_app import SlackBot, running_bot

WORDS = st.sampled_from(
    [
        "open", "list", "show", "update", "status", "sev", "assign", "resolve", "link",
        "statement", "postmortem", "help", "INC-1", "inc-", "1", "0", "-1", "99999999999999999999",
        "sev:1", "sev:9", "components:web,nope", "components:", "lang:it", "lang:xx", "<@U1>",
        "@here", "<!channel>", "investigating", "resolved", "post", "web", "\u200b", "\x00",
        "INC-" + "9" * 400, "😀", "'", '"', "\\", "\n", "  ",
    ]
)  # fmt: skip
TEXT = st.one_of(
    st.lists(WORDS, max_size=6).map(" ".join),
    st.text(max_size=80),
)


@pytest.fixture
async def bot(memory_kv: KeyValue) -> AsyncIterator[SlackBot]:
    async with running_bot(memory_kv) as running:
        yield running


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@seed(20261201)
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(command=st.sampled_from(["status", "incident"]), text=TEXT)
async def test_any_command_text_gets_a_reply(
    bot: SlackBot, command: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    dispatcher: Dispatcher = build_dispatcher(bot.runtime)
    reply = await dispatcher.handle(
        Invocation(platform="slack", user="U0ENG1", command=command, text=text)  # type: ignore[arg-type]
    )
    assert reply is not None and reply.message.text
    assert "Traceback" not in reply.message.text
    assert _tracebacks(caplog) == []


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _interaction(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, **fields}


@seed(20261201)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["block_actions", "view_submission", "shortcut", "x"]),
    fields=st.fixed_dictionaries(
        {},
        optional={
            "user": JSONISH | st.just({"id": "U0ENG1"}),
            "actions": JSONISH
            | st.lists(
                st.fixed_dictionaries(
                    {
                        "action_id": st.sampled_from(
                            [
                                "alert_acknowledge",
                                "alert_silence",
                                "alert_declare_incident",
                                "statement_approve",
                                "statement_edit",
                                "statement_reject",
                                "nope",
                            ]
                        )
                    },
                    optional={"value": JSONISH | st.text(max_size=30)},
                ),
                max_size=2,
            ),
            "view": JSONISH
            | st.fixed_dictionaries(
                {
                    "type": st.just("modal"),
                    "callback_id": st.sampled_from(
                        ["incident_open", "statement_edit", "statement_reject"]
                    ),
                },
                optional={"state": JSONISH, "private_metadata": JSONISH, "id": st.text(max_size=5)},
            ),
            "trigger_id": JSONISH,
        },
    ),
)
async def test_any_signed_interaction_gets_a_4xx_or_an_answer(
    bot: SlackBot, kind: str, fields: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    body = "payload=" + quote(json.dumps(_interaction(kind, fields)))
    reply = await bot.send(body, "application/x-www-form-urlencoded")
    assert reply.status < 500, reply.raw
    await bot.settled()
    assert _tracebacks(caplog) == []
