"""The jobs table: each key once, claims that exclude each other, leases that expire."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.jobs import Job, JobStatus, NewJob
from storage import models
from storage.database import Database
from storage.repositories.jobs import SqlJobs
from storage.store import Storage

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
LEASE = timedelta(seconds=30)


async def test_a_key_is_enqueued_once(storage: Storage):
    jobs = storage.jobs
    assert await jobs.enqueue(NewJob("email", "email:m1:0:ana", {"to": "ana"}), NOW)
    assert not await jobs.enqueue(NewJob("email", "email:m1:0:ana", {"to": "someone"}), NOW)
    state = await jobs.state("email:m1:0:ana")
    assert state is not None
    assert state.payload == {"to": "ana"}
    assert state.status is JobStatus.PENDING
    assert state.due_at == NOW
    batch = [NewJob("email", f"email:m1:0:{who}") for who in ("ana", "ben", "cy")]
    assert await jobs.enqueue_all(batch, NOW) == 2  # ana's was there
    assert await jobs.state("nothing") is None


async def test_claims_take_due_jobs_of_the_given_kinds_earliest_first(storage: Storage):
    jobs = storage.jobs
    await jobs.enqueue(NewJob("a", "late", due_at=NOW + timedelta(minutes=5)), NOW)
    await jobs.enqueue(NewJob("a", "second", due_at=NOW - timedelta(seconds=1)), NOW)
    await jobs.enqueue(NewJob("a", "first", due_at=NOW - timedelta(seconds=2)), NOW)
    await jobs.enqueue(NewJob("b", "other kind"), NOW)

    claimed = await jobs.claim(["a"], "w1", NOW, limit=10, lease=LEASE)
    assert [job.key for job in claimed] == ["first", "second"]
    assert all(job.attempts == 1 for job in claimed)
    # Claimed: nobody else gets them while the lease runs, even the same worker.
    assert await jobs.claim(["a"], "w2", NOW + LEASE / 2, limit=10, lease=LEASE) == []
    (later,) = await jobs.claim(["a", "b"], "w2", NOW + LEASE / 2, limit=1, lease=LEASE)
    assert later.key == "other kind"
    for job in claimed:
        assert await jobs.complete(job, "w1", NOW)
    (due,) = await jobs.claim(["a"], "w2", NOW + timedelta(minutes=5), limit=5, lease=LEASE)
    assert due.key == "late"


async def test_a_lease_that_expires_lets_another_worker_claim_the_job(storage: Storage):
    """A process dies holding a job (simulated: it never completes); the job waits out the
    lease, then another worker claims it, and the dead one's late word changes nothing."""
    jobs = storage.jobs
    await jobs.enqueue(NewJob("inbox", "slack:1", {"n": 1}), NOW)
    (held,) = await jobs.claim(["inbox"], "dead", NOW, limit=1, lease=LEASE)

    just_before = NOW + LEASE - timedelta(seconds=1)
    assert await jobs.claim(["inbox"], "alive", just_before, limit=1, lease=LEASE) == []
    (taken,) = await jobs.claim(["inbox"], "alive", NOW + LEASE, limit=1, lease=LEASE)
    assert taken.id == held.id
    assert taken.attempts == 2
    assert taken.payload == {"n": 1}

    assert not await jobs.complete(held, "dead", NOW + LEASE)  # not its claim any more
    assert not await jobs.retry(held, "dead", NOW, "late")
    assert await jobs.extend([held.id], "dead", NOW + 2 * LEASE) == set()
    assert await jobs.complete(taken, "alive", NOW + LEASE)
    state = await jobs.state("slack:1")
    assert state is not None
    assert state.status is JobStatus.DONE
    assert state.done_at == NOW + LEASE


