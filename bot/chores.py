"""Work Pairtime gives itself, run by the worker like any other durable job.

Tidying is one job an hour for the whole deployment, not one per process: each hour's job
has its own key (``tidy:2026-12-05T14``), so of several processes starting or running at
once, one enqueues it and one runs it; each run enqueues the next hour's.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.worker import Worker
from core.jobs import Job, NewJob
from core.ports import Clock
from storage.store import Storage

log = logging.getLogger(__name__)

TIDY = "tidy"
TIDY_EVERY = timedelta(hours=1)
KEEP_EVENTS = timedelta(days=1)  # Slack and Teams stop resending within minutes
# Finished jobs keep their key this long: an enqueue of the same key within it is refused.
KEEP_JOBS = timedelta(days=7)


def register(worker: Worker, storage: Storage, clock: Clock) -> None:
    async def tidy_now(job: Job) -> None:
        del job
        now = clock.now()
        await tidy(storage, now)
        await storage.jobs.enqueue(_tidy_job(now + TIDY_EVERY), now)

    worker.handle(TIDY, tidy_now)


async def start(storage: Storage, clock: Clock) -> None:
    """Make sure this hour's tidying is enqueued (at start-up: it may never have been)."""
    now = clock.now()
    await storage.jobs.enqueue(_tidy_job(now), now)


def _tidy_job(due: datetime) -> NewJob:
    return NewJob(TIDY, f"{TIDY}:{due:%Y-%m-%dT%H}", due_at=due)


async def tidy(storage: Storage, now: datetime) -> None:
    """Forget chat event ids nobody will resend, connect links long expired, and jobs
    finished long ago."""
    events = await storage.events.forget_before(now - KEEP_EVENTS)
    states = await storage.connect_states.purge(now - KEEP_EVENTS)
    jobs = await storage.jobs.purge(now - KEEP_JOBS)
    if events or states or jobs:
        log.info(
            "tidied %d old event id(s), %d expired connect link(s) and %d finished job(s)",
            events,
            states,
            jobs,
        )
