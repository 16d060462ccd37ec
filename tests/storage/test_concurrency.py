"""Votes and bookings under concurrency: separate connections, as separate processes would have.

The elapsed times are printed, not asserted (speed belongs to benchmarks).
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from core.meetings import Meeting, SlotOffer
from core.people import ChatIdentity, Platform, Profile, ProgramId
from core.polls import Choice, Poll, PollOption, tally
from core.time import Interval
from storage.database import Database
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


async def test_a_thousand_concurrent_votes_end_in_the_exact_tally(
    storage: Storage, database: Database, capsys: pytest.CaptureFixture[str]
):
    await storage.programs.ensure(PROGRAM, "Program")
    people = [
        await storage.people.remember(
            PROGRAM, ChatIdentity(Platform.SLACK, "T1", f"U{i}"), Profile(f"Voter {i}")
        )
        for i in range(50)
    ]
    poll = await storage.polls.create(
        Poll(
            ref="poll-1",
            program=PROGRAM,
            organizer=people[0].id,
            title="Circle",
            duration_minutes=60,
            invitees=tuple(p.id for p in people),
            options=tuple(
                PollOption(0, NOW + timedelta(days=d), NOW + timedelta(days=d, hours=1))
                for d in range(8)
            ),
            created_at=NOW,
        )
    )
    rng = random.Random(7)
    # Each person's choice for an option is fixed, so the final state is known whatever the
    # order; drawing 1,000 clicks from ~300 distinct votes makes most of them repeats.
    distinct = {
        (person.id, option.id): rng.choice(list(Choice))
        for person in people
        for option in poll.options
        if rng.random() < 0.75
    }
    pairs = list(distinct)
    clicks = [rng.choice(pairs) for _ in range(VOTES)]
    cast = set(clicks)
    expected: dict[int, dict[Choice, int]] = {}
    for person_id, option_id in cast:
        expected.setdefault(option_id, dict.fromkeys(Choice, 0))[
            distinct[person_id, option_id]
        ] += 1

    workers = separate(database, storage)
    try:
        started = time.perf_counter()

        async def worker(index: int) -> int:
            accepted = 0
            for person_id, option_id in clicks[index::TASKS]:
                choice = distinct[person_id, option_id]
                accepted += await workers[index].polls.vote(
                    "poll-1", option_id, person_id, choice, NOW
                )
            return accepted

        accepted = await asyncio.gather(*(worker(i) for i in range(TASKS)))
        elapsed = time.perf_counter() - started
    finally:
        for worker_storage in workers:
            await worker_storage.close()

    assert sum(accepted) == VOTES
    assert tally(await storage.polls.votes("poll-1")) == expected
    assert len(await storage.polls.votes("poll-1")) == len(cast)
    with capsys.disabled():
        print(f"\n[{database.dialect}] {VOTES} votes from {TASKS} connections: {elapsed:.2f} s")


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
                    )
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
