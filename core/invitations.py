"""Invitations: a meeting as iCalendar (RFC 5545), sent as iTIP (RFC 5546) over email (RFC 6047).

The organiser is the program's own address (``PAIRTIME_MAIL_FROM`` when email is on, the
program's assistant address otherwise); the attendees are the participants still attending
who have an email address. One UID for the meeting's whole life; the SEQUENCE is the
meeting's, raised on every change, so mail clients replace what they hold: a ``REQUEST``
for a proposed (``TENTATIVE``), confirmed or moved meeting, a ``CANCEL`` with
``STATUS:CANCELLED`` once it is off. Times are written in UTC, so no VTIMEZONE is needed.

An email carries nothing of anyone's calendar: names, addresses, the time and the
meeting's own text only.

icalendar is imported when the first invitation is written, not when a server starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.meetings import Meeting, MeetingStatus
from core.people import Person
from core.program import ProgramSettings
from core.views import Invitation

PRODID = "-//Pairtime//Pairtime scheduling assistant//EN"
DASH = "\u2013"
REPLIES = (
    "Accept, decline, move or cancel this meeting in chat with Pairtime: replies to this "
    "email are not read."
)


class Method(StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A name and an email address, as in ``"Mentoring Program <mentoring@example.org>"``."""

    name: str
    address: str


@dataclass(frozen=True, slots=True)
class InvitationEmail:
    """One iMIP message for one recipient, ready to send; what the email outbox keeps.

    Built whole when the meeting changes, so a retry sends the same message.
    """

    meeting: str
    sequence: int
    method: Method
    to: Mailbox
    subject: str
    text: str
    calendar: bytes  # the iCalendar, in the message's text/calendar part and as invite.ics

    def key(self) -> str:
        """Names this message once: the same change never emails one person twice."""
        return f"email:{self.meeting}:{self.sequence}:{self.to.address.lower()}"

    def to_json(self) -> dict[str, Any]:
        """As the email outbox keeps it (no secret in it: names, addresses, the meeting)."""
        return {
            "meeting": self.meeting,
            "sequence": self.sequence,
            "method": self.method.value,
            "to": self.to.address,
            "name": self.to.name,
            "subject": self.subject,
            "text": self.text,
            "ics": self.calendar.decode("utf-8"),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InvitationEmail:
        """What :meth:`to_json` wrote; ``ValueError`` for anything else."""
        try:
            return cls(
                meeting=str(data["meeting"]),
                sequence=int(data["sequence"]),
                method=Method(data["method"]),
                to=Mailbox(str(data["name"]), str(data["to"])),
                subject=str(data["subject"]),
                text=str(data["text"]),
                calendar=str(data["ics"]).encode("utf-8"),
            )
        except (KeyError, TypeError) as error:
            raise ValueError("not an invitation email") from error


def organizer(settings: ProgramSettings, sender: Mailbox | None) -> Mailbox:
    """Who invitations come from: the sending address when email is on (mail clients want
    the ORGANIZER to be the From), else the program's assistant address."""
    return sender or Mailbox(settings.assistant_name, settings.assistant_email)


def method_of(meeting: Meeting) -> Method:
    return Method.REQUEST if meeting.status.active else Method.CANCEL


def calendar(
    meeting: Meeting,
    people: Sequence[Person],
    *,
    organizer: Mailbox,
    stamp: datetime,
    method: Method | None = None,
    attendees: Sequence[Person] | None = None,
) -> bytes:
    """The meeting as an iTIP message; ``attendees`` (default: everyone still attending with
    an email address) are listed. A CANCEL sent to one person who declined lists only them."""
    method = method or method_of(meeting)
    listed = (
        attendees
        if attendees is not None
        else [p for p in people if p.email and p.id in meeting.attending]
    )
    from icalendar import Calendar, Event, vCalAddress, vText  # noqa: PLC0415 - see the top

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method.value)

    event = Event()
    event.add("uid", uid(meeting))
    event.add("dtstamp", stamp)
    event.add("dtstart", meeting.start)
    event.add("dtend", meeting.end)
    event.add("summary", meeting.title)
    event.add("sequence", meeting.sequence)
    event.add("status", _status(meeting, method))
    event.add("transp", "OPAQUE")
    event.add("description", description(meeting))
    if meeting.location:
        event.add("location", meeting.location)
        if _is_link(meeting.location):
            event.add("url", meeting.location)

    boss = vCalAddress(f"mailto:{organizer.address}")
    boss.params["cn"] = vText(organizer.name)
    event["organizer"] = boss
    for person in listed:
        if not person.email:
            continue
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=False)
    cal.add_component(event)
    return bytes(cal.to_ical())


