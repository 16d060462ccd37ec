"""bot.worker over a real database (both backends): handlers, retries, give-up, leases,
waking, shutdown. The clock is injected; tests await the work (``drain``), never sleep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import chores
from bot.inbox import WorkerInbox
from bot.worker import Permanent, Retry, Retryable, Worker
from core.jobs import Job, JobStatus, NewJob
from storage import models
from storage.database import Database
from storage.repositories.jobs import SqlJobs
from storage.store import Storage
from tests.memory import FixedClock

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
LEASE = timedelta(seconds=30)
DEADLINE = 60  # seconds: generous, for waits on observable state on a loaded machine


def worker(storage: Storage, clock: FixedClock, **options: object) -> Worker:
    return Worker(storage.jobs, clock, draw=lambda: 0.5, **options)  # type: ignore[arg-type]


async def test_each_kind_runs_its_own_handler_once(storage: Storage):
    clock = FixedClock(NOW)
    ran: list[tuple[str, str]] = []
    w = worker(storage, clock)

    async def email(job: Job) -> None:
        ran.append(("email", job.key))

    async def reminder(job: Job) -> None:
        ran.append(("reminder", job.key))
        # Work that enqueues work: drain runs that too.
        await storage.jobs.enqueue(NewJob("email", f"email:after:{job.key}"), clock.now())

    w.handle("email", email)
    w.handle("meeting.reminder", reminder)
    await storage.jobs.enqueue(NewJob("email", "email:1"), NOW)
    await storage.jobs.enqueue(NewJob("meeting.reminder", "r:1"), NOW)
    await storage.jobs.enqueue(
        NewJob("meeting.reminder", "r:later", due_at=NOW + timedelta(days=1)), NOW
    )
    await storage.jobs.enqueue(NewJob("nobody.handles.this", "x:1"), NOW)
    await w.drain()
    assert sorted(ran) == [("email", "email:1"), ("email", "email:after:r:1"), ("reminder", "r:1")]
    state = await storage.jobs.state("email:1")
    assert state is not None
    assert state.status is JobStatus.DONE
    unhandled = await storage.jobs.state("x:1")
    assert unhandled is not None
    assert unhandled.status is JobStatus.PENDING  # left for a process that handles it

    clock.advance(timedelta(days=1))
    await w.drain()
    assert ("reminder", "r:later") in ran
    with pytest.raises(ValueError, match="registered already"):
        w.handle("email", email)


async def test_failures_back_off_with_jitter_then_give_up_and_tell_the_hook(storage: Storage):
    clock = FixedClock(NOW)
    draws = iter([0.0, 1.0, 0.5])
    w = Worker(storage.jobs, clock, draw=lambda: next(draws))
    attempts: list[int] = []
    gave_up: list[tuple[str, str]] = []

    async def flaky(job: Job) -> None:
        attempts.append(job.attempts)
        raise Retryable("the SMTP server answered 451")

    async def told(job: Job, reason: str) -> None:
        gave_up.append((job.key, reason))

    retry = Retry(attempts=4, first=timedelta(seconds=10), longest=timedelta(seconds=30))
    w.handle("email", flaky, retry=retry, give_up=told)
    await storage.jobs.enqueue(NewJob("email", "email:1"), NOW)

    # Waits of 10 s, 20 s and 30 s (capped), each between half and all of it by the draw.
    expected_due = [NOW + timedelta(seconds=5)]
    expected_due.append(expected_due[-1] + timedelta(seconds=20))
    expected_due.append(expected_due[-1] + timedelta(seconds=22.5))
    for due in expected_due:
        await w.drain()
        state = await storage.jobs.state("email:1")
        assert state is not None
        assert state.status is JobStatus.PENDING
        assert state.due_at == due
        assert state.last_error == "the SMTP server answered 451"
        clock.current = due - timedelta(seconds=1)
        await w.drain()  # not due yet: nothing runs
        clock.current = due
    await w.drain()
    assert attempts == [1, 2, 3, 4]
    assert gave_up == [("email:1", "the SMTP server answered 451")]
    state = await storage.jobs.state("email:1")
    assert state is not None
    assert state.status is JobStatus.FAILED


async def test_a_permanent_failure_gives_up_at_once_and_an_unexpected_one_hides_its_message(
    storage: Storage,
):
    clock = FixedClock(NOW)
    w = worker(storage, clock)
    gave_up: list[str] = []

    async def hopeless(job: Job) -> None:
        raise Permanent("the meeting no longer exists")

    async def leaky(job: Job) -> None:
        raise ValueError("https://hooks.example/secret-token")

    async def told(job: Job, reason: str) -> None:
        gave_up.append(reason)

    w.handle("hopeless", hopeless, give_up=told)
    w.handle("leaky", leaky)
    await storage.jobs.enqueue(NewJob("hopeless", "h"), NOW)
    await storage.jobs.enqueue(NewJob("leaky", "l"), NOW)
    await w.drain()
    assert gave_up == ["the meeting no longer exists"]
    leaky_state = await storage.jobs.state("l")
    assert leaky_state is not None
    assert leaky_state.last_error == "ValueError"  # never the message: it may hold a secret


async def test_a_job_whose_process_died_is_run_by_another_once_its_lease_expires(
    storage: Storage,
):
    clock = FixedClock(NOW)
    await storage.jobs.enqueue(NewJob("vote", "click:1"), NOW)
    # A process claims the job and dies (it never completes, never renews).
    (orphan,) = await storage.jobs.claim(
        ["vote"], "dead", NOW, limit=1, lease=timedelta(seconds=30)
    )
    ran: list[Job] = []

    async def count(job: Job) -> None:
        ran.append(job)

    survivor = worker(storage, clock, lease=timedelta(seconds=30))
    survivor.handle("vote", count)
    await survivor.drain()
    assert ran == []  # the dead process's lease still runs
    clock.advance(timedelta(seconds=30))
    await survivor.drain()
    assert [job.id for job in ran] == [orphan.id]
    assert ran[0].attempts == 2


async def test_running_jobs_keep_their_lease(storage: Storage):
    """While a handler runs, its worker renews the lease: no other worker takes the job."""
    clock = FixedClock(NOW)
    lease = timedelta(seconds=0.3)  # renewed every 0.1 s of loop time
    started, finish = asyncio.Event(), asyncio.Event()

    async def slow(job: Job) -> None:
        started.set()
        await finish.wait()

    w = worker(storage, clock, lease=lease)
    w.handle("slow", slow)
    await storage.jobs.enqueue(NewJob("slow", "s"), NOW)
    w.start()
    try:
        await asyncio.wait_for(started.wait(), DEADLINE)
        clock.advance(timedelta(minutes=5))  # far past the first lease
        renewed = clock.now() + lease
        async with asyncio.timeout(DEADLINE):
            # The database's state is what counts, and it has no event to await.
            while (await claimed_until(storage, "s")) != renewed:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert await storage.jobs.claim(["slow"], "other", clock.now(), limit=1, lease=lease) == []
        finish.set()
        await w.drain()
    finally:
        await w.close()
    state = await storage.jobs.state("s")
    assert state is not None
    assert state.status is JobStatus.DONE


async def test_the_newest_render_runs_in_the_process_that_kept_it_and_newer_ones_follow(
    storage: Storage,
):
    """``keep_newest`` leases what it stores to its own worker, which runs it with no claim;
    renders kept while it runs wait, and only the newest runs next, under the same lease.
    Another process's render goes to the holder of the lease; an older one is dropped."""
    clock = FixedClock(NOW)
    sent: list[int] = []
    first, gate = asyncio.Event(), asyncio.Event()

    async def send(job: Job) -> None:
        sent.append(int(job.payload["total"]))
        first.set()
        await gate.wait()

    w = worker(storage, clock)  # never started: no loop claims anything
    w.handle("card", send)
    other = worker(storage, clock)
    other.handle("card", send)
    key = "card:C1:3.3"
    assert await w.keep_newest(NewJob("card", key, {"total": 1}, version=1), NOW)
    await asyncio.wait_for(first.wait(), DEADLINE)
    assert await other.keep_newest(NewJob("card", key, {"total": 2}, version=2), NOW)
    assert await w.keep_newest(NewJob("card", key, {"total": 4}, version=4), NOW)
    assert not await other.keep_newest(NewJob("card", key, {"total": 3}, version=3), NOW)
    assert await storage.jobs.claim(["card"], "third", NOW, limit=1, lease=LEASE) == []
    gate.set()
    await w.drain()
    assert sent == [1, 4]
    state = await storage.jobs.state(key)
    assert state is not None
    assert state.status is JobStatus.DONE
    assert state.payload == {"total": 4}
    # Done: the next render starts a run of its own.
    assert await w.keep_newest(NewJob("card", key, {"total": 5}, version=5), NOW)
    await w.drain()
    assert sent == [1, 4, 5]


