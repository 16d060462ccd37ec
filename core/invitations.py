"""iCalendar invitations for booked and cancelled meetings (RFC 5545 / 5546 iTIP).

The organiser is the program's scheduling assistant; attendees are the
participants with a known email address.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText

from core.meetings import Meeting
from core.people import Person
from core.program import ProgramSettings
from core.views import Invitation


def invitation(
    meeting: Meeting,
    people: Sequence[Person],
    settings: ProgramSettings,
    *,
    stamp: datetime,
) -> Invitation:
    """A REQUEST for a booked meeting, or a CANCEL for a cancelled one."""
    cancelled = not meeting.status.active  # declined or cancelled
    calendar = Calendar()
    calendar.add("prodid", "-//Pairtime//Pairtime scheduling assistant//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")

    event = Event()
    event.add("uid", f"{meeting.ref}@pairtime")
    event.add("dtstamp", stamp)
    event.add("dtstart", meeting.start)
    event.add("dtend", meeting.end)
    event.add("summary", meeting.title)
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("description", "Booked with Pairtime.")

    organizer = vCalAddress(f"mailto:{settings.assistant_email}")
    organizer.params["cn"] = vText(settings.assistant_name)
    event["organizer"] = organizer
    for person in people:
        if not person.email:
            continue
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    name = "cancelled-meeting.ics" if cancelled else "meeting.ics"
    return Invitation(filename=name, content=calendar.to_ical())
