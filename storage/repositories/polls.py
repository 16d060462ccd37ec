"""Polls and their votes: core's Polls port.

A vote is one row per person and option, so repeats update it; every status
change is a conditional UPDATE, so of two processes exactly one performs it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from cachetools import LRUCache
from sqlalchemy import Table, bindparam, exists, func, select, true, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import NewJob
from core.people import PersonId, ProgramId
from core.polls import (
    Ballot,
    BookOnClose,
    Choice,
    Click,
    Counted,
    Poll,
    PollOption,
    PollStatus,
    Vote,
)
from storage import models
from storage.database import Database
from storage.prepared import Prepared
from storage.repositories.jobs import SqlJobs
from storage.repositories.meetings import insert_meeting
from storage.repositories.sql import affected

# Open polls read for votes, kept by this process (a poll is a few KB; the oldest go first).
OPEN_POLLS_KEPT = 256


class SqlPolls:
    def __init__(self, database: Database, jobs: SqlJobs) -> None:
        self._db = database
        self._jobs = jobs
        # ref -> an open, posted poll as read last: votes need no read of a poll whose
        # invitees, options and message are settled (every change here forgets it).
        self._open: LRUCache[str, Poll] = LRUCache(OPEN_POLLS_KEPT)

    def _forget(self, ref: str) -> None:
        self._open.pop(ref, None)

    async def create(self, poll: Poll) -> Poll:
        async with self._db.transaction() as session:
            session.add(
                models.Poll(
                    ref=poll.ref,
                    program_id=poll.program,
                    organizer_id=poll.organizer,
                    title=poll.title,
                    channel=poll.channel,
                    duration_minutes=poll.duration_minutes,
                    status=poll.status.value,
                    deadline=poll.deadline,
                    window_start=poll.window_start,
                    window_end=poll.window_end,
                    connected=poll.connected,
                    message=None,
                    busy_checked_at=poll.busy_checked_at or poll.created_at,
                    created_at=poll.created_at,
                    posted_at=None,
                    closed_at=None,
                    meeting_ref=None,
                )
            )
            await session.flush()
            session.add_all(
                models.PollInvitee(
                    poll_ref=poll.ref, person_id=person, required=person in poll.required
                )
                for person in dict.fromkeys(poll.invitees)
            )
            _add_options(session, poll.ref, poll.options)
            await session.flush()
            created = await _poll(session, poll.ref)
            assert created is not None  # just stored
            return created

    async def get(self, ref: str, *, cached: bool = False) -> Poll | None:
        if cached and (kept := self._open.get(ref)) is not None:
            return kept
        async with self._db.reading() as session:
            poll = await _poll(session, ref)
        if poll is not None and poll.status is PollStatus.OPEN and poll.message is not None:
            self._open[ref] = poll
        else:
            self._forget(ref)
        return poll

    async def replace_options(
        self, ref: str, options: Sequence[PollOption], busy_checked_at: datetime | None
    ) -> None:
        """Keep options by start time (and their votes), add new ones, drop the rest."""
        self._forget(ref)
        async with self._db.transaction() as session:
            existing = {
                row.start: row
                for row in await session.scalars(
                    select(models.PollOption).where(models.PollOption.poll_ref == ref)
                )
            }
            wanted = {option.start for option in options}
            for start, row in existing.items():
                if start not in wanted:
                    await session.delete(row)
            await session.flush()
            for position, option in enumerate(options):
                kept = existing.get(option.start)
                if kept is None:
                    _add_options(session, ref, [option], first_position=position)
                else:
                    kept.position, kept.busy_count, kept.end = (
                        position,
                        option.busy_count,
                        option.end,
                    )
            if busy_checked_at is not None:
                await session.execute(
                    update(models.Poll)
                    .where(models.Poll.ref == ref)
                    .values(busy_checked_at=busy_checked_at, version=models.Poll.version + 1)
                )

    async def set_terms(
        self, ref: str, *, deadline: datetime | None, required: Sequence[PersonId]
    ) -> None:
        self._forget(ref)
        async with self._db.transaction() as session:
            await session.execute(
                update(models.Poll).where(models.Poll.ref == ref).values(deadline=deadline)
            )
            await session.execute(
                update(models.PollInvitee)
                .where(models.PollInvitee.poll_ref == ref)
                .values(required=models.PollInvitee.person_id.in_(list(required)))
            )

    async def open(self, ref: str, now: datetime, *, then: Sequence[NewJob] = ()) -> bool:
        self._forget(ref)
        async with self._db.transaction() as session:
            result = await session.execute(
                update(models.Poll)
                .where(models.Poll.ref == ref, models.Poll.status == PollStatus.DRAFT.value)
                .values(status=PollStatus.OPEN.value, posted_at=now)
            )
            if not affected(result):
                return False
            await self._jobs.stage(session, then, now)
            return True

    async def posted(self, ref: str, message: Mapping[str, str]) -> None:
        self._forget(ref)
        async with self._db.transaction() as session:
            await session.execute(
                update(models.Poll).where(models.Poll.ref == ref).values(message=dict(message))
            )

    async def close(self, ref: str, now: datetime, book: BookOnClose) -> Poll | None:
        """The close's UPDATE takes the poll's row lock (PostgreSQL; SQLite's writer holds
        the database) and waits for the clicks under way, as ``cast`` explains; the votes
        read after it, in the same transaction, are final. The booking ``book`` makes of
        them is inserted in that transaction too, so the poll is never closed without it."""
        self._forget(ref)
        async with self._db.transaction() as session:
            result = await session.execute(
                update(models.Poll)
                .where(models.Poll.ref == ref, models.Poll.status == PollStatus.OPEN.value)
                .values(
                    status=PollStatus.CLOSED.value, closed_at=now, version=models.Poll.version + 1
                )
            )
            if not affected(result):
                return None
            closed = await _poll(session, ref)
            assert closed is not None  # just updated
            booking = book(closed, await _read_votes(session, ref))
            if booking is None:
                return closed
            meeting, _ = await insert_meeting(
                self._db, self._jobs, session, booking.meeting, booking.jobs
            )
            await session.execute(
                update(models.Poll).where(models.Poll.ref == ref).values(meeting_ref=meeting.ref)
            )
            return replace(closed, meeting=meeting.ref)

    async def cancel(self, ref: str, now: datetime) -> bool:
        self._forget(ref)
        async with self._db.transaction() as session:
            result = await session.execute(
                update(models.Poll)
                .where(
                    models.Poll.ref == ref,
                    models.Poll.status.in_([PollStatus.OPEN.value, PollStatus.DRAFT.value]),
                )
                .values(
                    status=PollStatus.CANCELLED.value,
                    closed_at=now,
                    version=models.Poll.version + 1,
                )
            )
            return bool(affected(result))

    async def cast(self, ref: str, option: int, person: PersonId, click: Click) -> Ballot | None:
        """The click folded into the person's ballot where it was sent, and the vote written
        back, in one transaction where the poll is open; a click counted before, or an
        option not in the poll, counts nothing. Every vote raises the poll's version.

        PostgreSQL: two statements. The first raises the version, which takes the poll's
        row lock and checks that it is open, so the clicks on one poll are counted one at a
        time and a close waits for the clicks under way: its tally is final. Only then does
        it read the ballot (``_lock_with_ballot`` says why it sees every click counted
        before); the second writes the vote.

        SQLite: two statements and no transaction, when nothing else wrote meanwhile: the
        ballot and the poll's version read (a snapshot), and the vote written only if the
        poll is still open at that version (``_vote_if_unchanged``); a trigger raises the
        version with each vote written (migration 0016). Any vote on the poll, or its close,
        in between raises the version, and then the click is counted again under the write
        lock (``BEGIN IMMEDIATE``: the read sees every click counted before). On a SQLite
        file the read and the write run on the event loop, one after the other, so only
        other connections can come in between. The statements are built once
        (``_Cast``): building them cost more than running them."""
        statements = _cast(self._db.dialect)
        found = {"poll": ref, "option": option, "person": person}
        if (unlocked := statements.unlocked) is not None:
            rows = await self._db.rows(unlocked.read, found)
            if not rows or rows[0].option_id is None:
                return None  # not open (it never opens again), or not one of its times
            seen = rows[0]
            ballot = _ballot(seen.ballot, seen.choice, seen.updated_at)
            counted = ballot.with_click(click)
            if counted is None:
                return ballot  # counted before, and committed
            vote = _vote_row(ref, option, person, click, counted) | {"seen": seen.version}
            if (await self._db.write(unlocked.vote_if_unchanged, vote)).rowcount:
                return counted
        async with self._db.engine.connect() as connection, connection.begin() as transaction:
            locking = found if statements.unlocked else found | {"at": click.at}
            row = (await connection.execute(statements.locked, locking)).first()
            if row is None:
                return None  # not open
            if row.option_id is None:
                row = None  # not one of its times
            stored = _ballot(row.ballot, row.choice, row.updated_at) if row else None
            counted = stored.with_click(click) if stored is not None else None
            if stored is None or counted is None:
                await transaction.rollback()  # nothing to count: the version stays
                return stored
            await connection.execute(
                statements.vote, _vote_row(ref, option, person, click, counted)
            )
            return counted

    async def votes(self, ref: str, person: PersonId | None = None) -> list[Vote]:
        async with self._db.reading() as session:
            return await _read_votes(session, ref, person)

    async def counted(self, ref: str) -> Counted:
        """One Core statement, so one snapshot on both databases: the version and status
        belong to exactly this tally. The database counts: every vote draws the card."""
        rows = await self._db.rows(_COUNTED, {"ref": ref})
        if not rows:
            return Counted(0, PollStatus.CANCELLED, {})
        tallies: dict[int, tuple[int, int]] = {}
        for row in rows:
            if row.option_id is None:
                continue  # no votes: the outer join's one row
            yes, maybe = tallies.get(row.option_id, (0, 0))
            if row.choice == Choice.YES.value:
                yes += row.votes
            else:
                maybe += row.votes
            tallies[row.option_id] = (yes, maybe)
        first = rows[0]
        return Counted(first.version, PollStatus(first.status), tallies, first.busy_checked_at)

    async def unvoted(self, ref: str) -> list[PersonId]:
        voted = exists().where(
            models.PollVote.poll_ref == ref,
            models.PollVote.person_id == models.PollInvitee.person_id,
            models.PollVote.choice.is_not(None),
        )
        async with self._db.reading() as session:
            people = await session.scalars(
                select(models.PollInvitee.person_id)
                .where(
                    models.PollInvitee.poll_ref == ref,
                    models.PollInvitee.nudged_at.is_(None),
                    ~voted,
                )
                .order_by(models.PollInvitee.person_id)
            )
            return [PersonId(person) for person in people]

    async def nudged(self, ref: str, person: PersonId, now: datetime) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                update(models.PollInvitee)
                .where(
                    models.PollInvitee.poll_ref == ref,
                    models.PollInvitee.person_id == person,
                    models.PollInvitee.nudged_at.is_(None),
                )
                .values(nudged_at=now)
            )
            return bool(affected(result))


async def _read_votes(
    session: AsyncSession, ref: str, person: PersonId | None = None
) -> list[Vote]:
    # Plain columns, not ORM objects: this is read on every vote, for all of a poll's votes.
    vote = models.PollVote
    query = select(vote.option_id, vote.person_id, vote.choice, vote.updated_at).where(
        vote.poll_ref == ref, vote.choice.is_not(None)
    )
    if person is not None:
        query = query.where(vote.person_id == person)
    rows = await session.execute(query.order_by(vote.option_id, vote.person_id))
    return [
        Vote(option, PersonId(person), Choice(choice), at)
        for option, person, choice, at in rows
        if choice is not None  # the query leaves withdrawn votes out
    ]


def _add_options(
    session: AsyncSession, ref: str, options: Sequence[PollOption], *, first_position: int = 0
) -> None:
    session.add_all(
        models.PollOption(
            poll_ref=ref,
            start=option.start,
            end=option.end,
            position=first_position + index,
            busy_count=option.busy_count,
        )
        for index, option in enumerate(options)
    )


async def _poll(session: AsyncSession, ref: str) -> Poll | None:
    row = await session.get(models.Poll, ref, populate_existing=True)
    if row is None:
        return None
    invitees = list(
        await session.scalars(select(models.PollInvitee).where(models.PollInvitee.poll_ref == ref))
    )
    options = await session.scalars(
        select(models.PollOption)
        .where(models.PollOption.poll_ref == ref)
        .order_by(models.PollOption.position)
    )
    return Poll(
        ref=row.ref,
        program=ProgramId(row.program_id),
        organizer=PersonId(row.organizer_id),
        title=row.title,
        duration_minutes=row.duration_minutes,
        invitees=tuple(PersonId(i.person_id) for i in invitees),
        options=tuple(PollOption(o.id, o.start, o.end, o.busy_count) for o in options),
        created_at=row.created_at,
        status=PollStatus(row.status),
        channel=row.channel,
        required=tuple(PersonId(i.person_id) for i in invitees if i.required),
        deadline=row.deadline,
        closed_at=row.closed_at,
        window_start=row.window_start,
        window_end=row.window_end,
        connected=row.connected,
        busy_checked_at=row.busy_checked_at,
        posted_at=row.posted_at,
        message=row.message,
        meeting=row.meeting_ref,
    )


def _ballot(stored: dict[str, Any] | None, choice: str | None, at: datetime | None) -> Ballot:
    """A stored ballot; a vote from before ballots were kept counts as one click at its
    ``updated_at``; no row at all is an empty ballot."""
    if stored is None:
        if choice is None or at is None:
            return Ballot()
        return Ballot(Choice(choice), Click(Choice(choice), at, ""))
    last = stored.get("last")
    base = stored.get("choice")
    return Ballot(
        Choice(base) if base else None,
        _click(last) if last else None,
        tuple(_click(click) for click in stored.get("clicks", ())),
    )


def _click(stored: list[str]) -> Click:
    at, choice, click_id = stored
    return Click(Choice(choice), datetime.fromisoformat(at), click_id)


def _stored_ballot(ballot: Ballot) -> dict[str, Any]:
    return {
        "choice": ballot.choice.value if ballot.choice is not None else None,
        "last": _stored_click(ballot.last) if ballot.last is not None else None,
        "clicks": [_stored_click(click) for click in ballot.clicks],
    }


def _stored_click(click: Click) -> list[str]:
    return [click.at.isoformat(), click.choice.value, click.id]


# ---------------------------------------------------------------- a vote's statements
# Built once: a vote runs them all, and building a statement (and its cache key) from ORM
# attributes cost more than running it.
_polls = cast("Table", models.Poll.__table__)
_options = cast("Table", models.PollOption.__table__)
_votes = cast("Table", models.PollVote.__table__)

_COUNTED = Prepared(
    select(
        _polls.c.version,
        _polls.c.status,
        _polls.c.busy_checked_at,
        _votes.c.option_id,
        _votes.c.choice,
        func.count(_votes.c.option_id).label("votes"),
    )
    .select_from(_polls)
    .outerjoin(_votes, (_votes.c.poll_ref == _polls.c.ref) & _votes.c.choice.is_not(None))
    .where(_polls.c.ref == bindparam("ref"))
    .group_by(
        _polls.c.version,
        _polls.c.status,
        _polls.c.busy_checked_at,
        _votes.c.option_id,
        _votes.c.choice,
    )
)


@dataclass(frozen=True)
class _Cast:
    # In a transaction: the poll, while it is open, locked (on PostgreSQL its version raised
    # too), and the option (when it is the poll's) and this person's ballot on it, as they
    # are once the lock is granted.
    locked: Any
    vote: Any  # the vote written, new or over the old
    unlocked: _Unlocked | None = None  # SQLite: tried first


@dataclass(frozen=True)
class _Unlocked:
    """Run on the event loop without SQLAlchemy's per-statement work (``Prepared``)."""

    read: Prepared  # what ``_Cast.locked`` reads, without a lock
    vote_if_unchanged: Prepared  # ``_Cast.vote``, unless the poll changed since the read


