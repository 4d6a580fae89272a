"""Teams in a running bot: the activity route; signing keys kept fresh off the event loop."""

from __future__ import annotations

from bot.runtime import Runtime
from handlers.commands.dispatcher import Dispatcher
from handlers.teams.app import TeamsInput
from handlers.teams.connector import TeamsBotAdapter


def install_teams(runtime: Runtime, dispatcher: Dispatcher, bot: TeamsBotAdapter) -> TeamsInput:
    teams = TeamsInput(
        runtime.settings, runtime.config, dispatcher, bot, runtime.web_app, runtime.ssl_context
    )
    runtime.background.append(teams.refresh_keys)
    return teams
