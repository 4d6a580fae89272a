"""Running `statusbot` as a real process, as an operator would."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_environment(**overrides: str) -> dict[str, str]:
    """A clean environment: nothing of the developer's own .env or Slack tokens leaks in."""
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(overrides)
    return env


@dataclass
class BotProcess:
    config: Path
    env: dict[str, str]
    cwd: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    output: list[str] = field(default_factory=list)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> BotProcess:
        env = {**self.env, "PORT": str(self.port), "STATUSBOT_HOST": "127.0.0.1"}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(self.config),
            env=env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        self._readers.append(asyncio.create_task(self._read(self.process.stdout)))
        await self.wait_until_ready()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            self.output.append(line.decode(errors="replace").rstrip())

    async def wait_until_ready(self, timeout: float = 20) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(int(timeout * 10)):
                if self.process is not None and self.process.returncode is not None:
                    raise AssertionError("statusbot exited:\n" + "\n".join(self.output))
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("statusbot did not start:\n" + "\n".join(self.output))

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        for reader in self._readers:
            await reader
        return int(self.process.returncode or 0)


async def wait_for(predicate: object, timeout: float = 20, what: str = "condition") -> None:
    for _ in range(int(timeout * 20)):
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def type_at_console(config: Path, cwd: Path, lines: list[str], until: str, **env: str) -> str:
    """Run `statusbot run` without chat credentials, type `lines` at its prompt, and return
    what it printed up to the line containing `until`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        env=bot_environment(PORT="0", STATUSBOT_HOST="127.0.0.1", **env),
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write("".join(f"{line}\n" for line in lines).encode())
        await process.stdin.drain()
        seen = ""
        while until not in seen:
            line = await asyncio.wait_for(process.stdout.readline(), 20)
            assert line, f"statusbot exited early; it printed: {seen}"
            seen += line.decode()
        return seen
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 15)