async def test_enqueueing_wakes_the_worker_without_waiting_for_its_poll(storage: Storage):
    clock = FixedClock(NOW)
    w = worker(storage, clock, poll_seconds=3600.0)
    done = asyncio.Event()

    async def note(job: Job) -> None:
        done.set()

    w.handle("email", note)
    w.start()
    try:
        await w.drain()  # the loop is idle, asleep for an hour
        await storage.jobs.enqueue(NewJob("email", "e"), NOW)
        await asyncio.wait_for(done.wait(), DEADLINE)
    finally:
        await w.close()


async def test_shutdown_finishes_what_it_can_and_hands_the_rest_back(storage: Storage):
    clock = FixedClock(NOW)
    quick_may_finish, started = asyncio.Event(), asyncio.Event()
    runs: list[str] = []

    async def quick(job: Job) -> None:
        await quick_may_finish.wait()
        runs.append(job.key)

    async def stuck(job: Job) -> None:
        started.set()
        await asyncio.Event().wait()

    w = worker(storage, clock, concurrency=2)
    w.handle("quick", quick)
    w.handle("stuck", stuck)
    await storage.jobs.enqueue_all([NewJob("quick", "q"), NewJob("stuck", "s")], NOW)
    w.start()
    await asyncio.wait_for(started.wait(), DEADLINE)
    grace_over = asyncio.Event()  # the grace ends when the test says, not after seconds
    closing = asyncio.create_task(w.close(grace=grace_over))
    quick_may_finish.set()  # during the grace: it is let finish
    while "q" in {r.job.key for r in w._running.values()}:
        w._changed.clear()
        await w._changed.wait()
    assert not closing.done()  # still waiting for the stuck one
    grace_over.set()
    await closing
    assert runs == ["q"]
    quick_state, stuck_state = await storage.jobs.state("q"), await storage.jobs.state("s")
    assert quick_state is not None
    assert quick_state.status is JobStatus.DONE
    assert stuck_state is not None
    assert stuck_state.status is JobStatus.PENDING
    assert stuck_state.attempts == 0  # handed back, the interrupted attempt not counted

    # Handed back, not left to its lease: the next process takes it at once.
    ran: list[str] = []

    async def unstuck(job: Job) -> None:
        ran.append(job.key)

    after = worker(storage, clock)
    after.handle("stuck", unstuck)
    await after.drain()
    assert ran == ["s"]


