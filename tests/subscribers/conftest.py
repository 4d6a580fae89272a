"""A running bot with email subscriptions on (a real SMTP server on loopback) and a webhook
receiver, and the steps a customer and comms take."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.statements.messaging import APPROVE_ACTION
from bot.store.keyvalue import KeyValue
from tests.support.loopback import serve_on_loopback
from tests.support.slack_app import (
    COMMS,
    COMMS_CHANNEL,
    SlackBot,
    button_value,
    eventually,
    running_bot,
)
from tests.support.smtp_server import Received, SmtpServer

PUBLIC_URL = "https://status.example.com"
LINK = re.compile(r"https://status\.example\.com/\S+")


@dataclass
class Customer:
    """Someone using the page's form and the links in their mail."""

    bot: SlackBot
    smtp: SmtpServer

    def local(self, link: str) -> str:
        """A link from a mail, pointed at the bot under test instead of the public host."""
        return link.replace(PUBLIC_URL, f"http://127.0.0.1:{self.bot.runtime.port}")

    async def subscribe(self, email: str, lang: str = "en") -> httpx.Response:
        return await self.post("/subscribe", {"email": email, "lang": lang})

    async def post(
        self, path: str, data: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.bot.http.post(self.local(PUBLIC_URL + path), data=data, **kwargs)

    async def get(self, link: str) -> httpx.Response:
        return await self.bot.http.get(self.local(link))

    async def mails(self, address: str, count: int, timeout: float = 10.0) -> list[Received]:
        return await eventually(
            lambda: (found := self.smtp.to(address)) and len(found) >= count and found,
            timeout=timeout,
            what=f"{count} mails to {address}",
        )

    async def confirmation_link(self, address: str, count: int = 1) -> str:
        mail = (await self.mails(address, count))[count - 1]
        return next(link for link in LINK.findall(mail.text) if "/subscribe/confirm?" in link)

    async def confirmed(self, address: str, lang: str = "en") -> None:
        """Subscribe and open the confirmation link."""
        before = len(self.smtp.to(address))
        response = await self.subscribe(address, lang)
        assert response.status_code == 200, response.text
        confirmed = await self.get(await self.confirmation_link(address, before + 1))
        assert confirmed.status_code == 200, confirmed.text


def mail_environment(smtp: SmtpServer, url: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "smtp_url": SecretStr(url or f"smtp://127.0.0.1:{smtp.port}"),
        "public_url": PUBLIC_URL,
        **extra,
    }


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = await SmtpServer().start()
    yield server
    await server.stop()


@pytest.fixture
async def customer(kv: KeyValue, smtp: SmtpServer) -> AsyncIterator[Customer]:
    async with running_bot(kv, environment=mail_environment(smtp)) as bot:
        yield Customer(bot, smtp)


async def publish_statement(
    bot: SlackBot, command: str = "open Payments DB down sev:2 components:web"
) -> str:
    """A responder's command drafts a statement; another person in comms approves it."""
    before = len(bot.mock.posts(COMMS_CHANNEL))
    await bot.incident(command)
    posts = await bot.posts(COMMS_CHANNEL, before + 1)
    draft = next(p for p in reversed(posts) if _has_approve(p))
    statement_id = button_value(draft, APPROVE_ACTION)
    _, token = await bot.click(APPROVE_ACTION, statement_id, user=COMMS, message=draft)
    answer = await bot.response(token)
    assert str(answer.get("text", "")).startswith("Published"), answer
    return statement_id


def _has_approve(post: Any) -> bool:
    try:
        button_value(post, APPROVE_ACTION)
    except AssertionError:
        return False
    return True


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    at: float  # loop time


@dataclass
class Receiver:
    """A webhook endpoint: answers each POST to a path with the next of `by_path[path]` (status,
    headers), then 200."""

    by_path: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    received: list[Request] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def answers(self) -> list[tuple[int, dict[str, str]]]:
        return self.by_path.setdefault("/hook", [])

    @answers.setter
    def answers(self, value: list[tuple[int, dict[str, str]]]) -> None:
        self.by_path["/hook"] = value

    @property
    def requests(self) -> list[tuple[dict[str, str], bytes, int]]:
        return [(r.headers, r.body, r.status) for r in self.on("/hook")]

    def on(self, path: str) -> list[Request]:
        return [r for r in self.received if r.path == path]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> Receiver:
        async def hook(request: web.Request) -> web.Response:
            waiting = self.by_path.get(request.path) or []
            status, headers = waiting.pop(0) if waiting else (200, {})
            body = await request.read()
            at = asyncio.get_running_loop().time()
            self.received.append(Request(request.path, dict(request.headers), body, status, at))
            return web.Response(status=status, headers=headers, text="ok")

        app = web.Application()
        app.router.add_post("/hook", hook)
        app.router.add_post("/refuses", hook)
        self.runner, self.port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.stop()
