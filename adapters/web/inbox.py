"""What the playground shows beside the chat: each demo person's inbox and calendar.

The page only renders these; ``bot.demo_mail`` fills them from what really went through
the demo's SMTP server and CalDAV server (an adapter never calls another adapter), and
acts on an invitation as a mail client does. Plain data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo


class Answer(StrEnum):
    """What the person did with an invitation in their mail client."""

    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class MailSummary:
    """One line of an inbox."""

    key: str  # the message's name in the person's mailbox
    sender: str
    subject: str
    at: datetime
    seen: bool
    cancellation: bool = False
    invitation: bool = False


@dataclass(frozen=True, slots=True)
class Attendee:
    name: str
    address: str
    partstat: str  # as the invitation lists it: NEEDS-ACTION, ACCEPTED...


@dataclass(frozen=True, slots=True)
class InvitationDetails:
    """The calendar part of an email (RFC 6047), as a mail client shows it."""

    uid: str
    method: str  # REQUEST or CANCEL
    sequence: int
    title: str
    start: datetime
    end: datetime
    status: str  # TENTATIVE (proposed), CONFIRMED or CANCELLED
    organiser: str  # "Name <address>"
    attendees: tuple[Attendee, ...]
    join_link: str | None = None
    location: str | None = None
    answer: Answer | None = None  # what this person answered, in their mail client
    in_calendar: bool = False  # the event is in their calendar now
    outdated: bool = False  # a later message about the same meeting arrived

    @property
    def cancelled(self) -> bool:
        return self.method == "CANCEL"


@dataclass(frozen=True, slots=True)
class OpenedMail:
    summary: MailSummary
    to: str
    text: str  # the plain-text part
    invitation: InvitationDetails | None


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One event of a person's own calendar, and what Pairtime reads from it."""

    title: str
    start: datetime
    end: datetime
    all_day: bool
    reads_as: str  # busy, tentative, oof, all_day or free: the product's vocabulary
    from_pairtime: bool  # a Pairtime meeting the person added from an invitation


class DemoDesk(Protocol):
    """The demo people's mail and calendars, as the playground shows them."""

    @property
    def local_mail(self) -> bool:
        """Whether Pairtime's emails go to the demo's own SMTP server (not the operator's)."""

    async def inbox(self, address: str) -> list[MailSummary]:
        """The messages received for ``address``, newest first."""

    async def open(self, address: str, key: str) -> OpenedMail | None:
        """One message (marked read); None when there is no such message."""

    async def answer(self, address: str, key: str, answer: Answer) -> str:
        """Accept or decline an invitation as a mail client does; what happened, in words."""

    async def week(
        self, address: str, zone: ZoneInfo, start: datetime, end: datetime
    ) -> list[CalendarEntry]:
        """The person's own calendar (in their ``zone``) over ``start`` to ``end``."""
