"""A poll's close and its booking are one transaction (``Polls.close``): a booking that
cannot be written leaves the poll open, never closed without its meeting; of closes at once
from several connections (as several processes), one closes and books."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.jobs import NewJob
from core.meetings import Meeting
from core.people import Person, ProgramId
from core.polls import Choice, Click, Poll, PollBooking, PollStatus, Vote
from storage.database import Database
from storage.store import Storage
from tests.storage.test_concurrency import a_poll, separate
from tests.support import meetings_refused

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
PROGRAM = ProgramId("slack:T1")


async def open_poll(storage: Storage) -> tuple[Poll, list[Person]]:
    poll, people = await a_poll(storage, "p1", ("Ana", "Ben", "Cy"), (1, 2))
    for person in people[1:]:
        click = Click(Choice.YES, NOW, f"click-{person.id}")
        assert await storage.polls.cast("p1", poll.options[1].id, person.id, click)
    return poll, people


def booking(ref: str):
    """A close's decision, as core's is: the most voted option, booked as ``ref``; the calls
    it got are in ``calls``."""
    calls: list[tuple[Poll, Sequence[Vote]]] = []

    def book(poll: Poll, votes: Sequence[Vote]) -> PollBooking | None:
        calls.append((poll, votes))
        if not votes:
            return None
        option = next(o for o in poll.options if o.id == votes[0].option)
        meeting = Meeting(
            ref=ref,
            program=poll.program,
            organizer=poll.organizer,
            participants=(poll.organizer, *(v.person for v in votes)),
            start=option.start,
            end=option.end,
            title=poll.title,
            created_at=NOW,
            poll_ref=poll.ref,
        )
        return PollBooking(meeting, [NewJob("meeting.told", f"told:{ref}", due_at=NOW)])

    return book, calls


async def test_a_close_books_with_its_final_votes_once(storage: Storage):
    poll, people = await open_poll(storage)
    book, calls = booking("m1")

    closed = await storage.polls.close("p1", NOW + timedelta(hours=1), book)

    assert closed is not None
    assert (closed.status, closed.meeting) == (PollStatus.CLOSED, "m1")
    ((seen, votes),) = calls
    assert seen.status is PollStatus.CLOSED  # what it decides on can change no more
    assert {v.person for v in votes} == {people[1].id, people[2].id}
    assert await storage.polls.get("p1") == closed
    meeting = await storage.meetings.get("m1")
    assert meeting is not None
    assert meeting.poll_ref == "p1"
    assert await storage.jobs.state("told:m1") is not None
    late = Click(Choice.YES, NOW + timedelta(hours=2), "late")
    assert await storage.polls.cast("p1", poll.options[0].id, people[0].id, late) is None

    again, more = booking("m2")
    assert await storage.polls.close("p1", NOW + timedelta(hours=2), again) is None
    assert more == []  # not asked: nothing to decide on a closed poll
    assert await storage.meetings.get("m2") is None
    assert not await storage.polls.cancel("p1", NOW)


async def test_a_close_whose_booking_cannot_be_written_leaves_the_poll_open(
    storage: Storage, database: Database
):
    """The booking's write fails after the close's own UPDATE: the close is rolled back
    with it, so the click run again (or the deadline's retry) closes and books."""
    _poll, _people = await open_poll(storage)
    book, _ = booking("m1")
    async with meetings_refused(database):
        with pytest.raises(Exception, match="meeting refused by the test"):
            await storage.polls.close("p1", NOW + timedelta(hours=1), book)

    still = await storage.polls.get("p1")
    assert still is not None
    assert (still.status, still.meeting, still.closed_at) == (PollStatus.OPEN, None, None)
    assert await storage.meetings.get("m1") is None
    assert await storage.jobs.state("told:m1") is None

    retry, _ = booking("m1")
    closed = await storage.polls.close("p1", NOW + timedelta(hours=1), retry)
    assert closed is not None
    assert closed.meeting == "m1"
    assert await storage.jobs.state("told:m1") is not None


async def test_twenty_closes_at_once_close_and_book_once(storage: Storage, database: Database):
    await open_poll(storage)
    workers = separate(database, storage)
    books = [booking(f"m{i}") for i in range(len(workers))]
    try:
        results = await asyncio.gather(
            *(
                worker.polls.close("p1", NOW + timedelta(hours=1), book)
                for worker, (book, _) in zip(workers, books, strict=True)
            )
        )
    finally:
        for worker_storage in workers:
            await worker_storage.close()
    (won,) = [i for i, closed in enumerate(results) if closed is not None]
    assert [len(calls) for _, calls in books] == [int(i == won) for i in range(len(books))]
    stored = await storage.polls.get("p1")
    assert stored is not None
    assert stored.meeting == f"m{won}"
    assert [await storage.jobs.state(f"told:m{i}") is not None for i in range(len(books))] == [
        i == won for i in range(len(books))
    ]
    assert [await storage.meetings.get(f"m{i}") is not None for i in range(len(books))] == [
        i == won for i in range(len(books))
    ]


async def test_a_poll_closed_without_its_meeting_is_named_on_the_poll_when_booked(
    storage: Storage,
):
    """A poll that a close whose booking failed left closed without a meeting (before the
    two were one transaction): ``Meetings.book`` of its meeting names it on the poll."""
    await open_poll(storage)
    closed = await storage.polls.close("p1", NOW, lambda _poll, _votes: None)
    assert closed is not None
    assert closed.meeting is None
    book, _ = booking("m1")
    votes = await storage.polls.votes("p1")
    planned = book(closed, votes)
    assert planned is not None

    meeting, created = await storage.meetings.book(planned.meeting, planned.jobs)
    again, twice = await storage.meetings.book(replace(planned.meeting, ref="m2"), planned.jobs)

    assert (meeting.ref, created, again.ref, twice) == ("m1", True, "m1", False)
    stored = await storage.polls.get("p1")
    assert stored is not None
    assert (stored.status, stored.meeting) == (PollStatus.CLOSED, "m1")
