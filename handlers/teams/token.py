"""The bot's own token for the Bot Connector: client credentials at the login authority, cached.

Microsoft's MSAL path would ask Microsoft's instance discovery first (unreachable offline and in
sovereign set-ups), so the token is asked for directly: `POST {TEAMS_LOGIN_URL}/oauth2/v2.0/token`.
"""

from __future__ import annotations

import asyncio
import ssl
import time

import httpx

from bot.chat.adapter import DeliveryError

BOT_SCOPE = "https://api.botframework.com/.default"
_EARLY = 300.0  # renew this long before the token expires


class BotToken:
    def __init__(
        self, app_id: str, password: str, login_url: str, ssl_context: ssl.SSLContext
    ) -> None:
        self._form = {
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": password,
            "scope": BOT_SCOPE,
        }
        self._url = login_url.rstrip("/") + "/oauth2/v2.0/token"
        self._http = httpx.AsyncClient(verify=ssl_context, timeout=httpx.Timeout(10.0))
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self.fetched = 0  # how many tokens were asked for (metrics, tests)

    async def __call__(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                await self._fetch()
            assert self._token is not None
            return self._token

    def forget(self) -> None:
        """The Bot Connector refused the token: ask for a new one next time."""
        self._token = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _fetch(self) -> None:
        try:
            response = await self._http.post(self._url, data=self._form)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Teams login: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"Teams login answered {response.status_code}")
        if response.status_code != 200:
            # Wrong app ID or password: no retry will fix it; say so without the secret.
            raise DeliveryError(
                f"Teams login refused the bot's credentials (HTTP {response.status_code}); "
                "check TEAMS_APP_ID and TEAMS_APP_PASSWORD",
                permanent=True,
            )
        body = response.json()
        self._token = str(body["access_token"])
        lifetime = float(body.get("expires_in", 3600))
        self._expires = time.monotonic() + max(0.0, lifetime - _EARLY)
        self.fetched += 1
