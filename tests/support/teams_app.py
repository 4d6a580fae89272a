"""A real statusbot Runtime in-process, driven through `POST /api/messages` as Teams drives it.

Activities are signed by the Microsoft mock (tests/support/teams_mock.py) with the key its
OpenID metadata publishes; the Bot Connector, login authority and webhooks the bot calls are
that mock too, over HTTPS the bot trusts through a throw-away CA (SSL_CERT_FILE).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bot.config import Config
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.keyvalue import KeyValue
from bot.wiring import build_runtime, install_chat
from tests.support.builders import failure, success
from tests.support.pki import Pki
from tests.support.slack_app import eventually, slack_config, stop_runtime
from tests.support.teams_mock import APP_ID, APP_PASSWORD, MockMicrosoft, Request

TENANT = "tenant-1"
# AAD object IDs, as Teams gives them in from.aadObjectId.
RESPONDER = "aad-responder"
LEAD = "aad-lead"  # a responder and a comms member: drafts when declaring, so may not approve
COMMS = "aad-comms"
VISITOR = "aad-visitor"

ALERTS = "19:alerts@thread.tacv2"
INCIDENTS = "19:incidents@thread.tacv2"
COMMS_CHANNEL = "19:comms@thread.tacv2"
WAR_ROOM = "19:warroom@thread.tacv2"


def teams_config(mock: MockMicrosoft, **overrides: Any) -> Config:
    """A Teams-only organisation: the bot in three channels, webhooks for alerts and managers."""
    raw: dict[str, Any] = {
        "channels": {
            "alerts": {"teams": mock.webhook("alerts"), "teams_channel": ALERTS},
            "incidents": {"teams_channel": INCIDENTS},
            "managers": {"teams": mock.webhook("managers")},
            "comms": {"teams_channel": COMMS_CHANNEL},
        },
        "roles": {"responders": [RESPONDER, LEAD], "comms": [LEAD, COMMS], "managers": []},
        **overrides,
    }
    return slack_config(**raw)


def teams_settings(mock: MockMicrosoft, pki: Pki) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        config_path=Path("unused.yaml"),
        redis_url=None,
        slack_bot_token=None,
        slack_signing_secret=None,
        slack_app_token=None,
        teams_app_id=APP_ID,
        teams_app_password=SecretStr(APP_PASSWORD),
        teams_openid_metadata_url=mock.openid_metadata_url,
        teams_login_url=mock.login_url,
        teams_service_url=mock.service_url,
        ssl_cert_file=pki.ca_file,
        host="127.0.0.1",
        port=0,
        public_url="https://status.example.com",
    )


_activity_ids = itertools.count(1_700_000_500_000)


@dataclass
class TeamsBot:
    runtime: Runtime
    mock: MockMicrosoft
    http: httpx.AsyncClient

    def activity(
        self, user: str, conversation: str, *, text: str = "", value: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A message activity as Teams sends it to the bot."""
        channel = conversation.partition(";")[0]
        activity: dict[str, Any] = {
            "type": "message",
            "id": str(next(_activity_ids)),
            "timestamp": "2026-12-01T10:00:00.000Z",
            "serviceUrl": self.mock.service_url,
            "channelId": "msteams",
            "from": {"id": f"29:{user}", "aadObjectId": user, "name": user},
            "conversation": {
                "id": conversation,
                "conversationType": "channel" if channel.startswith("19:") else "personal",
                "tenantId": TENANT,
                "isGroup": channel.startswith("19:"),
            },
            "recipient": {"id": f"28:{APP_ID}", "name": "statusbot"},
            "channelData": {"tenant": {"id": TENANT}, "channel": {"id": channel}},
            "text": text,
        }
        if text.startswith("<at>"):
            activity["entities"] = [
                {
                    "type": "mention",
                    "text": "<at>statusbot</at>",
                    "mentioned": {"id": f"28:{APP_ID}", "name": "statusbot"},
                }
            ]
        if value is not None:
            activity["value"] = value
        return activity

    async def send(
        self, activity: dict[str, Any], *, token: str | None = None, raw: bytes | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if token != "":
            headers["Authorization"] = f"Bearer {token or self.mock.sign()}"
        if raw is not None:
            return await self.http.post("/api/messages", content=raw, headers=headers)
        return await self.http.post("/api/messages", json=activity, headers=headers)

    async def say(
        self,
        text: str,
        *,
        user: str = RESPONDER,
        conversation: str = f"{WAR_ROOM};messageid=1700000000000",
        mention: bool = True,
    ) -> str:
        """`@statusbot <text>` (in a war-room thread by default); returns the bot's answer."""
        body = f"<at>statusbot</at> {text}" if mention else text
        return await self._answered(conversation, self.activity(user, conversation, text=body))

    async def click(self, post: Request, label: str, *, user: str) -> str:
        """Press a button on a card the bot posted; returns the bot's answer in its thread."""
        data = next(
            a["data"] for a in self.mock.card(post).get("actions", []) if a.get("title") == label
        )
        return await self.submit(post, data, user=user)

    async def submit(
        self, post: Request, value: dict[str, Any], *, user: str, answer: bool = True
    ) -> str:
        """Submit a card (its button's data and the inputs); returns the bot's answer, if any."""
        channel = post.path.split("/")[4].partition(";")[0]
        thread = post.path.split("/")[4].partition(";messageid=")[2] or post.id
        conversation = f"{channel};messageid={thread}"
        activity = self.activity(user, conversation, value=value)
        if not answer:
            response = await self.send(activity)
            assert response.status_code == 200, response.text
            return ""
        return await self._answered(conversation, activity)

    async def _answered(self, conversation: str, activity: dict[str, Any]) -> str:
        response = await self.send(activity)
        assert response.status_code == 200, response.text
        answers = await eventually(
            lambda: [
                r
                for r in self.mock.activities(conversation)
                if r.body.get("replyToId") == activity["id"]
            ],
            what=f"the bot's answer in {conversation}",
        )
        return self.mock.summary(answers[0])

    def answers_to(self, activity_id: str) -> list[Request]:
        return [r for r in self.mock.activities() if r.body.get("replyToId") == activity_id]

    async def posts(self, channel: str, count: int, *, timeout: float = 5.0) -> list[Request]:
        """Wait for at least `count` new posts (not thread replies) in a channel."""
        return await eventually(
            lambda: len(found := self.mock.activities(channel)) >= count and found,
            timeout=timeout,
            what=f"{count} posts in {channel}",
        )

    async def webhook_posts(self, name: str, count: int, *, timeout: float = 5.0) -> list[str]:
        path = f"/webhook/{name}"
        return await eventually(
            lambda: (
                len(
                    found := [
                        self.mock.summary(r) for r in self.mock.of("webhook") if r.path == path
                    ]
                )
                >= count
                and found
            ),
            timeout=timeout,
            what=f"{count} posts to webhook {name}",
        )

    async def settled(self, timeout: float = 5.0) -> None:
        async def empty() -> bool:
            return await self.runtime.outbox.depth() == 0

        await eventually(empty, timeout=timeout, what="the outbox to drain")

    async def fail_component(self, check_id: str = "web-home", times: int = 3) -> None:
        check = next(c for c in self.runtime.config.checks if c.id == check_id)
        for _ in range(times):
            await self.runtime.monitor.record(check, failure(check_id, self.runtime.clock()))

    async def repair_component(self, check_id: str = "web-home", times: int = 2) -> None:
        check = next(c for c in self.runtime.config.checks if c.id == check_id)
        for _ in range(times):
            await self.runtime.monitor.record(check, success(check_id, self.runtime.clock()))


@asynccontextmanager
async def microsoft(tmp_path: Path) -> AsyncIterator[MockMicrosoft]:
    """Microsoft's side, on loopback HTTPS, trusted through a CA in `tmp_path`."""
    mock = MockMicrosoft(Pki(tmp_path)).start()
    try:
        yield mock
    finally:
        mock.stop()


@asynccontextmanager
async def running_teams_bot(
    kv: KeyValue,
    tmp_path: Path,
    *,
    config: Config | None = None,
    mock: MockMicrosoft | None = None,
    settings: Settings | None = None,
) -> AsyncIterator[TeamsBot]:
    async with contextlib.AsyncExitStack() as stack:
        if mock is None:
            mock = await stack.enter_async_context(microsoft(tmp_path))
        runtime = build_runtime(
            settings or teams_settings(mock, mock.pki), config or teams_config(mock), kv=kv
        )
        install_chat(runtime)
        await runtime.start()
        try:
            base = f"http://127.0.0.1:{runtime.port}"
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                bot = TeamsBot(runtime, mock, http)
                yield bot
                await bot.settled()
        finally:
            await stop_runtime(runtime)
