"""Tracks, their admins, and the track a search among some people runs under."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import BindParameter, Row, Select, Table, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.admin.programs import RuleChanges
from core.errors import Conflict
from core.people import PersonId, ProgramId
from core.tracks import DEFAULT_TRACK, Track, TrackId, rules_from_json, rules_to_json
from storage import models
from storage.database import Database
from storage.repositories.sql import affected, insert


class SqlTracks:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def all(self, program: ProgramId) -> list[Track]:
        async with self._db.reading() as session:
            rows = await session.scalars(
                select(models.Track)
                .where(models.Track.program_id == program)
                .order_by(func.lower(models.Track.name))
            )
            return [_track(row) for row in rows]

    async def get(self, program: ProgramId, track: TrackId) -> Track | None:
        async with self._db.reading() as session:
            row = await session.get(models.Track, track)
            return None if row is None or row.program_id != program else _track(row)

    async def named(self, program: ProgramId, name: str) -> Track | None:
        async with self._db.reading() as session:
            row = await session.scalar(
                select(models.Track).where(
                    models.Track.program_id == program, models.Track.name == name
                )
            )
            return None if row is None else _track(row)

    async def create(self, program: ProgramId, name: str, now: datetime) -> Track:
        row = models.Track(
            id=uuid.uuid4().hex, program_id=program, name=name, rules={}, created_at=now
        )
        try:
            async with self._db.transaction() as session:
                session.add(row)
        except IntegrityError as error:
            raise Conflict(f"a track called {name!r} exists") from error
        return _track(row)

    async def rename(self, track: TrackId, name: str) -> None:
        try:
            async with self._db.transaction() as session:
                await session.execute(
                    update(models.Track).where(models.Track.id == track).values(name=name)
                )
        except IntegrityError as error:
            raise Conflict(f"another track is called {name!r}") from error

    async def archive(self, track: TrackId, when: datetime | None) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(models.Track).where(models.Track.id == track).values(archived_at=when)
            )

    async def save_rules(self, track: TrackId, rules: RuleChanges) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(models.Track)
                .where(models.Track.id == track)
                .values(rules=rules_to_json(rules))
            )

    async def default(self, program: ProgramId, now: datetime) -> Track:
        async with self._db.transaction() as session:
            found = await default_track(self._db, session, program, now)
            row = await session.get(models.Track, found)
            assert row is not None
            return _track(row)

    async def grant(self, track: TrackId, person: PersonId) -> bool:
        statement = (
            insert(self._db, models.TrackAdmin)
            .values(track_id=track, person_id=person)
            .on_conflict_do_nothing()
        )
        async with self._db.transaction() as session:
            return bool(affected(await session.execute(statement)))

    async def revoke(self, track: TrackId, person: PersonId) -> bool:
        statement = delete(models.TrackAdmin).where(
            models.TrackAdmin.track_id == track, models.TrackAdmin.person_id == person
        )
        async with self._db.transaction() as session:
            return bool(affected(await session.execute(statement)))

    async def admins(self, program: ProgramId) -> list[tuple[PersonId, TrackId]]:
        async with self._db.reading() as session:
            rows = await session.execute(
                select(models.TrackAdmin.person_id, models.TrackAdmin.track_id)
                .join(models.Track, models.Track.id == models.TrackAdmin.track_id)
                .where(models.Track.program_id == program)
                .order_by(models.TrackAdmin.person_id, models.TrackAdmin.track_id)
            )
            return [(PersonId(person), TrackId(track)) for person, track in rows]


async def default_track(
    database: Database, session: AsyncSession, program: ProgramId, now: datetime | None = None
) -> str:
    """The id of the track a pair or circle added without one lands in (in ``session``'s
    transaction): the oldest active track, else "Main" (made, or brought back)."""
    found = await session.scalar(
        select(models.Track.id)
        .where(models.Track.program_id == program, models.Track.archived_at.is_(None))
        .order_by(models.Track.created_at, models.Track.id)
        .limit(1)
    )
    if found is not None:
        return str(found)
    await session.execute(
        insert(database, models.Track)
        .values(
            id=uuid.uuid4().hex,
            program_id=program,
            name=DEFAULT_TRACK,
            rules={},
            created_at=now or datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["program_id", "name"])
    )
    await session.execute(
        update(models.Track)
        .where(models.Track.program_id == program, models.Track.name == DEFAULT_TRACK)
        .values(archived_at=None)
    )
    made = await session.scalar(
        select(models.Track.id).where(
            models.Track.program_id == program, models.Track.name == DEFAULT_TRACK
        )
    )
    assert made is not None
    return str(made)


async def track_among(
    database: Database, program: ProgramId, people: Sequence[PersonId]
) -> RuleChanges | None:
    """The overrides of the track a search among ``people`` runs under: of the pair they
    form (for one person, of their pairs), else of the circles they are all in, when
    those name one track; None otherwise.

    Each step is one Core read that brings the track's rules along (every search runs it),
    its statement built once."""
    wanted = sorted(set(people))
    if not wanted or len(wanted) > 100:
        return None
    if len(wanted) <= 2:
        statement = _PAIR_TRACK if len(wanted) == 2 else _PAIRS_TRACK
        rows = await database.rows(statement, {"program": program, "people": wanted})
        if rows:
            return one_track(rows)
    rows = await database.rows(
        _CIRCLE_TRACK, {"program": program, "people": wanted, "count": len(wanted)}
    )
    return one_track(rows)


def _track_statements() -> tuple[Select[Any], Select[Any], Select[Any]]:
    """``track_among``'s reads: of the pair two people form, of one person's pairs, and of
    the circles everyone is in."""
    pairings = cast("Table", models.Pairing.__table__)
    tracks = cast("Table", models.Track.__table__)
    people: BindParameter[Any] = bindparam("people", expanding=True)
    pair_track = select(pairings.c.track_id, tracks.c.rules).outerjoin_from(
        pairings, tracks, tracks.c.id == pairings.c.track_id
    )
    of_program = pairings.c.program_id == bindparam("program")
    pair = pair_track.where(
        of_program, pairings.c.mentor_id.in_(people), pairings.c.mentee_id.in_(people)
    )
    pairs = pair_track.where(
        of_program, pairings.c.mentor_id.in_(people) | pairings.c.mentee_id.in_(people)
    )
    members = cast("Table", models.GroupMember.__table__)
    circles = cast("Table", models.Group.__table__)
    groups = (
        select(members.c.group_id)
        .where(members.c.person_id.in_(people))
        .group_by(members.c.group_id)
        .having(func.count() == bindparam("count"))
    )
    circle = (
        select(circles.c.track_id, tracks.c.rules)
        .outerjoin_from(circles, tracks, tracks.c.id == circles.c.track_id)
        .where(circles.c.program_id == bindparam("program"), circles.c.id.in_(groups))
    )
    return pair, pairs, circle


_PAIR_TRACK, _PAIRS_TRACK, _CIRCLE_TRACK = _track_statements()


def one_track(rows: Sequence[Row[Any]]) -> RuleChanges | None:
    """The rules of the one track ``rows`` (track id, its rules) name; None for none or
    several (``SqlPairings.acquaintances`` applies it to a pair's rows too)."""
    named = {row.track_id: row.rules for row in rows}
    if len(named) != 1 or None in named:
        return None
    stored = next(iter(named.values()))
    return None if stored is None else rules_from_json(stored)


def _track(row: models.Track) -> Track:
    return Track(
        TrackId(row.id),
        ProgramId(row.program_id),
        row.name,
        rules_from_json(row.rules or {}),
        archived=row.archived_at is not None,
    )
