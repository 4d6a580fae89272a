"""Incidents in the store: an ID sequence, one record each, an append-only timeline each."""

from __future__ import annotations

from datetime import datetime

from bot.incidents.models import Incident, TimelineEntry
from bot.store.keyvalue import KeyValue

_SEQUENCE = "incident:seq"
_OPEN = "incident:open"
_ALL = "incident:all"
_BY_CHANNEL = "incident:channels"
_BY_OUTAGE = "incident:outages"
_RESOLVED = "incident:resolved"  # number -> when it was resolved


class IncidentStore:
    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def next_number(self) -> int:
        return await self._kv.incr(_SEQUENCE)

    async def save(self, incident: Incident) -> None:
        """The record and its indexes, together (no half-saved incident after a crash)."""
        number = str(incident.number)
        async with self._kv.atomic():
            await self._kv.set(_key(incident.number), incident.model_dump_json())
            await self._kv.zadd(_ALL, {number: incident.created_at.timestamp()})
            if incident.is_open:
                await self._kv.sadd(_OPEN, number)
            else:
                await self._kv.srem(_OPEN, number)
            if incident.resolved_at is not None:
                await self._kv.zadd(_RESOLVED, {number: incident.resolved_at.timestamp()})
            if incident.channel:
                await self._kv.hset(_BY_CHANNEL, {incident.channel: number})
            if incident.outage:
                await self._kv.hset(_BY_OUTAGE, {incident.outage: number})

    async def get(self, number: int) -> Incident | None:
        raw = await self._kv.get(_key(number))
        return Incident.model_validate_json(raw) if raw else None

    async def open_incidents(self) -> list[Incident]:
        numbers = sorted(int(n) for n in await self._kv.smembers(_OPEN))
        # One read for all of them (/status and /incident list ask on every command).
        found = await self._kv.get_many([_key(n) for n in numbers]) if numbers else []
        return [Incident.model_validate_json(raw) for raw in found if raw]

    async def resolved_between(self, start: datetime, end: datetime) -> list[Incident]:
        """Incidents resolved from `start` to `end`, the most recently resolved first."""
        found = await self._kv.zrangebyscore(_RESOLVED, start.timestamp(), end.timestamp())
        numbers = [int(number) for number, _ in reversed(found)]
        incidents = [await self.get(n) for n in numbers]
        return [incident for incident in incidents if incident is not None]

    async def by_channel(self, channel: str) -> int | None:
        raw = await self._kv.hget(_BY_CHANNEL, channel)
        return int(raw) if raw else None

    async def by_outage(self, outage_id: str) -> int | None:
        raw = await self._kv.hget(_BY_OUTAGE, outage_id)
        return int(raw) if raw else None

    async def append(self, number: int, entry: TimelineEntry) -> None:
        await self._kv.rpush(_timeline_key(number), entry.model_dump_json())

    async def timeline(self, number: int) -> list[TimelineEntry]:
        raw = await self._kv.lrange(_timeline_key(number), 0, -1)
        return [TimelineEntry.model_validate_json(item) for item in raw]

    async def claim(self, key: str, ttl_seconds: int = 86400) -> bool:
        """True the first time `key` is claimed: makes retried requests and double clicks safe."""
        return await self._kv.claim(f"once:{key}", ttl_seconds * 1000)


def _key(number: int) -> str:
    return f"incident:{number}"


def _timeline_key(number: int) -> str:
    return f"incident:{number}:timeline"
