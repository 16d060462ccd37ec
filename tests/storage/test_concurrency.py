"""Votes and bookings under concurrency: separate connections, as separate processes would have.

The elapsed times are printed, not asserted (speed belongs to benchmarks).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Executable, Row

from core.jobs import NewJob
from core.meetings import Meeting, MeetingStatus, SlotOffer
from core.people import ChatIdentity, Person, PersonId, Platform, Profile, ProgramId
from core.polls import Choice, Click, Poll, PollOption, Vote, tally
from core.time import Interval
from storage.database import Database
from storage.prepared import Prepared
from storage.store import Storage

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
PROGRAM = ProgramId("slack:T1")
TASKS = 20
VOTES = 1000


def separate(database: Database, storage: Storage) -> list[Storage]:
    """One engine per task: every task votes over its own connection."""
    return [
        Storage.over(
            Database(database.url, pool_size=1, connect_args=database.connect_args),
            storage.vault,
        )
        for _ in range(TASKS)
    ]


async def a_poll(
    storage: Storage, ref: str, names: Sequence[str], days: Iterable[int]
) -> tuple[Poll, list[Person]]:
    """An hour-long poll ``ref`` in ``PROGRAM`` among ``names`` (the first organises it), with
    a time on each of ``days`` after ``NOW``."""
    await storage.programs.ensure(PROGRAM, "Program")
    people = [
        await storage.people.remember(
            PROGRAM, ChatIdentity(Platform.SLACK, "T1", f"U{name.replace(' ', '')}"), Profile(name)
        )
        for name in names
    ]
    poll = await storage.polls.create(
        Poll(
            ref=ref,
            program=PROGRAM,
            organizer=people[0].id,
            title="Circle",
            duration_minutes=60,
            invitees=tuple(p.id for p in people),
            options=tuple(
                PollOption(0, NOW + timedelta(days=d), NOW + timedelta(days=d, hours=1))
                for d in days
            ),
            created_at=NOW,
        )
    )
    return poll, people


async def test_a_thousand_clicks_handled_in_any_order_and_some_twice_end_in_the_exact_tally(
    storage: Storage, database: Database, capsys: pytest.CaptureFixture[str]
):
    poll, people = await a_poll(storage, "poll-1", [f"Voter {i}" for i in range(50)], range(8))
    rng = random.Random(7)
    # 1,000 clicks on ~300 (person, option) ballots, each sent at its own time; some are
    # double-clicks (0.4 s after the one before), most a second or third thought seconds
    # later. They are handled in a shuffled order over 20 connections, as a backlog and
    # several processes would, and a tenth of them twice (a retry after a crash).
    ballots = [
        (person.id, option.id)
        for person in people
        for option in poll.options
        if rng.random() < 0.75
    ]
    clicks: list[tuple[PersonId, int, Click]] = []
    sent: dict[tuple[PersonId, int], float] = {}
    for number in range(VOTES):
        person_id, option_id = rng.choice(ballots)
        gap = 0.4 if rng.random() < 0.2 else rng.uniform(3, 30)
        at = sent[person_id, option_id] = sent.get((person_id, option_id), 0) + gap
        choice = rng.choice(list(Choice))
        clicks.append(
            (person_id, option_id, Click(choice, NOW + timedelta(seconds=at), f"c{number}"))
        )
    handled = clicks + rng.sample(clicks, VOTES // 10)
    rng.shuffle(handled)
    expected = tally(
        [
            Vote(option_id, person_id, choice)
            for (person_id, option_id), choice in reference_fold(clicks).items()
            if choice is not None
        ]
    )

    workers = separate(database, storage)
    try:
        started = time.perf_counter()

        async def worker(index: int) -> int:
            counted = 0
            for person_id, option_id, each in handled[index::TASKS]:
                ballot = await workers[index].polls.cast("poll-1", option_id, person_id, each)
                counted += ballot is not None
            return counted

        counted = await asyncio.gather(*(worker(i) for i in range(TASKS)))
        elapsed = time.perf_counter() - started
    finally:
        for worker_storage in workers:
            await worker_storage.close()

    assert sum(counted) == len(handled)
    assert tally(await storage.polls.votes("poll-1")) == expected
    # Each click raised the version once, repeats not at all.
    assert (await storage.polls.counted("poll-1")).version == VOTES
    with capsys.disabled():
        print(f"\n[{database.dialect}] {len(handled)} clicks, {TASKS} connections: {elapsed:.2f} s")


def reference_fold(
    clicks: list[tuple[PersonId, int, Click]],
) -> dict[tuple[PersonId, int], Choice | None]:
    """The rule, written out plainly: per ballot, clicks in the order sent; the same choice
    within 2 s of the click before is a double-click; the same choice again withdraws."""
    votes: dict[tuple[PersonId, int], Choice | None] = {}
    last: dict[tuple[PersonId, int], Click] = {}
    for person_id, option_id, click in sorted(clicks, key=lambda c: (c[2].at, c[2].id)):
        key = (person_id, option_id)
        before = last.get(key)
        last[key] = click
        if before and before.choice is click.choice and click.at - before.at < timedelta(seconds=2):
            continue
        votes[key] = None if votes.get(key) is click.choice else click.choice
    return votes


async def test_fifty_concurrent_bookings_of_one_offer_make_one_meeting(
    storage: Storage, database: Database
):
    await storage.programs.ensure(PROGRAM, "Program")
    ana = await storage.people.remember(
        PROGRAM, ChatIdentity(Platform.SLACK, "T1", "UA"), Profile("Ana")
    )
    ben = await storage.people.remember(
        PROGRAM, ChatIdentity(Platform.SLACK, "T1", "UB"), Profile("Ben")
    )
    slot = Interval(NOW + timedelta(days=1), NOW + timedelta(days=1, minutes=30))
    await storage.offers.add(
        SlotOffer("offer-1", PROGRAM, ana.id, (ana.id, ben.id), 30, slot, (slot,), (slot,), NOW)
    )
    workers = separate(database, storage)
    try:
        results = await asyncio.gather(
            *(
                workers[attempt % TASKS].meetings.book(
                    Meeting(
                        ref=f"m{attempt}",
                        program=PROGRAM,
                        organizer=ana.id,
                        participants=(ana.id, ben.id),
                        start=slot.start,
                        end=slot.end,
                        title="Mentoring",
                        created_at=NOW,
                        offer_ref="offer-1",
                    ),
                    [NewJob("email", f"email:m{attempt}:0:ana@example.org", due_at=NOW)],
                )
                for attempt in range(50)
            )
        )
    finally:
        for worker_storage in workers:
            await worker_storage.close()
    assert sum(created for _, created in results) == 1
    assert len({meeting.ref for meeting, _ in results}) == 1
    booked = await storage.meetings.for_offer("offer-1")
    assert booked is not None
    assert booked.participants == (ana.id, ben.id)
    # The booking's work was enqueued with it, once: only by the call that booked.
    assert await storage.jobs.state(f"email:{booked.ref}:0:ana@example.org") is not None
    others = [f"email:m{i}:0:ana@example.org" for i in range(50) if f"m{i}" != booked.ref]
    assert [await storage.jobs.state(key) for key in others] == [None] * 49


async def test_twenty_concurrent_answers_to_a_proposal_change_it_once(
    storage: Storage, database: Database
):
    """Both people of a pair clicking Accept and Decline at once, from twenty connections
    (as twenty processes would): one change wins, and only its emails are enqueued."""
    await storage.programs.ensure(PROGRAM, "Program")
    ana = await storage.people.remember(
        PROGRAM, ChatIdentity(Platform.SLACK, "T1", "UA"), Profile("Ana")
    )
    ben = await storage.people.remember(
        PROGRAM, ChatIdentity(Platform.SLACK, "T1", "UB"), Profile("Ben")
    )
    slot = Interval(NOW + timedelta(days=1), NOW + timedelta(days=1, minutes=30))
    proposed = Meeting(
        ref="m1",
        program=PROGRAM,
        organizer=ana.id,
        participants=(ana.id, ben.id),
        start=slot.start,
        end=slot.end,
        title="Mentoring",
        created_at=NOW,
        status=MeetingStatus.PROPOSED,
        proposer=ana.id,
    )
    await storage.meetings.book(proposed)
    workers = separate(database, storage)
    answers = [MeetingStatus.CONFIRMED if i % 2 else MeetingStatus.DECLINED for i in range(TASKS)]
    try:
        results = await asyncio.gather(
            *(
                workers[i].meetings.change(
                    replace(proposed, status=answer),
                    expected=0,
                    jobs=[NewJob("email", f"email:m1:1:answer{i}", due_at=NOW)],
                )
                for i, answer in enumerate(answers)
            )
        )
    finally:
        for worker_storage in workers:
            await worker_storage.close()
    (won,) = [(i, stored) for i, stored in enumerate(results) if stored is not None]
    index, stored = won
    assert stored.sequence == 1
    assert stored.status is answers[index]
    assert await storage.meetings.get("m1") == stored
    kept = [await storage.jobs.state(f"email:m1:1:answer{i}") for i in range(TASKS)]
    assert [i for i, job in enumerate(kept) if job is not None] == [index]


async def test_both_people_of_a_pair_booking_the_same_time_at_once_make_one_meeting(
    storage: Storage, database: Database
):
    """Each asked for times with the other and both click the same time, ten times each,
    from twenty connections: one meeting, one set of jobs; a third person's meeting at
    that time is refused too (it would double-book one of them)."""
    await storage.programs.ensure(PROGRAM, "Program")
    people = [
        await storage.people.remember(
            PROGRAM, ChatIdentity(Platform.SLACK, "T1", f"U{name}"), Profile(name)
        )
        for name in ("Ana", "Ben", "Cy")
    ]
    ana, ben, cy = (p.id for p in people)
    slot = Interval(NOW + timedelta(days=1), NOW + timedelta(days=1, minutes=30))
    for ref, requester, other in (("offer-a", ana, ben), ("offer-b", ben, ana)):
        await storage.offers.add(
            SlotOffer(ref, PROGRAM, requester, (requester, other), 30, slot, (slot,), (slot,), NOW)
        )

    def booking(attempt: int) -> Meeting:
        offer, requester = ("offer-a", ana) if attempt % 2 else ("offer-b", ben)
        return Meeting(
            ref=f"m{attempt}",
            program=PROGRAM,
            organizer=requester,
            participants=(requester, ben if requester == ana else ana),
            start=slot.start,
            end=slot.end,
            title="Mentoring",
            created_at=NOW,
            offer_ref=offer,
            status=MeetingStatus.PROPOSED,
            proposer=requester,
        )

    workers = separate(database, storage)
    try:
        results = await asyncio.gather(
            *(
                workers[i].meetings.book(
                    booking(i), [NewJob("email", f"email:m{i}:0:x@example.org", due_at=NOW)]
                )
                for i in range(TASKS)
            )
        )
    finally:
        for worker_storage in workers:
            await worker_storage.close()
    assert sum(created for _, created in results) == 1
    (won,) = {meeting.ref for meeting, _ in results}
    jobs = [await storage.jobs.state(f"email:m{i}:0:x@example.org") for i in range(TASKS)]
    assert [f"m{i}" for i, job in enumerate(jobs) if job is not None] == [won]

    with_cy = replace(booking(1), ref="m-cy", offer_ref="offer-c", participants=(ana, cy))
    await storage.offers.add(
        SlotOffer("offer-c", PROGRAM, ana, (ana, cy), 30, slot, (slot,), (slot,), NOW)
    )
    assert await storage.meetings.book(with_cy) == (await storage.meetings.get(won), False)
    assert (
        await storage.meetings.book(
            replace(with_cy, start=slot.end, end=slot.end + timedelta(minutes=30))
        )
    )[1]


async def test_a_move_onto_a_time_another_meeting_took_meanwhile_is_refused(
    storage: Storage, database: Database
):
    """A pair's meeting moved to a time at which, meanwhile, one of them was booked with
    someone else: the move changes nothing (its sequence stays); a free time moves it."""
    await storage.programs.ensure(PROGRAM, "Program")
    ana, ben, cy = [
        (
            await storage.people.remember(
                PROGRAM, ChatIdentity(Platform.SLACK, "T1", f"U{name}"), Profile(name)
            )
        ).id
        for name in ("Ana", "Ben", "Cy")
    ]
    day = NOW + timedelta(days=1)
    first = Meeting(
        ref="m1",
        program=PROGRAM,
        organizer=ana,
        participants=(ana, ben),
        start=day,
        end=day + timedelta(minutes=30),
        title="Mentoring",
        created_at=NOW,
    )
    other = replace(
        first, ref="m2", participants=(ana, cy), start=day + timedelta(hours=2),
        end=day + timedelta(hours=2, minutes=30),
    )  # fmt: skip
    await storage.meetings.book(first)
    await storage.meetings.book(other)

    onto = replace(first, start=other.start, end=other.end)
    assert await storage.meetings.change(onto, expected=0) is None
    assert await storage.meetings.get("m1") == first
    elsewhere = replace(
        first, start=day + timedelta(hours=4), end=day + timedelta(hours=4, minutes=30)
    )
    moved = await storage.meetings.change(elsewhere, expected=0)
    assert moved is not None
    assert (moved.start, moved.sequence) == (elsewhere.start, 1)
    # A change that keeps the time is not a move: a status change passes.
    kept = await storage.meetings.change(replace(moved, location="Room 4"), expected=1)
    assert kept is not None


class ClickInBetween(Database):
    """A database on which something else happens right after the next read: another
    process counting a click while a vote on SQLite sits between its read and its write."""

    then: Callable[[], Awaitable[object]] | None = None

    async def rows(
        self, statement: Executable | Prepared, parameters: Mapping[str, Any] | None = None
    ) -> Sequence[Row[Any]]:
        rows = await super().rows(statement, parameters)
        if self.then is not None:
            then, self.then = self.then, None
            await then()
        return rows


@pytest.mark.parametrize("empty_database", ["sqlite"], indirect=True)  # PostgreSQL: see below
async def test_a_click_counted_between_a_votes_read_and_its_write_is_not_lost(
    storage: Storage, database: Database
):
    """SQLite reads a ballot, then writes the vote only if the poll is unchanged; here
    another process counts a click on the same ballot in between, so the write is refused
    and the vote counted again under the write lock. "Yes" twice 5 s apart withdraws: had
    the first click been lost, the vote would stand."""
    assert database.dialect == "sqlite"  # PostgreSQL reads the ballot under the poll's lock
    poll, people = await a_poll(storage, "poll-1", ["Organiser", "Voter"], [1])
    voter, option = people[1].id, poll.options[0].id
    between = ClickInBetween(database.url)
    late = Storage.over(between, storage.vault)
    try:
        between.then = lambda: storage.polls.cast(
            "poll-1", option, voter, Click(Choice.YES, NOW, "first")
        )
        ballot = await late.polls.cast(
            "poll-1", option, voter, Click(Choice.YES, NOW + timedelta(seconds=5), "second")
        )
    finally:
        await late.close()
    assert ballot is not None
    assert [click.id for click in ballot.clicks] == ["first", "second"]
    assert ballot.vote is None
    assert await storage.polls.votes("poll-1") == []
    assert (await storage.polls.counted("poll-1")).version == 2  # once per click counted
