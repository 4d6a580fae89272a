"""Who may do what: one rule per action, for typed commands and buttons on every platform.

Roles come from the config's `roles`: people's IDs, or groups a platform resolves (Slack user
groups). A role nobody is listed for is open to everyone, so a fresh install works at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from bot.chat.adapter import GroupDirectory
from bot.config import Roles as RolesConfig

Role = Literal["responders", "comms", "managers"]
_CACHE_SECONDS = 300.0


class Act(StrEnum):
    """Everything that needs a role, whichever surface it comes from."""

    POST_STATUS = "post_status"
    OPEN_INCIDENT = "open_incident"
    DECLARE_FROM_ALERT = "declare_from_alert"
    UPDATE_INCIDENT = "update_incident"
    CHANGE_STATUS = "change_status"
    CHANGE_SEVERITY = "change_severity"
    ASSIGN_COMMANDER = "assign_commander"
    RESOLVE_INCIDENT = "resolve_incident"
    LINK_INCIDENTS = "link_incidents"
    DRAFT_STATEMENT = "draft_statement"
    ACKNOWLEDGE_ALERT = "acknowledge_alert"
    SILENCE_ALERT = "silence_alert"
    REVIEW_STATEMENT = "review_statement"  # open the edit or reject form
    EDIT_STATEMENT = "edit_statement"
    APPROVE_STATEMENT = "approve_statement"
    REJECT_STATEMENT = "reject_statement"


@dataclass(frozen=True)
class Rule:
    roles: tuple[Role, ...]
    what: str  # "open incidents": completes "Only responders may …"


RULES: dict[Act, Rule] = {
    Act.POST_STATUS: Rule(("responders",), "post the status overview"),
    Act.OPEN_INCIDENT: Rule(("responders",), "open incidents"),
    Act.DECLARE_FROM_ALERT: Rule(("responders",), "declare incidents"),
    Act.UPDATE_INCIDENT: Rule(("responders",), "post incident updates"),
    Act.CHANGE_STATUS: Rule(("responders",), "change an incident's status"),
    Act.CHANGE_SEVERITY: Rule(("responders",), "change an incident's severity"),
    Act.ASSIGN_COMMANDER: Rule(("responders",), "assign the incident commander"),
    Act.RESOLVE_INCIDENT: Rule(("responders",), "resolve incidents"),
    Act.LINK_INCIDENTS: Rule(("responders",), "link incidents"),
    Act.DRAFT_STATEMENT: Rule(("responders", "comms"), "draft customer statements"),
    Act.ACKNOWLEDGE_ALERT: Rule(("responders",), "acknowledge alerts"),
    Act.SILENCE_ALERT: Rule(("responders",), "silence alerts"),
    Act.REVIEW_STATEMENT: Rule(("comms",), "edit or reject statements"),
    Act.EDIT_STATEMENT: Rule(("comms",), "edit statements"),
    Act.APPROVE_STATEMENT: Rule(("comms",), "approve statements"),
    Act.REJECT_STATEMENT: Rule(("comms",), "reject statements"),
}


@dataclass(frozen=True)
class Refusal:
    rule: Rule

    @property
    def short(self) -> str:
        """`Only responders may open incidents.`: for a form field."""
        return f"Only {' or '.join(self.rule.roles)} may {self.rule.what}."

    @property
    def text(self) -> str:
        roles = self.rule.roles
        return (
            f"Only {' or '.join(roles)} may {self.rule.what}; "
            f"ask someone with that role (config: roles.{roles[0]})."
        )


class Policy:
    """The one place that decides whether a person may do something."""

    def __init__(self, config: RolesConfig, directories: Sequence[GroupDirectory] = ()) -> None:
        self._config = config
        self._directories = list(directories)
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
            for directory in self._directories:
                if directory.is_group(entry) and user in await self._group(directory, entry):
                    return True
        return False

    async def refusal(self, user: str, act: Act) -> Refusal | None:
        """None when `user` may do `act`; else what to tell them."""
        rule = RULES[act]
        for role in rule.roles:
            if await self.has(user, role):
                return None
        return Refusal(rule)

    async def _group(self, directory: GroupDirectory, group_id: str) -> set[str]:
        cached = self._groups.get(group_id)
        now = time.monotonic()
        if cached and now - cached[0] < _CACHE_SECONDS:
            return cached[1]
        try:
            members = await directory.group_members(group_id)
        except Exception:
            # Keep the last good answer if the platform is unreachable; else nobody via the group.
            return cached[1] if cached else set()
        self._groups[group_id] = (now, members)
        return members
