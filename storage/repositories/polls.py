"""Polls and their votes. A vote is one row per person and option: repeats update it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.people import PersonId, ProgramId
from core.polls import Choice, Poll, PollOption, PollStatus, Vote
from storage import models
from storage.database import Database
from storage.repositories.sql import affected, insert


class SqlPolls:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(self, poll: Poll) -> Poll:
        """Store a new poll; its options get their ids here (the ids in ``poll`` are ignored)."""
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
                    details={},
                    busy_checked_at=poll.created_at,
                    created_at=poll.created_at,
                    closed_at=None,
                )
            )
            await session.flush()
            session.add_all(
                models.PollInvitee(
                    poll_ref=poll.ref, person_id=person, required=person in poll.required
                )
                for person in dict.fromkeys(poll.invitees)
            )
            session.add_all(
                models.PollOption(
                    poll_ref=poll.ref,
                    start=option.start,
                    end=option.end,
                    position=position,
                    busy_count=option.busy_count,
                )
                for position, option in enumerate(poll.options)
            )
            await session.flush()
            return await _poll(session, poll.ref)

    async def get(self, ref: str) -> Poll | None:
        async with self._db.transaction() as session:
            if await session.get(models.Poll, ref) is None:
                return None
            return await _poll(session, ref)

    async def vote(
        self, ref: str, option: int, person: PersonId, choice: Choice, now: datetime
    ) -> bool:
        """Set ``person``'s vote on ``option`` to ``choice``, whatever it was: idempotent.

        Refused (False) when the option is not this poll's or the poll is not open.
        """
        async with self._db.transaction() as session:
            if not await _open_option(session, ref, option):
                return False
            statement = (
                insert(self._db, models.PollVote)
                .values(
                    option_id=option,
                    person_id=person,
                    poll_ref=ref,
                    choice=choice.value,
                    updated_at=now,
                )
                .on_conflict_do_update(
                    index_elements=["option_id", "person_id"],
                    set_={"choice": choice.value, "updated_at": now},
                )
            )
            await session.execute(statement)
            return True

    async def withdraw(self, ref: str, option: int, person: PersonId) -> bool:
        """Remove ``person``'s vote on ``option``; False when there was none to remove."""
        async with self._db.transaction() as session:
            if not await _open_option(session, ref, option):
                return False
            result = await session.execute(
                delete(models.PollVote).where(
                    models.PollVote.option_id == option, models.PollVote.person_id == person
                )
            )
            return bool(affected(result))

    async def votes(self, ref: str) -> list[Vote]:
        async with self._db.transaction() as session:
            rows = await session.scalars(
                select(models.PollVote)
                .where(models.PollVote.poll_ref == ref)
                .order_by(models.PollVote.option_id, models.PollVote.person_id)
            )
            return [
                Vote(row.option_id, PersonId(row.person_id), Choice(row.choice)) for row in rows
            ]


async def _open_option(session: AsyncSession, ref: str, option: int) -> bool:
    """Whether ``option`` belongs to the open poll ``ref``.

    The poll row is share-locked until the vote commits (PostgreSQL's FOR
    SHARE; SQLite serialises writers anyway), so closing the poll waits for
    votes in flight and its tally is final.
    """
    found = await session.scalar(
        select(models.PollOption.id)
        .join(models.Poll, models.Poll.ref == models.PollOption.poll_ref)
        .where(
            models.PollOption.id == option,
            models.PollOption.poll_ref == ref,
            models.Poll.status == PollStatus.OPEN.value,
        )
        .with_for_update(read=True, of=models.Poll)
    )
    return found is not None


async def _poll(session: AsyncSession, ref: str) -> Poll:
    row = await session.get(models.Poll, ref, populate_existing=True)
    assert row is not None
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
    )