@functools.cache
def _cast(dialect: str) -> _Cast:
    if dialect == "postgresql":  # its dialect only for PostgreSQL: SQLite servers start sooner
        from sqlalchemy.dialects.postgresql import insert  # noqa: PLC0415

        return _Cast(locked=_lock_with_ballot(insert), vote=_upsert_vote(insert(_votes)))
    read = _read_ballot()
    return _Cast(
        locked=read,
        vote=_upsert_vote(sqlite.insert(_votes)),
        unlocked=_Unlocked(Prepared(read), Prepared(_vote_if_unchanged())),
    )


def _upsert_vote(upsert: Any) -> Any:
    return upsert.on_conflict_do_update(
        index_elements=["option_id", "person_id"],
        set_={
            "choice": upsert.excluded.choice,
            "updated_at": upsert.excluded.updated_at,
            "ballot": upsert.excluded.ballot,
        },
    )


def _vote_row(
    ref: str, option: int, person: PersonId, click: Click, counted: Ballot
) -> dict[str, Any]:
    choice = counted.vote
    return {
        "option_id": option,
        "person_id": person,
        "poll_ref": ref,
        "choice": choice.value if choice is not None else None,
        "updated_at": counted.at or click.at,
        "ballot": _stored_ballot(counted),
    }


def _lock_with_ballot(insert: Any) -> Any:
    """PostgreSQL: one statement of two data-modifying CTEs. ``bump`` raises the version,
    waiting for the poll's row lock; ``mine`` reads from it, so it runs once the lock is
    granted, and stores the vote's row (a placeholder with no choice, when there is none)
    with ``ON CONFLICT DO UPDATE``, which locks the stored row and returns its latest
    committed state, not the one in the statement's snapshot (taken before the lock was
    waited for, so a plain read here would miss a click of the same person counted while
    this one waited: a SELECT of its own was needed for that). Another click of the same
    person on the same time holds the poll's lock until it commits, so the row returned is
    the one it left. The placeholder is rolled back with the rest when there is nothing to
    count, and is a withdrawn vote (no choice) until the vote overwrites it."""
    bump = (
        update(_polls)
        .where(_polls.c.ref == bindparam("poll"), _polls.c.status == PollStatus.OPEN.value)
        .values(version=_polls.c.version + 1)
        .returning(_polls.c.ref)
        .cte("bump")
    )
    placeholder = insert(_votes).from_select(
        ["option_id", "person_id", "poll_ref", "updated_at"],
        select(
            _options.c.id,
            bindparam("person", type_=_votes.c.person_id.type),
            _options.c.poll_ref,
            bindparam("at", type_=_votes.c.updated_at.type),
        )
        .join_from(_options, bump, _options.c.poll_ref == bump.c.ref)
        .where(_options.c.id == bindparam("option")),
    )
    mine = (
        placeholder.on_conflict_do_update(
            index_elements=["option_id", "person_id"], set_={"choice": _votes.c.choice}
        )
        .returning(_votes.c.option_id, _votes.c.ballot, _votes.c.choice, _votes.c.updated_at)
        .cte("mine")
    )
    return select(
        bump.c.ref, mine.c.option_id, mine.c.ballot, mine.c.choice, mine.c.updated_at
    ).select_from(bump.outerjoin(mine, true()))