async def test_two_workers_over_separate_connections_run_each_job_exactly_once(
    storage: Storage, database: Database
):
    clock = FixedClock(NOW)
    total = 120
    await storage.jobs.enqueue_all([NewJob("vote", f"v{i}") for i in range(total)], NOW)
    engines = [
        Database(database.url, pool_size=4, connect_args=database.connect_args) for _ in range(2)
    ]
    ran: list[tuple[int, int]] = []
    workers = [
        Worker(SqlJobs(engine), clock, concurrency=5, draw=lambda: 0.5) for engine in engines
    ]
    for index, each in enumerate(workers):

        async def record(job: Job, index: int = index) -> None:
            ran.append((index, job.id))
            await asyncio.sleep(0)  # let the other worker claim meanwhile

        each.handle("vote", record)
    try:
        await asyncio.gather(*(each.drain() for each in workers))
    finally:
        for engine in engines:
            await engine.close()
    ids = [job_id for _, job_id in ran]
    assert len(ids) == total
    assert len(set(ids)) == total
    assert {index for index, _ in ran} == {0, 1}


async def claimed_until(storage: Storage, key: str) -> datetime | None:
    async with storage.database.reading() as session:
        return await session.scalar(select(models.Job.claimed_until).where(models.Job.key == key))


async def test_tidying_runs_hourly_once_for_all_processes_and_forgets_old_jobs(storage: Storage):
    clock = FixedClock(NOW)
    await storage.jobs.enqueue(NewJob("email", "email:old"), NOW)
    (old,) = await storage.jobs.claim(["email"], "w", NOW, limit=1, lease=timedelta(seconds=30))
    await storage.jobs.complete(old, "w", NOW)
    workers = [worker(storage, clock) for _ in range(2)]
    for each in workers:  # two processes start
        chores.register(each, storage, clock)
        await chores.start(storage, clock)
    await asyncio.gather(*(each.drain() for each in workers))
    first = await storage.jobs.state("tidy:2026-12-05T12")
    assert first is not None
    assert first.status is JobStatus.DONE
    following = await storage.jobs.state("tidy:2026-12-05T13")
    assert following is not None
    assert (following.status, following.due_at) == (JobStatus.PENDING, NOW + timedelta(hours=1))
    assert await storage.jobs.state("email:old") is not None  # finished a moment ago: kept

    clock.current = NOW + chores.KEEP_JOBS + timedelta(hours=1)
    await asyncio.gather(*(each.drain() for each in workers))
    assert await storage.jobs.state("email:old") is None
    assert await storage.jobs.state("tidy:2026-12-05T12") is None
    later = await storage.jobs.state(f"tidy:{clock.now() + timedelta(hours=1):%Y-%m-%dT%H}")
    assert later is not None
    assert later.status is JobStatus.PENDING


