"""The tls probe: a verified handshake, and how long until the server's certificate expires."""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import timedelta
from typing import Any

from bot.monitoring.checks.result import Observation
from bot.monitoring.checks.tcp import peer_ip

# Bounds the close_notify exchange that continues after the probe has returned.
_SHUTDOWN_TIMEOUT = 5.0


async def probe_tls(
    host: str, port: int, server_name: str | None, ssl_context: ssl.SSLContext
) -> Observation:
    """Handshake with verification; a certificate the context rejects raises ssl.SSLError."""
    started = time.perf_counter()
    _, writer = await asyncio.open_connection(
        host,
        port,
        ssl=ssl_context,
        server_hostname=server_name or host,
        ssl_shutdown_timeout=_SHUTDOWN_TIMEOUT,
    )
    elapsed = timedelta(seconds=time.perf_counter() - started)
    certificate = writer.get_extra_info("peercert")
    ip = peer_ip(writer)
    # Not awaiting wait_closed(): waiting for the server's close_notify would add a round trip
    # (or a timeout, with servers that never send it) to every probe.
    writer.close()
    return Observation(
        connected=True,
        response_time=elapsed,
        certificate_expiration=_time_left(certificate),
        ip=ip,
    )


def _time_left(certificate: dict[str, Any] | None) -> timedelta | None:
    not_after = (certificate or {}).get("notAfter")
    if not isinstance(not_after, str):
        return None  # a context that doesn't verify gives no decoded certificate
    return timedelta(seconds=ssl.cert_time_to_seconds(not_after) - time.time())
