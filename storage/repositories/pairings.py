"""Mentoring pairs and circles."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    CompoundSelect,
    Row,
    Select,
    String,
    Table,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as cast_as
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.admin.ports import PairListing
from core.errors import Conflict
from core.people import Acquaintances, Group, Person, PersonId, ProgramId
from core.tracks import TrackId
from storage import models
from storage.database import Database
from storage.prepared import Prepared
from storage.repositories.people import _person
from storage.repositories.sql import affected, insert
from storage.repositories.tracks import default_track, one_track

_PAIRS = cast("Table", models.Pairing.__table__)
_PEOPLE = cast("Table", models.Person.__table__)
_IDENTITIES = cast("Table", models.ChatIdentity.__table__)
_CIRCLES = cast("Table", models.Group.__table__)
_MEMBERS = cast("Table", models.GroupMember.__table__)
_ADMINS = cast("Table", models.ProgramAdmin.__table__)
_TRACKS = cast("Table", models.Track.__table__)
_MENTEE, _MENTOR, _CO_MEMBER, _ADMIN = range(4)  # what a row of ``_ACQUAINTANCES`` is


def _acquaintances() -> CompoundSelect[Any]:
    """One statement for ``SqlPairings.acquaintances``: a row per mentee, mentor and circle
    co-member (with their chat user id in the program, when they have one), and one more when
    the person is an admin; ordered as ``mentees_of``, ``mentors_of`` and ``groups_of`` are."""
    program, person = bindparam("program", type_=String), bindparam("person", type_=String)
    mine = _MEMBERS.alias("mine")

    def people(kind: int, first: Any, second: Any, track: Any, rules: Any) -> Select[Any]:
        return select(
            literal(kind).label("kind"),
            first.label("first"),
            second.label("second"),
            _PEOPLE.c.id,
            _PEOPLE.c.name,
            _PEOPLE.c.email,
            _PEOPLE.c.timezone,
            _IDENTITIES.c.user_id,
            track.label("track_id"),
            rules.label("rules"),
        )

    def pair_track(query: Select[Any]) -> Select[Any]:
        return query.outerjoin(_TRACKS, _TRACKS.c.id == _PAIRS.c.track_id)

    def identity(query: Select[Any]) -> Select[Any]:
        return query.outerjoin(
            _IDENTITIES,
            (_IDENTITIES.c.person_id == _PEOPLE.c.id) & (_IDENTITIES.c.program_id == program),
        )

    by_name = (func.lower(_PEOPLE.c.name), _PEOPLE.c.id, _PAIRS.c.track_id, _TRACKS.c.rules)
    no_track = (cast_as(null(), String), cast_as(null(), JSON))
    mentees = identity(
        pair_track(
            people(_MENTEE, *by_name)
            .select_from(_PAIRS)
            .join(_PEOPLE, _PEOPLE.c.id == _PAIRS.c.mentee_id)
        )
    ).where(_PAIRS.c.program_id == program, _PAIRS.c.mentor_id == person)
    mentors = identity(
        pair_track(
            people(_MENTOR, *by_name)
            .select_from(_PAIRS)
            .join(_PEOPLE, _PEOPLE.c.id == _PAIRS.c.mentor_id)
        )
    ).where(_PAIRS.c.program_id == program, _PAIRS.c.mentee_id == person)
    members = identity(
        people(_CO_MEMBER, _CIRCLES.c.name, _MEMBERS.c.person_id, *no_track)
        .select_from(mine)
        .join(_CIRCLES, _CIRCLES.c.id == mine.c.group_id)
        .join(_MEMBERS, _MEMBERS.c.group_id == _CIRCLES.c.id)
        .join(_PEOPLE, _PEOPLE.c.id == _MEMBERS.c.person_id)
    ).where(
        mine.c.person_id == person,
        _CIRCLES.c.program_id == program,
        _MEMBERS.c.person_id != person,
    )
    nothing = cast_as(null(), String)
    admin: Select[Any] = select(
        literal(_ADMIN), nothing, nothing, _ADMINS.c.person_id, nothing, nothing, nothing, nothing,
        *no_track,
    ).where(_ADMINS.c.program_id == program, _ADMINS.c.person_id == person)  # fmt: skip
    return union_all(mentees, mentors, members, admin).order_by(
        literal_column("kind"), literal_column("first"), literal_column("second")
    )


_ACQUAINTANCES = Prepared(_acquaintances())


class SqlPairings:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def acquaintances(self, program: ProgramId, person: PersonId) -> Acquaintances:
        rows = await self._db.rows(_ACQUAINTANCES, {"program": program, "person": person})
        found: tuple[dict[PersonId, Person], ...] = ({}, {}, {})
        user_ids: dict[str, PersonId] = {}
        pair_tracks: dict[PersonId, list[Row[Any]]] = {}
        admin = False
        for row in rows:
            if row.kind == _ADMIN:
                admin = True
                continue
            found[row.kind].setdefault(PersonId(row.id), _person(row))
            if row.user_id is not None:
                user_ids[row.user_id] = PersonId(row.id)
            if row.kind in (_MENTEE, _MENTOR):
                pair_tracks.setdefault(PersonId(row.id), []).append(row)
        mentees, mentors, members = (tuple(kind.values()) for kind in found)
        tracks = {partner: one_track(pairs) for partner, pairs in pair_tracks.items()}
        return Acquaintances(mentees, mentors, members, user_ids, admin, tracks)

    async def mentees_of(self, program: ProgramId, mentor: PersonId) -> Sequence[Person]:
        return await self._partners(program, mentor, mentees=True)

    async def mentors_of(self, program: ProgramId, mentee: PersonId) -> Sequence[Person]:
        return await self._partners(program, mentee, mentees=False)

    async def _partners(
        self, program: ProgramId, person: PersonId, *, mentees: bool
    ) -> list[Person]:
        pair = models.Pairing
        mine, theirs = (
            (pair.mentor_id, pair.mentee_id) if mentees else (pair.mentee_id, pair.mentor_id)
        )
        async with self._db.reading() as session:
            rows = await session.scalars(
                select(models.Person)
                .join(pair, theirs == models.Person.id)
                .where(pair.program_id == program, mine == person)
                .order_by(func.lower(models.Person.name), models.Person.id)
            )
            return [_person(row) for row in rows]

    async def pair(
        self,
        program: ProgramId,
        mentor: PersonId,
        mentee: PersonId,
        track: TrackId | None = None,
    ) -> bool:
        """Record the pairing in ``track`` (None: the program's default track); False when
        it existed already."""
        async with self._db.transaction() as session:
            into = track or await default_track(self._db, session, program)
            statement = (
                insert(self._db, models.Pairing)
                .values(program_id=program, mentor_id=mentor, mentee_id=mentee, track_id=into)
                .on_conflict_do_nothing()
            )
            return bool(affected(await session.execute(statement)))

    async def move(
        self, program: ProgramId, mentor: PersonId, mentee: PersonId, track: TrackId
    ) -> bool:
        statement = (
            update(models.Pairing)
            .where(
                models.Pairing.program_id == program,
                models.Pairing.mentor_id == mentor,
                models.Pairing.mentee_id == mentee,
            )
            .values(track_id=track)
        )
        async with self._db.transaction() as session:
            return bool(affected(await session.execute(statement)))

    async def listing(self, program: ProgramId) -> list[PairListing]:
        mentor, mentee = aliased(models.Person), aliased(models.Person)
        async with self._db.reading() as session:
            rows = await session.execute(
                select(mentor, mentee, models.Pairing.track_id)
                .join(models.Pairing, models.Pairing.mentor_id == mentor.id)
                .join(mentee, models.Pairing.mentee_id == mentee.id)
                .where(models.Pairing.program_id == program)
                .order_by(func.lower(mentor.name), func.lower(mentee.name), mentor.id, mentee.id)
            )
            return [
                PairListing(_person(a), _person(b), TrackId(track) if track else None)
                for a, b, track in rows
            ]

    async def unpair(self, program: ProgramId, mentor: PersonId, mentee: PersonId) -> bool:
        statement = delete(models.Pairing).where(
            models.Pairing.program_id == program,
            models.Pairing.mentor_id == mentor,
            models.Pairing.mentee_id == mentee,
        )
        async with self._db.transaction() as session:
            return bool(affected(await session.execute(statement)))

    async def all(self, program: ProgramId) -> list[tuple[Person, Person]]:
        mentor, mentee = aliased(models.Person), aliased(models.Person)
        async with self._db.reading() as session:
            rows = await session.execute(
                select(mentor, mentee)
                .join(models.Pairing, models.Pairing.mentor_id == mentor.id)
                .join(mentee, models.Pairing.mentee_id == mentee.id)
                .where(models.Pairing.program_id == program)
                .order_by(func.lower(mentor.name), func.lower(mentee.name))
            )
            return [(_person(a), _person(b)) for a, b in rows]


class SqlGroups:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def groups_of(self, program: ProgramId, member: PersonId) -> Sequence[Group]:
        async with self._db.reading() as session:
            rows = await session.scalars(
                select(models.Group)
                .join(models.GroupMember, models.GroupMember.group_id == models.Group.id)
                .where(models.Group.program_id == program, models.GroupMember.person_id == member)
                .order_by(models.Group.name)
            )
            groups = list(rows)
            return [await self._load(session, row) for row in groups]

    async def by_channel(self, program: ProgramId, channel: str) -> Group | None:
        return await self._one(program, models.Group.channel == channel)

    async def create(
        self,
        program: ProgramId,
        name: str,
        members: Sequence[PersonId] = (),
        channel: str | None = None,
        track: TrackId | None = None,
    ) -> Group:
        """A new circle of ``members`` in ``track`` (None: the program's default track);
        :class:`~core.errors.Conflict` when the name or channel is taken."""
        group_id = uuid.uuid4().hex
        try:
            async with self._db.transaction() as session:
                track = track or TrackId(await default_track(self._db, session, program))
                session.add(
                    models.Group(
                        id=group_id,
                        program_id=program,
                        name=name,
                        channel=channel,
                        track_id=track,
                    )
                )
                await session.flush()
                session.add_all(
                    models.GroupMember(group_id=group_id, person_id=member)
                    for member in dict.fromkeys(members)
                )
        except IntegrityError as error:
            raise Conflict(f"a circle called {name!r} (or meeting in {channel}) exists") from error
        return Group(group_id, program, name, tuple(dict.fromkeys(members)), channel, track)

    async def move(self, group: str, track: TrackId) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(models.Group).where(models.Group.id == group).values(track_id=track)
            )
            return bool(affected(result))

    async def all(self, program: ProgramId) -> list[Group]:
        """Every circle of the program, by name."""
        async with self._db.reading() as session:
            rows = list(
                await session.scalars(
                    select(models.Group)
                    .where(models.Group.program_id == program)
                    .order_by(func.lower(models.Group.name))
                )
            )
            return [await self._load(session, row) for row in rows]

    async def named(self, program: ProgramId, name: str) -> Group | None:
        return await self._one(program, models.Group.name == name)

    async def _one(self, program: ProgramId, which: ColumnElement[bool]) -> Group | None:
        """The program's circle that ``which`` picks (names and channels are unique in it)."""
        async with self._db.reading() as session:
            row = await session.scalar(
                select(models.Group).where(models.Group.program_id == program, which)
            )
            return None if row is None else await self._load(session, row)

    async def add_member(self, group: str, person: PersonId) -> bool:
        statement = (
            insert(self._db, models.GroupMember)
            .values(group_id=group, person_id=person)
            .on_conflict_do_nothing()
        )
        async with self._db.transaction() as session:
            return bool(affected(await session.execute(statement)))

    async def link(self, group: str, channel: str | None) -> None:
        try:
            async with self._db.transaction() as session:
                await session.execute(
                    update(models.Group).where(models.Group.id == group).values(channel=channel)
                )
        except IntegrityError as error:
            raise Conflict(f"{channel} is the channel of another circle") from error

    async def remove(self, group: str) -> bool:
        """Forget the circle (its members stay in the program); False when it was gone."""
        async with self._db.transaction() as session:
            result = await session.execute(delete(models.Group).where(models.Group.id == group))
            return bool(affected(result))

    @staticmethod
    async def _load(session: AsyncSession, row: models.Group) -> Group:
        members = await session.scalars(
            select(models.GroupMember.person_id)
            .where(models.GroupMember.group_id == row.id)
            .order_by(models.GroupMember.person_id)
        )
        return Group(
            row.id,
            ProgramId(row.program_id),
            row.name,
            tuple(PersonId(m) for m in members),
            row.channel,
            row.track_id,
        )