def invitation(
    meeting: Meeting,
    people: Sequence[Person],
    settings: ProgramSettings,
    *,
    stamp: datetime,
    sender: Mailbox | None = None,
) -> Invitation:
    """The .ics file for chat (download or attachment): the same message the email carries."""
    content = calendar(meeting, people, organizer=organizer(settings, sender), stamp=stamp)
    name = "meeting.ics" if meeting.status.active else "cancelled-meeting.ics"
    return Invitation(filename=name, content=content)


def emails(
    meeting: Meeting,
    people: Sequence[Person],
    settings: ProgramSettings,
    *,
    sender: Mailbox,
    stamp: datetime,
    zone: Callable[[Person], ZoneInfo],
    to: Sequence[Person] | None = None,
    method: Method | None = None,
    listed: Sequence[Person] | None = None,
) -> list[InvitationEmail]:
    """One message per recipient with an email address: ``to`` (default: everyone still
    attending), each with the time in their own ``zone``. ``listed`` are the ATTENDEEs
    (default: everyone still attending); a circle member who declined is sent a CANCEL
    that lists them alone."""
    method = method or method_of(meeting)
    boss = organizer(settings, sender)
    recipients = to if to is not None else [p for p in people if p.id in meeting.attending]
    content = calendar(
        meeting, people, organizer=boss, stamp=stamp, method=method, attendees=listed
    )
    return [
        InvitationEmail(
            meeting=meeting.ref,
            sequence=meeting.sequence,
            method=method,
            to=Mailbox(person.name, person.email),
            subject=subject(meeting, method, zone(person)),
            text=body(meeting, people, person, method, zone(person), organizer=boss),
            calendar=content,
        )
        for person in recipients
        if person.email
    ]


def uid(meeting: Meeting) -> str:
    return f"{meeting.ref}@pairtime"


def description(meeting: Meeting) -> str:
    lines = [f"{meeting.title}, arranged with Pairtime."]
    if meeting.location:
        lines.append(f"{'Join' if _is_link(meeting.location) else 'Where'}: {meeting.location}")
    lines.append(REPLIES)
    return "\n\n".join(lines)


def when(meeting: Meeting, zone: ZoneInfo) -> str:
    """ "Tue 1 Dec 2026, 14:00 to 14:30 (Europe/London)", with a dash."""
    start, end = meeting.start.astimezone(zone), meeting.end.astimezone(zone)
    day = f"{start:%a} {start.day} {start:%b} {start.year}"
    return f"{day}, {start:%H:%M}{DASH}{end:%H:%M} ({zone.key})"


def subject(meeting: Meeting, method: Method, zone: ZoneInfo) -> str:
    if method is Method.CANCEL:
        lead = "Cancelled"
    elif meeting.sequence == 0:
        lead = "Invitation"
    else:
        lead = "Updated invitation"
    return f"{lead}: {meeting.title} @ {when(meeting, zone)}"


def body(
    meeting: Meeting,
    people: Sequence[Person],
    reader: Person,
    method: Method,
    zone: ZoneInfo,
    *,
    organizer: Mailbox,
) -> str:
    names = [p.name for p in people if p.id in meeting.attending and p.id != reader.id]
    with_whom = ", ".join(names) if names else "just you"
    if method is Method.CANCEL:
        opening = f"This meeting is cancelled for you: {meeting.title}."
    elif meeting.status is MeetingStatus.PROPOSED:
        opening = f"A time is proposed for {meeting.title}; it is waiting for an answer in chat."
    elif meeting.sequence == 0:
        opening = f"You're invited to {meeting.title}."
    else:
        opening = f"{meeting.title} has changed; this is its current time."
    lines = [
        f"Hello {reader.name},",
        opening,
        f"When: {when(meeting, zone)}",
        f"With: {with_whom}",
    ]
    if meeting.location and method is Method.REQUEST:
        lines.append(f"{'Join' if _is_link(meeting.location) else 'Where'}: {meeting.location}")
    lines += ["", REPLIES, f"{organizer.name} (sent by Pairtime)"]
    return "\n".join(lines) + "\n"


def _status(meeting: Meeting, method: Method) -> str:
    if method is Method.CANCEL:
        return "CANCELLED"
    return "TENTATIVE" if meeting.status is MeetingStatus.PROPOSED else "CONFIRMED"


def _is_link(text: str) -> bool:
    return text.startswith(("https://", "http://"))
