"""Statements in the store: each one, the pending draft per subject, the published record."""

from __future__ import annotations

from bot.statements.models import Statement, StatementState
from bot.store.keyvalue import KeyValue

_PENDING = "statement:pending"  # subject -> pending statement ID
_PUBLISHED = "statement:published"  # sorted set: statement ID -> published at (epoch)


class StatementStore:
    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def save(self, statement: Statement) -> None:
        await self._kv.set(_key(statement.id), statement.model_dump_json())

    async def get(self, statement_id: str) -> Statement | None:
        raw = await self._kv.get(_key(statement_id))
        return Statement.model_validate_json(raw) if raw else None

    async def add_to_subject(self, subject: str, statement: Statement) -> None:
        await self.save(statement)
        await self._kv.rpush(_subject_key(subject), statement.id)
        await self._kv.hset(_PENDING, {subject: statement.id})

    async def pending(self, subject: str) -> Statement | None:
        statement_id = await self._kv.hget(_PENDING, subject)
        return await self.get(statement_id) if statement_id else None

    async def clear_pending(self, subject: str, statement_id: str) -> None:
        if await self._kv.hget(_PENDING, subject) == statement_id:
            await self._kv.hdel(_PENDING, subject)

    async def of_subject(self, subject: str) -> list[Statement]:
        ids = await self._kv.lrange(_subject_key(subject), 0, -1)
        found = [await self.get(i) for i in ids]
        return [s for s in found if s is not None]

    async def claim_decision(
        self, statement_id: str, decision: StatementState
    ) -> StatementState | None:
        """Claim the one decision on a draft: None when this one counts, else the earlier one."""
        key = f"statement:decided:{statement_id}"
        if await self._kv.set(key, decision.value, nx=True):
            return None
        earlier = await self._kv.get(key)
        # Claims written before they held the decision hold a user ID: the draft's own state
        # (already saved by then) answers for those.
        return StatementState(earlier) if earlier in _DECISIONS else decision

    async def mark_published(self, statement: Statement) -> None:
        await self.save(statement)
        at = statement.decided_at.timestamp() if statement.decided_at else 0.0
        await self._kv.zadd(_PUBLISHED, {statement.id: at})

    async def published(self, since: float = 0.0) -> list[Statement]:
        """Published statements, oldest first."""
        ids = [i for i, _ in await self._kv.zrangebyscore(_PUBLISHED, since, float("inf"))]
        found = [await self.get(i) for i in ids]
        return [s for s in found if s is not None]


_DECISIONS = {StatementState.PUBLISHED.value, StatementState.REJECTED.value}


def incident_subject(number: int) -> str:
    return f"incident:{number}"


def maintenance_subject(key: str) -> str:
    return f"maintenance:{key}"


def _key(statement_id: str) -> str:
    return f"statement:{statement_id}"


def _subject_key(subject: str) -> str:
    return f"statement:subject:{subject}"