async def test_a_held_row_is_renewed_while_held_and_taken_over_once_its_process_dies(
    storage: Storage,
):
    """A row the receiving process works on itself: nobody else takes it while that process
    renews its lease, anyone may once it stops (the test's clock and renewals, no waits)."""
    clock = FixedClock(NOW)
    lease = timedelta(seconds=10)
    alive = worker(storage, clock, lease=lease)
    held = await alive.hold(NewJob("teams.inbox", "activity:1", {"text": "help"}))
    assert held is not None
    assert held.attempts == 1
    assert await alive.hold(NewJob("teams.inbox", "activity:1")) is None  # resent: one row
    other = worker(storage, clock, lease=lease)
    ran: list[Job] = []

    async def handle(job: Job) -> None:
        ran.append(job)

    other.handle("teams.inbox", handle)
    for _ in range(3):  # the heartbeat, three times per lease, for a minute
        clock.advance(lease / 3)
        assert await alive.renew() == 1
        clock.advance(lease / 3)
        await other.drain()
    assert ran == []

    # It dies (no more renewals): another worker takes the row once its lease runs out.
    clock.advance(lease)
    await other.drain()
    assert [job.key for job in ran] == ["activity:1"]
    assert ran[0].attempts == 2
    await alive.finish(held)  # too late: the claim is the other's, whose run decided
    state = await storage.jobs.state("activity:1")
    assert state is not None
    assert state.status is JobStatus.DONE


async def test_a_held_row_finished_is_done_and_one_unfinished_at_stop_is_handed_back(
    storage: Storage,
):
    clock = FixedClock(NOW)
    w = worker(storage, clock)
    done = await w.hold(NewJob("teams.inbox", "activity:done"))
    left = await w.hold(NewJob("teams.inbox", "activity:left"))
    assert done is not None
    assert left is not None
    await w.finish(done)
    await w.close()
    await w.stop()
    finished = await storage.jobs.state("activity:done")
    assert finished is not None
    assert finished.status is JobStatus.DONE
    # Handed back: due at once for any worker, the interrupted attempt not counted.
    (again,) = await storage.jobs.claim(
        ["teams.inbox"], "other", clock.now(), limit=5, lease=timedelta(seconds=10)
    )
    assert again.key == "activity:left"
    assert again.attempts == 1


