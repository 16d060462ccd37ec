"""Chat events seen before, and where to reach people privately on Teams."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from core.people import ProgramId
from storage import models
from storage.database import Database
from storage.repositories.sql import affected, insert


class SqlEventLog:
    """Deduplicates Slack retries and repeated Teams activities, across processes."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def first_time(self, key: str, now: datetime) -> bool:
        statement = (
            insert(self._db, models.ProcessedEvent)
            .values(key=key, received_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        async with self._db.alone() as connection:  # on every request: no BEGIN of its own
            return bool(affected(await connection.execute(statement)))

    async def claim(self, key: str, now: datetime, lease: timedelta) -> bool:
        statement = insert(self._db, models.ProcessedEvent).values(
            key=key, received_at=now, claimed_until=now + lease
        )
        table = models.ProcessedEvent
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"received_at": now, "claimed_until": now + lease},
            where=table.claimed_until.is_not(None) & (table.claimed_until <= now),
        )
        async with self._db.alone() as connection:
            return bool(affected(await connection.execute(statement)))

    async def settle(self, key: str) -> None:
        async with self._db.alone() as connection:
            await connection.execute(
                update(models.ProcessedEvent)
                .where(models.ProcessedEvent.key == key)
                .values(claimed_until=None)
            )

    async def release(self, key: str) -> None:
        table = models.ProcessedEvent
        async with self._db.alone() as connection:
            await connection.execute(
                delete(table).where(table.key == key, table.claimed_until.is_not(None))
            )

    async def forget_before(self, when: datetime) -> int:
        """Drop old keys: Slack stops retrying after minutes, Teams sooner."""
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(models.ProcessedEvent).where(models.ProcessedEvent.received_at < when)
            )
            return affected(result)


class SqlConversationReferences:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def save(
        self, program: ProgramId, key: str, address: dict[str, Any], now: datetime
    ) -> None:
        """Where to reach ``key`` (a person's Teams id, or ``channel:{id}``) in ``program``."""
        statement = (
            insert(self._db, models.ConversationReference)
            .values(program_id=program, user_id=key, reference=address, updated_at=now)
            .on_conflict_do_update(
                index_elements=["program_id", "user_id"],
                set_={"reference": address, "updated_at": now},
            )
        )
        async with self._db.transaction() as session:
            await session.execute(statement)

    async def get(self, program: ProgramId, key: str) -> dict[str, Any] | None:
        async with self._db.reading() as session:
            return await session.scalar(
                select(models.ConversationReference.reference).where(
                    models.ConversationReference.program_id == program,
                    models.ConversationReference.user_id == key,
                )
            )
