"""Check state across runs: consecutive failures and successes, and the thresholds."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from bot.config import Config
from bot.monitoring.checks.result import CheckResult
from bot.store.keyvalue import KeyValue

_STATES = "check:state"


class LastRun(BaseModel):
    at: datetime
    success: bool
    reason: str
    latency_ms: float
    status_code: int | None = None
    failed_condition: str | None = None


class CheckState(BaseModel):
    """What the monitor remembers of one check between runs (and across restarts)."""

    healthy: bool = True
    failures: int = 0  # consecutive
    successes: int = 0  # consecutive
    failing_since: datetime | None = None  # first failure of the current streak
    last: LastRun | None = None
    last_failure: LastRun | None = None

    def observe(self, result: CheckResult, failure_threshold: int, success_threshold: int) -> bool:
        """Fold one result into the state; True when the check changed between healthy and not."""
        failed = result.failed_conditions
        run = LastRun(
            at=result.started_at,
            success=result.success,
            reason=result.reason,
            latency_ms=round(result.latency_ms, 1),
            status_code=result.status_code,
            failed_condition=failed[0].description if failed else None,
        )
        self.last = run
        was_healthy = self.healthy
        if result.success:
            self.successes += 1
            self.failures = 0
            if not self.healthy and self.successes >= success_threshold:
                self.healthy = True
            if self.healthy:
                self.failing_since = None
        else:
            self.last_failure = run
            self.failures += 1
            self.successes = 0
            if self.failing_since is None:
                self.failing_since = result.started_at
            if self.healthy and self.failures >= failure_threshold:
                self.healthy = False
        return was_healthy != self.healthy


class CheckStates:
    """Check states in the store."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def get(self, check_id: str) -> CheckState:
        raw = await self._kv.hget(_STATES, check_id)
        return CheckState.model_validate_json(raw) if raw else CheckState()

    async def put(self, check_id: str, state: CheckState) -> None:
        await self._kv.hset(_STATES, {check_id: state.model_dump_json()})

    async def of_component(self, config: Config, component_id: str) -> dict[str, CheckState]:
        """The states of every check of one component, by check ID."""
        return {check.id: await self.get(check.id) for check in config.checks_of(component_id)}

    async def all(self) -> dict[str, CheckState]:
        raw = await self._kv.hgetall(_STATES)
        return {check_id: CheckState.model_validate_json(value) for check_id, value in raw.items()}
