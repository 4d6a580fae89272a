"""The console adapter: posts printed to a terminal, for running without chat credentials."""

from __future__ import annotations

import itertools
import sys
from typing import TextIO

from bot.chat.adapter import Capabilities
from bot.chat.message import Message
from handlers.console.render import render_text


class ConsoleAdapter:
    platform = "console"
    destination_key = None  # every kind of post, the kind's name as the channel
    # Threads and edits are shown as such (`↳ 3`, `✎ 3`), so the terminal reads like a channel.
    capabilities = Capabilities(threads=True, edits=True)

    def __init__(self, stream: TextIO | None = None, *, color: bool | None = None) -> None:
        self._stream = stream or sys.stdout
        self._color = self._stream.isatty() if color is None else color
        self._ids = itertools.count(1)
        self.posts: list[tuple[str, Message, str | None]] = []

    async def post(
        self,
        channel: str,
        message: Message,
        thread: str | None = None,
        *,
        key: str | None = None,
        recheck: bool = False,
    ) -> str:
        message_id = str(next(self._ids))
        self.posts.append((channel, message, thread))
        where = f"#{channel}" + (f" ↳ {thread}" if thread else "")
        lines = render_text(message, f"[{where}] {message.text}", " " * 4)
        self._write([self._bold(lines[0]), *lines[1:]])
        return message_id

    async def update(self, channel: str, message_id: str, message: Message) -> None:
        self.posts.append((channel, message, message_id))
        self._write(render_text(message, f"[#{channel} ✎ {message_id}] {message.text}", "")[:1])

    async def aclose(self) -> None:
        self._stream.flush()

    def _write(self, lines: list[str]) -> None:
        self._stream.write("\n".join(lines) + "\n")
        self._stream.flush()

    def _bold(self, text: str) -> str:
        return f"\033[1m{text}\033[0m" if self._color else text
