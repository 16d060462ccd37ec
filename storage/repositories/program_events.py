"""Which provider event each meeting became on the program account's calendar."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update

from core.organisation import OrgProvider
from core.publishing import PublishedEvent
from storage import models
from storage.database import Database
from storage.repositories.sql import insert


class SqlProgramEvents:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, meeting: str) -> PublishedEvent | None:
        async with self._db.reading() as session:
            row = await session.get(models.ProgramEvent, meeting)
            if row is None:
                return None
            return PublishedEvent(
                row.meeting_ref, OrgProvider(row.provider), row.event_id, row.join_url
            )

    async def save(self, published: PublishedEvent, now: datetime) -> None:
        values = {
            "provider": published.provider.value,
            "event_id": published.event_id,
            "join_url": published.join_url,
            "updated_at": now,
        }
        async with self._db.transaction() as session:
            await session.execute(
                insert(self._db, models.ProgramEvent)
                .values(meeting_ref=published.meeting, **values)
                .on_conflict_do_update(index_elements=["meeting_ref"], set_=values)
            )
            if published.join_url:
                # Shown wherever the meeting is (confirmations, reminders, "my meetings");
                # the sequence stays, so no button goes stale.
                await session.execute(
                    update(models.Meeting)
                    .where(
                        models.Meeting.ref == published.meeting,
                        models.Meeting.location.is_(None),
                    )
                    .values(location=published.join_url[:500])
                )

    async def forget(self, meeting: str) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                delete(models.ProgramEvent).where(models.ProgramEvent.meeting_ref == meeting)
            )
