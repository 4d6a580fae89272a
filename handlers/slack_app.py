"""Slack: slash commands, alert buttons, the declare-incident modal and App Home, via Bolt.

Listeners stay thin: acknowledge within Slack's 3 seconds, hand the work to bot/ through the
shared dispatcher, render the reply. Retries (`X-Slack-Retry-Num`) and double clicks are
claimed once in the store, so they never duplicate anything.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts import ACKNOWLEDGE_ACTION, DECLARE_ACTION, SILENCE_ACTION, SILENCE_FOR, Alerter
from bot.config import Config
from bot.incidents.service import IncidentError, IncidentService
from bot.metrics import Metrics
from bot.roles import Roles
from bot.statements.service import StatementService
from bot.status import ComponentStatus
from bot.status_report import StatusReport
from handlers.dispatch import Dispatcher, Invocation, Reply
from handlers.slack_replies import ephemeral, tell
from handlers.slack_statements import register_statement_review
from handlers.slack_views import (
    OPEN_INCIDENT_CALLBACK,
    IncidentForm,
    home_view,
    incident_form,
    read_incident_form,
)

log = logging.getLogger(__name__)

# Slack's deadline is 3 s; answer with "working on it" well before and follow up.
_ACK_BUDGET = 2.0
_IMPACT_SEVERITY = {
    ComponentStatus.MAJOR_OUTAGE.value: 1,
    ComponentStatus.PARTIAL_OUTAGE.value: 2,
    ComponentStatus.DEGRADED_PERFORMANCE.value: 3,
}


@dataclass
class SlackServices:
    config: Config
    dispatcher: Dispatcher
    incidents: IncidentService
    alerter: Alerter
    report: StatusReport
    roles: Roles
    metrics: Metrics
    claim: Callable[[str], Awaitable[bool]]  # True the first time a key is claimed
    statements: StatementService


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
    _register_modal(app, services, later)
    _register_home(app, services, later)
    register_statement_review(app, services.statements, later)
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


def _retry_key(body: dict[str, Any]) -> str | None:
    """A key identifying one user action across Slack's retries."""
    for field in ("trigger_id", "event_id"):
        if body.get(field):
            return f"slack:{body[field]}"
    view = body.get("view") or {}
    if body.get("type") == "view_submission" and view.get("id"):
        return f"slack:view:{view['id']}:{view.get('hash', '')}"
    return None


def _register_commands(app: AsyncApp, services: SlackServices, later: AfterAck) -> None:
    async def respond_when_done(work: asyncio.Future[Reply], respond: Any) -> None:
        await respond(**ephemeral(await work), replace_original=False)

    async def run_command(
        name: str,
        ack: Any,
        body: dict[str, Any],
        respond: Any,
        client: AsyncWebClient,
        request: Any,
    ) -> None:
        started = asyncio.get_running_loop().time()
        key = _retry_key(body)
        if key and not await services.claim(key):
            await ack()  # a retry of something already handled
            return
        invocation = Invocation(
            platform="slack",
            user=body.get("user_id", ""),
            command="status" if name == "status" else "incident",
            text=body.get("text", ""),
            channel=body.get("channel_id"),
        )
        work = asyncio.ensure_future(services.dispatcher.handle(invocation))
        done, _ = await asyncio.wait({work}, timeout=_ACK_BUDGET)
        if not done:
            await ack(text="Working on it…", response_type="ephemeral")
            later.run(respond_when_done(work, respond))
        else:
            reply = work.result()
            if reply.open_form:
                await ack()
                later.run(_open_form(client, body["trigger_id"], services, reply.form_defaults))
            else:
                await ack(**ephemeral(reply))
        services.metrics.command_latency.labels("slack").observe(
            asyncio.get_running_loop().time() - started
        )

    @app.command("/status")
    async def status_command(
        ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, request: Any
    ) -> None:
        await run_command("status", ack, body, respond, client, request)

    @app.command("/incident")
    async def incident_command(
        ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, request: Any
    ) -> None:
        await run_command("incident", ack, body, respond, client, request)


