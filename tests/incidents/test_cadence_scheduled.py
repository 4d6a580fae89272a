"""Reminders and summaries fire on the leader's real schedule (short intervals in the config)."""

from __future__ import annotations

import asyncio
import io

from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.keyvalue import KeyValue
from handlers.console.adapter import ConsoleAdapter
from tests.support.builders import make_config


async def test_a_running_bot_reminds_and_summarises(kv: KeyValue) -> None:
    config = make_config(
        checks=[],
        incidents={"update_reminder": {"sev3": "2s"}, "summary_interval": "3s"},
    )
    console = ConsoleAdapter(io.StringIO())
    settings = Settings(_env_file=None, host="127.0.0.1", port=0)  # type: ignore[call-arg]
    runtime = Runtime(settings, config, kv=kv, adapters={"console": console})
    await runtime.start(serve_http=False)
    try:
        await runtime.incidents.open(title="Login fails", reporter="U1", severity=3)

        def posted(prefix: str) -> bool:
            return any(m.text.startswith(prefix) for _, m, _ in console.posts)

        for _ in range(200):
            if posted("\ue000U1\ue001: INC-1 has had no update for") and posted(
                "Incident summary: 1 open"
            ):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError([m.text for _, m, _ in console.posts])
    finally:
        await runtime.stop()
