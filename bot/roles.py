"""Who may do what: the config's `roles`, with user groups resolved through the chat platform."""

from __future__ import annotations

import time
from typing import Literal, Protocol

from bot.config import Roles as RolesConfig

Role = Literal["responders", "comms", "managers"]
_CACHE_SECONDS = 300.0


class GroupDirectory(Protocol):
    """A chat platform that can list a user group's members (Slack's usergroups.users.list)."""

    async def group_members(self, group_id: str) -> set[str]: ...


class Roles:
    def __init__(self, config: RolesConfig, directory: GroupDirectory | None = None) -> None:
        self._config = config
        self._directory = directory
        self._groups: dict[str, tuple[float, set[str]]] = {}

    def members(self, role: Role) -> list[str]:
        listed: list[str] = getattr(self._config, role)
        return listed

    def is_open(self, role: Role) -> bool:
        """A role nobody is listed for is open to everyone (a fresh install works at once)."""
        return not self.members(role)

    async def has(self, user: str, role: Role) -> bool:
        listed = self.members(role)
        if not listed or user in listed:
            return True
        for entry in listed:
            if _looks_like_group(entry) and user in await self._group(entry):
                return True
        return False

    async def _group(self, group_id: str) -> set[str]:
        if self._directory is None:
            return set()
        cached = self._groups.get(group_id)
        now = time.monotonic()
        if cached and now - cached[0] < _CACHE_SECONDS:
            return cached[1]
        try:
            members = await self._directory.group_members(group_id)
        except Exception:
            # Keep the last good answer if the platform is unreachable; else nobody via the group.
            return cached[1] if cached else set()
        self._groups[group_id] = (now, members)
        return members


def _looks_like_group(entry: str) -> bool:
    # Slack user-group IDs start with S; Teams uses AAD object IDs for users, resolved elsewhere.
    return entry.startswith("S")
