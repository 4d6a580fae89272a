"""`/api/v2/summary.json` in Atlassian Statuspage's shape, so existing widgets and tools read it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.statuspage.public import (
    ComponentView,
    PublicIncident,
    PublicMaintenance,
    PublicStatus,
    PublicUpdate,
)
from bot.statuspage.strings import Words
from bot.vocabulary import ComponentStatus, incident_id

# Statuspage's page indicator: only problems count; maintenance alone reads as "none".
INDICATORS = {
    ComponentStatus.OPERATIONAL: "none",
    ComponentStatus.UNDER_MAINTENANCE: "none",
    ComponentStatus.DEGRADED_PERFORMANCE: "minor",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.MAJOR_OUTAGE: "critical",
}


def page_id(public_url: str) -> str:
    """A stable identifier for this page, as Statuspage gives every page one."""
    return hashlib.sha256(public_url.encode()).hexdigest()[:12]


def render_summary(status: PublicStatus, public_url: str, timezone: str) -> dict[str, Any]:
    words = Words(status.language)
    pid = page_id(public_url)
    components = {c.id: _component(c, pid, status.now) for c in status.components}
    return {
        "page": _page(status, public_url, timezone),
        "components": list(components.values()),
        "incidents": [_incident(i, pid, public_url, components) for i in status.incidents],
        "scheduled_maintenances": [
            _maintenance(m, pid, public_url, components)
            for m in status.maintenance
            if m.announced  # customers hear of maintenance through an approved notice only
        ],
        "status": {
            "indicator": INDICATORS[status.overall],
            "description": words.overall(status.overall),
        },
    }


def render_incident_event(
    status: PublicStatus,
    public_url: str,
    timezone: str,
    *,
    incident: int | None = None,
    maintenance: str | None = None,
) -> dict[str, Any] | None:
    """The page and one incident, or one announced maintenance window (in summary.json's
    `scheduled_maintenances` shape), under `incident`, as Statuspage's own webhooks send them.
    None when customers cannot see it (`status` must include past incidents)."""
    pid = page_id(public_url)
    components = {c.id: _component(c, pid, status.now) for c in status.components}
    rendered: dict[str, Any] | None = None
    for shown in (*status.incidents, *status.past):
        if incident is not None and shown.number == incident:
            rendered = _incident(shown, pid, public_url, components)
            break
    for window in status.maintenance:
        if maintenance is not None and window.key == maintenance and window.announced:
            rendered = _maintenance(window, pid, public_url, components)
    if rendered is None:
        return None
    return {"page": _page(status, public_url, timezone), "incident": rendered}


def _page(status: PublicStatus, public_url: str, timezone: str) -> dict[str, Any]:
    return {
        "id": page_id(public_url),
        "name": Words(status.language)("title"),
        "url": public_url,
        "time_zone": timezone,
        "updated_at": iso(status.now),
    }


def public_id(number: int) -> str:
    """An incident's ID in summary.json (`inc-7`): Statuspage's IDs are lower case."""
    return incident_id(number).lower()


def iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, as Statuspage writes times."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _component(component: ComponentView, pid: str, now: datetime) -> dict[str, Any]:
    return {
        "id": component.id,
        "name": component.name,
        "status": component.status.value,
        # No creation time is recorded for a configured component; its status is as of now.
        "created_at": iso(now),
        "updated_at": iso(now),
        "position": component.position,
        "description": component.description,
        "showcase": True,
        "start_date": None,
        "group_id": None,
        "page_id": pid,
        "group": False,
        "only_show_if_degraded": False,
    }


def _incident(
    incident: PublicIncident,
    pid: str,
    public_url: str,
    components: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    incident_id = public_id(incident.number)
    affected = [components[c] for c in incident.components if c in components]
    return {
        "id": incident_id,
        "name": incident.name,
        "status": incident.status,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        "monitoring_at": iso(incident.monitoring_at),
        "resolved_at": iso(incident.resolved_at),
        "impact": incident.impact,
        "shortlink": f"{public_url}/#{incident.anchor}",
        "started_at": iso(incident.started_at),
        "page_id": pid,
        "incident_updates": _updates(
            incident.updates, incident_id, affected, incident.impact_status.value
        ),
        "components": affected,
    }


def _maintenance(
    window: PublicMaintenance,
    pid: str,
    public_url: str,
    components: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    maintenance_id = f"maintenance-{window.key}"
    affected = [components[c] for c in window.components if c in components]
    oldest = window.updates[-1]
    return {
        "id": maintenance_id,
        "name": window.name,
        "status": window.status,
        "created_at": iso(oldest.published_at),
        "updated_at": iso(window.updates[0].published_at),
        "monitoring_at": None,
        "resolved_at": None,
        "impact": "maintenance",
        "shortlink": f"{public_url}/#{window.anchor}",
        "started_at": iso(window.start),
        "page_id": pid,
        "incident_updates": _updates(
            window.updates,
            maintenance_id,
            affected,
            "under_maintenance",
            lambda u: "in_progress" if u.published_at >= window.start else "scheduled",
        ),
        "components": affected,
        "scheduled_for": iso(window.start),
        "scheduled_until": iso(window.end),
    }


def _updates(
    updates: tuple[PublicUpdate, ...],
    parent_id: str,
    affected: list[dict[str, Any]],
    impact: str,
    status_of: Callable[[PublicUpdate], str] = lambda u: u.status,
) -> list[dict[str, Any]]:
    """Newest first. Only published statements are updates; internal notes never are. Each
    says what it did to the components: the incident's impact while open, back to operational
    when resolved."""
    rendered: list[dict[str, Any]] = []
    previous = "operational"
    for update in reversed(updates):  # oldest first, to know each one's old status
        new = "operational" if update.status == "resolved" else impact
        published = iso(update.published_at)
        rendered.append(
            {
                "id": update.id,
                "status": status_of(update),
                "body": update.body,
                "incident_id": parent_id,
                "created_at": published,
                "updated_at": published,
                "display_at": published,
                "affected_components": [
                    {"code": c["id"], "name": c["name"], "old_status": previous, "new_status": new}
                    for c in affected
                ],
            }
        )
        previous = new
    rendered.reverse()
    return rendered
