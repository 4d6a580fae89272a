"""Builders for configs, results and a clock the tests control."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import Config, parse_config
from bot.monitoring.checks.result import CheckResult, ConditionResult
from bot.statements.templates import shipped_templates

TEMPLATES = shipped_templates()

COMPONENTS = [
    {"id": "web", "name": {"en": "online account services", "it": "servizi online del conto"}},
    {"id": "app", "name": {"en": "mobile app", "it": "app mobile"}},
]


def make_config(**overrides: Any) -> Config:
    raw: dict[str, Any] = {
        "timezone": "Europe/Rome",
        "languages": ["en", "it"],
        "components": COMPONENTS,
        "checks": [
            {
                "id": "web-home",
                "component": "web",
                "type": "http",
                "url": "http://127.0.0.1:9/health",
                "failure_threshold": 3,
                "success_threshold": 2,
            },
            {
                "id": "web-login",
                "component": "web",
                "type": "http",
                "url": "http://127.0.0.1:9/login",
                "impact": "partial_outage",
            },
            {
                "id": "app-api",
                "component": "app",
                "type": "http",
                "url": "http://127.0.0.1:9/app",
                "failure_threshold": 1,
                "success_threshold": 1,
            },
        ],
        "channels": {"alerts": {"slack": "C0ALERTS"}, "managers": {"slack": "C0MANAGERS"}},
        "statements": {"templates": str(TEMPLATES)},
    }
    raw.update(overrides)
    return parse_config(raw, "<test>")


@dataclass
class Clock:
    now: datetime = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)  # 11:30 in Rome

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


class EpochClock:
    """Seconds since the epoch, moved by hand (the outbox's clock)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def failure(check_id: str, at: datetime, status: int = 503) -> CheckResult:
    return CheckResult(
        check_id=check_id,
        success=False,
        started_at=at,
        duration=timedelta(milliseconds=120),
        status_code=status,
        conditions=(ConditionResult("[STATUS] == 200", False, f"[STATUS] ({status}) == 200"),),
    )


def timeout(check_id: str, at: datetime) -> CheckResult:
    return CheckResult(
        check_id=check_id,
        success=False,
        started_at=at,
        duration=timedelta(seconds=5),
        error="timed out after 5s",
    )


def success(check_id: str, at: datetime) -> CheckResult:
    return CheckResult(
        check_id=check_id,
        success=True,
        started_at=at,
        duration=timedelta(milliseconds=40),
        status_code=200,
        conditions=(ConditionResult("[STATUS] == 200", True, "[STATUS] (200) == 200"),),
    )
