"""Atlassian Statuspage's REST API: the incident calls the mirror makes, and how each can fail.

Failures are the outbox's DeliveryError: a network error, a 5xx or a 429 (with its
`Retry-After`) is retried; an answer that never came after the request went out is `uncertain`
(the incident may exist there); any other 4xx is permanent, its reason the API's own error
message. The API key is sent as `Authorization: OAuth <key>` and appears nowhere else.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx
from pydantic import SecretStr

from bot.chat.adapter import DeliveryError

_TIMEOUT = httpx.Timeout(15.0)
_MAX_REASON = 300


class StatuspageApi:
    """The incidents of one page."""

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr,
        page_id: str,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._incidents = f"{base_url.rstrip('/')}/pages/{page_id}/incidents"
        self._http = httpx.AsyncClient(
            headers={"Authorization": f"OAuth {api_key.get_secret_value()}"},
            verify=ssl_context if ssl_context is not None else True,
            timeout=_TIMEOUT,
        )

    async def create_incident(self, incident: dict[str, Any]) -> str:
        """POST a new incident; return its ID there."""
        answer = await self._call("POST", self._incidents, {"incident": incident})
        remote_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(remote_id, str) or not remote_id:
            # It was created, but we cannot tell which it is: look for it before trying again.
            raise DeliveryError("Statuspage.io: the answer to a create had no ID", uncertain=True)
        return remote_id

    async def update_incident(self, remote_id: str, incident: dict[str, Any]) -> None:
        await self._call("PATCH", f"{self._incidents}/{remote_id}", {"incident": incident})

    async def unresolved_incidents(self) -> list[dict[str, Any]]:
        return await self._list("unresolved")

    async def upcoming_incidents(self) -> list[dict[str, Any]]:
        """Scheduled maintenance that has not started yet."""
        return await self._list("upcoming")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _list(self, which: str) -> list[dict[str, Any]]:
        answer = await self._call("GET", f"{self._incidents}/{which}", None)
        if not isinstance(answer, list):
            return []
        return [item for item in answer if isinstance(item, dict)]

    async def _call(self, method: str, url: str, body: dict[str, Any] | None) -> Any:
        try:
            response = await self._http.request(method, url, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing was sent.
            raise DeliveryError(f"Statuspage.io: cannot connect ({_describe(exc)})") from exc
        except httpx.TransportError as exc:
            # Sent, but no answer (a timeout, a dropped connection): it may have been done.
            raise DeliveryError(
                f"Statuspage.io: no answer to {method} ({_describe(exc)})", uncertain=True
            ) from exc
        _raise_for(response)
        try:
            return response.json()
        except ValueError:
            return None


def _raise_for(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    retry_after = _seconds(response.headers.get("Retry-After"))
    if status == 429:
        raise DeliveryError("Statuspage.io: rate limited (HTTP 429)", retry_after=retry_after)
    if status >= 500 or status == 408:
        raise DeliveryError(f"Statuspage.io answered HTTP {status}", retry_after=retry_after)
    raise DeliveryError(f"HTTP {status}: {error_message(response)}", permanent=True)


def error_message(response: httpx.Response) -> str:
    """The reason Statuspage gave (`{"error": "..."}`, `{"error": ["...", ...]}` or
    `{"message": "..."}`), on one line; the start of the body when it gave none."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    reason: Any = None
    if isinstance(answer, dict):
        reason = answer.get("error") or answer.get("errors") or answer.get("message")
    if isinstance(reason, list):
        reason = "; ".join(str(r) for r in reason)
    text = str(reason) if reason else response.text or response.reason_phrase
    return " ".join(text.split())[:_MAX_REASON]


def _describe(exc: Exception) -> str:
    detail = str(exc)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
