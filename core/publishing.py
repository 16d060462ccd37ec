"""Meetings as events on the program account's calendar.

With an organisation connection that holds the optional write grant, the program
account (``mentoring@example.org``) creates each booked meeting in its own calendar with
the participants as attendees, so their provider sends the invitations (Google with
``sendUpdates=all``, Microsoft 365 by itself), and a move or a cancellation updates or
cancels that one event. The program's ``video`` rule adds a Teams meeting or a Google
Meet, whose join link Pairtime then shows in chat. Without the grant, or when the
provider will not take the event, the meeting's email invitations go out instead.

Core builds :class:`ProgramEvent` from a meeting and hands it to the
:class:`~core.ports.MeetingPublisher` port; what the provider gave back (its event id,
the join link) is kept as :class:`PublishedEvent`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.invitations import Mailbox, description
from core.meetings import Meeting, MeetingStatus
from core.organisation import OrgProvider
from core.people import Person, ProgramId
from core.program import VideoRule


@dataclass(frozen=True, slots=True)
class ProgramEvent:
    """A meeting as the program account's calendar holds it: no secret, nobody's busy
    times; the attendees are those still attending who have an email address."""

    meeting: str  # the meeting's ref: the provider's event is created once per meeting
    program: ProgramId
    title: str
    start: datetime
    end: datetime
    attendees: tuple[Mailbox, ...]
    description: str
    location: str | None
    video: VideoRule
    active: bool  # False: cancel the event
    tentative: bool  # a proposal waiting for the partner's answer

    @classmethod
    def of(cls, meeting: Meeting, people: Sequence[Person], video: VideoRule) -> ProgramEvent:
        attendees = tuple(
            Mailbox(p.name, p.email) for p in people if p.email and p.id in meeting.attending
        )
        return cls(
            meeting=meeting.ref,
            program=meeting.program,
            title=meeting.title,
            start=meeting.start,
            end=meeting.end,
            attendees=attendees,
            description=description(meeting),
            location=meeting.location,
            video=video,
            active=meeting.status.active,
            tentative=meeting.status is MeetingStatus.PROPOSED,
        )


@dataclass(frozen=True, slots=True)
class PublishedEvent:
    """The provider's event for a meeting: what later updates and the cancellation need."""

    meeting: str
    provider: OrgProvider
    event_id: str
    join_url: str | None = None  # the online meeting's link, when the video rule asked
