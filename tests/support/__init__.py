"""Test doubles for the servers we don't own (Slack) and helpers to build configs."""