def _register_buttons(app: AsyncApp, services: SlackServices, later: AfterAck) -> None:
    async def guard(body: dict[str, Any], respond: Any, what: str) -> dict[str, Any] | None:
        user = body["user"]["id"]
        if not await services.roles.has(user, "responders"):
            await tell(
                respond,
                f"Only responders may {what}; ask someone with that role "
                "(config: roles.responders).",
            )
            return None
        try:
            value: dict[str, Any] = json.loads(body["actions"][0].get("value") or "{}")
        except json.JSONDecodeError:
            await tell(respond, "That button is out of date.")
            return None
        return value

    @app.action(DECLARE_ACTION)
    async def declare(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        later.run(declare_from_alert(body, respond, client))

    async def declare_from_alert(
        body: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        value = await guard(body, respond, "declare incidents")
        if value is None:
            return
        existing = await services.incidents.for_outage(value.get("outage", ""))
        if existing is not None:
            await tell(respond, f"{existing.id} was already declared for this outage.")
            return
        component = str(value.get("component", ""))
        defaults = {
            "title": _alert_title(services.config, component, str(value.get("impact", ""))),
            "severity": str(_IMPACT_SEVERITY.get(str(value.get("impact")), 3)),
            "components": component,
            "outage": str(value.get("outage", "")),
        }
        await _open_form(client, body["trigger_id"], services, defaults)

    @app.action(ACKNOWLEDGE_ACTION)
    async def acknowledge(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        later.run(acknowledge_alert(body, respond))

    async def acknowledge_alert(body: dict[str, Any], respond: Any) -> None:
        value = await guard(body, respond, "acknowledge alerts")
        if value is not None:
            outage = await services.alerter.acknowledge(
                str(value.get("component")), body["user"]["id"]
            )
            if outage is None:
                await tell(respond, "That outage is over.")

    @app.action(SILENCE_ACTION)
    async def silence(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        later.run(silence_alerts(body, respond))

    async def silence_alerts(body: dict[str, Any], respond: Any) -> None:
        value = await guard(body, respond, "silence alerts")
        if value is not None:
            await services.alerter.silence(
                str(value.get("component")), SILENCE_FOR, body["user"]["id"]
            )


def _register_modal(app: AsyncApp, services: SlackServices, later: AfterAck) -> None:
    @app.view(OPEN_INCIDENT_CALLBACK)
    async def submit(
        ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = body["user"]["id"]
        form, errors = read_incident_form(services.config, view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        if not await services.roles.has(user, "responders"):
            await ack(
                response_action="errors", errors={"title": "Only responders may open incidents."}
            )
            return
        await ack()
        later.run(declare_from_form(view, form, user, client))

    async def declare_from_form(
        view: dict[str, Any], form: IncidentForm, user: str, client: AsyncWebClient
    ) -> None:
        if not await services.claim(f"slack:view:{view['id']}"):
            return  # submitted twice
        if form.outage and not await services.claim(f"declared:{form.outage}"):
            # Two forms for one outage (a double click, two responders at once): one incident.
            existing = await services.incidents.for_outage(form.outage)
            which = existing.id if existing else "An incident"
            await client.chat_postEphemeral(
                channel=form.channel or user,
                user=user,
                text=f"{which} was already declared for this outage.",
            )
            return
        try:
            incident = await services.incidents.open(
                title=form.title,
                reporter=user,
                severity=form.severity,
                components=form.components,
                outage=form.outage,
            )
        except IncidentError as exc:
            await client.chat_postEphemeral(channel=form.channel or user, user=user, text=str(exc))
            return
        log.info("%s declared from the Slack form by %s", incident.id, user)


def _register_home(app: AsyncApp, services: SlackServices, later: AfterAck) -> None:
    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient, body: dict[str, Any]) -> None:
        later.run(publish_home(event, client, body))

    async def publish_home(
        event: dict[str, Any], client: AsyncWebClient, body: dict[str, Any]
    ) -> None:
        if not await services.claim(f"slack:{body.get('event_id')}"):
            return
        overview = await services.report.overview()
        incidents = await services.incidents.open_incidents()
        await client.views_publish(user_id=event["user"], view=home_view(overview, incidents))


async def _open_form(
    client: AsyncWebClient, trigger_id: str, services: SlackServices, defaults: dict[str, str]
) -> None:
    await client.views_open(trigger_id=trigger_id, view=incident_form(services.config, defaults))


def _alert_title(config: Config, component_id: str, impact: str) -> str:
    name = config.component_name(component_id)
    label = (
        ComponentStatus(impact).label if impact in ComponentStatus._value2member_map_ else "Outage"
    )
    return f"{label}: {name}"
