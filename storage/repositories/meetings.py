"""Slot offers and meetings. One offer yields at most one meeting, and a meeting changes
only from the sequence its changer read, whatever the concurrency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy import insert as sql_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.actions import EXCLUSIONS
from core.commands import Exclusions, TimeOfDay
from core.jobs import NewJob
from core.meetings import Meeting, MeetingStatus, SlotOffer
from core.people import PersonId, ProgramId
from core.time import DayTime, Interval
from storage import models
from storage.database import Database
from storage.prepared import Prepared
from storage.repositories.jobs import SqlJobs
from storage.repositories.sql import affected, insert

# An offer is written on every request for times. The table's own INSERT, its values
# passed as parameters, skips the ORM's unit of work and a statement cache key computed
# over hundreds of slots: both cost more than the write itself.
_ADD_OFFER = Prepared(sql_insert(cast("Table", models.SlotOffer.__table__)))


class SqlOffers:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, offer: SlotOffer) -> None:
        await self._db.write(  # every search writes one: no BEGIN of its own
            _ADD_OFFER,
            {
                "ref": offer.ref,
                "program_id": offer.program,
                "requester_id": offer.requester,
                "participants": list(offer.participants),
                "duration_minutes": offer.duration_minutes,
                "window_start": offer.window.start,
                "window_end": offer.window.end,
                "time_of_day": None
                if offer.time_of_day is None
                else [offer.time_of_day.start.minutes, offer.time_of_day.end.minutes],
                "slots": _spans(offer.slots),
                "shown": _spans(offer.shown),
                "created_at": offer.created_at,
                "meeting_ref": offer.moving,
                "ruled_out": EXCLUSIONS.dump(offer.ruled_out) if offer.ruled_out else None,
            },
        )

    async def get(self, ref: str) -> SlotOffer | None:
        async with self._db.reading() as session:
            row = await session.get(models.SlotOffer, ref)
            return None if row is None else _offer(row)

    async def mark_shown(self, ref: str, shown: Sequence[Interval]) -> None:
        async with self._db.transaction() as session:
            row = await session.get(models.SlotOffer, ref, with_for_update=True)
            if row is not None:
                row.shown = [*row.shown, *_spans(shown)]


class SqlMeetings:
    """Meetings, and the work each change asks for (invitations, reminders) staged in the
    same transaction: a transactional outbox, so a crash never separates them."""

    def __init__(self, database: Database, jobs: SqlJobs) -> None:
        self._db = database
        self._jobs = jobs

    async def book(self, meeting: Meeting, jobs: Sequence[NewJob] = ()) -> tuple[Meeting, bool]:
        """Insert unless the offer (or poll) has a meeting already; the constraint decides."""
        async with self._db.transaction() as session:
            if meeting.offer_ref is not None:
                clash = await _clash(session, meeting)
                if clash is not None:
                    return await _meeting(session, clash), False
            stored, created = await insert_meeting(self._db, self._jobs, session, meeting, jobs)
            if created and meeting.poll_ref is not None:
                await session.execute(
                    update(models.Poll)
                    .where(models.Poll.ref == meeting.poll_ref, models.Poll.meeting_ref.is_(None))
                    .values(meeting_ref=meeting.ref)
                )
            return stored, created

    async def get(self, ref: str) -> Meeting | None:
        async with self._db.reading() as session:
            row = await session.get(models.Meeting, ref)
            return None if row is None else await _meeting(session, row)

    async def for_offer(self, offer_ref: str) -> Meeting | None:
        async with self._db.reading() as session:
            row = await session.scalar(
                select(models.Meeting).where(models.Meeting.offer_ref == offer_ref)
            )
            return None if row is None else await _meeting(session, row)

    async def upcoming(self, person: PersonId, after: datetime) -> Sequence[Meeting]:
        async with self._db.reading() as session:
            rows = await session.scalars(
                select(models.Meeting)
                .join(
                    models.MeetingParticipant,
                    models.MeetingParticipant.meeting_ref == models.Meeting.ref,
                )
                .where(
                    models.MeetingParticipant.person_id == person,
                    models.MeetingParticipant.declined.is_(False),
                    models.Meeting.end > after,
                    models.Meeting.status.in_(_ACTIVE),
                )
                .order_by(models.Meeting.start, models.Meeting.ref)
            )
            return [await _meeting(session, row) for row in list(rows)]

    async def busy(
        self, people: Sequence[PersonId], window: Interval, *, excluding: str | None = None
    ) -> Mapping[PersonId, Sequence[Interval]]:
        if not people:
            return {}
        parameters = {"people": list(people), "start": window.start, "end": window.end}
        if excluding is None:
            rows = await self._db.rows(_BUSY, parameters)
        else:
            rows = await self._db.rows(_BUSY_EXCLUDING, parameters | {"excluding": excluding})
        found: dict[PersonId, list[Interval]] = {}
        for row in rows:
            found.setdefault(PersonId(row.person_id), []).append(Interval(row.start, row.end))
        return found

    async def change(
        self, meeting: Meeting, *, expected: int, jobs: Sequence[NewJob] = ()
    ) -> Meeting | None:
        """One conditional UPDATE on the sequence: whoever read ``expected`` first wins.

        Core gives every job its due time (its clock's), so the time passed on to the jobs
        table only stamps the row."""
        async with self._db.transaction() as session:
            if meeting.status.active:
                row = await session.get(models.Meeting, meeting.ref)
                moved = row is not None and (row.start, row.end) != (meeting.start, meeting.end)
                if moved and await _overlapping(session, meeting, excluding=meeting.ref):
                    return None  # a meeting of theirs took that time meanwhile
            result = await session.execute(
                update(models.Meeting)
                .where(models.Meeting.ref == meeting.ref, models.Meeting.sequence == expected)
                .values(
                    status=meeting.status.value,
                    start=meeting.start,
                    end=meeting.end,
                    title=meeting.title,
                    proposer_id=meeting.proposer,
                    location=meeting.location,
                    sequence=expected + 1,
                )
            )
            if not affected(result):
                return None
            declined = list(meeting.declined)
            await session.execute(
                update(models.MeetingParticipant)
                .where(models.MeetingParticipant.meeting_ref == meeting.ref)
                .values(declined=models.MeetingParticipant.person_id.in_(declined))
            )
            await self._jobs.stage(session, jobs, datetime.now(UTC))
            row = await session.get(models.Meeting, meeting.ref, populate_existing=True)
            assert row is not None  # updated a moment ago, in this transaction
            return await _meeting(session, row)


_ACTIVE = [MeetingStatus.PROPOSED.value, MeetingStatus.CONFIRMED.value]
_MEETINGS = cast("Table", models.Meeting.__table__)
_TAKING = cast("Table", models.MeetingParticipant.__table__)
# In Core, on the table columns, built once (its cache key too): every search runs it.
_BUSY_ALL = (
    select(_TAKING.c.person_id, _MEETINGS.c.start, _MEETINGS.c.end)
    .join_from(_TAKING, _MEETINGS, _MEETINGS.c.ref == _TAKING.c.meeting_ref)
    .where(
        _TAKING.c.person_id.in_(bindparam("people", expanding=True)),
        _TAKING.c.declined.is_(False),
        _MEETINGS.c.status.in_(_ACTIVE),
        _MEETINGS.c.start < bindparam("end"),
        _MEETINGS.c.end > bindparam("start"),
    )
)
_BUSY = Prepared(_BUSY_ALL)
_BUSY_EXCLUDING = Prepared(_BUSY_ALL.where(_MEETINGS.c.ref != bindparam("excluding")))


async def _clash(session: AsyncSession, meeting: Meeting) -> models.Meeting | None:
    """The offer's meeting, or another active one of its people overlapping it, if any."""
    found = await _overlapping(session, meeting)
    same_offer = await session.scalar(
        select(models.Meeting).where(models.Meeting.offer_ref == meeting.offer_ref)
    )
    return same_offer or found


async def _overlapping(
    session: AsyncSession, meeting: Meeting, *, excluding: str | None = None
) -> models.Meeting | None:
    """An active meeting of ``meeting``'s people (not one they declined) overlapping it.

    Their people rows are locked first (in one order, so two writers cannot deadlock):
    bookings and moves that share a person wait for each other, and the later one sees the
    meeting the earlier one made. SQLite's writers are serialised already (BEGIN IMMEDIATE)."""
    people = list(meeting.attending)
    await session.execute(
        select(models.Person.id)
        .where(models.Person.id.in_(people))
        .order_by(models.Person.id)
        .with_for_update()
    )
    statement = (
        select(models.Meeting)
        .join(
            models.MeetingParticipant,
            models.MeetingParticipant.meeting_ref == models.Meeting.ref,
        )
        .where(
            models.MeetingParticipant.person_id.in_(people),
            models.MeetingParticipant.declined.is_(False),
            models.Meeting.status.in_(_ACTIVE),
            models.Meeting.start < meeting.end,
            models.Meeting.end > meeting.start,
        )
        .order_by(models.Meeting.created_at, models.Meeting.ref)
        .limit(1)
    )
    if excluding is not None:
        statement = statement.where(models.Meeting.ref != excluding)
    found: models.Meeting | None = await session.scalar(statement)
    return found


async def _meeting(session: AsyncSession, row: models.Meeting) -> Meeting:
    people = (
        await session.execute(
            select(models.MeetingParticipant.person_id, models.MeetingParticipant.declined)
            .where(models.MeetingParticipant.meeting_ref == row.ref)
            .order_by(models.MeetingParticipant.position)
        )
    ).all()
    return Meeting(
        ref=row.ref,
        program=ProgramId(row.program_id),
        organizer=PersonId(row.organizer_id),
        participants=tuple(PersonId(p) for p, _ in people),
        start=row.start,
        end=row.end,
        title=row.title,
        created_at=row.created_at,
        offer_ref=row.offer_ref,
        poll_ref=row.poll_ref,
        status=MeetingStatus(row.status),
        sequence=row.sequence,
        proposer=None if row.proposer_id is None else PersonId(row.proposer_id),
        location=row.location,
        declined=tuple(PersonId(p) for p, declined in people if declined),
    )


def _spans(intervals: Sequence[Interval]) -> list[list[int]]:
    return [[int(i.start.timestamp()), int(i.end.timestamp())] for i in intervals]


def _intervals(spans: Sequence[Sequence[int]]) -> tuple[Interval, ...]:
    return tuple(
        Interval(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        for start, end in spans
    )


def _offer(row: models.SlotOffer) -> SlotOffer:
    tod = row.time_of_day
    return SlotOffer(
        ref=row.ref,
        program=ProgramId(row.program_id),
        requester=PersonId(row.requester_id),
        participants=tuple(PersonId(p) for p in row.participants),
        duration_minutes=row.duration_minutes,
        window=Interval(row.window_start, row.window_end),
        slots=_intervals(row.slots),
        shown=_intervals(row.shown),
        created_at=row.created_at,
        time_of_day=None if tod is None else TimeOfDay(DayTime(tod[0]), DayTime(tod[1])),
        moving=row.meeting_ref,
        ruled_out=Exclusions() if row.ruled_out is None else EXCLUSIONS.load(row.ruled_out),
    )


async def insert_meeting(
    database: Database,
    jobs: SqlJobs,
    session: AsyncSession,
    meeting: Meeting,
    work: Sequence[NewJob],
) -> tuple[Meeting, bool]:
    """Store ``meeting`` and stage ``work`` in ``session``'s transaction, unless its offer
    (or poll) has a meeting already: that one, and False (nothing written)."""
    values = {
        "ref": meeting.ref,
        "program_id": meeting.program,
        "offer_ref": meeting.offer_ref,
        "poll_ref": meeting.poll_ref,
        "organizer_id": meeting.organizer,
        "proposer_id": meeting.proposer,
        "start": meeting.start,
        "end": meeting.end,
        "title": meeting.title,
        "location": meeting.location,
        "status": meeting.status.value,
        "sequence": meeting.sequence,
        "created_at": meeting.created_at,
    }
    inserted = await session.execute(
        insert(database, models.Meeting).values(**values).on_conflict_do_nothing()
    )
    if affected(inserted):
        session.add_all(
            models.MeetingParticipant(
                meeting_ref=meeting.ref,
                person_id=person,
                position=i,
                declined=person in meeting.declined,
            )
            for i, person in enumerate(meeting.participants)
        )
        await jobs.stage(session, work, meeting.created_at)
        return meeting, True
    if meeting.offer_ref is not None:
        source = models.Meeting.offer_ref == meeting.offer_ref
    else:
        source = models.Meeting.poll_ref == meeting.poll_ref
    row = await session.scalar(select(models.Meeting).where(source))
    if row is None:  # the conflict was on the ref itself: a reused reference
        raise ValueError("a meeting with this reference exists already")
    return await _meeting(session, row), False
