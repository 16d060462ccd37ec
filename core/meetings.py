"""Slot offers (a picker someone was shown) and the meetings booked from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.commands import TimeOfDay
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

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class MeetingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


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
    status: MeetingStatus = MeetingStatus.BOOKED
    sequence: int = 0  # the iCalendar SEQUENCE, raised on every change

    @property
    def span(self) -> Interval:
        return Interval(self.start, self.end)
