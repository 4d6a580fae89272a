"""On the replica that owns a component, act on its Alertmanager signals as they come and go.

Signals are recorded by whichever replica Alertmanager reached, but alert decisions for a
component have one writer: the replica that runs its checks (partitions.py), through the same
per-component lock as check results. So the receiving replica only records the signal and wakes
its own watcher; every watcher looks, about once a second, at the components it owns that have
signals, and works a component's health out again when their set changed (an alert fired,
resolved or expired) or when it has just become the owner (a restart or a takeover). While a
component is held down by alerts it is also looked at again every half minute, as a check would
be, so what time alone ends (a maintenance window, a silence, flapping) is acted on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.config import Config
from bot.monitoring.alertmanager.signals import AlertSignals
from bot.store import UNAVAILABLE

log = logging.getLogger(__name__)

INTERVAL = timedelta(seconds=1)
REFRESH = timedelta(seconds=30)


class SignalWatcher:
    def __init__(
        self,
        config: Config,
        signals: AlertSignals,
        clock: Callable[[], datetime],
        interval: timedelta = INTERVAL,
        refresh: timedelta = REFRESH,
    ) -> None:
        self._known = {c.id for c in config.components}
        self._signals = signals
        self._clock = clock
        self._interval = interval.total_seconds()
        self._refresh = refresh.total_seconds()
        self._wake = asyncio.Event()
        # What this replica last acted on, per component it owns: its firing signals, and when.
        self._seen: dict[str, tuple[frozenset[tuple[str, str, str]], float]] = {}
        self._warned = float("-inf")

    def nudge(self) -> None:
        """Look now rather than at the next tick (a signal was just recorded here)."""
        self._wake.set()

    async def run(
        self, owns: Callable[[str], bool], decide: Callable[[str], Awaitable[None]]
    ) -> None:
        """Until cancelled: `decide` (work out a component's health and alert on it) for each
        owned component whose signals changed."""
        task = asyncio.current_task()
        while True:
            self._wake.clear()
            try:
                await self.sweep(owns, decide)
            except UNAVAILABLE as exc:
                # Nothing is lost: the signals wait in the store and are acted on once it answers.
                if time.monotonic() - self._warned >= 60:
                    self._warned = time.monotonic()
                    log.warning("cannot read Alertmanager signals (%s); retrying", exc)
            except Exception:
                log.exception("could not act on Alertmanager signals")
            if task is not None and task.cancelling():
                # The store client may turn a cancellation into an error of its own.
                raise asyncio.CancelledError
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)

    async def sweep(
        self, owns: Callable[[str], bool], decide: Callable[[str], Awaitable[None]]
    ) -> None:
        now = self._clock()
        components = await self._signals.components()
        for component in list(self._seen):
            if component not in components or not owns(component):
                # Elsewhere now (or quiet): whoever owns it next looks afresh.
                del self._seen[component]
        for component in sorted(components):
            if component not in self._known or not owns(component):
                continue
            active = await self._signals.active(component, now)
            seen = frozenset((s.fingerprint, s.impact.value, s.reason) for s in active)
            last, at = self._seen.get(component, (None, float("-inf")))
            due = bool(active) and time.monotonic() - at >= self._refresh
            if last != seen or due:
                await decide(component)
                self._seen[component] = (seen, time.monotonic())
            if not active:
                await self._signals.forget_component(component)
