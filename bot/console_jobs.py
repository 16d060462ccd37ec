"""The worker's console jobs: an admin's reminders to connect a calendar, sent in chat."""

from __future__ import annotations

from bot.services import Services
from bot.worker import Worker
from core.admin.people import CONNECT_REMINDER
from core.jobs import Job


def register(worker: Worker, services: Services) -> None:
    async def remind(job: Job) -> None:
        found = await services.scheduler.connect_reminder(job.payload)
        if found is not None:
            program, outcome = found
            await services.messengers.deliver(program, outcome)

    worker.handle(CONNECT_REMINDER, remind)
