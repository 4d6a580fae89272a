"""One timer for every check: a heap of due times, instead of a scheduler job per check.

At 10,000 checks an APScheduler job per check cost about a tenth of the monitor's CPU (its
triggers work in time-zone-aware datetimes, every run goes through an executor and events);
here a run costs a heap pop and push. Due times are on the event loop's monotonic clock, so a
change of the wall clock does not move them.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import Check

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    check: Check
    interval: float  # seconds
    first: float  # loop time of the first run: later runs are at whole intervals after it
    seq: int  # which heap item is current: an entry removed or added again leaves stale ones


class CheckSchedule:
    """Calls `on_due(check, due)` for every check at its first run, then every interval.

    `due` is the run's due time on the loop's clock. A run the loop could not start in time
    is coalesced: after a stall only the latest due run is started, never a backlog. Whether a
    run may start (the previous one still going) is the caller's to decide.
    """

    def __init__(self, on_due: Callable[[Check, float], None]) -> None:
        self._on_due = on_due
        self._loop = asyncio.get_running_loop()
        self._entries: dict[str, _Entry] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._armed_at = float("inf")
        self._stopped = False

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._entries

    def add(self, check: Check, first: float) -> None:
        """Run `check` at loop time `first`, then every `check.interval`."""
        seq = next(self._seq)
        self._entries[check.id] = _Entry(check, check.interval.total_seconds(), first, seq)
        heapq.heappush(self._heap, (first, seq, check.id))
        if first < self._armed_at:
            self._arm()

    def remove(self, check_id: str) -> None:
        # Its heap item stays until it comes up, then is dropped: removal is O(1).
        self._entries.pop(check_id, None)

    def first_runs(self) -> dict[str, datetime]:
        """Each check's first run as a wall-clock time; later runs follow at whole intervals
        (unless a stall coalesced some)."""
        wall_minus_loop = time.time() - self._loop.time()
        return {
            check_id: datetime.fromtimestamp(entry.first + wall_minus_loop, UTC)
            for check_id, entry in self._entries.items()
        }

    def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._entries.clear()
        self._heap.clear()

    def _arm(self) -> None:
        if self._stopped:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._armed_at = self._heap[0][0] if self._heap else float("inf")
        if self._heap:
            self._timer = self._loop.call_at(self._armed_at, self._fire)

    def _fire(self) -> None:
        self._timer = None
        now = self._loop.time()
        heap = self._heap
        while heap and heap[0][0] <= now:
            due, seq, check_id = heapq.heappop(heap)
            entry = self._entries.get(check_id)
            if entry is None or entry.seq != seq:
                continue
            behind = now - due
            if behind >= entry.interval:
                due += behind // entry.interval * entry.interval
            heapq.heappush(heap, (due + entry.interval, seq, check_id))
            try:
                self._on_due(entry.check, due)
            except Exception:
                # A bug in one run must not stop every check's schedule.
                log.exception("check %s could not be started", check_id)
        self._arm()
