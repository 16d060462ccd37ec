"""The worker of one ``pairtime serve`` process: runs the durable jobs that are due.

Handlers are registered per kind (:meth:`Worker.handle`). The worker claims due jobs of
those kinds (see ``storage.repositories.jobs``: a lease, taken with ``SKIP LOCKED`` on
PostgreSQL) and runs up to ``concurrency`` at once. It wakes when this process enqueues
work, and otherwise looks every ``poll_seconds`` for work that came due, that another
process enqueued, or whose lease expired because its process died. While a job runs its
lease is renewed, so a slow job is never taken over by a live process. The process may
also store a row already claimed (:meth:`Worker.hold`: a request it answers itself) and
complete it (:meth:`Worker.finish`); the worker renews that lease too meanwhile.

The lease is short (``LEASE``, renewed three times per lease): what a dead process held is
taken over by another within seconds, not minutes. The price is one UPDATE per process
every few seconds while work runs, and a live process whose event loop stalls longer than
a lease may see a job taken over; every handler must therefore stand being run twice (core
decides each click once, and inbox rows record what they sent: ``bot.inbox``). The process
that lost the job notices: its renewals leave the job out, :meth:`Worker.holds` says so
(asking the database when the last renewal is old enough for the lease to have run out),
an inbox row's answering stops there (``adapters.chat.deliver``), and completing, retrying
or recording progress are conditional on still holding the claim, so the new holder's run
is the one that counts.

A handler that raises is retried later, with exponential backoff and jitter (``Retry``);
after the last attempt, or at once for :class:`Permanent`, the kind's give-up hook runs
(for example: tell the organiser in chat that an invitation could not be emailed) and the
job is kept as failed. At shutdown the worker stops claiming, lets running jobs finish for
a grace period, and hands the others back to be claimed again.

Tests inject the clock and call :meth:`Worker.drain`, which runs everything due now and
returns once nothing is left: no test waits on the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core import logs
from core.jobs import Job, NewJob
from core.ports import Clock
from storage.repositories.jobs import SqlJobs

log = logging.getLogger(__name__)

Handler = Callable[[Job], Awaitable[None]]
GiveUp = Callable[[Job, str], Awaitable[None]]

LEASE = timedelta(seconds=10)
POLL_SECONDS = 5.0
# Jobs run at once. Most of a job's time is spent waiting on other services (a slash
# command reads calendars, 200 ms to seconds, then posts to Slack), not on this process's
# CPU, so the slots must cover the requests waiting at once (Little's law: 150 commands a
# second that each wait 0.3 s are 45 in flight). With 16, one process answered at most 16
# such commands per wait whatever its CPU, and the rest queued (bench/slack_load.py --rate
# 50 --delay 1: slot pickers after 36 s at p50 with 16, 1.8 s with 64, at load average 10).
CONCURRENCY = 64
# Requests a process keeps and works on itself (``keep_and_run``) may wait, leased, for the
# acknowledgements under way: up to this many times ``concurrency`` of them, of which
# ``concurrency`` run at once. Past that the rows wait unclaimed, for any process.
KEPT_PER_SLOT = 4
SHUTDOWN_GRACE_SECONDS = 10.0


class Permanent(Exception):
    """Raised by a handler for work that can never succeed (a payload that no longer makes
    sense): no retry, the give-up hook runs at once. The message is stored and logged, so
    it says what happened in words and holds no secret."""


class Retryable(Exception):
    """Raised by a handler for a failure worth retrying, with a message safe to store."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Up to ``attempts`` runs; before run n+1 the job waits ``first`` * 2**(n-1), at most
    ``longest``, of which a random half ("equal jitter", so that many jobs failing
    together do not all come back at the same moment)."""

    attempts: int = 8
    first: timedelta = timedelta(seconds=10)
    longest: timedelta = timedelta(hours=1)

    def delay(self, attempt: int, draw: float) -> timedelta:
        """The wait after failed attempt ``attempt`` (1-based), ``draw`` in [0, 1)."""
        base = min(self.longest, self.first * (1 << min(attempt - 1, 30)))
        return base / 2 + base / 2 * draw


def worker_name() -> str:
    """Unique per process, and telling where it runs (for people reading the jobs table)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class _Kind:
    handler: Handler
    retry: Retry
    give_up: GiveUp | None
    timeout: float


@dataclass
class _Running:
    job: Job
    task: asyncio.Task[None]


