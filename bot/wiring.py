"""The composition root: the only module that knows every chat platform and puts them together.

`build_runtime` makes one process from the settings (Slack when it has a token, the console when
no platform is configured); `install_chat` connects each platform's input to the one dispatcher.
A new platform is one package under handlers/ and a few lines here.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TextIO

from bot.chat.adapter import ChatAdapter
from bot.chat.poster import CHANNEL_KINDS
from bot.config import Config
from bot.monitoring.checks.probe import build_ssl_context
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store import open_keyvalue
from bot.store.keyvalue import KeyValue
from handlers.commands.dispatcher import Dispatcher
from handlers.console.adapter import ConsoleAdapter
from handlers.console.prompt import read_commands
from handlers.slack.adapter import SlackAdapter
from handlers.slack.install import install_slack


def build_runtime(
    settings: Settings,
    config: Config,
    *,
    kv: KeyValue | None = None,
    console: TextIO | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    first_run_within: timedelta | None = None,
    lease_ttl: timedelta = timedelta(seconds=15),
) -> Runtime:
    """A process with the chat platforms the settings and config name: Slack with a token; the
    Teams bot with its credentials; Teams webhooks where `channels` name them; the console when
    no platform can take commands."""
    ssl_context = build_ssl_context(settings.ssl_cert_file)
    kv = kv or open_keyvalue(
        settings.redis_url.get_secret_value() if settings.redis_url else None,
        settings.redis_prefix,
        settings.database,
    )
    adapters: dict[str, ChatAdapter] = {}
    if settings.slack_bot_token is not None:
        adapters["slack"] = SlackAdapter.create(
            settings.slack_bot_token.get_secret_value(), settings.slack_api_url, ssl_context
        )
    if settings.teams_app_id and settings.teams_app_password:
        # The Teams SDK takes a second and 40 MB to import: only where Teams is configured.
        from handlers.teams.connector import ServiceUrl, TeamsBotAdapter
        from handlers.teams.token import BotToken

        token = BotToken(
            settings.teams_app_id,
            settings.teams_app_password.get_secret_value(),
            settings.teams_login_url,
            ssl_context,
        )
        service_url = ServiceUrl(kv, settings.teams_service_url)
        adapters["teams"] = TeamsBotAdapter(token, service_url, ssl_context)
    if not adapters:
        adapters["console"] = ConsoleAdapter(console)
    if any(getattr(config.channels, kind).teams for kind in CHANNEL_KINDS):
        from handlers.teams.webhook import TeamsWebhookAdapter

        webhook = TeamsWebhookAdapter(ssl_context, settings.public_url)
        adapters[webhook.platform] = webhook
    return Runtime(
        settings,
        config,
        adapters=adapters,
        kv=kv,
        ssl_context=ssl_context,
        clock=clock,
        first_run_within=first_run_within,
        lease_ttl=lease_ttl,
    )


def build_dispatcher(runtime: Runtime) -> Dispatcher:
    return Dispatcher(
        runtime.config,
        runtime.incidents,
        runtime.report,
        runtime.access,
        runtime.poster,
        runtime.statements,
        runtime.alerter,
        clock=runtime.clock,
    )


def install_chat(runtime: Runtime, *, console_commands: bool = False) -> Dispatcher:
    """Connect every configured platform's input to one dispatcher, and return it."""
    dispatcher = build_dispatcher(runtime)
    slack = runtime.adapters.get("slack")
    if isinstance(slack, SlackAdapter):
        install_slack(runtime, dispatcher, slack)
    if "teams" in runtime.adapters:
        from handlers.teams.connector import TeamsBotAdapter
        from handlers.teams.install import install_teams

        teams = runtime.adapters["teams"]
        if isinstance(teams, TeamsBotAdapter):
            install_teams(runtime, dispatcher, teams)
    if console_commands and "console" in runtime.adapters:

        async def console() -> None:
            await read_commands(dispatcher, user=runtime.settings.console_user)

        runtime.background.append(console)
    return dispatcher


async def wait_for_signal() -> None:
    """Until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def platform_problems(settings: Settings, config: Config) -> list[str]:
    """Chat settings that cannot work together, one line each (for `statusbot validate`)."""
    problems = []
    if bool(settings.teams_app_id) != bool(settings.teams_app_password):
        problems.append(
            "environment: TEAMS_APP_ID and TEAMS_APP_PASSWORD are set together (the bot's "
            "Bot Framework registration), or neither"
        )
    wanted = [k for k in CHANNEL_KINDS if getattr(config.channels, k).teams_channel]
    if wanted and not (settings.teams_app_id and settings.teams_app_password):
        problems.append(
            f"channels.{wanted[0]}.teams_channel: the bot posts in Teams channels only with "
            "TEAMS_APP_ID and TEAMS_APP_PASSWORD set"
        )
    return problems