async def test_retry_give_up_cancel_and_release(storage: Storage):
    jobs = storage.jobs
    for key in ("retried", "failed", "cancelled", "released"):
        await jobs.enqueue(NewJob("k", key), NOW)
    claimed = {j.key: j for j in await jobs.claim(["k"], "w", NOW, limit=10, lease=LEASE)}

    later = NOW + timedelta(minutes=1)
    assert await jobs.retry(claimed["retried"], "w", later, "SMTP answered 451")
    assert await jobs.give_up(claimed["failed"], "w", NOW, "x" * 1000)
    assert await jobs.cancel("cancelled", NOW)
    assert not await jobs.cancel("cancelled", NOW)  # once
    assert await jobs.release([claimed["released"].id], "w") == 1

    retried = await jobs.state("retried")
    assert retried is not None
    assert (retried.status, retried.due_at, retried.last_error) == (
        JobStatus.PENDING,
        later,
        "SMTP answered 451",
    )
    failed = await jobs.state("failed")
    assert failed is not None
    assert failed.status is JobStatus.FAILED
    assert failed.last_error == "x" * 300
    # A cancelled job that was running is not completed by its worker.
    assert not await jobs.complete(claimed["cancelled"], "w", NOW)
    cancelled = await jobs.state("cancelled")
    assert cancelled is not None
    assert cancelled.status is JobStatus.CANCELLED

    # Released: due again at once, its unfinished attempt not counted.
    (again,) = await jobs.claim(["k"], "w2", NOW, limit=10, lease=timedelta(hours=1))
    assert again.key == "released"
    assert again.attempts == 1
    (third,) = await jobs.claim(["k"], "w2", later, limit=10, lease=LEASE)
    assert third.key == "retried"
    assert third.attempts == 2


async def test_a_replacement_runs_after_the_run_it_replaced_and_older_versions_are_dropped(
    storage: Storage,
):
    jobs = storage.jobs
    key = "card:C1:1.1"
    assert await jobs.enqueue(NewJob("card", key, {"total": 1}, version=1), NOW, replace=True)
    (running,) = await jobs.claim(["card"], "w", NOW, limit=1, lease=LEASE)

    assert await jobs.enqueue(NewJob("card", key, {"total": 3}, version=3), NOW, replace=True)
    assert not await jobs.enqueue(NewJob("card", key, {"total": 2}, version=2), NOW, replace=True)
    # Still one sender per message: not claimable while the first run holds it.
    assert await jobs.claim(["card"], "w2", NOW, limit=1, lease=LEASE) == []
    assert not await jobs.complete(running, "w", NOW)  # it sent an outdated payload
    await jobs.release([running.id], "w")

    (newest,) = await jobs.claim(["card"], "w2", NOW, limit=1, lease=LEASE)
    assert newest.payload == {"total": 3}
    assert newest.revision == running.revision + 1
    assert await jobs.complete(newest, "w2", NOW)
    # A finished job comes back to life when replaced with a newer version.
    assert await jobs.enqueue(NewJob("card", key, {"total": 4}, version=4), NOW, replace=True)
    (revived,) = await jobs.claim(["card"], "w2", NOW, limit=1, lease=LEASE)
    assert revived.payload == {"total": 4}
    assert revived.attempts == 1


async def test_a_run_that_fails_for_good_after_it_was_replaced_leaves_the_new_payload_to_run(
    storage: Storage,
):
    """Giving up on an outdated revision fails only that revision: the newer one stored
    while it ran is still sent, with attempts of its own."""
    jobs = storage.jobs
    key = "card:C1:2.1"
    assert await jobs.enqueue(NewJob("card", key, {"total": 1}, version=1), NOW, replace=True)
    (running,) = await jobs.claim(["card"], "w", NOW, limit=1, lease=LEASE)
    assert await jobs.enqueue(NewJob("card", key, {"total": 2}, version=2), NOW, replace=True)

    assert await jobs.give_up(running, "w", NOW, "message_not_found")

    state = await jobs.state(key)
    assert state is not None
    assert (state.status, state.last_error, state.done_at) == (JobStatus.PENDING, None, None)
    (newest,) = await jobs.claim(["card"], "w2", NOW, limit=1, lease=LEASE)
    assert (newest.payload, newest.attempts) == ({"total": 2}, 1)
    # Not replaced: failed for good.
    assert await jobs.give_up(newest, "w2", NOW, "message_not_found")
    failed = await jobs.state(key)
    assert failed is not None
    assert (failed.status, failed.last_error) == (JobStatus.FAILED, "message_not_found")


