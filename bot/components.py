"""What each component's status is right now: its checks, open incidents and maintenance."""

from __future__ import annotations

from datetime import datetime

from bot.config import Config
from bot.health import in_maintenance
from bot.incidents.models import Incident
from bot.status import ComponentStatus, worst


def effective_statuses(
    config: Config,
    health: dict[str, ComponentStatus],
    open_incidents: list[Incident],
    now: datetime,
) -> dict[str, ComponentStatus]:
    """A component takes the worst of its checks and of any open incident naming it. Inside a
    maintenance window its checks are expected to fail: it shows `under_maintenance`, unless an
    open incident says worse."""
    statuses: dict[str, ComponentStatus] = {}
    for component in config.components:
        declared = [i.impact for i in open_incidents if component.id in i.components]
        if in_maintenance(config, component.id, now):
            observed = ComponentStatus.UNDER_MAINTENANCE
        else:
            observed = health.get(component.id, ComponentStatus.OPERATIONAL)
        statuses[component.id] = worst([observed, *declared])
    return statuses
