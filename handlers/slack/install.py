"""Slack in a running bot: the signed HTTP route, or Socket Mode where no public URL exists."""

from __future__ import annotations

import logging
import secrets

from bot.runtime import Runtime
from handlers.commands.dispatcher import Dispatcher
from handlers.slack.adapter import SlackAdapter
from handlers.slack.app import SlackServices, add_slack_route, build_slack_app

log = logging.getLogger(__name__)


def install_slack(runtime: Runtime, dispatcher: Dispatcher, adapter: SlackAdapter) -> None:
    settings = runtime.settings
    app_token = settings.slack_app_token
    secret = settings.slack_signing_secret
    if app_token is None and secret is None:
        # `statusbot run` refuses this; embedding code gets alerts without commands.
        log.warning("SLACK_SIGNING_SECRET is not set: Slack commands and buttons are off")
        return
    services = SlackServices(
        config=runtime.config,
        dispatcher=dispatcher,
        incidents=runtime.incidents,
        report=runtime.report,
        metrics=runtime.metrics,
    )
    # In Socket Mode no request comes over HTTP; a secret nobody has refuses any that do.
    signing = secret.get_secret_value() if secret else secrets.token_hex(32)
    bolt, commands = build_slack_app(services, adapter.client, signing)
    add_slack_route(runtime.web_app, bolt, commands, signing)
    if app_token is None:
        return
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(bolt, app_token.get_secret_value())

    async def socket_mode() -> None:
        try:
            await handler.start_async()  # type: ignore[no-untyped-call]
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]

    runtime.background.append(socket_mode)
