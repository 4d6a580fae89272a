"""The tcp probe: can a connection be opened to host:port, and how fast."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

from bot.monitoring.checks.result import Observation


async def probe_tcp(host: str, port: int) -> Observation:
    """Open and close one connection; errors (refused, DNS, unreachable) propagate."""
    started = time.perf_counter()
    _, writer = await asyncio.open_connection(host, port)
    elapsed = timedelta(seconds=time.perf_counter() - started)
    ip = peer_ip(writer)
    writer.close()
    # The server may reset a connection we are closing anyway; we got what we came for.
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Observation(connected=True, response_time=elapsed, ip=ip)


def peer_ip(writer: asyncio.StreamWriter) -> str | None:
    peer = writer.get_extra_info("peername")
    return str(peer[0]) if peer else None
