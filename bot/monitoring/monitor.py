"""The monitor: runs every check on its schedule and turns results into component health.

Each check is an APScheduler interval job whose first run is offset by a random phase within
its interval (as Prometheus spreads scrapes), so 10,000 checks on 30 s arrive as a steady
stream rather than a burst. A global semaphore caps concurrent probes and each probe has its
own timeout, so a slow endpoint cannot starve the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Check, Config
from bot.metrics import Metrics
from bot.monitoring.alertmanager.signals import AlertSignals
from bot.monitoring.alerts import Alerter
from bot.monitoring.checks.probe import ProbeContext, run_check
from bot.monitoring.checks.result import CheckResult
from bot.monitoring.health import health_of, in_maintenance
from bot.monitoring.records import Records
from bot.monitoring.state import CheckState
from bot.store import UNAVAILABLE
from bot.vocabulary import worst

log = logging.getLogger(__name__)


class Monitor:
    def __init__(
        self,
        config: Config,
        records: Records,
        probe: ProbeContext,
        alerter: Alerter,
        metrics: Metrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.records = records
        self._probe = probe
        self._alerter = alerter
        self._metrics = metrics
        self._clock = clock
        self._slots = asyncio.Semaphore(config.monitor.max_concurrency)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._running: set[asyncio.Task[Any]] = set()
        self._states: dict[str, CheckState] = {}
        # Told whenever a component's health is worked out anew (the public page renders again).
        self.health_listeners: list[Callable[[], None]] = []
        self._store_warned = float("-inf")
        self._scheduler: AsyncIOScheduler | None = None
        # Alertmanager's alerts, when the webhook is wired in (runtime.py).
        self.signals: AlertSignals | None = None

    def schedule(
        self,
        scheduler: AsyncIOScheduler,
        *,
        first_run_within: timedelta | None = None,
        owns: Callable[[str], bool] = lambda _: True,
    ) -> None:
        """Run the checks of the components this replica `owns` (all, by default) on
        `scheduler`: one interval job each, the first run at random within `first_run_within`
        (default: each check's interval)."""
        # A run the scheduler had to drop (still busy, or too late) is an overload signal.
        scheduler.add_listener(self._skipped, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        self._scheduler = scheduler
        self.reassign(owns, first_run_within=first_run_within)

    def reassign(
        self, owns: Callable[[str], bool], *, first_run_within: timedelta | None = None
    ) -> None:
        """Add the jobs of checks now owned, remove those of checks no longer owned."""
        scheduler = self._scheduler
        assert scheduler is not None, "schedule() first"
        now = datetime.now(UTC)
        for check in self.config.checks:
            job_id = f"check:{check.id}"
            scheduled = scheduler.get_job(job_id) is not None
            if not owns(check.component):
                if scheduled:
                    scheduler.remove_job(job_id)
                continue
            if scheduled:
                continue
            # Owned anew: its state may have moved on elsewhere; read it from the store.
            self._states.pop(check.id, None)
            spread = min(check.interval, first_run_within or check.interval)
            start = now + timedelta(seconds=random.uniform(0, spread.total_seconds()))
            scheduler.add_job(
                self._run_scheduled,
                IntervalTrigger(seconds=check.interval.total_seconds(), start_date=start),
                args=[check, start],
                id=job_id,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(check.interval.total_seconds())),
                replace_existing=True,
            )

    def _skipped(self, event: JobEvent) -> None:
        self._metrics.check_runs_skipped.inc()

    async def _run_scheduled(self, check: Check, start: datetime) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            async with self._slots:
                # Lag is measured once a probe slot is free: waiting for one is being late too.
                interval = check.interval.total_seconds()
                elapsed = (datetime.now(UTC) - start).total_seconds()
                lag = elapsed - round(elapsed / interval) * interval
                self._metrics.schedule_lag.observe(max(0.0, lag))
                result = await run_check(check, self._probe)
            await self.record(check, result)
        except asyncio.CancelledError:
            return  # stopping (shutdown or lost leadership): nothing to report
        except Exception:
            # A bug or a store outage must not kill the schedule: log it, try next interval.
            log.exception("check %s could not be recorded", check.id)
        finally:
            if task is not None:
                self._running.discard(task)

    async def stop_running(self) -> None:
        """Cancel the probes in flight, so none outlives the HTTP client it uses."""
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def record(self, check: Check, result: CheckResult) -> None:
        """Fold a result into its check's state and act on the component's health.

        The state lives in memory on the leader and is written through to the store, so an
        outage of the store loses nothing: probing goes on, failures are counted from the first
        failing probe, and the alerts and recoveries are posted once the store answers again."""
        outcome = "success" if result.success else "failure"
        self._metrics.checks_run.labels(check.id, outcome).inc()
        if not result.success:
            self._metrics.check_failures.labels(check.id).inc()
        self._metrics.check_latency.labels(check.component).observe(result.latency_ms / 1000)
        component = check.component
        async with self._locks[component]:
            state = await self._state(check.id)
            changed = state.observe(result, check.failure_threshold, check.success_threshold)
            try:
                await self.records.history.record(component, result)
                await self.records.states.put(check.id, state)
                if not (changed or not state.healthy or self._alerter.needs_attention(component)):
                    return
                await self._act_on_health(component)
            except UNAVAILABLE as exc:
                self._store_down(exc)

    async def reconsider(self, component: str) -> None:
        """Work a component's health out again and act on it, as a check result does (an
        Alertmanager alert came or went); under the same lock, so one decision at a time."""
        async with self._locks[component]:
            await self._act_on_health(component)

    async def _act_on_health(self, component: str) -> None:
        states = {c.id: await self._state(c.id) for c in self.config.checks_of(component)}
        health = health_of(self.config, component, states)
        if self.signals is not None:
            # Firing Alertmanager alerts count as failing checks: the worst status wins.
            outside, impact = await self.signals.of_component(component, self._clock())
            states, health = {**states, **outside}, worst([health, impact])
        await self.records.health.put(component, health)
        self._metrics.component_status.labels(component).set(health.rank)
        for listener in self.health_listeners:
            listener()
        await self._alerter.reconcile(
            component,
            health,
            states,
            maintenance=in_maintenance(self.config, component, self._clock()),
        )

    def forget_states(self) -> None:
        """Read check states from the store again (a new leader: another one may have moved
        them on)."""
        self._states.clear()

    async def _state(self, check_id: str) -> CheckState:
        state = self._states.get(check_id)
        if state is None:
            try:
                state = await self.records.states.get(check_id)
            except UNAVAILABLE:
                state = CheckState()
            self._states[check_id] = state
        return state

    def _store_down(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._store_warned >= 60:
            self._store_warned = now
            log.warning(
                "the store is unavailable (%s): probing goes on, results are kept in memory "
                "and acted on when it answers",
                exc,
            )
