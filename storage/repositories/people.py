"""People and the chat identities they are known by."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from core.people import ChatIdentity, Listing, Person, PersonId, Platform, Profile, ProgramId
from storage import models
from storage.database import Database

LOOKUP_BATCH = 500  # values per IN (...): far below SQLite's and asyncpg's parameter limits


# The reads every request makes, in Core: no ORM objects built only to be copied (see
# ``Database.rows``).
_PEOPLE = cast("Table", models.Person.__table__)
_IDENTITIES = cast("Table", models.ChatIdentity.__table__)
_SELECT_PEOPLE = select(_PEOPLE.c.id, _PEOPLE.c.name, _PEOPLE.c.email, _PEOPLE.c.timezone)
_BY_CHAT_USER = _SELECT_PEOPLE.join_from(
    _PEOPLE, _IDENTITIES, _IDENTITIES.c.person_id == _PEOPLE.c.id
).where(
    _IDENTITIES.c.program_id == bindparam("program"),
    _IDENTITIES.c.user_id == bindparam("user_id"),
)


class SqlPeople:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, person: PersonId) -> Person | None:
        rows = await self._db.rows(_SELECT_PEOPLE.where(_PEOPLE.c.id == person))
        return _person(rows[0]) if rows else None

    async def many(self, people: Sequence[PersonId]) -> Mapping[PersonId, Person]:
        if not people:
            return {}
        rows = await self._db.rows(_SELECT_PEOPLE.where(_PEOPLE.c.id.in_(list(people))))
        return {PersonId(row.id): _person(row) for row in rows}

    async def by_chat_user(self, program: ProgramId, user_id: str) -> Person | None:
        rows = await self._db.rows(_BY_CHAT_USER, {"program": program, "user_id": user_id})
        return _person(rows[0]) if rows else None

    async def listings(self, program: ProgramId) -> Sequence[Listing]:
        async with self._db.reading() as session:
            rows = await session.execute(
                select(models.Person, models.ChatIdentity.handle)
                .join(models.ChatIdentity, models.ChatIdentity.person_id == models.Person.id)
                .where(models.ChatIdentity.program_id == program)
                .order_by(models.Person.name, models.Person.id)
            )
            return [Listing(_person(person), handle or None) for person, handle in rows]

    async def identities(self, person: PersonId) -> Sequence[ChatIdentity]:
        async with self._db.reading() as session:
            rows = await session.scalars(
                select(models.ChatIdentity).where(models.ChatIdentity.person_id == person)
            )
            return [
                ChatIdentity(Platform(row.platform), row.workspace, row.user_id) for row in rows
            ]

    async def by_email(self, email: str) -> Person | None:
        async with self._db.reading() as session:
            row = await session.scalar(
                select(models.Person)
                .where(func.lower(models.Person.email) == email.strip().lower())
                .order_by(models.Person.created_at)
            )
            return None if row is None else _person(row)

    async def by_emails(self, emails: Sequence[str]) -> Mapping[str, Person]:
        wanted = sorted({email.strip().lower() for email in emails})
        found: dict[str, Person] = {}
        async with self._db.reading() as session:
            for start in range(0, len(wanted), LOOKUP_BATCH):
                rows = await session.scalars(
                    select(models.Person)
                    .where(
                        func.lower(models.Person.email).in_(wanted[start : start + LOOKUP_BATCH])
                    )
                    .order_by(models.Person.created_at, models.Person.id)
                )
                for row in rows:
                    found.setdefault((row.email or "").lower(), _person(row))
        return found

    async def by_chat_users(
        self, program: ProgramId, user_ids: Sequence[str]
    ) -> Mapping[str, Person]:
        wanted = sorted(set(user_ids))
        found: dict[str, Person] = {}
        async with self._db.reading() as session:
            for start in range(0, len(wanted), LOOKUP_BATCH):
                rows = await session.execute(
                    select(models.ChatIdentity.user_id, models.Person)
                    .join(models.Person, models.ChatIdentity.person_id == models.Person.id)
                    .where(
                        models.ChatIdentity.program_id == program,
                        models.ChatIdentity.user_id.in_(wanted[start : start + LOOKUP_BATCH]),
                    )
                )
                for user_id, row in rows:
                    found[user_id] = _person(row)
        return found

    async def add_by_email(self, email: str) -> Person:
        now = datetime.now(UTC)
        person = models.Person(
            id=uuid.uuid4().hex,
            name=email.split("@", maxsplit=1)[0],
            email=email.strip(),
            timezone=None,
            created_at=now,
            updated_at=now,
        )
        async with self._db.transaction() as session:
            session.add(person)
        return _person(person)

    async def remember(
        self, program: ProgramId, identity: ChatIdentity, profile: Profile
    ) -> Person:
        for attempt in range(2):
            try:
                return await self._remember(program, identity, profile)
            except IntegrityError:
                # Another process registered the same identity at the same moment: read it.
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _remember(
        self, program: ProgramId, identity: ChatIdentity, profile: Profile
    ) -> Person:
        now = datetime.now(UTC)
        async with self._db.transaction() as session:
            known = await session.scalar(
                select(models.ChatIdentity).where(
                    models.ChatIdentity.program_id == program,
                    models.ChatIdentity.user_id == identity.user_id,
                )
            )
            person = None
            if known is not None:
                person = await session.get(models.Person, known.person_id)
            elif profile.email:
                person = await session.scalar(
                    select(models.Person)
                    .where(func.lower(models.Person.email) == profile.email.lower())
                    .order_by(models.Person.created_at)
                )
            if person is None:
                person = models.Person(
                    id=uuid.uuid4().hex,
                    name=profile.name,
                    email=profile.email,
                    timezone=profile.timezone,
                    created_at=now,
                    updated_at=now,
                )
                session.add(person)
                await session.flush()  # the identity below refers to it
            else:
                person.name = profile.name or person.name
                person.email = profile.email or person.email
                person.timezone = profile.timezone or person.timezone
                person.updated_at = now
            if known is None:
                session.add(_identity(program, identity, profile, person.id))
            else:
                known.handle = profile.handle or known.handle
            await session.flush()
            return _person(person)

    async def list_program(self, program: ProgramId) -> list[tuple[Person, str]]:
        async with self._db.reading() as session:
            rows = await session.execute(
                select(models.Person, models.ChatIdentity.user_id)
                .join(models.ChatIdentity, models.ChatIdentity.person_id == models.Person.id)
                .where(models.ChatIdentity.program_id == program)
                .order_by(models.Person.name)
            )
            return [(_person(person), user_id) for person, user_id in rows]


def _identity(
    program: ProgramId, identity: ChatIdentity, profile: Profile, person_id: str
) -> models.ChatIdentity:
    return models.ChatIdentity(
        program_id=program,
        platform=identity.platform.value,
        workspace=identity.workspace,
        user_id=identity.user_id,
        handle=profile.handle,
        person_id=person_id,
    )


def _person(row: Any) -> Person:
    """A person from an ORM row or a Core row of ``_SELECT_PEOPLE``."""
    return Person(PersonId(row.id), row.name, row.email, row.timezone)
