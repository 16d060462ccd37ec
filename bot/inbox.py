"""The chat adapters' :class:`~adapters.chat.Inbox` on the durable jobs (``bot.worker``).

An interaction is a job before it is acknowledged: ``keep`` returns once the row is
committed, and the adapter answers the platform only then. Given the ``work`` that does it,
the row is stored already leased to this process, whose worker runs that work once the
acknowledgements under way are out: one INSERT, no claim, no second parse of the request.
A versioned row (a card's newest render) is stored leased to this process's worker too,
which runs its handler at once, or right after the run of an older version it holds
(``Worker.keep_newest``). Otherwise this process's worker is woken at once and claims it.
A row the receiving process works on itself outside the worker (``hold``: Teams answers in
the request) is stored leased to this process's worker too, renewed while it is held. A
process that dies leaves its rows pending or under a lease that runs out within seconds
(``bot.worker.LEASE``), and another process's worker, or its own after a restart, claims
them and runs the kind's handler.

Each row records the steps of its answer that went out (``RowSent``): a row run again after
its process died does not answer twice.

Interactions are not retried like emails: a handler answers the person itself whatever
happens, so a failure that escapes it is a bug or the database going away; a few quick
attempts, then the job is kept as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from adapters.chat import UNKEPT, Held, InboxHandler, RowWork, Sent
from bot.worker import Retry, Worker
from core.jobs import Job, Json, NewJob
from core.ports import Clock

log = logging.getLogger(__name__)

INBOX_RETRY = Retry(attempts=3, first=timedelta(seconds=2), longest=timedelta(seconds=30))
# An interaction's work reads calendars (seconds); a card update is one call.
INBOX_TIMEOUT_SECONDS = 120.0
SENT = "sent"  # in a row's progress: the steps of its answer that went out


@dataclass
class WorkerInbox:
    """Also keeps acknowledgements first: while requests are being received (``receiving``)
    the worker claims nothing new, so that under a burst the acknowledgements do not queue
    behind the work (on SQLite, one writer) and the backlog is worked off after it. Jobs
    already running go on; so does the worker once no request is in flight."""

    worker: Worker
    clock: Clock
    _receiving: int = field(default=0, init=False)
    _quiet: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def __post_init__(self) -> None:
        self._quiet.set()
        if self.worker.defer_to is None:
            self.worker.defer_to = self.quiet

    @contextlib.contextmanager
    def receiving(self) -> Iterator[None]:
        self._receiving += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._receiving -= 1
            if not self._receiving:
                self._quiet.set()

    async def quiet(self) -> None:
        """Return once no request is being received."""
        await self._quiet.wait()

    def handle(self, kind: str, handler: InboxHandler) -> None:
        self.worker.handle(kind, handler, retry=INBOX_RETRY, timeout=INBOX_TIMEOUT_SECONDS)

    async def keep(self, kind: str, key: str, payload: Json, *, work: RowWork) -> bool:
        job = NewJob(kind, key, payload)
        return await self.worker.keep_and_run(
            job, self.clock.now(), lambda kept: work(self.sent(kept))
        )

    async def keep_newest(self, kind: str, key: str, payload: Json, version: int) -> bool:
        job = NewJob(kind, key, payload, version=version)
        return await self.worker.keep_newest(job, self.clock.now())

    async def hold(self, kind: str, key: str, payload: Json) -> Held:
        job = await self.worker.hold(NewJob(kind, key, payload))
        if job is None:
            return UNKEPT
        return HeldRow(self.worker, job, RowSent(self.worker, job))

    def sent(self, job: Job) -> Sent:
        return RowSent(self.worker, job)

    async def idle(self) -> None:
        await self.worker.drain()


@dataclass
class RowSent:
    """A row's record of its answers sent, in its ``progress`` (``{"sent": [steps]}``), kept
    by the worker holding the row; each record is written at once (see ``adapters.chat.Sent``).
    Once another worker took the row over (this process stalled past its lease), the rest of
    the answer is that worker's: :meth:`ours` says so, and records are no longer written."""

    worker: Worker
    job: Job
    _steps: list[str] = field(init=False)
    _writing: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    def __post_init__(self) -> None:
        earlier = (self.job.progress or {}).get(SENT)
        self._steps = [str(step) for step in earlier] if isinstance(earlier, list) else []

    def already(self, step: str) -> bool:
        return step in self._steps

    async def ours(self) -> bool:
        return await self.worker.holds(self.job)

    async def record(self, step: str) -> None:
        if step in self._steps:
            return
        self._steps.append(step)
        # One write at a time, each of every step recorded so far: the last one holds all.
        async with self._writing:
            progress = {SENT: list(self._steps)}
            if not await self.worker.jobs.record(self.job, self.worker.name, progress):
                self.worker.lost(self.job)


@dataclass
class HeldRow:
    worker: Worker
    job: Job
    sent: RowSent

    async def done(self) -> None:
        await self.worker.finish(self.job)
