"""The console's input side: commands typed at a prompt, answered in the terminal."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import TextIO

from handlers.commands.dispatcher import Dispatcher, Invocation, Reply
from handlers.console.render import render_text

log = logging.getLogger(__name__)

PROMPT_HELP = "Type /status or /incident help (Ctrl-D stops reading commands)."


def parse_line(line: str) -> tuple[str, str] | None:
    """`/incident open x` → ("incident", "open x"); None for anything else."""
    stripped = line.strip()
    for name in ("status", "incident"):
        if stripped == f"/{name}" or stripped.startswith(f"/{name} "):
            return name, stripped[len(name) + 1 :].strip()
    return None


def render_reply(reply: Reply) -> str:
    message = reply.message
    lines = render_text(message, message.title or message.text, "  ")
    if reply.form is not None:
        lines.append(
            "  (the console has no forms: /incident open <title> [sev:1-4] [components:a,b])"
        )
    return "\n".join(lines)


async def answer(dispatcher: Dispatcher, line: str, user: str = "console") -> str:
    """Run one typed line as `user` (STATUSBOT_CONSOLE_USER): roles apply as on any platform."""
    parsed = parse_line(line)
    if parsed is None:
        return f"Not a command: {line.strip()!r}. {PROMPT_HELP}"
    name, text = parsed
    invocation = Invocation(
        platform="console",
        user=user,
        command="status" if name == "status" else "incident",
        text=text,
    )
    reply = await dispatcher.handle(invocation)
    assert reply is not None  # the console never repeats a delivery
    return render_reply(reply)


async def read_commands(
    dispatcher: Dispatcher,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    *,
    user: str = "console",
) -> None:
    """Answer commands from standard input until it closes."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        # A daemon thread: a blocking read of the terminal must never hold up the process's exit.
        for line in iter(stdin.readline, ""):
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, "")

    threading.Thread(target=pump, name="console-input", daemon=True).start()
    out.write(PROMPT_HELP + "\n")
    out.flush()
    while line := await lines.get():
        if line.strip():
            try:
                reply = await answer(dispatcher, line, user)
            except Exception:
                # The prompt must outlive any one command.
                log.exception("console command failed: %s", line.strip())
                reply = "Sorry, that failed on our side and was logged; please try again."
            out.write(reply + "\n")
            out.flush()
