"""The http probe: send one request and observe status, response time, body and server IP."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from datetime import timedelta

import httpx

from bot import __version__
from bot.config import HttpCheck, JourneyStep
from bot.monitoring.checks.result import Observation

USER_AGENT = f"statusbot/{__version__}"

# Enough for any health or login page; bounds memory when 10,000 checks run at once.
MAX_BODY_BYTES = 1024 * 1024


def build_request(client: httpx.AsyncClient, request: HttpCheck | JourneyStep) -> httpx.Request:
    """The request as configured, with the client's headers."""
    return client.build_request(
        request.method,
        request.url,
        headers=request.headers,
        content=request.body,
        json=request.json_body,
        data=request.form,
    )


async def send_request(
    client: httpx.AsyncClient,
    request: HttpCheck | JourneyStep,
    *,
    read_body: bool,
    built: httpx.Request | None = None,
) -> Observation:
    """Send the request as configured (or as `built` beforehand by build_request); network
    errors propagate as httpx exceptions."""
    started = time.perf_counter()
    response = await client.send(
        built or build_request(client, request),
        stream=True,
        follow_redirects=request.follow_redirects,
    )
    try:
        ip = _server_ip(response)
        content = await _read_capped(response, decode=read_body)
    finally:
        await response.aclose()
    elapsed = timedelta(seconds=time.perf_counter() - started)
    body = content.decode(response.encoding or "utf-8", errors="replace") if read_body else None
    return Observation(
        status=response.status_code,
        response_time=elapsed,
        body=body,
        ip=ip,
        headers=response.headers,
    )


async def _read_capped(response: httpx.Response, *, decode: bool) -> bytes:
    # Read even when no condition needs the body, so the connection can be reused; skip
    # decompressing it then.
    chunks: list[bytes] = []
    size = 0
    stream = response.aiter_bytes() if decode else response.aiter_raw()
    try:
        async for chunk in stream:
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_BODY_BYTES:
                break
    finally:
        # Stopping early leaves httpx's generator suspended; close it now, not when collected.
        if isinstance(stream, AsyncGenerator):
            await stream.aclose()
    return b"".join(chunks)[:MAX_BODY_BYTES]


def _server_ip(response: httpx.Response) -> str | None:
    # The checks' transport puts the address in the extensions; httpcore's (journeys) keeps it
    # on its network stream.
    address = response.extensions.get("server_addr")
    if address is None:
        stream = response.extensions.get("network_stream")
        address = stream.get_extra_info("server_addr") if stream is not None else None
    return str(address[0]) if address else None
