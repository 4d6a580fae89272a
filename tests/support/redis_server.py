"""A redis-server of a test's own, on a free loopback port, that the test may stop and restart."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest
import redis.asyncio


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class RedisServer:
    """Persists with AOF (`appendfsync always`) in `directory`, as production is told to."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (scripts/check installs it)")
        self.process = await asyncio.create_subprocess_exec(
            binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.asyncio.Redis.from_url(self.url)
        try:
            for _ in range(100):
                try:
                    if await client.ping():
                        return self
                except redis.exceptions.ConnectionError:
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()
        pytest.fail(f"redis-server did not start on port {self.port}")

    async def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        await self.process.wait()
