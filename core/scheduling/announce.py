"""The work a meeting's change leaves behind: invitation emails, reminders, a nudge.

Each is a durable job (``core.jobs``), enqueued in the same transaction as the change
(``Meetings.book`` / ``Meetings.change`` take them), so a crash never separates a meeting
from its invitations, and a change made once enqueues them once. Keys name each piece of
work (see /docs/meetings.md): a retried click or a second process cannot email anyone
twice. The handlers re-read the meeting and drop work a later change made moot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from core.invitations import InvitationEmail, Mailbox, Method, emails
from core.jobs import NewJob
from core.meetings import Meeting, MeetingStatus
from core.people import Person
from core.program import ProgramSettings
from core.scheduling.context import Ports, zone_of

EMAIL = "email"
REMINDER = "meeting.reminder"
PENDING = "meeting.pending"
# A proposal unanswered this long gets one reminder to the person who should answer.
PENDING_AFTER = timedelta(hours=24)


def sender(ports: Ports) -> Mailbox | None:
    """The address invitations come from, when email is on."""
    return ports.mailer.sender if ports.mailer is not None else None


def invitation_emails(
    ports: Ports,
    meeting: Meeting,
    people: Sequence[Person],
    settings: ProgramSettings,
    *,
    stamp: datetime,
    to: Sequence[Person] | None = None,
    method: Method | None = None,
    listed: Sequence[Person] | None = None,
) -> list[InvitationEmail]:
    """The messages for ``meeting`` as it will be stored (its sequence already raised)."""
    mailbox = sender(ports)
    if mailbox is None:
        return []
    return emails(
        meeting,
        people,
        settings,
        sender=mailbox,
        stamp=stamp,
        zone=lambda person: zone_of(person.timezone, settings.default_timezone),
        to=to,
        method=method,
        listed=listed,
    )


def email_jobs(
    meeting: Meeting, messages: Sequence[InvitationEmail], now: datetime
) -> list[NewJob]:
    return [
        NewJob(
            EMAIL,
            message.key(),
            {"program": meeting.program, "organizer": meeting.organizer, **message.to_json()},
            due_at=now,
        )
        for message in messages
    ]


def reminder_jobs(meeting: Meeting, settings: ProgramSettings, now: datetime) -> list[NewJob]:
    """One reminder per attending person, ``reminder_minutes`` before the start (at once
    when that is already past). Keyed by the start: a move makes new ones, an accept or a
    new place leaves these be."""
    minutes = settings.reminder_minutes
    if not minutes or not meeting.status.active or meeting.start <= now:
        return []
    due = max(now, meeting.start - timedelta(minutes=minutes))
    start = int(meeting.start.timestamp())
    return [
        NewJob(
            REMINDER,
            f"{REMINDER}:{meeting.ref}:{start}:{person}",
            {
                "program": meeting.program,
                "meeting": meeting.ref,
                "person": person,
                "start": meeting.start.isoformat(),
            },
            due_at=due,
        )
        for person in meeting.attending
    ]


def pending_job(meeting: Meeting, now: datetime) -> list[NewJob]:
    """The nudge for a proposal nobody answered, if it is one."""
    if meeting.status is not MeetingStatus.PROPOSED:
        return []
    return [
        NewJob(
            PENDING,
            f"{PENDING}:{meeting.ref}:{meeting.sequence}",
            {"program": meeting.program, "meeting": meeting.ref, "sequence": meeting.sequence},
            due_at=now + PENDING_AFTER,
        )
    ]