async def test_progress_recorded_by_the_holder_is_what_the_next_attempt_sees(storage: Storage):
    clock = FixedClock(NOW)
    held = await storage.jobs.enqueue_claimed(
        NewJob("slack.inbox", "trigger:1"), NOW, "dead", timedelta(seconds=10)
    )
    assert held is not None
    assert await storage.jobs.record(held, "dead", {"sent": ["answer"]})
    assert not await storage.jobs.record(held, "someone else", {"sent": []})
    clock.advance(timedelta(seconds=11))
    (again,) = await storage.jobs.claim(
        ["slack.inbox"], "survivor", clock.now(), limit=1, lease=timedelta(seconds=10)
    )
    assert again.progress == {"sent": ["answer"]}


async def test_a_row_whose_lease_ran_out_while_its_own_process_held_it_is_not_run_twice(
    storage: Storage,
):
    """A process too busy to renew in time claims its own held row back: it renews the
    lease, and does not start a second run beside the one under way."""
    clock = FixedClock(NOW)
    w = worker(storage, clock, lease=timedelta(seconds=10))
    ran: list[Job] = []

    async def handle(job: Job) -> None:
        ran.append(job)

    w.handle("teams.inbox", handle)
    held = await w.hold(NewJob("teams.inbox", "activity:busy"))
    assert held is not None
    clock.advance(timedelta(seconds=11))  # no renewal came in time
    await w.drain()
    assert ran == []
    assert (
        await storage.jobs.claim(
            ["teams.inbox"], "other", clock.now(), limit=1, lease=timedelta(seconds=10)
        )
        == []
    )  # renewed by that claim
    await w.finish(held)
    state = await storage.jobs.state("activity:busy")
    assert state is not None
    assert state.status is JobStatus.DONE


async def test_a_process_that_stalled_past_its_lease_notices_the_row_was_taken_over(
    storage: Storage,
):
    """A live process whose event loop stalled for longer than a lease (the test's clock
    moves, its heartbeat does not run) finds its row taken over by another: it says the
    row is not its own any more, answers no further, writes no record, and its completion
    does not override the new holder's run, which answered once."""
    clock = FixedClock(NOW)
    lease = timedelta(seconds=10)
    stalled = worker(storage, clock, lease=lease)
    inbox = WorkerInbox(stalled, clock)
    row = await inbox.hold("teams.inbox", "activity:stalled", {"text": "help"})
    assert await row.sent.ours()  # just claimed: no need to ask the database
    await row.sent.record("answer")

    other = worker(storage, clock, lease=lease)
    answered: list[tuple[str, list[str]]] = []

    async def handle(job: Job) -> None:
        answered.append((job.key, list((job.progress or {}).get("sent", []))))

    other.handle("teams.inbox", handle)
    clock.advance(lease / 3)
    assert await stalled.renew() == 1  # alive and renewing: nobody else takes it
    await other.drain()
    assert answered == []
    assert await row.sent.ours()

    clock.advance(lease + timedelta(seconds=1))  # the stall: no renewal came in time
    await other.drain()
    assert answered == [("activity:stalled", ["answer"])]  # the new holder knew the answer went

    assert not await row.sent.ours()  # noticed: the rest is the other's
    await row.sent.record("direct:ana")  # not written over the new holder's row
    assert await stalled.renew() == 0
    await row.done()
    state = await storage.jobs.state("activity:stalled")
    assert state is not None
    assert state.status is JobStatus.DONE
    assert state.attempts == 2  # the other's run completed it


async def test_a_renewal_that_leaves_a_job_out_tells_its_run_at_once(storage: Storage):
    clock = FixedClock(NOW)
    lease = timedelta(seconds=10)
    stalled = worker(storage, clock, lease=lease)
    held = await stalled.hold(NewJob("teams.inbox", "activity:renewed"))
    assert held is not None
    clock.advance(lease + timedelta(seconds=1))
    assert await storage.jobs.claim(["teams.inbox"], "other", clock.now(), limit=1, lease=lease)
    clock.advance(-lease)  # its own clock lags: only the renewal can tell it
    assert await stalled.renew() == 0
    assert not await stalled.holds(held)
