"""Slack: slash commands, buttons, modals and App Home, via Bolt, into the shared dispatcher.

Listeners stay thin: acknowledge within Slack's 3 seconds, hand the command or click to the
dispatcher, render its reply. Retries (`X-Slack-Retry-Num`) and double submissions carry the
same trigger or view ID, which the dispatcher claims once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config
from bot.incidents.service import IncidentService
from bot.metrics import Metrics
from bot.status_report import StatusReport
from handlers.commands import actions, grammar
from handlers.commands.dispatcher import (
    Caller,
    Dispatcher,
    IncidentForm,
    Invocation,
    Reply,
    StatementForm,
)
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


def build_slack_app(
    services: SlackServices, client: AsyncWebClient, signing_secret: str
) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=signing_secret, process_before_response=True)
    later = AfterAck()
    _register_commands(app, services, later)
    _register_buttons(app, services, later)
    _register_modals(app, services, later)
    _register_home(app, services, later)
    return app


def add_slack_route(web_app: web.Application, bolt: AsyncApp, signing_secret: str) -> None:
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError:
            # Bolt parses the body before it checks the signature: do the check here first, so
            # a forged request still gets its 401 and a signed but garbled one a plain 400.
            body = await request.text()
            if not verifier.is_valid_request(body, dict(request.headers)):
                return web.json_response({"error": "invalid request"}, status=401)
            return web.json_response({"error": "malformed request body"}, status=400)
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    web_app.router.add_post("/slack/events", slack_events)


def _register_commands(app: AsyncApp, services: SlackServices, later: AfterAck) -> None:
    async def respond_when_done(work: asyncio.Future[Reply | None], respond: Any) -> None:
        reply = await work
        if reply is not None:
            await respond(**ephemeral(reply), replace_original=False)

    async def run_command(
        name: str, ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        started = asyncio.get_running_loop().time()
        invocation = Invocation(
            platform="slack",
            user=body.get("user_id", ""),
            command="status" if name == "status" else "incident",
            text=body.get("text", ""),
            channel=body.get("channel_id"),
            delivery_id=body.get("trigger_id") or None,
        )
        work = asyncio.ensure_future(services.dispatcher.handle(invocation))
        done, _ = await asyncio.wait({work}, timeout=_ACK_BUDGET)
        if not done:
            await ack(text="Working on it…", response_type="ephemeral")
            later.run(respond_when_done(work, respond))
        else:
            reply = work.result()
            if reply is None:
                await ack()  # a retry of something already handled
            elif reply.form is not None:
                await ack()
                later.run(_open_form(client, body["trigger_id"], services.config, reply.form))
            else:
                await ack(**ephemeral(reply))
        services.metrics.command_latency.labels("slack").observe(
            asyncio.get_running_loop().time() - started
        )

    @app.command("/status")
    async def status_command(
        ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await run_command("status", ack, body, respond, client)

    @app.command("/incident")
    async def incident_command(
        ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await run_command("incident", ack, body, respond, client)


def _register_buttons(app: AsyncApp, services: SlackServices, later: AfterAck) -> None:
    async def press(body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        action = body["actions"][0]
        caller = Caller("slack", body["user"]["id"], channel=(body.get("channel") or {}).get("id"))
        reply = await services.dispatcher.press(
            caller, action.get("action_id", ""), action.get("value", "")
        )
        if reply.form is not None:
            await _open_form(client, body["trigger_id"], services.config, reply.form)
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
        user = body["user"]["id"]
        form, errors = read_incident_form(services.config, view)
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
        later.run(declare(caller, command, view["id"], client))

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
        command = actions.EditStatement(view.get("private_metadata", ""), tuple(texts.items()))
        reply = await dispatcher.run(Caller("slack", body["user"]["id"]), command)
        if reply.problem is not None:
            target = next(iter(view.get("state", {}).get("values", {})), "text_en")
            await ack(response_action="errors", errors={target: reply.problem})
            return
        await ack()

    @app.view(REJECT_CALLBACK)
    async def submit_reject(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        command = actions.RejectStatement(
            view.get("private_metadata", ""), read_reject_reason(view)
        )
        reply = await dispatcher.run(Caller("slack", body["user"]["id"]), command)
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
        if not await services.dispatcher.claim(f"slack:{body.get('event_id')}"):
            return
        overview = await services.report.overview()
        incidents = await services.incidents.open_incidents()
        await client.views_publish(user_id=event["user"], view=home_view(overview, incidents))


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
