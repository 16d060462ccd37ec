"""A meeting's invitations through the program account's calendar (see :mod:`core.publishing`).

Each change of a meeting leaves its invitation work in the same transaction
(``Meetings.book`` / ``Meetings.change``): when the program publishes (an organisation
connection with the write grant), that is one ``meeting.event`` job per change, keyed by
the meeting and its sequence, which carries the change's invitation emails whole; else it
is those emails' jobs, as before. The job makes the provider's event match the meeting as
it is when it runs (create, update or cancel), so a job overtaken by a later change does
nothing: the later one's job does it. When the provider will not take the event (no write
grant any more, a 403, or after the last retry), the emails the job carries go out instead;
an event created earlier that cannot be updated is the organiser's to hear about in chat.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.errors import PublishRefused
from core.invitations import InvitationEmail
from core.jobs import NewJob
from core.meetings import Meeting
from core.people import ProgramId
from core.publishing import ProgramEvent, PublishedEvent
from core.scheduling import announce
from core.scheduling.context import Ports
from core.scheduling.meeting_views import people_of, told
from core.views import DirectMessage, Notice, Outcome, Tone

log = logging.getLogger(__name__)

EVENT = "meeting.event"


async def delivery_jobs(
    ports: Ports, meeting: Meeting, messages: Sequence[InvitationEmail], now: datetime
) -> list[NewJob]:
    """The invitation work of one change of ``meeting`` (as stored, its sequence raised)."""
    return jobs_for(meeting, messages, now, publishes=await publishes(ports, meeting.program))


async def publishes(ports: Ports, program: ProgramId) -> bool:
    """Whether ``program``'s meetings go on its program account's calendar."""
    return ports.publisher is not None and await ports.publisher.can_publish(program)


def jobs_for(
    meeting: Meeting, messages: Sequence[InvitationEmail], now: datetime, *, publishes: bool
) -> list[NewJob]:
    """:func:`delivery_jobs`, once :func:`publishes` was asked: for a change made where no
    port may be called (a poll's close, decided inside its transaction)."""
    emails = announce.email_jobs(meeting, messages, now)
    if not publishes:
        return emails
    return [
        NewJob(
            EVENT,
            f"{EVENT}:{meeting.ref}:{meeting.sequence}",
            {
                "program": meeting.program,
                "meeting": meeting.ref,
                "sequence": meeting.sequence,
                "emails": [job.payload for job in emails],
            },
            due_at=now,
        )
    ]


async def publish(ports: Ports, payload: Mapping[str, Any]) -> tuple[ProgramId, Outcome] | None:
    """A ``meeting.event`` job: the program account's event made to match the meeting.

    :class:`PublishRefused` when the provider did not take it (the worker retries it, or
    gives up and calls :func:`publish_failed`). Returns the join link's message, the first
    time the provider gives one."""
    meeting = await ports.meetings.get(str(payload.get("meeting", "")))
    if meeting is None or meeting.sequence != payload.get("sequence"):
        return None  # gone, or changed again: the later change's job does the work
    if ports.publisher is None or ports.program_events is None:
        raise PublishRefused("no program account calendar on this server", permanent=True)
    previous = await ports.program_events.get(meeting.ref)
    if previous is None and not meeting.status.active:
        # Never on the program account's calendar: whatever reached people came by email.
        await _email_instead(ports, payload)
        return None
    people = await people_of(ports, meeting.participants)
    settings = await ports.programs.settings(meeting.program, among=meeting.participants)
    event = ProgramEvent.of(meeting, people, settings.video)
    published = await ports.publisher.publish(event, previous)
    if published is None:
        await ports.program_events.forget(meeting.ref)
        return None
    await ports.program_events.save(published, ports.clock.now())
    link = published.join_url
    if not link or (previous is not None and previous.join_url == link):
        return None
    shown = replace(meeting, location=meeting.location or link)
    attending = [person for person in people if person.id in meeting.attending]
    direct = told(
        ports,
        shown,
        people,
        settings,
        to=attending,
        headline=f"Join {meeting.title} online: {link}",
    )
    return meeting.program, Outcome(None, direct=direct)


async def publish_failed(
    ports: Ports, payload: Mapping[str, Any], reason: str
) -> tuple[ProgramId, Outcome] | None:
    """After a ``meeting.event`` job failed for good: the emails go out instead, or, when
    the event exists already (people have it), the organiser is told in chat."""
    ref = str(payload.get("meeting", ""))
    previous = await ports.program_events.get(ref) if ports.program_events else None
    if previous is None:
        await _email_instead(ports, payload)
        return None
    meeting = await ports.meetings.get(ref)
    if meeting is None:
        return None
    text = (
        f"I couldn't update {meeting.title} on the program account's calendar ({reason}). "
        "The calendar invitation people hold may show it as it was; tell them in chat."
    )
    return meeting.program, Outcome(
        None, direct=(DirectMessage(meeting.organizer, Notice(text, Tone.WARNING)),)
    )


async def _email_instead(ports: Ports, payload: Mapping[str, Any]) -> None:
    """The emails the job carries, enqueued as the change would have without publishing
    (the same keys: none is sent twice)."""
    jobs = []
    for data in payload.get("emails", []):
        try:
            key = InvitationEmail.from_json(data).key()
        except ValueError:
            continue
        jobs.append(NewJob(announce.EMAIL, key, data))
    if jobs:
        await ports.jobs.enqueue_all(jobs, ports.clock.now())
    log.info("%d invitation email(s) go out instead of the program account's event", len(jobs))


__all__ = [
    "EVENT",
    "PublishedEvent",
    "delivery_jobs",
    "jobs_for",
    "publish",
    "publish_failed",
    "publishes",
]
