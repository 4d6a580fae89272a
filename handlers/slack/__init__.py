"""Slack: Bolt listeners for commands, buttons and modals; Block Kit posts via the Web API."""
