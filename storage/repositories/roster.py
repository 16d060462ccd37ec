"""An import's writes, in one transaction (``core.admin.imports``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.admin.imports import RosterBatch
from core.errors import Conflict
from core.people import ProgramId
from storage import models
from storage.database import Database
from storage.repositories.sql import insert

ROWS_PER_STATEMENT = 1000  # executemany in slices: bounded memory, one transaction


class SqlRoster:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def apply(self, program: ProgramId, batch: RosterBatch, now: datetime) -> None:
        """Everything ``batch`` asks for, or nothing: a name or channel taken meanwhile by
        another change is a :class:`Conflict` and the whole transaction rolls back."""
        ids = {person.key: uuid.uuid4().hex for person in batch.people}
        circles = {circle.key: uuid.uuid4().hex for circle in batch.circles}
        platform, _, workspace = program.partition(":")

        def person(key: str) -> str:
            return ids.get(key, key)

        def circle(key: str) -> str:
            return circles.get(key, key)

        people = [
            {
                "id": ids[p.key],
                "name": p.email.split("@", 1)[0] if p.email else (p.user_id or "?"),
                "email": p.email,
                "timezone": None,
                "created_at": now,
                "updated_at": now,
            }
            for p in batch.people
        ]
        identities = [
            {
                "program_id": program,
                "platform": platform,
                "workspace": workspace,
                "user_id": p.user_id,
                "handle": None,
                "person_id": ids[p.key],
            }
            for p in batch.people
            if p.user_id
        ]
        pairs = [
            {
                "program_id": program,
                "mentor_id": person(mentor),
                "mentee_id": person(mentee),
                "track_id": batch.track,
            }
            for mentor, mentee in batch.pairs
        ]
        groups = [
            {
                "id": circles[c.key],
                "program_id": program,
                "name": c.name,
                "channel": c.channel,
                "track_id": batch.track,
            }
            for c in batch.circles
        ]
        members = [
            {"group_id": circle(group), "person_id": person(member)}
            for group, member in batch.members
        ]
        try:
            async with self._db.transaction() as session:
                await self._insert(session, models.Person, people)
                await self._insert(session, models.ChatIdentity, identities)
                await self._insert(session, models.Group, groups)
                for group, channel in batch.links:
                    await session.execute(
                        update(models.Group).where(models.Group.id == group).values(channel=channel)
                    )
                # A pair or member added meanwhile by someone else is no conflict.
                await self._insert(session, models.Pairing, pairs, existing_ok=True)
                await self._insert(session, models.GroupMember, members, existing_ok=True)
        except IntegrityError as error:
            raise Conflict(
                "the roster changed while it was imported (a circle's name or channel, or a "
                "chat user, was added meanwhile): nothing was imported; import again"
            ) from error

    async def _insert(
        self,
        session: AsyncSession,
        model: type[models.Base],
        rows: Sequence[Mapping[str, Any]],
        *,
        existing_ok: bool = False,
    ) -> None:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            statement = insert(self._db, model)
            if existing_ok:
                statement = statement.on_conflict_do_nothing()
            await session.execute(statement, list(rows[start : start + ROWS_PER_STATEMENT]))
