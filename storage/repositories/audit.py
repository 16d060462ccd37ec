"""The audit log: admins' changes, newest first."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import insert, select

from core.audit import Actor, AuditEntry, Change
from core.people import PersonId, ProgramId
from core.tracks import TrackId
from storage import models
from storage.database import Database

MAX_TEXT = 2000  # characters of one old or new value kept


class SqlAudit:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def record(
        self, program: ProgramId, actor: Actor, changes: Sequence[Change], now: datetime
    ) -> None:
        if not changes:
            return
        rows = [
            {
                "program_id": program,
                "at": now,
                "actor_id": actor.person,
                "actor": actor.name[:200],
                "track_id": change.track,
                "subject": change.subject[:300],
                "old": None if change.old is None else change.old[:MAX_TEXT],
                "new": None if change.new is None else change.new[:MAX_TEXT],
            }
            for change in changes
        ]
        async with self._db.transaction() as session:
            # One statement per thousand rows (an import records a change per line).
            for start in range(0, len(rows), 1000):
                await session.execute(insert(models.AuditEntry), rows[start : start + 1000])

    async def recent(
        self, program: ProgramId, tracks: Collection[TrackId] | None = None, *, limit: int = 50
    ) -> list[AuditEntry]:
        entry = models.AuditEntry
        query = (
            select(entry, models.Track.name)
            .outerjoin(models.Track, models.Track.id == entry.track_id)
            .where(entry.program_id == program)
            .order_by(entry.at.desc(), entry.id)  # one change's entries in their order
            .limit(limit)
        )
        if tracks is not None:
            query = query.where(entry.track_id.in_(list(tracks)))
        async with self._db.reading() as session:
            rows = await session.execute(query)
            return [
                AuditEntry(
                    ProgramId(row.program_id),
                    row.at,
                    Actor(PersonId(row.actor_id) if row.actor_id else None, row.actor),
                    Change(
                        row.subject,
                        row.old,
                        row.new,
                        TrackId(row.track_id) if row.track_id else None,
                    ),
                    track_name,
                )
                for row, track_name in rows
            ]
