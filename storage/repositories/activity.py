"""What happened in a program, as plain facts for ``core.admin.activity`` to count: its
meetings (with their people) and its polls (with who was asked and who answered).

Two queries per kind over the period asked for, whatever the number of pairs: the counts
are made in core, where they are tested without a database."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import or_, select

from core.admin.activity import MeetingFact, PollFact
from core.people import PersonId, ProgramId
from storage import models
from storage.database import Database


class SqlActivity:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def meetings(self, program: ProgramId, since: datetime) -> list[MeetingFact]:
        """Meetings starting from ``since``, or created from then (the next ones too)."""
        meeting = models.Meeting
        async with self._db.reading() as session:
            rows = list(
                await session.execute(
                    select(
                        meeting.ref,
                        meeting.start,
                        meeting.end,
                        meeting.status,
                        meeting.poll_ref,
                        meeting.created_at,
                    ).where(
                        meeting.program_id == program,
                        or_(meeting.start >= since, meeting.created_at >= since),
                    )
                )
            )
            people: dict[str, set[PersonId]] = defaultdict(set)
            refs = [row.ref for row in rows]
            for start in range(0, len(refs), 1000):
                found = await session.execute(
                    select(
                        models.MeetingParticipant.meeting_ref,
                        models.MeetingParticipant.person_id,
                    ).where(models.MeetingParticipant.meeting_ref.in_(refs[start : start + 1000]))
                )
                for ref, person in found:
                    people[ref].add(PersonId(person))
        return [
            MeetingFact(
                row.ref,
                row.start,
                row.end,
                row.status,
                frozenset(people[row.ref]),
                row.poll_ref,
                row.created_at,
            )
            for row in rows
        ]

    async def polls(self, program: ProgramId, since: datetime) -> list[PollFact]:
        poll = models.Poll
        async with self._db.reading() as session:
            rows = list(
                await session.execute(
                    select(
                        poll.ref,
                        poll.organizer_id,
                        poll.channel,
                        poll.status,
                        poll.created_at,
                        poll.meeting_ref,
                    ).where(poll.program_id == program, poll.created_at >= since)
                )
            )
            refs = [row.ref for row in rows]
            invited: dict[str, set[PersonId]] = defaultdict(set)
            answered: dict[str, set[PersonId]] = defaultdict(set)
            booked: dict[str, datetime] = {}
            for start in range(0, len(refs), 1000):
                chunk = refs[start : start + 1000]
                for ref, person in await session.execute(
                    select(models.PollInvitee.poll_ref, models.PollInvitee.person_id).where(
                        models.PollInvitee.poll_ref.in_(chunk)
                    )
                ):
                    invited[ref].add(PersonId(person))
                for ref, person in await session.execute(
                    select(models.PollVote.poll_ref, models.PollVote.person_id)
                    .where(models.PollVote.poll_ref.in_(chunk), models.PollVote.choice.is_not(None))
                    .distinct()
                ):
                    answered[ref].add(PersonId(person))
            meeting_refs = [row.meeting_ref for row in rows if row.meeting_ref]
            for start in range(0, len(meeting_refs), 1000):
                found = await session.execute(
                    select(models.Meeting.ref, models.Meeting.created_at).where(
                        models.Meeting.ref.in_(meeting_refs[start : start + 1000])
                    )
                )
                booked.update((ref, created) for ref, created in found)
        return [
            PollFact(
                row.ref,
                PersonId(row.organizer_id),
                row.channel,
                row.status,
                row.created_at,
                frozenset(invited[row.ref]),
                frozenset(answered[row.ref]),
                booked.get(row.meeting_ref) if row.meeting_ref else None,
            )
            for row in rows
        ]
