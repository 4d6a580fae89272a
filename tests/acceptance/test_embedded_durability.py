"""The embedded database keeps what the bot acknowledged through a kill -9 (no Redis at all)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from tests.acceptance.test_run import write_config
from tests.support.process import bot_environment
from tests.support.service import Service


async def _started(config: Path, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        env=bot_environment(PORT="0", STATUSBOT_HOST="127.0.0.1", STATUSBOT_DB="state/bot.db"),
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _answer(process: asyncio.subprocess.Process, command: str, expect: str) -> str:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(f"{command}\n".encode())
    await process.stdin.drain()
    seen = ""
    while expect not in seen:
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        assert line, f"statusbot exited before answering {command!r}:\n{seen}"
        seen += line.decode()
    return seen


async def test_an_acknowledged_incident_survives_kill_9(tmp_path: Path) -> None:
    service = await Service().start()
    try:
        config = write_config(tmp_path, service)
        first = await _started(config, tmp_path)
        await _answer(first, "/incident open Disk full on db-1 sev:2", "Declared INC-1")
        await _answer(
            first, "/incident update 1 Failing over to db-2", "Posted the update to INC-1"
        )
        first.send_signal(signal.SIGKILL)  # no shutdown, no flush: only what was committed
        await first.wait()

        second = await _started(config, tmp_path)
        try:
            listed = await _answer(second, "/incident list", "INC-1 (sev2, investigating)")
            assert "Disk full on db-1" in listed
            shown = await _answer(second, "/incident show 1", "update: Failing over to db-2")
            assert "declared: Disk full on db-1" in shown
            opened = await _answer(second, "/incident open Second one", "Declared INC-2")
            assert "Declared INC-2" in opened, "numbering continues after the crash"
        finally:
            second.terminate()
            await second.wait()
    finally:
        await service.stop()
    assert (tmp_path / "state" / "bot.db").exists()
