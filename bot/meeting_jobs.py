"""The worker's meeting jobs: the private messages of a change (the chat outbox), invitation
emails, the program account's events, reminders, the nudge of a proposal.

Core enqueues them with each change of a meeting (``core.scheduling.announce``); here each
kind gets its handler. What a job says in chat goes through the chat messengers; an email
that fails is retried with backoff from the durable outbox, and after the last try the
meeting's organiser is told in chat.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.services import Services
from bot.worker import Permanent, Retry, Retryable, Worker
from core.errors import MailRefused, PublishRefused
from core.jobs import Job
from core.people import ProgramId
from core.scheduling.announce import EMAIL, PENDING, REMINDER
from core.scheduling.forget import LEFT
from core.scheduling.outbox import TOLD
from core.scheduling.publishing import EVENT
from core.views import Outcome

log = logging.getLogger(__name__)

# Mail servers come back within hours: twelve tries over half a day to a day (the waits
# double up to six hours, with jitter), then the organiser is told.
EMAIL_RETRY = Retry(attempts=12, first=timedelta(minutes=1), longest=timedelta(hours=6))
SMTP_TIMEOUT = 120.0  # seconds one attempt may take (connect, TLS, login, send)
# The program account's calendar: eight tries over about an hour and a half (the waits
# double from 30 s to 30 min), then the emails go out instead.
EVENT_RETRY = Retry(attempts=8, first=timedelta(seconds=30), longest=timedelta(minutes=30))
EVENT_TIMEOUT = 90.0  # one create, update or cancel, with a token fetched first
# A meeting's private messages (the chat outbox): Slack and Teams come back within minutes;
# six tries over five to ten minutes (the waits double from 20 s, with jitter), then it is
# logged and kept as failed. A message the platform took is never sent again by the job.
TOLD_RETRY = Retry(attempts=6, first=timedelta(seconds=20), longest=timedelta(minutes=10))
TOLD_TIMEOUT = 60.0  # one message, and its .ics, to one person


def register(worker: Worker, services: Services) -> None:
    scheduler = services.scheduler

    async def deliver(found: tuple[ProgramId, Outcome] | None) -> None:
        if found is not None:
            program, outcome = found
            await services.messengers.deliver(program, outcome)

    async def send(job: Job) -> None:
        try:
            await scheduler.send_invitation(job.payload)
        except MailRefused as failed:
            # The reason names the server's code or the kind of failure, never a credential.
            if failed.permanent:
                raise Permanent(failed.reason) from None
            raise Retryable(failed.reason) from None

    async def gave_up(job: Job, reason: str) -> None:
        log.warning("an invitation email was given up (%s)", reason)
        await deliver(await scheduler.invitation_failed(job.payload))

    async def remind(job: Job) -> None:
        await deliver(await scheduler.remind(job.payload))

    async def nudge(job: Job) -> None:
        await deliver(await scheduler.remind_pending(job.payload))

    async def tell(job: Job) -> None:
        found = await scheduler.tell(job.payload)
        if found is not None and not await services.messengers.deliver(*found):
            raise Retryable("the chat platform did not take the message")

    async def left(job: Job) -> None:
        await deliver(await scheduler.left_notice(job.payload))

    async def publish(job: Job) -> None:
        try:
            found = await scheduler.publish_event(job.payload)
        except PublishRefused as failed:
            # The reason names the provider's answer, never a token or a key.
            if failed.permanent:
                raise Permanent(failed.reason) from None
            raise Retryable(failed.reason) from None
        await deliver(found)

    async def publish_gave_up(job: Job, reason: str) -> None:
        log.warning("a meeting could not be put on the program account's calendar (%s)", reason)
        await deliver(await scheduler.publish_failed(job.payload, reason))

    worker.handle(EMAIL, send, retry=EMAIL_RETRY, give_up=gave_up, timeout=SMTP_TIMEOUT)
    worker.handle(EVENT, publish, retry=EVENT_RETRY, give_up=publish_gave_up, timeout=EVENT_TIMEOUT)
    worker.handle(REMINDER, remind)
    worker.handle(PENDING, nudge)
    worker.handle(TOLD, tell, retry=TOLD_RETRY, timeout=TOLD_TIMEOUT)
    worker.handle(LEFT, left)
