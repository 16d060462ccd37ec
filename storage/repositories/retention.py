"""Records have a lifetime: a program's offers and meetings older than its ``retention_days``.

Deleted in batches, each its own transaction, so the hourly tidy-up never holds a long lock
and an interrupted run is finished by the next. A deleted meeting is first added to
``meeting_tallies`` (per program, week and status), so counts outlive the records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from core.people import ProgramId
from storage import models
from storage.database import Database
from storage.repositories.sql import affected, insert

BATCH = 500


@dataclass(frozen=True, slots=True)
class Purged:
    offers: int = 0
    meetings: int = 0


class SqlRetention:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def purge(self, program: ProgramId, before: datetime, *, batch: int = BATCH) -> Purged:
        """Delete ``program``'s offers made and meetings ended before ``before``."""
        offers = meetings = 0
        while (count := await self._offers(program, before, batch)) > 0:
            offers += count
        while (count := await self._meetings(program, before, batch)) > 0:
            meetings += count
        return Purged(offers, meetings)

    async def _offers(self, program: ProgramId, before: datetime, batch: int) -> int:
        async with self._db.transaction() as session:
            refs = list(
                await session.scalars(
                    select(models.SlotOffer.ref)
                    .where(
                        models.SlotOffer.program_id == program,
                        models.SlotOffer.created_at < before,
                    )
                    .limit(batch)
                )
            )
            if not refs:
                return 0
            result = await session.execute(
                delete(models.SlotOffer).where(models.SlotOffer.ref.in_(refs))
            )
            return affected(result)

    async def _meetings(self, program: ProgramId, before: datetime, batch: int) -> int:
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(models.Meeting.ref, models.Meeting.start, models.Meeting.status)
                    .where(models.Meeting.program_id == program, models.Meeting.end < before)
                    .limit(batch)
                )
            ).all()
            if not rows:
                return 0
            tallies = Counter((monday(row.start), row.status) for row in rows)
            for (week, status), count in tallies.items():
                statement = insert(self._db, models.MeetingTally).values(
                    program_id=program, week=week, status=status, meetings=count
                )
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["program_id", "week", "status"],
                        set_={"meetings": models.MeetingTally.meetings + count},
                    )
                )
            result = await session.execute(
                delete(models.Meeting).where(models.Meeting.ref.in_([row.ref for row in rows]))
            )
            return affected(result)

    async def tallies(self, program: ProgramId) -> dict[tuple[date, str], int]:
        """The counts of deleted meetings, by week and status."""
        async with self._db.reading() as session:
            rows = await session.execute(
                select(
                    models.MeetingTally.week,
                    models.MeetingTally.status,
                    models.MeetingTally.meetings,
                ).where(models.MeetingTally.program_id == program)
            )
            return {(week, status): count for week, status, count in rows}


def monday(moment: datetime) -> date:
    """The Monday (UTC) of ``moment``'s week."""
    day = moment.date()
    return day - timedelta(days=day.weekday())
