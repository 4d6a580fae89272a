"""Slack: slash commands, buttons, modals and App Home, into the shared dispatcher.

The signed route answers slash commands itself and hands everything else (and Socket Mode
hands everything) to Bolt. Listeners stay thin: acknowledge within Slack's 3 seconds, hand the
command or click to the dispatcher, render its reply. Retries (`X-Slack-Retry-Num`) and double
submissions carry the same trigger or view ID, which the dispatcher claims once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config
from bot.incidents.service import IncidentService
from bot.metrics import Metrics
from bot.status_report import StatusReport
from bot.store import UNAVAILABLE
from handlers.commands import actions, grammar
from handlers.commands.dispatcher import (
    Caller,
    Dispatcher,
    IncidentForm,
    Invocation,
    Reply,
    StatementForm,
)
from handlers.slack.payloads import state_values, text, user_id
from handlers.slack.replies import ephemeral, tell
from handlers.slack.views import (
    EDIT_CALLBACK,
    OPEN_INCIDENT_CALLBACK,
    REJECT_CALLBACK,
    edit_view,
    home_view,
    incident_form,
    read_incident_form,
    read_reject_reason,
    read_statement_texts,
    reject_view,
)

log = logging.getLogger(__name__)

# Slack's deadline is 3 s; answer with "working on it" well before and follow up.
_ACK_BUDGET = 2.0
_MAX_AGE_S = 300  # older signed requests are refused (replays), as Slack's SDKs do


@dataclass
class SlackServices:
    config: Config
    dispatcher: Dispatcher
    incidents: IncidentService
    report: StatusReport
    metrics: Metrics


class AfterAck:
    """Work that follows an acknowledgement.

    The app runs with `process_before_response`, so Slack gets its HTTP answer as soon as a
    listener returns (Bolt's other mode polls for `ack()` every 10 ms, a floor under every
    reply). Anything slower than a store write (Web API calls, `respond()`) runs here instead.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack follow-up failed", exc_info=task.exception())


class SlashCommands:
    """`/status` and `/incident`, however they arrive: the signed route answers them itself
    (`add_slack_route`), Socket Mode hands them over through Bolt; both end here."""

    names = frozenset({"/status", "/incident"})

    def __init__(self, services: SlackServices, client: AsyncWebClient, later: AfterAck) -> None:
        self._services = services
        self._client = client
        self._later = later
        self._latency = services.metrics.command_latency.labels("slack")

    async def answer(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The acknowledgement's body (empty: an empty answer); slower work follows it."""
        services = self._services
        loop = asyncio.get_running_loop()
        started = loop.time()
        invocation = Invocation(
            platform="slack",
            user=text(body, "user_id"),
            command="status" if body.get("command") == "/status" else "incident",
            text=text(body, "text"),
            channel=text(body, "channel_id") or None,
            delivery_id=text(body, "trigger_id") or None,
        )
        work = asyncio.ensure_future(services.dispatcher.handle(invocation))
        done, _ = await asyncio.wait({work}, timeout=_ACK_BUDGET)
        answer: dict[str, Any] = {}
        if not done:
            answer = {"text": "Working on it…", "response_type": "ephemeral"}
            self._later.run(self._respond_when_done(work, text(body, "response_url")))
        else:
            reply = work.result()
            if reply is None:
                pass  # a retry of something already handled: an empty answer
            elif reply.form is not None:
                trigger = text(body, "trigger_id")
                self._later.run(_open_form(self._client, trigger, services.config, reply.form))
            else:
                answer = ephemeral(reply)
        self._latency.observe(loop.time() - started)
        return answer

    async def _respond_when_done(self, work: asyncio.Future[Reply | None], url: str) -> None:
        reply = await work
        if reply is not None:
            # As Bolt's `respond` would: to the command's response_url, the client's TLS.
            respond = AsyncRespond(response_url=url, proxy=self._client.proxy, ssl=self._client.ssl)
            await respond(**ephemeral(reply), replace_original=False)


def build_slack_app(
    services: SlackServices, client: AsyncWebClient, signing_secret: str
) -> tuple[AsyncApp, SlashCommands]:
    """Bolt for everything Slack sends, and the slash commands, which the route answers itself."""
    # The route checks every request's signature on its raw bytes before Bolt sees it (so a
    # forged or garbled one gets 401/400, never a 5xx); Bolt need not check it again. Socket
    # Mode requests come over Slack's authenticated WebSocket, not this route.
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        request_verification_enabled=False,
    )
    later = AfterAck()
    commands = SlashCommands(services, client, later)
    _register_commands(app, commands)
    _register_buttons(app, services, later)
    _register_modals(app, services, later)
    _register_home(app, services, later)
    return app, commands