def _read_ballot() -> Any:
    """SQLite: the poll's version while it is open, the option (when it is the poll's) and
    this person's ballot on it, in one snapshot."""
    option = (
        select(_options.c.id)
        .where(_options.c.id == bindparam("option"), _options.c.poll_ref == _polls.c.ref)
        .scalar_subquery()
    )

    def mine(column: Any) -> Any:
        return (
            select(column)
            .where(
                _votes.c.option_id == bindparam("option"),
                _votes.c.person_id == bindparam("person"),
            )
            .scalar_subquery()
        )

    return select(
        _polls.c.version,
        option.label("option_id"),
        mine(_votes.c.ballot).label("ballot"),
        mine(_votes.c.choice).label("choice"),
        mine(_votes.c.updated_at).label("updated_at"),
    ).where(_polls.c.ref == bindparam("poll"), _polls.c.status == PollStatus.OPEN.value)


def _vote_if_unchanged() -> Any:
    """SQLite: the vote written (its trigger raises the poll's version) only while the poll
    is open, still at the version ``seen`` with the ballot, and still has the option: one
    statement, so nothing comes between that check and the write."""
    unchanged = exists().where(
        _polls.c.ref == bindparam("poll_ref"),
        _polls.c.status == PollStatus.OPEN.value,
        _polls.c.version == bindparam("seen"),
    )
    still_an_option = exists().where(
        _options.c.id == bindparam("option_id"), _options.c.poll_ref == bindparam("poll_ref")
    )
    columns = ["option_id", "person_id", "poll_ref", "choice", "updated_at", "ballot"]
    values = select(*(bindparam(column, type_=_votes.c[column].type) for column in columns)).where(
        unchanged, still_an_option
    )
    return _upsert_vote(sqlite.insert(_votes).from_select(columns, values))
