"""What one run of a check observed, and the one-line reason a person reads in an alert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Observation:
    """The values conditions are evaluated against; None where a probe has no such value."""

    status: int | None = None
    response_time: timedelta | None = None
    body: str | None = None
    connected: bool | None = None
    certificate_expiration: timedelta | None = None
    ip: str | None = None
    dns_rcode: str | None = None  # "NOERROR", "NXDOMAIN", "REFUSED", …
    # A dns check's answers, each as text ("127.0.0.1", "mail.example.com"); [BODY] compares
    # with each of them. None for other probes, () when the server answered with no records.
    answers: tuple[str, ...] | None = None
    headers: Mapping[str, str] | None = None  # response headers, for a journey's extract


@dataclass(frozen=True)
class ConditionResult:
    condition: str  # as written in the config: "[STATUS] == 200"
    success: bool
    description: str  # with the observed value, Gatus style: "[STATUS] (503) == 200"


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    success: bool
    started_at: datetime  # UTC
    duration: timedelta  # response time; for a journey, all steps together
    conditions: tuple[ConditionResult, ...] = ()
    status_code: int | None = None
    error: str | None = None  # "timed out after 5s", "connection refused", "certificate expired"
    step: str | None = None  # journey: the step that failed, "step 2 (dashboard)"
    ip: str | None = None
    dns_rcode: str | None = None

    @property
    def failed_conditions(self) -> tuple[ConditionResult, ...]:
        return tuple(c for c in self.conditions if not c.success)

    @property
    def latency_ms(self) -> float:
        return self.duration.total_seconds() * 1000

    @property
    def reason(self) -> str:
        """Why it failed, in a few words: `HTTP 503`, `DNS NXDOMAIN`, `timed out after 5s`, a
        failed condition."""
        if self.success:
            return "OK"
        if self.error:
            what = self.error
        else:
            failed = self.failed_conditions
            first = failed[0] if failed else None
            if first is None:
                what = "failed"
            elif first.condition.lstrip().startswith("[STATUS]") and self.status_code is not None:
                what = f"HTTP {self.status_code}"
            elif first.condition.lstrip().upper().startswith("[DNS_RCODE]") and self.dns_rcode:
                what = f"DNS {self.dns_rcode}"
            else:
                what = first.description
        return f"{what} at {self.step}" if self.step else what


def step_label(number: int, name: str | None, url: str) -> str:
    """`step 2 (dashboard)`: a journey step by its name, else by its URL's path."""
    return f"step {number} ({name or urlsplit(url).path or '/'})"