def add_slack_route(
    web_app: web.Application, bolt: AsyncApp, commands: SlashCommands, signing_secret: str
) -> None:
    secret = signing_secret.encode()
    form_type = "application/x-www-form-urlencoded"

    async def slack_events(request: web.Request) -> web.Response:
        # Checked here before Bolt sees anything: Bolt parses the body (and the timestamp)
        # first, and a forged or garbled request must get its 401 or 400, never a 5xx.
        raw = await request.read()
        if not _signed(secret, raw, request.headers):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            body = raw.decode()
        except UnicodeDecodeError:
            return web.json_response({"error": "the body is not UTF-8"}, status=400)
        if request.content_type == form_type and not body.startswith("{"):
            # Read as Bolt reads a form (the last of repeated fields wins, blanks kept).
            form = dict(parse_qsl(body, keep_blank_values=True))
            if "payload" in form:
                problem = _garbled(form["payload"])
                if problem:
                    return web.json_response({"error": problem}, status=400)
            elif form.get("command") in commands.names and "ssl_check" not in form:
                # Slash commands are answered here, signed and parsed once: for them Bolt
                # would only add its middleware chain, a Web API client per request and a
                # second parse of the body on the way to the same answer.
                answer = await commands.answer(form)
                return web.json_response(answer) if answer else web.Response()
        try:
            bolt_request = AsyncBoltRequest(
                body=body,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
        except ValueError:
            return web.json_response({"error": "malformed request body"}, status=400)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    web_app.router.add_post("/slack/events", slack_events)


def _signed(secret: bytes, raw: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's signature (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`), at most 5 minutes old."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp.isdecimal() or len(timestamp) > 12:
        return False
    if abs(time.time() - int(timestamp)) > _MAX_AGE_S:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _garbled(payload: str) -> str | None:
    """Why a signed interaction payload is not something Slack sends, or None."""
    try:
        parsed = json.loads(payload)
    except json.JSONDecodeError:
        return "payload is not JSON"
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
        return "payload is not an interaction"
    return _misshapen(parsed)


def _misshapen(payload: dict[str, Any]) -> str | None:
    """What Bolt would trip over in an interaction (it indexes these without checking)."""
    if "user" in payload and not user_id(payload):
        return "payload.user has no id"
    if "actions" in payload:
        acted = payload["actions"]
        if not isinstance(acted, list) or not acted:
            return "payload.actions is empty"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in acted):
            return "payload.actions has an action without an action_id"
    if "view" in payload and not text(payload, "view", "type"):
        return "payload.view is not a view"
    return None


def _register_commands(app: AsyncApp, commands: SlashCommands) -> None:
    # Socket Mode's way in; over HTTP the route answers slash commands before Bolt.
    async def command(ack: Any, body: dict[str, Any]) -> None:
        answer = await commands.answer(body)
        await (ack(answer) if answer else ack())

    for name in commands.names:
        app.command(name)(command)


def _register_buttons(app: AsyncApp, services: SlackServices, later: AfterAck) -> None:
    async def press(body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        user, action_id = user_id(body), text(body, "actions", 0, "action_id")
        if not user or not action_id:
            log.warning("ignored a Slack click without a user or an action")
            return
        caller = Caller("slack", user, channel=text(body, "channel", "id") or None)
        reply = await services.dispatcher.press(
            caller,
            action_id,
            text(body, "actions", 0, "value"),
            delivery_id=text(body, "trigger_id") or None,
        )
        if reply is None:
            return  # Slack's retry of a click already handled
        if reply.form is not None:
            await _open_form(client, text(body, "trigger_id"), services.config, reply.form)
        elif not reply.quiet:
            await tell(respond, reply.message.text)

    async def clicked(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        later.run(press(body, respond, client))

    for action_id in actions.BUTTONS:
        app.action(action_id)(clicked)


def _register_modals(app: AsyncApp, services: SlackServices, later: AfterAck) -> None:
    dispatcher = services.dispatcher

    @app.view(OPEN_INCIDENT_CALLBACK)
    async def submit_incident(
        ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = user_id(body)
        form, errors = read_incident_form(services.config, view)
        if not user or not text(view, "id"):
            await ack(response_action="errors", errors={"title": "This form is out of date."})
            return
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        caller = Caller("slack", user, channel=form.channel)
        command = grammar.Open(form.title, form.severity, form.components, form.outage)
        refusal = await dispatcher.refusal(caller, command)
        if refusal is not None:
            await ack(response_action="errors", errors={"title": refusal.short})
            return
        await ack()
        later.run(declare(caller, command, text(view, "id"), client))

    async def declare(
        caller: Caller, command: grammar.Open, view_id: str, client: AsyncWebClient
    ) -> None:
        reply = await dispatcher.run_once(caller, command, f"view:{view_id}")
        if reply is not None and reply.refused:
            await client.chat_postEphemeral(
                channel=caller.channel or caller.user, user=caller.user, text=reply.message.text
            )

    @app.view(EDIT_CALLBACK)
    async def submit_edit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        texts = read_statement_texts(view)
        command = actions.EditStatement(text(view, "private_metadata"), tuple(texts.items()))
        reply = await dispatcher.run(Caller("slack", user_id(body)), command)
        if reply.problem is not None:
            target = next(iter(state_values(view)), "text_en")
            await ack(response_action="errors", errors={target: reply.problem})
            return
        await ack()

    @app.view(REJECT_CALLBACK)
    async def submit_reject(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        command = actions.RejectStatement(text(view, "private_metadata"), read_reject_reason(view))
        reply = await dispatcher.run(Caller("slack", user_id(body)), command)
        if reply.problem is not None:
            await ack(response_action="errors", errors={"reason": reply.problem})
            return
        await ack()


def _register_home(app: AsyncApp, services: SlackServices, later: AfterAck) -> None:
    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient, body: dict[str, Any]) -> None:
        later.run(publish_home(event, client, body))

    async def publish_home(
        event: dict[str, Any], client: AsyncWebClient, body: dict[str, Any]
    ) -> None:
        user = text(event, "user")
        try:
            if not user or not await services.dispatcher.claim(f"slack:{body.get('event_id')}"):
                return
            overview = await services.report.overview()
            incidents = await services.incidents.open_incidents()
        except UNAVAILABLE as exc:
            log.warning("App Home not published: the store is unavailable (%s)", exc)
            return
        await client.views_publish(user_id=user, view=home_view(overview, incidents))


async def _open_form(
    client: AsyncWebClient, trigger_id: str, config: Config, form: IncidentForm | StatementForm
) -> None:
    if isinstance(form, IncidentForm):
        view = incident_form(config, form.defaults)
    elif form.kind == "edit":
        view = edit_view(form.statement)
    else:
        view = reject_view(form.statement)
    await client.views_open(trigger_id=trigger_id, view=view)
