"""An incident and the entries of its timeline."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bot.vocabulary import (
    DEFAULT_SEVERITY,
    ComponentStatus,
    IncidentStatus,
    incident_id,
    severity_status,
)

# The actor of what the bot does by itself (reminders, automatic links, drafts).
SYSTEM_ACTOR = "statusbot"


class Incident(BaseModel):
    number: int
    title: str
    severity: int = DEFAULT_SEVERITY
    status: IncidentStatus = IncidentStatus.INVESTIGATING
    components: list[str] = Field(default_factory=list)
    reporter: str
    commander: str | None = None
    created_at: datetime
    updated_at: datetime
    last_update_at: datetime  # the last update people saw (reminders count from here)
    resolved_at: datetime | None = None
    links: list[int] = Field(default_factory=list)
    channel: str | None = None  # its own chat channel, when incidents.create_channel is on
    channel_name: str | None = None
    outage: str | None = None  # the outage alert it was declared from
    impact_started_at: datetime | None = None  # first failing probe of its components' outage

    @property
    def id(self) -> str:
        return incident_id(self.number)

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.RESOLVED

    @property
    def sev(self) -> str:
        return f"sev{self.severity}"

    @property
    def impact(self) -> ComponentStatus:
        return severity_status(self.severity)


class TimelineEntry(BaseModel):
    at: datetime
    actor: str  # a user ID, or SYSTEM_ACTOR
    kind: str  # opened, update, status, severity, commander, link, resolved, statement...
    text: str