async def test_a_replacement_is_leased_to_its_writer_unless_another_lease_runs(
    storage: Storage,
):
    """The card's newest render is stored and leased to the process that drew it in one
    statement: no claim. A live lease elsewhere keeps it there (that run ends replaced);
    an older version is still dropped, and a lease whose worker died is taken over."""
    jobs = storage.jobs
    key = "card:C1:2.2"
    first = await jobs.replace_claimed(
        NewJob("card", key, {"total": 1}, version=1), NOW, "w1", LEASE
    )
    assert first is not None
    assert first.mine
    assert first.job.attempts == 1
    assert await jobs.claim(["card"], "w2", NOW, limit=1, lease=LEASE) == []  # leased already

    # w2 draws a newer render while w1 sends the first: stored, but w1 keeps the lease.
    second = await jobs.replace_claimed(
        NewJob("card", key, {"total": 2}, version=2), NOW, "w2", LEASE
    )
    assert second is not None
    assert not second.mine
    assert second.job.revision == first.job.revision + 1
    assert (
        await jobs.replace_claimed(NewJob("card", key, {"total": 0}, version=0), NOW, "w2", LEASE)
        is None
    )
    # w1's own newer render is w1's to run under the lease it holds.
    third = await jobs.replace_claimed(
        NewJob("card", key, {"total": 3}, version=3), NOW, "w1", LEASE
    )
    assert third is not None
    assert third.mine
    assert not await jobs.complete(first.job, "w1", NOW)  # it sent an outdated payload
    assert await jobs.complete(third.job, "w1", NOW)
    state = await jobs.state(key)
    assert state is not None
    assert state.status is JobStatus.DONE
    assert state.payload == {"total": 3}

    # Done: the next render is leased afresh. Its writer dies; after the lease, another's is.
    fourth = await jobs.replace_claimed(
        NewJob("card", key, {"total": 4}, version=4), NOW, "w1", LEASE
    )
    assert fourth is not None
    assert fourth.mine
    later = NOW + LEASE
    fifth = await jobs.replace_claimed(
        NewJob("card", key, {"total": 5}, version=5), later, "w2", LEASE
    )
    assert fifth is not None
    assert fifth.mine
    assert not await jobs.complete(fourth.job, "w1", later)
    assert await jobs.complete(fifth.job, "w2", later)


async def test_progress_is_marked_once_inside_the_callers_transaction(storage: Storage):
    jobs = storage.jobs
    await jobs.enqueue(NewJob("inbox", "click:1"), NOW)
    (job,) = await jobs.claim(["inbox"], "w", NOW, limit=1, lease=LEASE)

    async def mark_then_fail() -> None:
        async with storage.database.transaction() as session:
            assert await jobs.mark(session, job, "w", {"said": "You voted yes"})
            raise RuntimeError  # the effect failed: the mark goes with it

    with pytest.raises(RuntimeError):
        await mark_then_fail()
    async with storage.database.transaction() as session:
        assert await jobs.mark(session, job, "w", {"said": "You voted yes"})
    async with storage.database.transaction() as session:
        assert not await jobs.mark(session, job, "w", {"said": "again"})

    await jobs.release([job.id], "w")
    (again,) = await jobs.claim(["inbox"], "w", NOW, limit=1, lease=LEASE)
    assert again.progress == {"said": "You voted yes"}


