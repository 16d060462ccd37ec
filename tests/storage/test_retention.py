"""Records have a lifetime: old offers and meetings go in batches, their counts stay."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import text

from bot.chores import tidy
from core.meetings import Meeting, MeetingStatus, SlotOffer
from core.people import PersonId
from core.program import ProgramSettings
from core.time import Interval
from storage.store import Storage
from tests.storage.test_repositories import NOW, SLACK, person


async def offer_made(
    storage: Storage, ref: str, people: tuple[PersonId, PersonId], *, days_ago: int
) -> None:
    ana, ben = people
    made = NOW - timedelta(days=days_ago)
    slot = Interval(made + timedelta(days=1), made + timedelta(days=1, minutes=30))
    await storage.offers.add(
        SlotOffer(
            ref=ref,
            program=SLACK,
            requester=ana,
            participants=(ana, ben),
            duration_minutes=30,
            window=Interval(made, made + timedelta(days=7)),
            slots=(slot,),
            shown=(slot,),
            created_at=made,
        )
    )


async def meeting_held(
    storage: Storage,
    ref: str,
    people: tuple[PersonId, PersonId],
    *,
    days_ago: int,
    status: MeetingStatus = MeetingStatus.CONFIRMED,
) -> None:
    ana, ben = people
    start = NOW - timedelta(days=days_ago)
    meeting = Meeting(
        ref=ref,
        program=SLACK,
        organizer=ana,
        participants=(ana, ben),
        start=start,
        end=start + timedelta(minutes=30),
        title="Mentoring: Ana and Ben",
        created_at=start - timedelta(days=2),
        status=status,
    )
    _, booked = await storage.meetings.book(meeting)
    assert booked


async def count(storage: Storage, table: str) -> int:
    async with storage.database.reading() as session:
        return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_old_offers_and_meetings_go_in_batches_and_their_counts_stay(storage: Storage):
    ana, ben = await person(storage, "Ana"), await person(storage, "Ben")
    await storage.programs.save_settings(SLACK, replace(ProgramSettings(), retention_days=120))
    pair = (ana.id, ben.id)
    await offer_made(storage, "old-offer", pair, days_ago=200)
    await offer_made(storage, "new-offer", pair, days_ago=10)
    # NOW is Wednesday 25 November 2026: 198 days before is Monday 11 May.
    for ref, days_ago, status in (
        ("m1", 196, MeetingStatus.CONFIRMED),  # Wed 13 May
        ("m2", 198, MeetingStatus.CONFIRMED),  # Mon 11 May
        ("m3", 197, MeetingStatus.CANCELLED),  # Tue 12 May
        ("m4", 190, MeetingStatus.CONFIRMED),  # Tue 19 May
        ("m5", 191, MeetingStatus.DECLINED),  # Mon 18 May
        ("recent", 30, MeetingStatus.CONFIRMED),
    ):
        await meeting_held(storage, ref, pair, days_ago=days_ago, status=status)

    purged = await storage.retention.purge(SLACK, NOW - timedelta(days=120), batch=2)

    assert (purged.offers, purged.meetings) == (1, 5)
    assert await storage.offers.get("new-offer") is not None
    assert await storage.offers.get("old-offer") is None
    assert await storage.meetings.get("recent") is not None
    assert await count(storage, "meetings") == 1
    assert await count(storage, "meeting_participants") == 2  # the recent meeting's only
    assert await storage.retention.tallies(SLACK) == {
        (date(2026, 5, 11), "confirmed"): 2,
        (date(2026, 5, 11), "cancelled"): 1,
        (date(2026, 5, 18), "confirmed"): 1,
        (date(2026, 5, 18), "declined"): 1,
    }
    # A later run adds to the week's tally rather than replacing it.
    await meeting_held(storage, "late", pair, days_ago=195)  # Thu 14 May
    await storage.retention.purge(SLACK, NOW - timedelta(days=120))
    assert (await storage.retention.tallies(SLACK))[(date(2026, 5, 11), "confirmed")] == 3


async def test_the_hourly_tidy_keeps_what_is_younger_than_the_programs_lifetime(
    storage: Storage,
):
    ana, ben = await person(storage, "Ana"), await person(storage, "Ben")
    await meeting_held(storage, "m-300", (ana.id, ben.id), days_ago=300)
    await meeting_held(storage, "m-500", (ana.id, ben.id), days_ago=500)

    await tidy(storage, NOW)  # the default lifetime: 400 days

    assert await storage.meetings.get("m-300") is not None
    assert await storage.meetings.get("m-500") is None
