"""The console adapter: posts printed to a terminal, for running without chat credentials."""

from __future__ import annotations

import itertools
import sys
from typing import TextIO

from bot.chat.message import MENTION, Message


class ConsoleAdapter:
    platform = "console"

    def __init__(self, stream: TextIO | None = None, *, color: bool | None = None) -> None:
        self._stream = stream or sys.stdout
        self._color = self._stream.isatty() if color is None else color
        self._ids = itertools.count(1)
        self.posts: list[tuple[str, Message, str | None]] = []

    async def post(self, channel: str, message: Message, thread: str | None = None) -> str:
        message_id = str(next(self._ids))
        self.posts.append((channel, message, thread))
        where = f"#{channel}" + (f" ↳ {thread}" if thread else "")
        self._write(where, message_id, message)
        return message_id

    async def update(self, channel: str, message_id: str, message: Message) -> None:
        self.posts.append((channel, message, message_id))
        self._write(f"#{channel} ✎ {message_id}", message_id, message, brief=True)

    async def aclose(self) -> None:
        self._stream.flush()

    def _write(self, where: str, message_id: str, message: Message, brief: bool = False) -> None:
        head = f"[{where}] {render_plain(message.text)}"
        out = [self._bold(head) if not brief else head]
        if not brief:
            indent = " " * 4
            out.extend(indent + render_plain(line) for line in message.lines)
            out.extend(f"{indent}{label}: {render_plain(value)}" for label, value in message.fields)
            if message.actions:
                out.append(indent + "  ".join(f"[{a.label}]" for a in message.actions))
            if message.context:
                out.append(indent + render_plain(message.context))
            if message.attachment:
                name, content = message.attachment
                out.append(f"{indent}--- {name} ---")
                out.extend(indent + line for line in content.splitlines())
        self._stream.write("\n".join(out) + "\n")
        self._stream.flush()

    def _bold(self, text: str) -> str:
        return f"\033[1m{text}\033[0m" if self._color else text


def render_plain(text: str) -> str:
    """Text for a terminal: mentions as `@user`."""
    return MENTION.sub(lambda m: f"@{m.group(1)}", text)
