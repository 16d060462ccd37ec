"""Work Pairtime gives itself, run by the worker like any other durable job.

A poll's deadline and its reminder are jobs enqueued when the poll is posted (see
``core.scheduling.polls``): due while Pairtime is stopped, they run as soon as a process
starts; several processes run each once.

Tidying, and asking the owners of calendars connected before events were read to connect
again, are one job an hour each for the whole deployment, not one per process: each hour's
job has its own key (``tidy:2026-12-05T14``), so of several processes starting or running
at once, one enqueues it and one runs it; each run enqueues the next hour's (the requests
to reconnect go out in batches, the next batch at once while there are more).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services import Services
from bot.worker import Permanent, Worker
from core.jobs import Job, NewJob
from core.people import ProgramId
from core.ports import Clock, Jobs, Messenger
from core.scheduling import Scheduler
from core.scheduling.connections import ASKED_PER_TICK
from core.scheduling.polls import CLOSE_JOB, NUDGE_JOB
from core.views import Outcome
from storage.store import Storage

log = logging.getLogger(__name__)

TIDY = "tidy"
RECONNECT = "calendar.reconnect"
TIDY_EVERY = timedelta(hours=1)
KEEP_EVENTS = timedelta(days=1)  # Slack and Teams stop resending within minutes
# Finished jobs keep their key this long: an enqueue of the same key within it is refused.
KEEP_JOBS = timedelta(days=7)


def register(worker: Worker, storage: Storage, clock: Clock) -> None:
    """Hourly tidying."""

    async def tidy_now(job: Job) -> None:
        del job
        now = clock.now()
        await tidy(storage, now)
        await storage.jobs.enqueue(_hourly(TIDY, now + TIDY_EVERY), now)

    worker.handle(TIDY, tidy_now)


def register_messages(worker: Worker, messaging: Messaging) -> None:
    """Polls' deadlines and reminders, and requests to reconnect a calendar."""

    async def close_poll(job: Job) -> None:
        await _deliver(messaging, await messaging.scheduler.poll_deadline(_poll(job)))

    async def nudge_poll(job: Job) -> None:
        await _deliver(messaging, await messaging.scheduler.poll_nudge(_poll(job)))

    async def reconnect(job: Job) -> None:
        del job
        now = messaging.clock.now()
        if await ask_to_reconnect(messaging) >= ASKED_PER_TICK:
            following = NewJob(RECONNECT, f"{RECONNECT}:{now.isoformat()}", due_at=now)
        else:
            following = _hourly(RECONNECT, now + TIDY_EVERY)
        await messaging.jobs.enqueue(following, now)

    worker.handle(CLOSE_JOB, close_poll)
    worker.handle(NUDGE_JOB, nudge_poll)
    worker.handle(RECONNECT, reconnect)


@dataclass(frozen=True)
class Messaging:
    """What work that speaks to people needs: core to decide, messengers to tell."""

    scheduler: Scheduler
    messenger: Messenger
    jobs: Jobs
    clock: Clock


def messaging(services: Services) -> Messaging:
    return Messaging(services.scheduler, services.messengers, services.storage.jobs, services.clock)


async def ask_to_reconnect(messaging: Messaging) -> int:
    """One batch of requests to reconnect, sent; how many were sent."""
    asked = await messaging.scheduler.reconnect_requests()
    for program, outcome in asked:
        await messaging.messenger.deliver(program, outcome)
    return len(asked)


def _poll(job: Job) -> str:
    ref = job.payload.get("poll")
    if not isinstance(ref, str):
        raise Permanent("the job names no poll")
    return ref


async def _deliver(messaging: Messaging, done: tuple[ProgramId, Outcome] | None) -> None:
    if done is not None:
        program, outcome = done
        await messaging.messenger.deliver(program, outcome)


async def start(storage: Storage, clock: Clock) -> None:
    """Make sure this hour's chores are enqueued (at start-up: they may never have been)."""
    now = clock.now()
    await storage.jobs.enqueue_all([_hourly(TIDY, now), _hourly(RECONNECT, now)], now)


def _hourly(kind: str, due: datetime) -> NewJob:
    return NewJob(kind, f"{kind}:{due:%Y-%m-%dT%H}", due_at=due)


async def tidy(storage: Storage, now: datetime) -> None:
    """Forget chat event ids nobody will resend, connect links long expired, console
    sign-in links and idle sessions, and jobs finished long ago; delete each program's
    offers and meetings older than its ``retention_days`` (their counts kept as tallies)."""
    events = await storage.events.forget_before(now - KEEP_EVENTS)
    states = await storage.connect_states.purge(now - KEEP_EVENTS)
    states += await storage.console.purge(now)  # console sign-in links and idle sessions
    jobs = await storage.jobs.purge(now - KEEP_JOBS)
    if events or states or jobs:
        log.info(
            "tidied %d old event id(s), %d expired connect link(s) and %d finished job(s)",
            events,
            states,
            jobs,
        )
    for program in await storage.programs.known():
        settings = await storage.programs.settings(program)
        purged = await storage.retention.purge(
            program, now - timedelta(days=settings.retention_days)
        )
        if purged.offers or purged.meetings:
            log.info(
                "deleted %d offer(s) and %d meeting(s) older than %d days of %s",
                purged.offers,
                purged.meetings,
                settings.retention_days,
                program,
            )
