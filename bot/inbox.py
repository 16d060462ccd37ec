"""The chat adapters' :class:`~adapters.chat.Inbox` on the durable jobs (``bot.worker``).

An interaction is a job before it is acknowledged: ``keep`` returns once the row is
committed, and the adapter answers the platform only then. This process's worker is woken
at once and runs it; a process that dies leaves its rows pending (or under a lease that
expires), and another process's worker, or its own after a restart, claims them.

Interactions are not retried like emails: a handler answers the person itself whatever
happens, so a failure that escapes it is a bug or the database going away; a few quick
attempts, then the job is kept as failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from adapters.chat import InboxHandler
from bot.worker import Retry, Worker
from core.jobs import Json, NewJob
from core.ports import Clock, Jobs

INBOX_RETRY = Retry(attempts=3, first=timedelta(seconds=2), longest=timedelta(seconds=30))
# An interaction's work reads calendars (seconds); a card update is one call.
INBOX_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class WorkerInbox:
    worker: Worker
    jobs: Jobs
    clock: Clock

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
    ) -> bool:
        now = self.clock.now()
        due = now + after if after is not None else None
        job = NewJob(kind, key, payload, due_at=due, version=version or 0)
        return await self.jobs.enqueue(job, now, replace=version is not None)

    async def forget(self, key: str) -> None:
        await self.jobs.cancel(key, self.clock.now())

    async def idle(self) -> None:
        await self.worker.drain()
