"""A real statusbot Runtime in-process, driven through `POST /slack/events` as Slack drives it.

Requests are signed exactly as Slack signs them (`v0:{timestamp}:{body}`, HMAC-SHA256 with the
signing secret); the Web API the bot calls back is the mock server in tests/support/slack_mock.py.
Listeners run after `ack()` and the outbox delivers asynchronously, so tests wait for side effects
with `eventually`, which polls with a bounded timeout.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr

from bot.config import Config
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.keyvalue import KeyValue
from bot.wiring import build_runtime, install_chat
from tests.support.builders import failure, make_config, success
from tests.support.slack_mock import Call, MockSlack

SECRET = "test-signing-secret"
TEAM = "T1"
APP = "A0STATUSBOT"

RESPONDER = "U0ENG1"  # listed in roles.responders
ONCALL_GROUP = "S0ONCALL"  # a user group listed in roles.responders
ONCALL_MEMBER = "U0ONCALL1"  # a member of that group only
COMMS = "U0COMMS1"
MANAGER = "U0MGR1"
VISITOR = "U0VISITOR"  # in no role

ALERTS, INCIDENTS, MANAGERS, COMMS_CHANNEL = "C0ALERTS", "C0INCIDENTS", "C0MANAGERS", "C0COMMS"
WAR_ROOM = "C0WARROOM"  # where people type commands

T = TypeVar("T")

# For behaviour that does not depend on the store: the `kv` fixture on Redis only, to keep the
# suite fast (a Runtime per test is the cost); store-dependent behaviour runs on both.
redis_only = pytest.mark.parametrize("kv", ["redis"], indirect=True)


def slack_config(**overrides: Any) -> Config:
    """The test config with Slack channels and roles; checks run only when a test runs them."""
    raw: dict[str, Any] = {
        "channels": {
            "alerts": {"slack": ALERTS},
            "incidents": {"slack": INCIDENTS},
            "managers": {"slack": MANAGERS},
            "comms": {"slack": COMMS_CHANNEL},
        },
        "roles": {
            "responders": [RESPONDER, ONCALL_GROUP],
            "comms": [COMMS],
            "managers": [MANAGER],
        },
        # The schedule's first run lands at random within a check's interval: with a year, no
        # scheduled probe interferes with the results a test feeds in itself.
        "checks": [
            {
                "id": "web-home",
                "component": "web",
                "type": "http",
                "url": "http://127.0.0.1:9/health",
                "interval": "365d",
                "failure_threshold": 3,
                "success_threshold": 2,
            },
            {
                "id": "web-login",
                "component": "web",
                "type": "http",
                "url": "http://127.0.0.1:9/login",
                "interval": "365d",
                "impact": "partial_outage",
            },
            {
                "id": "app-api",
                "component": "app",
                "type": "http",
                "url": "http://127.0.0.1:9/app",
                "interval": "365d",
                "failure_threshold": 1,
                "success_threshold": 1,
            },
        ],
    }
    raw.update(overrides)
    return make_config(**raw)


def slack_settings(mock: MockSlack, prefix: str = "statusbot-test:") -> Settings:
    # Every field is given, and .env is not read: nothing of the developer's environment leaks in.
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        config_path=Path("unused.yaml"),
        redis_url=None,
        redis_prefix=prefix,
        slack_bot_token=SecretStr("xoxb-test"),
        slack_signing_secret=SecretStr(SECRET),
        slack_app_token=None,
        slack_api_url=mock.url,
        teams_app_id=None,
        teams_app_password=None,
        host="127.0.0.1",
        port=0,
        alertmanager_token=None,
        public_url="http://127.0.0.1",
        ssl_cert_file=None,
    )


def sign(body: str, timestamp: int, secret: str = SECRET) -> str:
    """Slack's request signature: `v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def visible(text: str) -> str:
    """What a person reads once Slack renders mrkdwn-escaped text (`&lt;ID&gt;` is `<ID>`)."""
    return html.unescape(text)


def strings_in(value: Any) -> list[str]:
    """Every string inside a JSON-like value (texts, blocks, views), to check what was posted."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_in(v)]
    return []


def texts_in(blocks: Any) -> list[str]:
    """The readable texts of Block Kit blocks (section texts and fields, context, buttons)."""
    if isinstance(blocks, dict):
        return [
            s
            for key, value in blocks.items()
            for s in ([value] if key == "text" and isinstance(value, str) else texts_in(value))
        ]
    if isinstance(blocks, list):
        return [s for block in blocks for s in texts_in(block)]
    return []


def displayed(call: Call) -> str:
    """What people see of a posted message: Slack shows the blocks when there are any, and
    `text` only when there are none (with blocks, `text` is just the notification fallback)."""
    blocks = call.args.get("blocks") or []
    shown = texts_in(blocks) if blocks else [str(call.args.get("text", ""))]
    return "\n".join(visible(s) for s in shown)


def button_value(call: Call, action_id: str) -> str:
    """The value of a button in a posted message, as Slack would send it back on a click."""
    for block in call.args.get("blocks") or []:
        if block.get("type") != "actions":
            continue
        for element in block["elements"]:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {call.args.get('text')!r}")


def form_values(
    title: str, severity: str = "3", components: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The `state.values` Slack sends when the declare-incident modal is submitted."""
    return {
        "title": {"title": {"type": "plain_text_input", "value": title}},
        "severity": {
            "severity": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": f"sev{severity}"},
                    "value": severity,
                },
            }
        },
        "components": {
            "components": {
                "type": "multi_static_select",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": c}, "value": c} for c in components
                ],
            }
        },
    }


