"""A customer statement: its text in every language and where it is in approval."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.vocabulary import incident_id


class StatementState(StrEnum):
    PENDING = "pending"  # drafted, waiting for comms
    PUBLISHED = "published"  # approved and out: immutable from now on
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a newer draft for the same incident replaced it


class Statement(BaseModel):
    id: str
    incident: int | None = None  # None for a maintenance notice
    maintenance: str | None = None  # the maintenance window's key
    status: str  # investigating | identified | monitoring | resolved | maintenance
    name: dict[str, str]  # the public incident name, per language
    texts: dict[str, str]  # the statement, per language
    state: StatementState = StatementState.PENDING
    drafted_by: str
    drafted_at: datetime
    edited_by: list[str] = Field(default_factory=list)
    decided_by: str | None = None  # who approved or rejected it
    decided_at: datetime | None = None
    reason: str | None = None  # why it was rejected

    @property
    def authors(self) -> set[str]:
        """Everyone who wrote words of it: none of them may approve it (four eyes)."""
        return {self.drafted_by, *self.edited_by}

    @property
    def subject(self) -> str:
        if self.incident is not None:
            return incident_id(self.incident)
        return f"maintenance {self.maintenance}"
