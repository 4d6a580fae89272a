"""Turning a probe's exception into the few words an alert shows: `connection refused`."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx

from bot.durations import format_duration


def describe_timeout(timeout: timedelta) -> str:
    """`timed out after 5s`, `timed out after 250ms`."""
    return f"timed out after {short_duration(timeout)}"


def short_duration(timeout: timedelta) -> str:
    """A timeout as it was configured: `5s`, `250ms`, `1.5s`, `2m`."""
    seconds = timeout.total_seconds()
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{seconds:g}s"
    return format_duration(timeout)


def describe_error(error: BaseException, *, host: str, timeout: timedelta) -> str:
    """The most specific short description of a failed probe, for the alert's reason."""
    if isinstance(error, TimeoutError) and error.errno is None:
        return describe_timeout(timeout)
    causes = list(_causes(error))
    for kind, describe in _DESCRIPTIONS:
        for cause in causes:
            if isinstance(cause, kind):
                return describe(cause, host)
    for cause in causes:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[0].lower() + cause.strerror[1:]
    return str(error) or type(error).__name__


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps: httpx and anyio hide the socket or TLS error inside."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)


def _tls_verification(error: BaseException, host: str) -> str:
    message = getattr(error, "verify_message", None) or "certificate verification failed"
    message = message.rstrip(".")
    return f"TLS: {message[0].lower()}{message[1:]}"


def _tls(error: BaseException, host: str) -> str:
    # Raised by OpenSSL, an SSLError has a reason like WRONG_VERSION_NUMBER; others may not.
    reason = getattr(error, "reason", None)
    if isinstance(reason, str):
        return f"TLS: {reason.lower().replace('_', ' ')}"
    return f"TLS: {error}"


def _fixed(text: str) -> Callable[[BaseException, str], str]:
    return lambda error, host: text


def _protocol(error: BaseException, host: str) -> str:
    if "without sending" in str(error):
        return "the server closed the connection without a response"
    return f"HTTP protocol error: {error}"


def _invalid_url(error: BaseException, host: str) -> str:
    return f"invalid URL: {error}"


def _timed_out_connecting(error: BaseException, host: str) -> str:
    return f"connection to {host} timed out"


# Most specific first: an httpx.ConnectError wraps the TLS or socket error that says what happened.
_DESCRIPTIONS: tuple[tuple[type[BaseException], Callable[[BaseException, str], str]], ...] = (
    (ssl.SSLCertVerificationError, _tls_verification),
    (ssl.SSLError, _tls),
    (socket.gaierror, lambda error, host: f"DNS lookup failed for {host}"),
    (ConnectionRefusedError, _fixed("connection refused")),
    (ConnectionResetError, _fixed("connection reset by the server")),
    (TimeoutError, _timed_out_connecting),
    (httpx.TooManyRedirects, _fixed("too many redirects")),
    (httpx.RemoteProtocolError, _protocol),
    (httpx.ReadError, _fixed("the connection broke while reading the response")),
    (httpx.WriteError, _fixed("the connection broke while sending the request")),
    (httpx.UnsupportedProtocol, _invalid_url),
    (httpx.InvalidURL, _invalid_url),
)
