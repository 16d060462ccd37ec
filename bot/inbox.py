"""The chat adapters' :class:`~adapters.chat.Inbox` on the durable jobs (``bot.worker``).

An interaction is a job before it is acknowledged: ``keep`` returns once the row is
committed, and the adapter answers the platform only then. Given the ``work`` that does it,
the row is stored already leased to this process, whose worker runs that work once the
acknowledgements under way are out: one INSERT, no claim, no second parse of the request.
Otherwise this process's worker is woken at once and claims it. A process that dies leaves
its rows pending (or under a lease that expires), and another process's worker, or its own
after a restart, claims them and runs the kind's handler.

Interactions are not retried like emails: a handler answers the person itself whatever
happens, so a failure that escapes it is a bug or the database going away; a few quick
attempts, then the job is kept as failed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from adapters.chat import InboxHandler
from bot.worker import Retry, Worker
from core.jobs import Json, NewJob
from core.ports import Clock, Jobs

INBOX_RETRY = Retry(attempts=3, first=timedelta(seconds=2), longest=timedelta(seconds=30))
# An interaction's work reads calendars (seconds); a card update is one call.
INBOX_TIMEOUT_SECONDS = 120.0


@dataclass
class WorkerInbox:
    """Also keeps acknowledgements first: while requests are being received (``receiving``)
    the worker claims nothing new, so that under a burst the acknowledgements do not queue
    behind the work (on SQLite, one writer) and the backlog is worked off after it. Jobs
    already running go on; so does the worker once no request is in flight."""

    worker: Worker
    jobs: Jobs
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

    async def keep(
        self,
        kind: str,
        key: str,
        payload: Json,
        *,
        version: int | None = None,
        after: timedelta | None = None,
        work: Callable[[], Awaitable[None]] | None = None,
    ) -> bool:
        now = self.clock.now()
        due = now + after if after is not None else None
        job = NewJob(kind, key, payload, due_at=due, version=version or 0)
        if work is not None and version is None and after is None:
            return await self.worker.keep_and_run(job, now, work)
        return await self.jobs.enqueue(job, now, replace=version is not None)

    async def forget(self, key: str) -> None:
        await self.jobs.cancel(key, self.clock.now())

    async def idle(self) -> None:
        await self.worker.drain()
