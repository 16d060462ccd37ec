"""The worker's meeting jobs: invitation emails, reminders, the nudge of a proposal.

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
from core.errors import MailRefused
from core.jobs import Job
from core.people import ProgramId
from core.scheduling.announce import EMAIL, PENDING, REMINDER
from core.views import Outcome

log = logging.getLogger(__name__)

# Mail servers come back within hours: twelve tries over half a day to a day (the waits
# double up to six hours, with jitter), then the organiser is told.
EMAIL_RETRY = Retry(attempts=12, first=timedelta(minutes=1), longest=timedelta(hours=6))
SMTP_TIMEOUT = 120.0  # seconds one attempt may take (connect, TLS, login, send)


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

    worker.handle(EMAIL, send, retry=EMAIL_RETRY, give_up=gave_up, timeout=SMTP_TIMEOUT)
    worker.handle(REMINDER, remind)
    worker.handle(PENDING, nudge)
