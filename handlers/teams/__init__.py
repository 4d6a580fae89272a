"""Microsoft Teams: Adaptive Card posts to Workflows webhooks and the bot in channels (Bot
Framework), commands and approval cards through the Teams SDK for Python.

Importing the SDK's app package loads a `.env` into the process environment and warns about
experimental features; neither should happen behind the bot's back (it reads its own settings and
passes every value explicitly), so both are turned off here, before any module below imports it.
"""

import os
import warnings

os.environ.setdefault("PYTHON_DOTENV_DISABLED", "1")

from microsoft_teams.common.experimental import ExperimentalWarning

warnings.filterwarnings("ignore", category=ExperimentalWarning)
