"""An invitation as the email mail clients recognise (RFC 6047), built with ``email``.

``multipart/mixed`` whose first child is ``multipart/alternative`` { ``text/plain``,
``text/calendar; method=REQUEST; charset=UTF-8`` }, then the same iCalendar attached as
``invite.ics``: what Google Calendar and Thunderbird send. Outlook looks for the calendar
only in that first child, and uses the VCALENDAR's METHOD when it differs from the part's
``method=``, so both always say the same.
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from core.invitations import InvitationEmail, Mailbox


def compose(email: InvitationEmail, sender: Mailbox, now: datetime) -> EmailMessage:
    """The message for ``email``, from ``sender`` (which must be its ORGANIZER)."""
    message = EmailMessage()
    message["From"] = _address(sender)
    message["To"] = _address(email.to)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("pairtime", domain=_domain(sender.address))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    message.set_content(email.text)
    calendar = email.calendar.decode("utf-8")
    message.add_alternative(calendar, subtype="calendar", params={"method": email.method.value})
    message.add_attachment(
        email.calendar,
        maintype="application",
        subtype="ics",
        filename="invite.ics",
    )
    return message


def _address(box: Mailbox) -> Address:
    return Address(display_name=box.name, addr_spec=box.address)


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "pairtime.invalid"
