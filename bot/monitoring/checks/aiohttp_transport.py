"""httpx's API over aiohttp's connection pool: the transport behind the checks' HTTP client.

httpcore spent 1.5-2 ms of CPU per request at 10,000 checks (its pool walks every connection
on each request start and finish, and parses responses in Python with h11); aiohttp's pool is a
dict of idle connections per host and its response parser is in C. The checks keep httpx's
client (requests, redirects, decoding) and its exceptions: aiohttp's errors are raised
as the httpx errors they correspond to, chained to the original, so the socket or TLS error that
says what happened is still found by describe_error.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
import yarl

_MAX_HEADERS_BYTES = 16 * 1024

# Most specific first.
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ClientOSError, httpx.NetworkError),
    (aiohttp.ClientError, httpx.TransportError),
)


@contextlib.contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except aiohttp.ClientError as error:
        kind = next((to for source, to in _ERRORS if isinstance(error, source)))
        if isinstance(error, aiohttp.ServerDisconnectedError):
            message = "Server disconnected without sending a response."
        else:
            message = str(error) or type(error).__name__
        raise kind(message) from error


class _Response(aiohttp.ClientResponse):
    server_addr: object = None  # (host, port, ...) of the server that answered


class _Request(aiohttp.ClientRequest):
    """Notes on the response which server it came from.

    A short body is read whole with the headers, and the connection goes back to the pool
    before the caller sees the response, so the address is read while the request has it."""

    async def send(self, conn: aiohttp.connector.Connection) -> aiohttp.ClientResponse:
        response = await super().send(conn)
        transport = conn.transport
        if transport is not None and isinstance(response, _Response):
            response.server_addr = transport.get_extra_info("peername")
        return response


class _Body(httpx.AsyncByteStream):
    """The response body as aiohttp reads it; closing it hands the connection back."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            while chunk := await self._response.content.readany():
                yield chunk

    async def aclose(self) -> None:
        # Fully read: the connection goes back to the pool; otherwise it is closed.
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests through one aiohttp session (HTTP/1.1, keep-alive).

    Each response's extensions carry `server_addr`, the address of the server it came from,
    for the `[IP]` condition. The session sends what httpx built, adds no headers of its own
    and keeps no cookies (the client owns them), and does not decompress (httpx does).
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        max_connections: int,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self._ssl_context = ssl_context
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the event loop it was made in.
        connector = aiohttp.TCPConnector(
            ssl=self._ssl_context,
            limit=self._max_connections,
            limit_per_host=0,
            keepalive_timeout=self._keepalive_expiry,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),  # the caller bounds each request
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            request_class=_Request,
            response_class=_Response,
            # httpcore accepted headers up to 16 KiB in all; aiohttp's default is 8 KiB a line.
            max_line_size=_MAX_HEADERS_BYTES,
            max_field_size=_MAX_HEADERS_BYTES,
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        body = await request.aread()
        url = request.url
        if url.userinfo:
            # httpx has made them the Authorization header; aiohttp refuses both at once.
            url = url.copy_with(username=None, password=None)
        with _as_httpx_errors():
            response = await session.request(
                request.method,
                yarl.URL(str(url), encoded=True),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                server_hostname=request.extensions.get("sni_hostname"),
            )
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("ascii", "replace")
        if isinstance(response, _Response) and response.server_addr is not None:
            extensions["server_addr"] = response.server_addr
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
