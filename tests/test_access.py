"""Who may do what: one rule per action, roles from the config, groups from a platform."""

from __future__ import annotations

import pytest

from bot.access import RULES, Act, Policy
from bot.config import Roles


class Groups:
    """A platform's group directory (Slack user groups start with S)."""

    def __init__(self, members: dict[str, set[str]]) -> None:
        self.members = members
        self.asked: list[str] = []

    def is_group(self, entry: str) -> bool:
        return entry.startswith("S")

    async def group_members(self, group_id: str) -> set[str]:
        self.asked.append(group_id)
        return self.members.get(group_id, set())


async def test_people_and_groups_hold_roles_and_refusals_name_the_role() -> None:
    groups = Groups({"S0ONCALL": {"U0ONCALL"}})
    policy = Policy(Roles(responders=["U0ENG1", "S0ONCALL"], comms=["U0COMMS1"]), [groups])

    assert await policy.refusal("U0ENG1", Act.OPEN_INCIDENT) is None
    assert await policy.refusal("U0ONCALL", Act.ACKNOWLEDGE_ALERT) is None
    assert await policy.refusal("U0COMMS1", Act.DRAFT_STATEMENT) is None  # responders or comms
    refusal = await policy.refusal("U0COMMS1", Act.OPEN_INCIDENT)
    assert refusal is not None
    assert refusal.short == "Only responders may open incidents."
    assert refusal.text == (
        "Only responders may open incidents; ask someone with that role (config: roles.responders)."
    )
    approve = await policy.refusal("U0ENG1", Act.APPROVE_STATEMENT)
    assert approve is not None and approve.text.startswith("Only comms may approve statements")
    assert groups.asked == ["S0ONCALL"], "group members are cached"


async def test_a_role_nobody_is_listed_for_is_open_to_everyone() -> None:
    policy = Policy(Roles(responders=[], comms=["U0COMMS1"]))
    assert policy.is_open("responders") and not policy.is_open("comms")
    assert await policy.refusal("U0ANYONE", Act.RESOLVE_INCIDENT) is None
    assert await policy.refusal("U0ANYONE", Act.REJECT_STATEMENT) is not None


@pytest.mark.parametrize("act", list(Act))
def test_every_act_has_one_rule(act: Act) -> None:
    rule = RULES[act]
    assert rule.roles and rule.what
