"""Slot offers (a picker someone was shown) and the meetings booked from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from core.commands import Exclusions, TimeOfDay
from core.people import PersonId, ProgramId
from core.time import Interval


@dataclass(frozen=True, slots=True)
class SlotOffer:
    """The times a requester was offered with their partners.

    ``slots`` holds every free time found, so "more times" pages through
    them without reading calendars again; ``shown`` those already offered.
    ``ref`` is random and unguessable; buttons carry it inside a signed
    reference, never a database id.
    """

    ref: str
    program: ProgramId
    requester: PersonId
    participants: tuple[PersonId, ...]  # the requester first
    duration_minutes: int
    window: Interval
    slots: tuple[Interval, ...]
    shown: tuple[Interval, ...]
    created_at: datetime
    time_of_day: TimeOfDay | None = None
    # The meeting that picking one of these times moves ("move", "other times"), if any.
    moving: str | None = None
    # What the requester ruled out: fresh times, when a picked one was taken, keep it out.
    ruled_out: Exclusions = field(default_factory=Exclusions)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class MeetingStatus(StrEnum):
    """Where a meeting is in its life.

    ``proposed`` waits for the partner's answer (the ``confirmation`` rule); ``confirmed``
    holds; both are busy time for their people. ``declined`` (the partner said no) and
    ``cancelled`` free the time. A move keeps the meeting and its UID and raises its
    sequence; it may make it ``proposed`` again.
    """

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """Still going to happen (busy time), as far as Pairtime knows."""
        return self in (MeetingStatus.PROPOSED, MeetingStatus.CONFIRMED)


@dataclass(frozen=True, slots=True)
class Meeting:
    ref: str
    program: ProgramId
    organizer: PersonId
    participants: tuple[PersonId, ...]
    start: datetime
    end: datetime
    title: str
    created_at: datetime
    # At most one meeting per offer and per poll: storage enforces both.
    offer_ref: str | None = None
    poll_ref: str | None = None
    status: MeetingStatus = MeetingStatus.CONFIRMED
    sequence: int = 0  # the iCalendar SEQUENCE, raised on every change
    # Who chose the current time; in a pair, the other one answers a proposal.
    proposer: PersonId | None = None
    location: str | None = None  # a join link or a room, shown everywhere the meeting is
    # Members of a circle meeting who declined for themselves: it is not their busy time.
    declined: tuple[PersonId, ...] = ()

    @property
    def span(self) -> Interval:
        return Interval(self.start, self.end)

    @property
    def is_pair(self) -> bool:
        """A one-to-one meeting: either person may move or cancel it."""
        return len(self.participants) == 2

    @property
    def attending(self) -> tuple[PersonId, ...]:
        """The participants who have not declined, in order."""
        return tuple(p for p in self.participants if p not in self.declined)

    def partner_of(self, person: PersonId) -> PersonId | None:
        """In a pair, the other person; None in a circle."""
        if not self.is_pair or person not in self.participants:
            return None
        return next(p for p in self.participants if p != person)

    def may_change(self, person: PersonId) -> bool:
        """Who may move or cancel it: either person of a pair, a circle's organiser."""
        if self.is_pair:
            return person in self.participants
        return person == self.organizer
