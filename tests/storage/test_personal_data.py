"""Erasing a person in storage: what names them goes, other people's work stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from core.jobs import NewJob
from core.meetings import SlotOffer
from core.time import Interval
from storage.store import Storage
from tests.storage.test_repositories import NOW, SLACK, person


async def payloads(storage: Storage) -> dict[str, str]:
    async with storage.database.reading() as session:
        rows = await session.execute(text("SELECT key, payload FROM jobs"))
        return {key: str(payload) for key, payload in rows}


async def test_jobs_naming_the_person_go_and_others_stay_pointing_at_nobody(storage: Storage):
    sam = await person(storage, "Sam Lee", email="sam@example.org")
    samantha = await person(storage, "Samantha Leeds", email="samantha@example.org")
    await storage.jobs.enqueue(NewJob("email", "to-sam", {"to": "sam@example.org"}), NOW)
    await storage.jobs.enqueue(
        NewJob("email", "to-samantha", {"to": "samantha@example.org", "text": "Samantha"}), NOW
    )
    await storage.jobs.enqueue(
        NewJob("email", "organised-by-sam", {"to": "samantha@example.org", "organizer": sam.id}),
        NOW,
    )

    removed = await storage.personal_data.erase(sam.id)

    left = await payloads(storage)
    assert set(left) == {"to-samantha", "organised-by-sam"}
    assert sam.id not in left["organised-by-sam"]  # the stand-in organised it now
    assert "samantha@example.org" in left["to-samantha"]
    assert removed["queued or finished jobs"] == 1
    assert await storage.people.get(samantha.id) is not None
    assert await storage.personal_data.erase(sam.id) == {}


async def test_a_job_being_run_is_emptied_not_deleted_so_its_worker_still_holds_it(
    storage: Storage,
):
    """The request asking to forget someone is one: its worker, which holds the payload
    already, still holds the row (its lease renews, its answer is sent and it completes)."""
    sam = await person(storage, "Sam Lee", email="sam@example.org")
    asking = NewJob("slack.inbox", "forget-click", {"user": "sam@example.org"})
    running = await storage.jobs.enqueue_claimed(asking, NOW, "worker-1", timedelta(seconds=10))
    assert running is not None

    removed = await storage.personal_data.erase(sam.id)

    assert await payloads(storage) == {"forget-click": "{}"}
    assert removed["queued or finished jobs"] == 1
    later = NOW + timedelta(seconds=5)
    assert await storage.jobs.extend([running.id], "worker-1", later) == {running.id}
    assert await storage.jobs.complete(running, "worker-1", later)
    assert await storage.personal_data.erase(sam.id) == {}


async def test_a_kept_search_naming_the_person_goes_with_them(storage: Storage):
    """A find-time button too long to carry its request keeps it as an offer with no times
    (``core.scheduling.common.replay_reference``); it names everyone the search is for, so
    forgetting any of them removes it."""
    ana = await person(storage, "Ana Ruiz")
    sam = await person(storage, "Sam Lee")
    cleo = await person(storage, "Cleo Park")
    window = Interval(NOW, NOW + timedelta(days=7))
    for ref, others in (("with-sam", (sam.id, cleo.id)), ("without-sam", (cleo.id,))):
        kept = SlotOffer(ref, SLACK, ana.id, (ana.id, *others), 60, window, (), (), NOW)
        await storage.offers.add(kept)

    removed = await storage.personal_data.erase(sam.id)

    assert removed["slot offers"] == 1
    assert await storage.offers.get("with-sam") is None
    left = await storage.offers.get("without-sam")
    assert left is not None
    assert left.participants == (ana.id, cleo.id)
