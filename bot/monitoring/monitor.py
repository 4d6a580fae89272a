"""The monitor: runs every check on its schedule and turns results into component health.

One timer runs all the checks (bot/monitoring/check_schedule.py: a heap of due times on the
event loop's clock), not a scheduler job per check. Each check's first run is offset by a random
phase within its interval (as Prometheus spreads scrapes), so 10,000 checks on 30 s arrive as a
steady stream rather than a burst; later runs follow at whole intervals. A check runs at most
once at a time: a run that comes due while the previous one is still going is skipped and
counted (`statusbot_check_runs_skipped_total`), and after a stall only the latest due run
starts. A global semaphore caps concurrent probes and each probe has its own timeout, so a
slow endpoint cannot starve the others.
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

from prometheus_client import Counter, Histogram

from bot.config import Check, Config
from bot.metrics import Metrics
from bot.monitoring.alertmanager.signals import AlertSignals
from bot.monitoring.alerts import Alerter
from bot.monitoring.check_schedule import CheckSchedule
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
        self._busy: set[str] = set()  # checks with a run started and not finished
        self._labelled: dict[tuple[str, bool], tuple[Counter, Histogram]] = {}
        self._states: dict[str, CheckState] = {}
        # Told whenever a component's health is worked out anew (the public page renders again).
        self.health_listeners: list[Callable[[], None]] = []
        self._store_warned = float("-inf")
        self._schedule: CheckSchedule | None = None
        # Alertmanager's alerts, when the webhook is wired in (runtime.py).
        self.signals: AlertSignals | None = None

    def schedule(
        self,
        *,
        first_run_within: timedelta | None = None,
        owns: Callable[[str], bool] = lambda _: True,
    ) -> None:
        """Run the checks of the components this replica `owns` (all, by default) until
        stop_running(): each every interval, the first run at random within `first_run_within`
        (default: each check's interval). Call it from the event loop."""
        if self._schedule is not None:
            self._schedule.stop()
        self._schedule = CheckSchedule(self._due)
        self.reassign(owns, first_run_within=first_run_within)

    def reassign(
        self, owns: Callable[[str], bool], *, first_run_within: timedelta | None = None
    ) -> None:
        """Schedule the checks now owned, drop those no longer owned."""
        schedule = self._schedule
        assert schedule is not None, "schedule() first"
        now = asyncio.get_running_loop().time()
        for check in self.config.checks:
            scheduled = check.id in schedule
            if not owns(check.component):
                if scheduled:
                    schedule.remove(check.id)
                continue
            if scheduled:
                continue
            # Owned anew: its state may have moved on elsewhere; read it from the store.
            self._states.pop(check.id, None)
            spread = min(check.interval, first_run_within or check.interval)
            schedule.add(check, now + random.uniform(0, spread.total_seconds()))

    def first_runs(self) -> dict[str, datetime]:
        """When each check scheduled here first ran or runs (later runs follow at whole
        intervals); empty until schedule()."""
        return self._schedule.first_runs() if self._schedule is not None else {}

    def _due(self, check: Check, due: float) -> None:
        if check.id in self._busy:
            # Still running since its last turn: an overload signal, not a second run.
            self._metrics.check_runs_skipped.inc()
            return
        self._busy.add(check.id)
        task = asyncio.create_task(self._run_scheduled(check, due))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run_scheduled(self, check: Check, due: float) -> None:
        try:
            async with self._slots:
                # Lag is measured once a probe slot is free: waiting for one is being late too.
                lag = asyncio.get_running_loop().time() - due
                self._metrics.schedule_lag.observe(max(0.0, lag))
                result = await run_check(check, self._probe)
            await self.record(check, result)
        except asyncio.CancelledError:
            return  # stopping (shutdown or lost leadership): nothing to report
        except Exception:
            # A bug or a store outage must not kill the schedule: log it, try next interval.
            log.exception("check %s could not be recorded", check.id)
        finally:
            self._busy.discard(check.id)

    async def stop_running(self) -> None:
        """Stop the schedule and cancel the probes in flight, so none outlives the HTTP client
        it uses."""
        if self._schedule is not None:
            self._schedule.stop()
            self._schedule = None
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A run cancelled before it started never reached its `finally`.
        self._busy.clear()

    async def record(self, check: Check, result: CheckResult) -> None:
        """Fold a result into its check's state and act on the component's health.

        The state lives in memory on the leader and is written through to the store, so an
        outage of the store loses nothing: probing goes on, failures are counted from the first
        failing probe, and the alerts and recoveries are posted once the store answers again."""
        runs, latency = self._series(check, result.success)
        runs.inc()
        if not result.success:
            self._metrics.check_failures.labels(check.id).inc()
        latency.observe(result.latency_ms / 1000)
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

    def _series(self, check: Check, success: bool) -> tuple[Counter, Histogram]:
        # Looked up once per check and outcome: finding a labelled series costs a few
        # microseconds each time, at every run of every check.
        key = (check.id, success)
        series = self._labelled.get(key)
        if series is None:
            outcome = "success" if success else "failure"
            series = (
                self._metrics.checks_run.labels(check.id, outcome),
                self._metrics.check_latency.labels(check.component),
            )
            self._labelled[key] = series
        return series

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