def values_of(view: dict[str, Any]) -> dict[str, Any]:
    """Submit a modal as it was opened: each input keeps its initial value."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        element = block.get("element") or {}
        action = element.get("action_id")
        if not action:
            continue
        if "initial_value" in element:
            state = {"type": element["type"], "value": element["initial_value"]}
        elif "initial_option" in element:
            state = {"type": element["type"], "selected_option": element["initial_option"]}
        elif "initial_options" in element:
            state = {"type": element["type"], "selected_options": element["initial_options"]}
        else:
            state = {"type": element["type"]}
        values[block["block_id"]] = {action: state}
    return values


async def eventually(
    probe: Callable[[], T] | Callable[[], Awaitable[T]], *, timeout: float = 5.0, what: str = ""
) -> T:
    """Poll until `probe` returns something truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = probe()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}")
        await asyncio.sleep(0.02)


@dataclass
class Reply:
    """Slack's view of our HTTP answer."""

    status: int
    body: dict[str, Any]
    raw: str

    @property
    def text(self) -> str:
        return visible(str(self.body.get("text", "")))

    @property
    def shown(self) -> str:
        """What the caller reads: the texts of every block, unescaped."""
        return "\n".join(visible(s) for s in texts_in(self.body.get("blocks") or []))


@dataclass
class SlackBot:
    """A running Runtime plus a client that talks to it the way Slack does."""

    runtime: Runtime
    mock: MockSlack
    http: httpx.AsyncClient
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.runtime.port}/slack/events"

    def next_id(self, kind: str) -> str:
        return f"{kind}{next(self._ids)}-{time.monotonic_ns()}"

    # -- raw requests ----------------------------------------------------------------------

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        ts = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature if signature is not None else sign(body, ts),
            **(headers or {}),
        }
        response = await self.http.post(self.url, content=body.encode(), headers=all_headers)
        raw = response.text
        try:
            parsed = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            parsed = {}
        return Reply(response.status_code, parsed if isinstance(parsed, dict) else {}, raw)

    # -- what Slack sends ------------------------------------------------------------------

    def command_body(
        self,
        command: str,
        text: str,
        *,
        user: str = RESPONDER,
        channel: str = WAR_ROOM,
        trigger_id: str | None = None,
    ) -> str:
        return urlencode(
            {
                "token": "verification-token-unused",
                "team_id": TEAM,
                "team_domain": "example",
                "channel_id": channel,
                "channel_name": "war-room",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": APP,
                "is_enterprise_install": "false",
                "response_url": self.mock.response_url(self.next_id("cmd")),
                "trigger_id": trigger_id or self.next_id("trigger"),
            }
        )

    async def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str = RESPONDER,
        channel: str = WAR_ROOM,
        trigger_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        body = self.command_body(command, text, user=user, channel=channel, trigger_id=trigger_id)
        return await self.send(body, "application/x-www-form-urlencoded", headers=headers)

    async def incident(self, text: str = "", **kwargs: Any) -> Reply:
        return await self.command("/incident", text, **kwargs)

    async def status(self, text: str = "", **kwargs: Any) -> Reply:
        return await self.command("/status", text, **kwargs)

    async def interact(self, payload: dict[str, Any]) -> Reply:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded")

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = RESPONDER,
        message: Call | None = None,
    ) -> tuple[Reply, str]:
        """Click a button on a posted message; returns the answer and the click's token: what
        the listener `respond()`s lands in `mock.responses` under it, and the click's trigger_id
        is `trigger-{token}`."""
        token = self.next_id("action")
        channel = str(message.args.get("channel")) if message else ALERTS
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "example"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": APP,
            "token": "verification-token-unused",
            "container": {"type": "message", "channel_id": channel, "is_ephemeral": False},
            "trigger_id": f"trigger-{token}",
            "channel": {"id": channel, "name": "alerts"},
            "message": {
                "type": "message",
                "text": message.args.get("text") if message else "",
                "blocks": message.args.get("blocks") if message else [],
            },
            "response_url": self.mock.response_url(token),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "actions",
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return await self.interact(payload), token

    async def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str = RESPONDER
    ) -> Reply:
        """Submit a modal: `view` as views.open got it, with an `id`; `values` its state."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "example"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": APP,
            "token": "verification-token-unused",
            "trigger_id": self.next_id("trigger"),
            "view": {
                "team_id": TEAM,
                "app_id": APP,
                "hash": "1700000000.abcdef",
                **view,
                "state": {"values": values},
            },
            "response_urls": [],
        }
        return await self.interact(payload)

    async def event(self, event: dict[str, Any], *, event_id: str | None = None) -> Reply:
        body = {
            "token": "verification-token-unused",
            "team_id": TEAM,
            "api_app_id": APP,
            "type": "event_callback",
            "event_id": event_id or self.next_id("Ev"),
            "event_time": int(time.time()),
            "event": event,
        }
        return await self.send(json.dumps(body), "application/json")

    # -- waiting for what the bot does -------------------------------------------------------

    async def settled(self, timeout: float = 5.0) -> None:
        """Wait until the outbox has delivered everything queued so far."""

        async def empty() -> bool:
            return await self.runtime.outbox.depth() == 0

        await eventually(empty, timeout=timeout, what="the outbox to drain")

    async def posts(self, channel: str, count: int, *, timeout: float = 5.0) -> list[Call]:
        """Wait for at least `count` posts in `channel`; return all of them."""
        return await eventually(
            lambda: (found := self.mock.posts(channel)) and len(found) >= count and found,
            timeout=timeout,
            what=f"{count} posts in {channel}",
        )

    async def calls(self, method: str, count: int = 1, *, timeout: float = 5.0) -> list[Call]:
        return await eventually(
            lambda: (found := self.mock.calls_of(method)) and len(found) >= count and found,
            timeout=timeout,
            what=f"{count} {method} calls",
        )

    async def response(self, token: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """What a listener sent to the response_url of one command or click."""
        found = await eventually(
            lambda: [r for r in self.mock.responses if r["_token"] == token],
            timeout=timeout,
            what=f"a response to {token}",
        )
        return found[0]


async def break_component(bot: SlackBot, check_id: str = "web-home", times: int = 3) -> None:
    """Feed a check enough failures (HTTP 503) for its component's outage to be alerted."""
    runtime = bot.runtime
    check = next(c for c in runtime.config.checks if c.id == check_id)
    for _ in range(times):
        await runtime.monitor.record(check, failure(check_id, runtime.clock()))


