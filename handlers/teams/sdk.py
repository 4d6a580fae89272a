"""The parts of the Teams SDK's app package the bot uses (imported after the package's set-up)."""

from __future__ import annotations

from microsoft_teams.api.activities.message.message import MessageActivity
from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides
from microsoft_teams.apps import ActivityContext, App

__all__ = ["PUBLIC", "ActivityContext", "App", "MessageActivity", "with_overrides"]
