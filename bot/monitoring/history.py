"""Check history, bounded: hourly counters and latency buckets, daily roll-ups, recent failures.

Raw results are not kept: at 10,000 checks every 30 s that would be 200 million rows a week.
Hourly buckets (kept 8 days) give uptime over 24 h and 7 d and a p95 latency good to one bucket
width; daily roll-ups per component (kept 91 days) feed the status page's uptime bars.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel

from bot.monitoring.checks.result import CheckResult
from bot.store.keyvalue import KeyValue

# Upper bounds (ms) of the latency buckets; the last one catches everything slower.
LATENCY_BOUNDS_MS = (
    10,
    25,
    50,
    75,
    100,
    150,
    200,
    300,
    500,
    750,
    1000,
    1500,
    2000,
    3000,
    5000,
    10000,
    30000,
    60000,
)
_HOUR_TTL = int(timedelta(days=8).total_seconds())
_DAY_TTL = int(timedelta(days=91).total_seconds())
_RECENT_FAILURES = 20


class FailureRecord(BaseModel):
    at: datetime
    check_id: str
    reason: str
    latency_ms: float


@dataclass(frozen=True)
class Uptime:
    total: int
    ok: int

    @property
    def ratio(self) -> float | None:
        return self.ok / self.total if self.total else None


@dataclass(frozen=True)
class DailyUptime:
    day: date
    total: int
    ok: int


class History:
    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def record(self, component_id: str, result: CheckResult) -> None:
        ok = int(result.success)
        bucket = bisect.bisect_left(LATENCY_BOUNDS_MS, result.latency_ms)
        at = result.started_at.astimezone(UTC)
        await self._kv.hincrby(
            _hour_key(result.check_id, at), {"n": 1, "ok": ok, f"b{bucket}": 1}, ttl=_HOUR_TTL
        )
        await self._kv.hincrby(_day_key(component_id, at.date()), {"n": 1, "ok": ok}, ttl=_DAY_TTL)
        if not result.success:
            failure = FailureRecord(
                at=at, check_id=result.check_id, reason=result.reason, latency_ms=result.latency_ms
            )
            key = _failures_key(result.check_id)
            await self._kv.lpush(key, failure.model_dump_json())
            await self._kv.ltrim(key, 0, _RECENT_FAILURES - 1)

    async def uptime(self, check_ids: list[str], window: timedelta, now: datetime) -> Uptime:
        total = ok = 0
        for bucket in await self._hours(check_ids, window, now):
            total += int(bucket.get("n", 0))
            ok += int(bucket.get("ok", 0))
        return Uptime(total=total, ok=ok)

    async def p95_latency_ms(
        self, check_ids: list[str], window: timedelta, now: datetime
    ) -> int | None:
        """The upper bound of the latency bucket holding the 95th percentile; None with no data."""
        counts = [0] * (len(LATENCY_BOUNDS_MS) + 1)
        for bucket in await self._hours(check_ids, window, now):
            for i in range(len(counts)):
                counts[i] += int(bucket.get(f"b{i}", 0))
        total = sum(counts)
        if not total:
            return None
        rank = 0.95 * total
        seen = 0
        for i, count in enumerate(counts):
            seen += count
            if seen >= rank:
                return LATENCY_BOUNDS_MS[min(i, len(LATENCY_BOUNDS_MS) - 1)]
        return LATENCY_BOUNDS_MS[-1]

    async def recent_failures(self, check_ids: list[str], limit: int = 5) -> list[FailureRecord]:
        failures: list[FailureRecord] = []
        for check_id in check_ids:
            raw = await self._kv.lrange(_failures_key(check_id), 0, limit - 1)
            failures.extend(FailureRecord.model_validate_json(item) for item in raw)
        failures.sort(key=lambda f: f.at, reverse=True)
        return failures[:limit]

    async def daily(self, component_id: str, days: int, today: date) -> list[DailyUptime]:
        """Oldest first, one entry per day, zeros where nothing was recorded."""
        wanted = _days(today, days)
        prefix = f"daily:{component_id}:"
        buckets = await self._kv.hgetall_many([prefix + stamp for _, stamp in wanted])
        return [
            DailyUptime(day=day, total=int(b.get("n", 0)), ok=int(b.get("ok", 0)))
            if b
            else DailyUptime(day=day, total=0, ok=0)
            for (day, _), b in zip(wanted, buckets, strict=True)
        ]

    async def _hours(
        self, check_ids: list[str], window: timedelta, now: datetime
    ) -> list[dict[str, str]]:
        now = now.astimezone(UTC)
        hours = int(window.total_seconds() // 3600)
        stamps = [now - timedelta(hours=h) for h in range(hours)]
        keys = [_hour_key(check_id, at) for check_id in check_ids for at in stamps]
        return await self._kv.hgetall_many(keys) if keys else []


def _hour_key(check_id: str, at: datetime) -> str:
    return f"hist:{check_id}:{at:%Y%m%d%H}"


def _day_key(component_id: str, day: date) -> str:
    return f"daily:{component_id}:{day:%Y%m%d}"


@functools.lru_cache(maxsize=8)
def _days(today: date, days: int) -> tuple[tuple[date, str], ...]:
    """The last `days` days up to `today`, oldest first, each with its key's date stamp: the
    public page asks for the same 90 days of every component at each refresh."""
    wanted = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    return tuple((day, f"{day:%Y%m%d}") for day in wanted)


def _failures_key(check_id: str) -> str:
    return f"failures:{check_id}"