async def test_jobs_staged_in_a_transaction_exist_only_if_it_commits(storage: Storage):
    jobs = storage.jobs
    heard: list[datetime | None] = []
    jobs.listen(heard.append)
    due = NOW + timedelta(hours=1)

    async def stage_then_fail() -> None:
        async with storage.database.transaction() as session:
            assert await jobs.stage(session, [NewJob("poll.close", "poll.close:p1")], NOW) == 1
            raise RuntimeError

    with pytest.raises(RuntimeError):
        await stage_then_fail()
    assert await jobs.state("poll.close:p1") is None
    assert heard == []
    async with storage.database.transaction() as session:
        await jobs.stage(session, [NewJob("poll.close", "poll.close:p1", due_at=due)], NOW)
        assert heard == []  # not before the commit
    assert heard == [due]
    assert await jobs.state("poll.close:p1") is not None


async def test_finished_jobs_are_purged_and_pending_ones_kept(storage: Storage):
    jobs = storage.jobs
    for key in ("done", "pending"):
        await jobs.enqueue(NewJob("k", key), NOW)
    (job, _) = await jobs.claim(["k"], "w", NOW, limit=2, lease=LEASE)
    await jobs.complete(job, "w", NOW)
    assert await jobs.purge(NOW) == 0
    assert await jobs.purge(NOW + timedelta(seconds=1)) == 1
    assert await jobs.state("done") is None
    assert await jobs.state("pending") is not None
    assert await jobs.enqueue(NewJob("k", "done"), NOW)  # the key is free again


async def test_workers_racing_for_the_same_rows_claim_each_exactly_once(
    storage: Storage, database: Database
):
    """Four workers, each over its own connection as separate processes would be, claim
    small batches at once until nothing is left: every job is claimed by exactly one."""
    total = 200
    await storage.jobs.enqueue_all([NewJob("vote", f"vote:{i}") for i in range(total)], NOW)
    engines = [
        Database(database.url, pool_size=2, connect_args=database.connect_args) for _ in range(4)
    ]
    claimed: list[tuple[str, Job]] = []

    async def work(name: str, repository: SqlJobs) -> None:
        while batch := await repository.claim(["vote"], name, NOW, limit=7, lease=LEASE):
            claimed.extend((name, job) for job in batch)
            for job in batch:
                assert await repository.complete(job, name, NOW)

    try:
        await asyncio.gather(*(work(f"w{i}", SqlJobs(engine)) for i, engine in enumerate(engines)))
    finally:
        for engine in engines:
            await engine.close()
    ids = [job.id for _, job in claimed]
    assert len(ids) == total
    assert len(set(ids)) == total
    assert len({name for name, _ in claimed}) > 1  # they did race
    async with storage.database.reading() as session:
        done = await session.scalar(
            select(func.count()).where(models.Job.status == JobStatus.DONE.value)
        )
    assert done == total


async def test_completing_many_at_once_completes_only_what_is_still_held_as_claimed(
    storage: Storage,
):
    jobs = storage.jobs
    for key in ("a", "b", "c", "card"):
        await jobs.enqueue(NewJob("k", key, version=1), NOW, replace=key == "card")
    claimed = {j.key: j for j in await jobs.claim(["k"], "w", NOW, limit=10, lease=LEASE)}
    # "b" is taken over by another worker once its lease ran out; "card" is replaced.
    await jobs.release([claimed["b"].id], "w")
    (taken,) = await jobs.claim(["k"], "w2", NOW, limit=1, lease=LEASE)
    assert taken.key == "b"
    assert await jobs.enqueue(NewJob("k", "card", version=2), NOW, replace=True)

    done = await jobs.complete_all(list(claimed.values()), "w", NOW)

    assert done == {claimed["a"].id, claimed["c"].id}
    states = {key: await jobs.state(key) for key in claimed}
    assert {key: s.status for key, s in states.items() if s is not None} == {
        "a": JobStatus.DONE,
        "b": JobStatus.PENDING,
        "c": JobStatus.DONE,
        "card": JobStatus.PENDING,
    }
    assert await jobs.complete_all([], "w", NOW) == set()
