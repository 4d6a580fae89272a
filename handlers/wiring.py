"""Connects chat input to a runtime: the dispatcher, Slack (HTTP or Socket Mode), the console."""

from __future__ import annotations

import logging
import secrets

from bot.chat.slack import SlackAdapter
from bot.runtime import Runtime
from handlers.console_input import read_commands
from handlers.dispatch import Dispatcher
from handlers.slack_app import SlackServices, add_slack_route, build_slack_app

log = logging.getLogger(__name__)


def build_dispatcher(runtime: Runtime) -> Dispatcher:
    return Dispatcher(
        runtime.config,
        runtime.incidents,
        runtime.report,
        runtime.roles,
        runtime.poster,
        runtime.statements,
        clock=runtime.clock,
    )


def install_chat(runtime: Runtime, *, console_commands: bool = False) -> Dispatcher:
    dispatcher = build_dispatcher(runtime)
    settings = runtime.settings
    slack = runtime.adapters.get("slack")
    if isinstance(slack, SlackAdapter):
        app_token = settings.slack_app_token
        secret = settings.slack_signing_secret
        if app_token is None and secret is None:
            # `statusbot run` refuses this; embedding code gets alerts without commands.
            log.warning("SLACK_SIGNING_SECRET is not set: Slack commands and buttons are off")
        else:
            services = SlackServices(
                config=runtime.config,
                dispatcher=dispatcher,
                incidents=runtime.incidents,
                alerter=runtime.alerter,
                report=runtime.report,
                roles=runtime.roles,
                metrics=runtime.metrics,
                claim=runtime.incident_store.claim,
                statements=runtime.statements,
            )
            # In Socket Mode no request comes over HTTP; a secret nobody has refuses any that do.
            signing = secret.get_secret_value() if secret else secrets.token_hex(32)
            bolt = build_slack_app(services, slack.client, signing)
            add_slack_route(runtime.web_app, bolt, signing)
            if app_token is not None:
                from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

                handler = AsyncSocketModeHandler(bolt, app_token.get_secret_value())

                async def socket_mode() -> None:
                    try:
                        await handler.start_async()  # type: ignore[no-untyped-call]
                    finally:
                        await handler.close_async()  # type: ignore[no-untyped-call]

                runtime.background.append(socket_mode)
    if console_commands and "console" in runtime.adapters:

        async def console() -> None:
            await read_commands(dispatcher)

        runtime.background.append(console)
    return dispatcher
