"""Durable jobs (see core.jobs), enqueued with the poll's opening in one transaction, so a
posted poll always has them; whichever process claims one runs it, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.jobs import NewJob
from core.people import ProgramId
from core.polls import Poll, PollStatus
from core.scheduling.context import Ports, zone_of
from core.scheduling.polls.closing import close
from core.time import describe
from core.views import (
    DirectMessage,
    Notice,
    Outcome,
    Tone,
)

CLOSE_JOB = "poll.close"
NUDGE_JOB = "poll.nudge"
NUDGE_AT_MOST = timedelta(hours=24)  # before the deadline


def deadline_jobs(ref: str, deadline: datetime | None, posted_at: datetime) -> list[NewJob]:
    """The close at ``deadline``, and one reminder halfway between posting and the deadline,
    or a day before the deadline when that is later."""
    if deadline is None:
        return []
    lead = min(NUDGE_AT_MOST, (deadline - posted_at) / 2)
    payload = {"poll": ref}
    return [
        NewJob(CLOSE_JOB, f"{CLOSE_JOB}:{ref}", payload, due_at=deadline),
        NewJob(NUDGE_JOB, f"{NUDGE_JOB}:{ref}", payload, due_at=deadline - lead),
    ]


async def deadline(ports: Ports, ref: str) -> tuple[ProgramId, Outcome] | None:
    """Close and book a poll whose deadline came; None when it is not open any more,
    unless it closed at its deadline: this job then runs again after its process died
    once the close had committed, and the card is drawn again (see ``close``)."""
    poll = await ports.polls.get(ref)
    if poll is None or poll.status is PollStatus.DRAFT or poll.status is PollStatus.CANCELLED:
        return None
    if poll.status is PollStatus.CLOSED and not _closed_at_deadline(poll):
        return None  # the organiser closed it earlier
    return poll.program, await close(ports, poll, by=None)


def _closed_at_deadline(poll: Poll) -> bool:
    return (
        poll.deadline is not None and poll.closed_at is not None and poll.closed_at >= poll.deadline
    )


async def nudge(ports: Ports, ref: str) -> tuple[ProgramId, Outcome] | None:
    """Remind the invitees who have not voted (the organiser aside), each once."""
    poll = await ports.polls.get(ref)
    if poll is None or poll.status is not PollStatus.OPEN:
        return None
    now = ports.clock.now()
    settings = await ports.programs.settings(poll.program)
    waiting = [p for p in await ports.polls.unvoted(ref) if p != poll.organizer]
    people = await ports.people.many(waiting)
    direct: list[DirectMessage] = []
    for person in waiting:
        # Conditional in the database: a reminder interrupted and run again is sent once.
        if not await ports.polls.nudged(ref, person, now):
            continue
        found = people.get(person)
        zone = zone_of(found.timezone if found else None, settings.default_timezone)
        closes = describe(poll.deadline, zone) if poll.deadline else "soon"
        notice = Notice(
            f"Reminder: the poll “{poll.title}” closes {closes}, and you haven't voted yet.",
            Tone.INFO,
        )
        direct.append(DirectMessage(person, notice))
    return poll.program, Outcome(None, direct=tuple(direct))
