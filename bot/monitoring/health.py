"""Component health: each component's status from its checks, incidents and maintenance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.config import Config
from bot.monitoring.state import CheckState
from bot.store.keyvalue import KeyValue
from bot.vocabulary import ComponentStatus, worst

_HEALTH = "component:health"


class DeclaredImpact(Protocol):
    """Something people declared (an open incident) that says how bad components are."""

    @property
    def components(self) -> list[str]: ...

    @property
    def impact(self) -> ComponentStatus: ...


class ComponentHealth:
    """Each component's status as its checks last left it, in the store."""

    def __init__(self, config: Config, kv: KeyValue) -> None:
        self._config = config
        self._kv = kv

    async def put(self, component_id: str, status: ComponentStatus) -> None:
        await self._kv.hset(_HEALTH, {component_id: status.value})

    async def all(self) -> dict[str, ComponentStatus]:
        """Each component's status from its checks (operational when never checked)."""
        raw = await self._kv.hgetall(_HEALTH)
        return {
            c.id: ComponentStatus(raw.get(c.id, ComponentStatus.OPERATIONAL.value))
            for c in self._config.components
        }


def health_of(config: Config, component_id: str, states: dict[str, CheckState]) -> ComponentStatus:
    """A component's status from its checks alone: the worst impact among its unhealthy checks."""
    return worst(
        [
            check.impact_status
            for check in config.checks_of(component_id)
            if check.id in states and not states[check.id].healthy
        ]
    )


def in_maintenance(config: Config, component_id: str, at: datetime) -> bool:
    return any(window.covers(component_id, at) for window in config.maintenance)


def effective_statuses(
    config: Config,
    health: dict[str, ComponentStatus],
    declared: Sequence[DeclaredImpact],
    now: datetime,
) -> dict[str, ComponentStatus]:
    """A component takes the worst of its checks and of any open incident naming it. Inside a
    maintenance window its checks are expected to fail: it shows `under_maintenance`, unless an
    open incident says worse."""
    statuses: dict[str, ComponentStatus] = {}
    for component in config.components:
        said = [d.impact for d in declared if component.id in d.components]
        if in_maintenance(config, component.id, now):
            observed = ComponentStatus.UNDER_MAINTENANCE
        else:
            observed = health.get(component.id, ComponentStatus.OPERATIONAL)
        statuses[component.id] = worst([observed, *said])
    return statuses