async def repair_component(bot: SlackBot, check_id: str = "web-home", times: int = 2) -> None:
    runtime = bot.runtime
    check = next(c for c in runtime.config.checks if c.id == check_id)
    for _ in range(times):
        await runtime.monitor.record(check, success(check_id, runtime.clock()))


async def start_runtime(
    config: Config,
    kv: KeyValue,
    mock: MockSlack,
    lease_ttl: timedelta = timedelta(seconds=15),
    clock: Callable[[], datetime] | None = None,
    environment: dict[str, Any] | None = None,
) -> Runtime:
    """`environment`: settings that differ from the test defaults (`{"smtp_url": ...}`)."""
    settings = slack_settings(mock).model_copy(update=environment or {})
    runtime = build_runtime(
        settings,
        config,
        kv=kv,
        lease_ttl=lease_ttl,
        **({"clock": clock} if clock else {}),
    )
    install_chat(runtime)
    await runtime.start()
    return runtime


async def stop_runtime(runtime: Runtime, timeout: float = 10.0) -> None:
    """Stop a runtime, failing clearly (instead of hanging the suite) if it does not stop."""
    stopping = asyncio.ensure_future(runtime.stop())
    done, _ = await asyncio.wait({stopping}, timeout=timeout)
    if done:
        stopping.result()
        return
    # A second cancel reaches the outbox worker through the lease task and ends it.
    stopping.cancel()
    await asyncio.wait({stopping}, timeout=timeout)
    raise AssertionError(
        f"Runtime.stop() did not finish within {timeout}s: the outbox worker ignored its "
        "cancellation (see test_stopping_as_a_post_is_queued_does_not_hang)"
    )


@asynccontextmanager
async def running_bot(
    kv: KeyValue,
    *,
    config: Config | None = None,
    mock: MockSlack | None = None,
    settle: bool = True,
    clock: Callable[[], datetime] | None = None,
    environment: dict[str, Any] | None = None,
) -> AsyncIterator[SlackBot]:
    """A real Runtime serving `/slack/events` on a free port, Slack's Web API mocked.

    On the way out it first lets the outbox deliver what is queued (`settle`): stopping while
    the outbox worker is being woken can hang Runtime.stop() on Python 3.11 (a product bug with
    its own failing test), and a suite that hangs tells nobody anything.
    """
    own_mock = mock is None
    slack = mock or await MockSlack().start()
    slack.groups.setdefault(ONCALL_GROUP, [ONCALL_MEMBER])
    runtime = await start_runtime(
        config or slack_config(), kv, slack, clock=clock, environment=environment
    )
    try:
        async with httpx.AsyncClient(timeout=10, verify=False) as http:
            bot = SlackBot(runtime, slack, http)
            yield bot
            if settle:
                await bot.settled()
    finally:
        try:
            await stop_runtime(runtime)
        finally:
            if own_mock:
                await slack.stop()