@dataclass
class Worker:
    """One per process; built by ``bot.services``, started and closed by ``bot.server``."""

    jobs: SqlJobs
    clock: Clock
    name: str = field(default_factory=worker_name)
    lease: timedelta = LEASE
    poll_seconds: float = POLL_SECONDS
    concurrency: int = CONCURRENCY
    draw: Callable[[], float] = random.random
    # Awaited before each claim: requests being acknowledged go first (``bot.inbox``).
    defer_to: Callable[[], Awaitable[None]] | None = None
    _kinds: dict[str, _Kind] = field(default_factory=dict, init=False)
    _running: dict[int, _Running] = field(default_factory=dict, init=False)
    _held: dict[int, Job] = field(default_factory=dict, init=False)  # see hold()
    # A running job's newer revision, stored by keep_newest while it ran: run next, here.
    _newer: dict[int, Job] = field(default_factory=dict, init=False)
    # When this worker last knew each of its jobs was still its own (claimed or renewed), by
    # its clock; and those it learnt another worker took over (see holds()).
    _confirmed: dict[int, datetime] = field(default_factory=dict, init=False)
    _lost: set[int] = field(default_factory=set, init=False)
    _claiming: int = field(default=0, init=False)
    _adopting: int = field(default=0, init=False)  # slots taken by keep_and_run's insert
    _more_due: bool = field(default=True, init=False)  # the last claim filled every slot
    _woken: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _next_due: datetime | None = field(default=None, init=False)
    _loop: asyncio.Task[None] | None = field(default=None, init=False)
    _heartbeat: asyncio.Task[None] | None = field(default=None, init=False)
    _closing: bool = field(default=False, init=False)
    _changed: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _kept_slots: asyncio.Semaphore = field(init=False)
    _completions: list[tuple[Job, asyncio.Future[bool]]] = field(default_factory=list, init=False)
    _completing: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.jobs.listen(self.wake)
        self._kept_slots = asyncio.Semaphore(self.concurrency)

    # ------------------------------------------------------------------ configuring

    def handle(
        self,
        kind: str,
        handler: Handler,
        *,
        retry: Retry | None = None,
        give_up: GiveUp | None = None,
        timeout: float = 300.0,
    ) -> None:
        """Run ``handler`` for jobs of ``kind``; ``give_up`` learns of a job that failed for
        good (with the reason stored), ``timeout`` bounds one attempt in seconds."""
        if kind in self._kinds:
            raise ValueError(f"a handler for {kind!r} is registered already")
        self._kinds[kind] = _Kind(handler, retry or Retry(), give_up, timeout)
        self.wake(None)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._kinds)

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        """Claim and run due work from now on, in the background."""
        if self._loop is None:
            self._loop = asyncio.create_task(self._run(), name=f"pairtime-worker-{self.name}")
            self._heartbeat = asyncio.create_task(self._renew(), name="pairtime-worker-leases")

    def wake(self, due: datetime | None) -> None:
        """Work was enqueued, due at ``due`` (None: now): look for it then."""
        if due is None or due <= self.clock.now():
            self._woken.set()
        elif self._next_due is None or due < self._next_due:
            self._next_due = due
            self._woken.set()  # the loop recomputes how long to sleep

    async def _run(self) -> None:
        while not self._closing:
            if self.defer_to is not None:
                await self.defer_to()
            self._woken.clear()
            free = self._free()
            try:
                claimed = await self._claim_and_start()
            except Exception:  # the database may be away for a moment; look again later
                log.exception("the worker could not claim work; it will try again")
                claimed = 0
            if claimed and claimed == free and self._free() > 0:
                continue  # a whole batch came: more may be waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._sleep_seconds())

    def _sleep_seconds(self) -> float:
        seconds = self.poll_seconds
        if self._next_due is not None:
            until = (self._next_due - self.clock.now()).total_seconds()
            if until <= 0:
                self._next_due = None
                return 0.0
            seconds = min(seconds, until)
        return seconds

    def _free(self) -> int:
        return max(0, self.concurrency - len(self._running) - self._adopting)

    async def _claim_and_start(self) -> int:
        """Claim what fits in the free slots and start it; how many were claimed."""
        free = self._free()
        if free <= 0 or not self._kinds or self._closing:
            return 0
        self._claiming += 1
        try:
            claimed = await self.jobs.claim(
                sorted(self._kinds), self.name, self.clock.now(), limit=free, lease=self.lease
            )
            self._more_due = len(claimed) == free
            started = 0
            for job in claimed:
                self._confirmed[job.id] = self.clock.now()
                self._lost.discard(job.id)  # ours again, whoever had it
                if job.id in self._running or job.id in self._held:
                    # Still ours: its lease ran out while this process was too busy to renew
                    # it, and the claim has just renewed it. One run of it is enough.
                    continue
                task = asyncio.create_task(self._attempt(job), name=f"pairtime-job-{job.id}")
                self._running[job.id] = _Running(job, task)
                task.add_done_callback(functools.partial(self._finished, job.id))
                started += 1
        finally:
            self._claiming -= 1
            self._changed.set()
        return started

    async def keep_and_run(
        self, new: NewJob, now: datetime, work: Callable[[Job], Awaitable[None]]
    ) -> bool:
        """Store ``new`` and run ``work`` for it in this process: the row is stored already
        leased to this worker (one statement, and no claim), and ``work`` runs once no
        request is being received (``defer_to``), ``concurrency`` of them at a time. Should
        ``work`` fail, the job is retried as any other, by its kind's handler; should this
        process die, another claims it when the lease expires. With too many waiting
        already (``KEPT_PER_SLOT``), or when closing, the job is only stored, for whichever
        worker claims it first. False when ``new.key`` was kept already."""
        kept = len(self._running) + self._adopting
        if self._closing or kept >= self.concurrency * KEPT_PER_SLOT or new.kind not in self._kinds:
            return await self.jobs.enqueue(new, now)
        self._adopting += 1
        try:
            job = await self.jobs.enqueue_claimed(new, now, self.name, self.lease)
            if job is None:
                return False
            self._confirmed[job.id] = now
            task = asyncio.create_task(self._attempt(job, work), name=f"pairtime-job-{job.id}")
            self._running[job.id] = _Running(job, task)
            task.add_done_callback(functools.partial(self._finished, job.id))
        finally:
            self._adopting -= 1
        return True

    async def keep_newest(self, new: NewJob, now: datetime) -> bool:
        """Store ``new`` over its key's job unless that one holds a higher version, and run
        it here (a card's newest render, sent by the process that drew it): the statement
        that stores it also leases it to this worker, so no claim follows. When this worker
        is running an older revision, the new one runs right after it, under the same
        lease; when another process holds the job, that process runs the new revision after
        its own (its completion finds the job replaced). False when ``new`` was dropped."""
        if self._closing or new.kind not in self._kinds:
            return await self.jobs.enqueue(new, now, replace=True)
        stored = await self.jobs.replace_claimed(new, now, self.name, self.lease)
        if stored is None:
            return False
        job = stored.job
        if not stored.mine:
            return True
        self._confirmed[job.id] = now
        if job.id in self._running:
            self._newer[job.id] = job
            return True
        task = asyncio.create_task(self._attempt(job, deferred=True), name=f"pairtime-job-{job.id}")
        self._running[job.id] = _Running(job, task)
        task.add_done_callback(functools.partial(self._finished, job.id))
        return True

    def _finished(self, job_id: int, task: asyncio.Task[None]) -> None:
        running = self._running.get(job_id)
        if running is not None and running.task is task:  # not a later run of the job
            del self._running[job_id]
        if job_id not in self._running:
            self._forget(job_id)
        if self._more_due:
            # A slot is free and the last claim left work behind. Otherwise nothing waits:
            # work stored since woke the loop (``wake``), and other processes' is polled
            # for; a claim per finished request would be a statement each for nothing.
            self._woken.set()
        self._changed.set()

    async def _attempt(
        self,
        job: Job,
        work: Callable[[Job], Awaitable[None]] | None = None,
        *,
        deferred: bool = False,
    ) -> None:
        with logs.bound(event=f"job:{job.key}"):  # every line this job logs says which
            try:
                current: Job | None = job
                while current is not None:
                    completed = await self._attempt_bound(current, work, deferred=deferred)
                    current = await self._newer_run(current, completed=completed)
            finally:
                # No await since the last look for a newer revision: one stored from now on
                # starts a run of its own (keep_newest).
                self._running.pop(job.id, None)

    async def _attempt_bound(
        self, job: Job, work: Callable[[Job], Awaitable[None]] | None, *, deferred: bool
    ) -> bool:
        """One attempt; whether it completed the job."""
        kind = self._kinds[job.kind]
        try:
            if work is None:
                if deferred and self.defer_to is not None:
                    await self.defer_to()  # started by this process: after the acknowledgements
                async with asyncio.timeout(kind.timeout):
                    await kind.handler(job)
            else:
                if self.defer_to is not None:
                    await self.defer_to()  # kept by this process: after the acknowledgements
                async with self._kept_slots, asyncio.timeout(kind.timeout):
                    await work(job)
        except asyncio.CancelledError:
            raise  # shutdown: close() hands the job back
        except Permanent as error:
            await self._give_up(job, kind, str(error))
        except Exception as error:  # noqa: BLE001 - every failure is retried or given up
            reason = str(error) if isinstance(error, Retryable) else _described(error)
            if job.attempts >= kind.retry.attempts:
                await self._give_up(job, kind, reason)
            else:
                await self._retry(job, kind, reason, error)
        else:
            if await self._complete(job):
                return True
            if job.id not in self._newer:
                # Replaced while it ran (or the claim was lost): the new payload runs next.
                await self.jobs.release([job.id], self.name)
        return False

    async def _newer_run(self, job: Job, *, completed: bool) -> Job | None:
        """The revision of ``job`` stored here by :meth:`keep_newest` while it ran, to run
        next under this worker's lease; None when there is none, or the lease was lost."""
        newer = self._newer.pop(job.id, None)
        if newer is None or newer.revision <= job.revision:
            return None
        if completed:
            return newer  # stored after this run completed: leased to this worker afresh
        # Stored while it ran, under this run's lease, unless that was lost meanwhile (its
        # new holder runs it then).
        now = self.clock.now()
        if job.id not in await self.jobs.extend([job.id], self.name, now + self.lease):
            return None
        self._confirmed[job.id] = now
        return newer

    async def _complete(self, job: Job) -> bool:
        """Complete ``job``; False when it was replaced meanwhile or the claim was lost.

        Group commit: jobs that finish while a completion is being written are completed
        together by the next statement. Idle, that is one job a statement at once; under
        a burst (on SQLite, writers queue) one statement completes many.
        """
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._completions.append((job, done))
        if self._completing is None or self._completing.done():
            self._completing = asyncio.create_task(self._write_completions())
        return await done

    async def _write_completions(self) -> None:
        while self._completions:
            batch, self._completions = self._completions, []
            try:
                completed = await self.jobs.complete_all(
                    [job for job, _ in batch], self.name, self.clock.now()
                )
            except Exception as error:  # noqa: BLE001 - each waiting attempt raises it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            for job, done in batch:
                if not done.done():
                    done.set_result(job.id in completed)

    async def _retry(self, job: Job, kind: _Kind, reason: str, error: Exception) -> None:
        delay = kind.retry.delay(job.attempts, self.draw())
        log.warning(
            "job %d (%s) failed (attempt %d of %d: %s); again in %d s",
            job.id,
            job.kind,
            job.attempts,
            kind.retry.attempts,
            reason,
            delay.total_seconds(),
            exc_info=not isinstance(error, Retryable),
        )
        await self.jobs.retry(job, self.name, self.clock.now() + delay, reason)

    async def _give_up(self, job: Job, kind: _Kind, reason: str) -> None:
        log.error(
            "job %d (%s) failed for good after %d attempt(s): %s",
            job.id,
            job.kind,
            job.attempts,
            reason,
        )
        if kind.give_up is not None:
            try:
                await kind.give_up(job, reason)
            except Exception:
                log.exception("the give-up hook of job %d (%s) failed", job.id, job.kind)
        await self.jobs.give_up(job, self.name, self.clock.now(), reason)

    async def hold(self, job: NewJob) -> Job | None:
        """Store ``job`` claimed by this worker, which renews its lease until :meth:`finish`
        (or hands it back at :meth:`stop`); None when its key was taken already."""
        now = self.clock.now()
        held = await self.jobs.enqueue_claimed(job, now, self.name, self.lease)
        if held is not None:
            self._held[held.id] = held
            self._confirmed[held.id] = now
        return held

    async def finish(self, job: Job) -> None:
        """A held job is done: completed, unless the claim was lost (its lease ran out and
        another worker took it: then that one's run decides)."""
        self._held.pop(job.id, None)
        self._forget(job.id)
        # Group commit, as a run's completion: the clicks whose card was drawn together
        # finish together, and one statement completes their rows.
        if not await self._complete(job):
            log.warning("a held %s job was taken over before it was done", job.kind)

    async def renew(self) -> int:
        """Extend the leases of the jobs running or held here; how many are still ours (the
        others were taken over: see :meth:`holds`)."""
        ids = [*self._running, *self._held]
        if not ids:
            return 0
        now = self.clock.now()
        ours = await self.jobs.extend(ids, self.name, now + self.lease)
        for job_id in ids:
            if job_id in ours:
                self._confirmed[job_id] = now
            elif job_id in self._running or job_id in self._held:
                self._lost.add(job_id)
        return len(ours)

    async def holds(self, job: Job) -> bool:
        """Whether ``job`` (running or held here) is still this worker's: False once its
        lease ran out and another worker claimed it (this process stalled for longer than a
        lease), and what is left of its work is then that worker's to do. The database is
        asked (renewing the lease) only when this worker last knew it held the job more than
        half a lease ago: sooner, nobody else can have claimed it."""
        if job.id in self._lost:
            return False
        now = self.clock.now()
        confirmed = self._confirmed.get(job.id)
        if confirmed is not None and now - confirmed < self.lease / 2:
            return True
        if job.id in await self.jobs.extend([job.id], self.name, now + self.lease):
            self._confirmed[job.id] = now
            return True
        self.lost(job)
        return False

    def lost(self, job: Job) -> None:
        """``job`` was found taken over by another worker (see :meth:`holds`)."""
        if job.id not in self._lost:
            log.warning("a %s job was taken over by another process while it ran here", job.kind)
        self._lost.add(job.id)

    def _forget(self, job_id: int) -> None:
        self._confirmed.pop(job_id, None)
        self._lost.discard(job_id)

    async def _renew(self) -> None:
        """Renew the leases three times per lease, until closed with nothing held."""
        every = self.lease.total_seconds() / 3
        while not (self._closing and not self._held):
            await asyncio.sleep(every)
            try:
                await self.renew()
            except Exception:  # the next renewal may get through before the lease ends
                log.exception("the worker could not renew its leases")

    # ------------------------------------------------------------------ waiting, stopping

    async def drain(self) -> None:
        """Run everything due now (by the clock), including work that work enqueues, and
        return once none is left or running. For tests and benchmarks."""
        while True:
            busy = {r.task for r in self._running.values()}
            if busy:
                await asyncio.wait(busy)
                continue
            if self._claiming:
                self._changed.clear()
                await self._changed.wait()
                continue
            if not await self._claim_and_start() and not self._running:
                return

    async def close(self, grace: float | asyncio.Event = SHUTDOWN_GRACE_SECONDS) -> None:
        """Stop claiming; let running jobs end for ``grace`` seconds (or until the event is
        set: a test ends the grace itself); hand the rest back."""
        self._closing = True
        # Held jobs are the chat endpoints' to finish after this (``stop``): their leases
        # are still renewed meanwhile.
        for task in (self._loop, None if self._held else self._heartbeat):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        running = list(self._running.values())
        if not running:
            return
        late = await _unfinished({r.task for r in running}, grace)
        unfinished = [r.job.id for r in running if r.task in late]
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        if unfinished:
            released = await self.jobs.release(unfinished, self.name)
            log.warning("handed %d unfinished job(s) back at shutdown", released)

    async def stop(self) -> None:
        """After :meth:`close` and the chat endpoints' own close: hand back what is still
        held (its work was cancelled), due at once elsewhere, and stop renewing leases."""
        self._closing = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        held, self._held = list(self._held), {}
        if held:
            released = await self.jobs.release(held, self.name)
            log.warning("handed %d unfinished request(s) back at shutdown", released)


async def _unfinished(
    tasks: set[asyncio.Task[None]], grace: float | asyncio.Event
) -> set[asyncio.Task[None]]:
    """The tasks still running when ``grace`` is over (seconds, or an event set)."""
    if not isinstance(grace, asyncio.Event):
        return (await asyncio.wait(tasks, timeout=grace))[1]
    over = asyncio.ensure_future(grace.wait())
    try:
        while tasks and not over.done():
            done, _ = await asyncio.wait({*tasks, over}, return_when=asyncio.FIRST_COMPLETED)
            tasks = tasks - done
    finally:
        over.cancel()
    return tasks


def _described(error: Exception) -> str:
    """An unexpected error's type only: its message may hold a URL, an address or a token."""
    return type(error).__name__
