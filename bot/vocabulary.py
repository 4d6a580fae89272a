"""The product's shared words: component and incident statuses, severities, impacts, incident IDs.

Statuspage's vocabulary, so an operator, the page and its JSON all say the same thing. Each
mapping between these words (severity to component status, severity to Statuspage impact, and
back) is written here once.
"""

from __future__ import annotations

import re
from enum import StrEnum


class ComponentStatus(StrEnum):
    """What a component is doing, ordered from best to worst."""

    OPERATIONAL = "operational"
    UNDER_MAINTENANCE = "under_maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label(self) -> str:
        """Sentence-case label for people: `Major outage`."""
        return _LABELS[self]

    @property
    def is_outage(self) -> bool:
        return self in IMPACTS


_RANK = {status: rank for rank, status in enumerate(ComponentStatus)}
_LABELS = {
    ComponentStatus.OPERATIONAL: "Operational",
    ComponentStatus.UNDER_MAINTENANCE: "Under maintenance",
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
}

# The statuses a failing check may give its component (a check's `impact`).
IMPACTS = (
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
)


def worst(statuses: list[ComponentStatus] | tuple[ComponentStatus, ...]) -> ComponentStatus:
    """The most severe of several statuses; operational when there are none."""
    return max(statuses, key=lambda s: s.rank, default=ComponentStatus.OPERATIONAL)


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


SEVERITIES = (1, 2, 3, 4)  # sev1 is the most severe
DEFAULT_SEVERITY = 3

# Severity -> the status an open incident gives its components, and Statuspage's impact word.
_SEVERITY_IMPACT = {
    1: (ComponentStatus.MAJOR_OUTAGE, "critical"),
    2: (ComponentStatus.PARTIAL_OUTAGE, "major"),
    3: (ComponentStatus.DEGRADED_PERFORMANCE, "minor"),
    4: (ComponentStatus.DEGRADED_PERFORMANCE, "minor"),
}


def severity_status(severity: int) -> ComponentStatus:
    """The status an open incident of this severity gives the components it names."""
    return _SEVERITY_IMPACT[severity][0]


def severity_impact(severity: int) -> str:
    """Statuspage's incident impact (`critical`, `major`, `minor`) for a severity."""
    return _SEVERITY_IMPACT.get(severity, _SEVERITY_IMPACT[DEFAULT_SEVERITY])[1]


def impact_status(impact: str) -> ComponentStatus:
    """The component status a published Statuspage impact stands for (`none`: operational)."""
    for status, word in _SEVERITY_IMPACT.values():
        if word == impact:
            return status
    return ComponentStatus.OPERATIONAL


def severity_for_status(status: str) -> int:
    """The severity to propose when declaring an incident from an outage of this status."""
    for severity in SEVERITIES:
        if _SEVERITY_IMPACT[severity][0].value == status:
            return severity
    return DEFAULT_SEVERITY


_INCIDENT_ID = re.compile(r"^(?:inc-?)?(\d+)$", re.IGNORECASE)


def incident_id(number: int) -> str:
    """`INC-7`: how people see and type an incident's ID."""
    return f"INC-{number}"


def parse_incident_id(text: str) -> int | None:
    """`INC-7`, `inc-7`, `inc7` or `7` → 7; None for anything else."""
    match = _INCIDENT_ID.match(text)
    if match is None or len(match.group(1)) > 18:
        return None
    return int(match.group(1))
