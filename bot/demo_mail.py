"""The playground's mail: an SMTP server in this process, each demo person's inbox, and what
their mail client does with an invitation (RFC 6047) in their demo calendar.

* :class:`DemoMailServer` is ``aiosmtpd`` on 127.0.0.1, on a free port, in the server's own
  event loop. ``pairtime serve`` points ``PAIRTIME_SMTP_URL`` at it when the operator set
  none, so Pairtime's real mailer (aiosmtplib, the durable outbox) sends to it. It relays
  nothing: every message it accepts is kept, one Maildir per recipient under
  ``folder/demo-mail``. Nothing leaves the machine.
* :class:`DemoDeskService` reads those Maildirs for the page, and answers an invitation as
  a mail client does with an iMIP REQUEST: Accept stores the event in the person's demo
  calendar on the CalDAV server (the caldav library, their PARTSTAT=ACCEPTED), Decline
  leaves the calendar alone (or takes out what they had accepted). Like Gmail or Apple
  Calendar, a CANCEL removes the event when it arrives, and a later REQUEST updates an
  event already in the calendar.
* Replies (``METHOD:REPLY``) are not sent: Pairtime reads no mail (see docs/meetings.md),
  so the answer to Pairtime is given in chat, in the playground as in Slack or Teams.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import mailbox
import re
import shutil
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiosmtpd.smtp import SMTP, Envelope, Session
from icalendar import Calendar, Event, vCalAddress

from adapters.calendars.caldav import CalDavCalendars
from adapters.web.inbox import (
    Answer,
    Attendee,
    CalendarEntry,
    InvitationDetails,
    MailSummary,
    OpenedMail,
)
from core.time import Interval

log = logging.getLogger(__name__)

CALENDAR = "home"  # each demo person's one calendar on the demo's CalDAV server
MAIL_FOLDER = "demo-mail"
PAIRTIME_UID = "@pairtime"  # how core.invitations ends a meeting's UID
ADDRESS = re.compile(r"^[a-z0-9._+-]+@[a-z0-9.-]+$")
MAILDIR_KEY = re.compile(r"^(\d+)\.M(\d+)P\d+Q(\d+)\.")
SEEN, ACCEPTED, DECLINED = "S", "a", "d"  # Maildir flags; lowercase ones are keywords
PRODID = "-//Pairtime//Playground mail client//EN"


def calendar_url(caldav_url: str, address: str) -> str:
    """The demo person's calendar on the demo CalDAV server (``caldav_url`` ends with /)."""
    return f"{caldav_url}{address}/{CALENDAR}/"


def empty_inboxes(folder: Path) -> None:
    """``pairtime demo reset``: every demo inbox emptied (a running server finds them empty)."""
    shutil.rmtree(folder / MAIL_FOLDER, ignore_errors=True)


# ---------------------------------------------------------------- the mailboxes


class Mailboxes:
    """One Maildir per recipient (the standard library's ``mailbox``), on disk, so that
    ``pairtime demo reset`` empties them from another process."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder / MAIL_FOLDER
        self._creating = threading.Lock()

    def _maildir(self, address: str, *, create: bool = False) -> mailbox.Maildir | None:
        """The Maildir of ``address``; None for an address that is not one, or (unless
        ``create``) a mailbox that has received nothing yet."""
        address = address.lower()
        if not ADDRESS.match(address):
            return None
        path = self._folder / address
        if create:
            with self._creating:  # one SMTP transaction may deliver to several at once
                path.parent.mkdir(parents=True, exist_ok=True)
                return mailbox.Maildir(path, factory=None, create=True)
        if not all((path / sub).is_dir() for sub in ("tmp", "new", "cur")):
            return None
        return mailbox.Maildir(path, factory=None, create=False)

    def keep(self, address: str, content: bytes) -> str | None:
        found = self._maildir(address, create=True)
        return None if found is None else found.add(content)

    def messages(self, address: str) -> list[tuple[str, EmailMessage, str]]:
        """(key, message, flags) for every message, in no particular order."""
        found = self._maildir(address)
        if found is None:
            return []
        kept = []
        try:
            for key in found.iterkeys():
                flags = found.get_message(key).get_flags()
                kept.append((key, _parse(found.get_bytes(key)), flags))
        except (KeyError, FileNotFoundError):  # emptied meanwhile (pairtime demo reset)
            pass
        return kept

    def message(self, address: str, key: str) -> tuple[EmailMessage, str] | None:
        found = self._maildir(address)
        if found is None:
            return None
        try:
            stored = found.get_message(key)
            return _parse(found.get_bytes(key)), stored.get_flags()
        except (KeyError, FileNotFoundError):
            return None

    def flag(self, address: str, key: str, add: str, remove: str = "") -> None:
        found = self._maildir(address)
        if found is None:
            return
        try:
            stored = found.get_message(key)
        except (KeyError, FileNotFoundError):
            return
        stored.set_subdir("cur")
        flags = (set(stored.get_flags()) - set(remove)) | set(add)
        stored.set_flags("".join(sorted(flags)))
        found[key] = stored


def _parse(content: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)  # the default policy makes EmailMessages
    return parsed


# ---------------------------------------------------------------- the SMTP server

Receive = Callable[[str, bytes], Awaitable[None]]


@dataclass
class _Handler:
    receive: Receive  # keeps the message for the recipient, then lets their mail client see it

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, _options: Any
    ) -> str:
        if not ADDRESS.match(address.lower()):
            return "550 5.1.1 Not a mailbox of this demo"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, _session: Session, envelope: Envelope
    ) -> str:
        content = bytes(envelope.original_content or b"")
        for address in envelope.rcpt_tos:
            try:
                await self.receive(address.lower(), content)
            except OSError as error:  # a full disk: the sender tries again later
                log.warning("the demo inbox could not keep a message (%s)", type(error).__name__)
                return "451 4.3.0 Could not keep the message; try again later"
        return "250 Kept in the demo inbox"


class DemoMailServer:
    """aiosmtpd on 127.0.0.1 (a free port), in this event loop; plain SMTP, no AUTH: it is
    reachable from this machine only and relays nothing."""

    def __init__(self, receive: Receive) -> None:
        self._handler = _Handler(receive)
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def start(self) -> str:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self._handler, hostname="pairtime-demo.localhost"), "127.0.0.1", 0
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


# ---------------------------------------------------------------- the mail client


class DemoDeskService:
    """The demo people's inboxes and calendars, for the page (``adapters.web.inbox``)."""

    def __init__(
        self,
        mailboxes: Mailboxes,
        caldav_url: str,
        password: str,
        people: Collection[str],
        *,
        local_mail: bool,
    ) -> None:
        self._mailboxes = mailboxes
        self._caldav_url = caldav_url
        self._password = password
        self._people = {address.lower() for address in people}
        self._local_mail = local_mail
        self._calendars = CalDavCalendars(caldav_url, timeout_seconds=10)
        self._processed = asyncio.Condition()  # notified once each message was handled
        self._receiving: Counter[str] = Counter()  # messages being handled, per address

    @property
    def local_mail(self) -> bool:
        return self._local_mail

    async def inbox(self, address: str) -> list[MailSummary]:
        kept = await asyncio.to_thread(self._mailboxes.messages, address)
        listed = [_summary(key, message, flags) for key, message, flags in kept]
        return sorted(listed, key=lambda item: (item.at, _arrival(item.key)), reverse=True)

    async def open(self, address: str, key: str) -> OpenedMail | None:
        found = await asyncio.to_thread(self._mailboxes.message, address, key)
        if found is None:
            return None
        message, flags = found
        await asyncio.to_thread(self._mailboxes.flag, address, key, SEEN)
        summary = replace(_summary(key, message, flags), seen=True)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        invitation = _invitation(message)
        if invitation is not None:
            invitation = replace(
                invitation,
                answer=Answer.ACCEPTED
                if ACCEPTED in flags
                else Answer.DECLINED
                if DECLINED in flags
                else None,
                in_calendar=await self._holds(address, invitation.uid),
                outdated=await self._outdated(address, key, invitation),
            )
        return OpenedMail(summary, str(message.get("To", "")), text, invitation)

    async def answer(self, address: str, key: str, answer: Answer) -> str:
        found = await asyncio.to_thread(self._mailboxes.message, address, key)
        invitation = _invitation(found[0]) if found else None
        if invitation is None or invitation.cancelled:
            return "There is no invitation to answer in this message."
        if await self._outdated(address, key, invitation):
            return "A later message about this meeting arrived: answer that one."
        if answer is Answer.DECLINED:
            removed = await self._remove(address, invitation.uid)
            await asyncio.to_thread(self._mailboxes.flag, address, key, DECLINED, ACCEPTED)
            if removed:  # accepted before: a mail client takes it out again
                return "Declined: the meeting you had accepted is off your calendar."
            return "Declined: your calendar is left as it was."
        assert found is not None
        await self._store(address, _event(found[0]), partstat="ACCEPTED")
        await asyncio.to_thread(self._mailboxes.flag, address, key, ACCEPTED, DECLINED)
        return "Accepted: the meeting is in your calendar."

    async def week(
        self, address: str, zone: ZoneInfo, start: datetime, end: datetime
    ) -> list[CalendarEntry]:
        entries = await self._calendars.agenda(address, self._password, Interval(start, end), zone)
        return [
            CalendarEntry(
                title=entry.title,
                start=entry.start,
                end=entry.end,
                all_day=entry.all_day,
                reads_as=entry.busy[0].status.value if entry.busy else "free",
                from_pairtime=entry.uid.endswith(PAIRTIME_UID),
            )
            for entry in entries
        ]

    async def wait_for(self, address: str, count: int) -> None:
        """Return once ``address`` holds ``count`` messages, each handled (for tests: the
        outbox sends on the worker's schedule)."""

        def arrived() -> bool:
            kept = len(self._mailboxes.messages(address))
            return kept >= count and not self._receiving[address]

        async with self._processed:
            await self._processed.wait_for(arrived)

    async def receive(self, address: str, content: bytes) -> None:
        """A message the SMTP server accepted for ``address``: kept in their inbox, then
        what a mail client does on its own, as the message arrives."""
        self._receiving[address] += 1
        try:
            await asyncio.to_thread(self._mailboxes.keep, address, content)
            try:
                await self._follow(address, _parse(content))
            except Exception:  # the message is kept: a mail client's hiccup is not a bounce
                log.exception("the demo mail client could not process a message")
        finally:
            self._receiving[address] -= 1
            async with self._processed:
                self._processed.notify_all()

    async def _follow(self, address: str, message: EmailMessage) -> None:
        """A CANCEL removes the event from the calendar, a later REQUEST updates an event
        already there (keeping the person's answer): what Gmail or Apple Calendar do."""
        if address not in self._people:
            return
        event = _event(message)
        invitation = _invitation(message)
        if event is None or invitation is None:
            return
        from caldav.lib.error import NotFoundError  # noqa: PLC0415 - caldav loads on first use

        async with self._client(address) as client:
            calendar = self._calendar(client, address)
            try:
                stored = await calendar.get_event_by_uid(invitation.uid)
            except NotFoundError:
                return  # not in the calendar: nothing to remove or update
            if invitation.cancelled:
                await stored.delete()
                log.info("the demo mail client removed a cancelled meeting from a calendar")
                return
            mine = _attendee(stored.icalendar_component, address)
            kept = str(mine.params.get("PARTSTAT", "ACCEPTED")) if mine else "ACCEPTED"
            await calendar.add_event(_object(event, address, kept), increase_seqno=False)

    # ------------------------------------------------------------ CalDAV

    def _client(self, address: str) -> Any:
        from caldav.aio import AsyncDAVClient  # noqa: PLC0415 - caldav loads on first use

        return AsyncDAVClient(
            url=self._caldav_url,
            username=address,
            password=self._password,
            timeout=10,
            enable_rfc6764=False,
            auth_type="basic",
        )

    def _calendar(self, client: Any, address: str) -> Any:
        from caldav.aio import Calendar as DavCalendar  # noqa: PLC0415 - as above

        return DavCalendar(client=client, url=calendar_url(self._caldav_url, address))

    async def _store(self, address: str, event: Event | None, *, partstat: str) -> None:
        if event is None:
            return
        async with self._client(address) as client:
            calendar = self._calendar(client, address)
            await calendar.add_event(_object(event, address, partstat), increase_seqno=False)

    async def _remove(self, address: str, uid: str) -> bool:
        """Take the event ``uid`` out of the person's calendar; whether it was there."""
        from caldav.lib.error import NotFoundError  # noqa: PLC0415 - as above

        async with self._client(address) as client:
            try:
                stored = await self._calendar(client, address).get_event_by_uid(uid)
            except NotFoundError:
                return False
            await stored.delete()
        return True

    async def _holds(self, address: str, uid: str) -> bool:
        """Whether the event ``uid`` is in the person's calendar now."""
        from caldav.lib.error import NotFoundError  # noqa: PLC0415 - as above

        async with self._client(address) as client:
            try:
                await self._calendar(client, address).get_event_by_uid(uid)
            except NotFoundError:
                return False
        return True

    async def _outdated(self, address: str, key: str, invitation: InvitationDetails) -> bool:
        kept = await asyncio.to_thread(self._mailboxes.messages, address)
        for other, message, _ in kept:
            later = _invitation(message) if other != key else None
            if later is not None and later.uid == invitation.uid:
                newer = later.sequence > invitation.sequence
                if newer or (later.sequence == invitation.sequence and later.cancelled):
                    return not invitation.cancelled
        return False


# ---------------------------------------------------------------- reading a message


def _object(event: Event, address: str, partstat: str) -> str:
    """The event as the calendar object a mail client stores: the person's own answer in
    their ATTENDEE line, and no METHOD (RFC 4791 4.1: a stored object is not a message)."""
    mine = _attendee(event, address)
    if mine is not None:
        mine.params["PARTSTAT"] = partstat
        mine.params.pop("RSVP", None)
    stored = Calendar()
    stored.add("prodid", PRODID)
    stored.add("version", "2.0")
    stored.add_component(event)
    return bytes(stored.to_ical()).decode()


def _arrival(key: str) -> tuple[int, int, int]:
    """When a message was kept, from its Maildir name (``SECONDS.MMICROSPPIDQCOUNT.host``):
    the order of two messages the same second, which their Date headers do not tell."""
    found = MAILDIR_KEY.match(key)
    return (int(found[1]), int(found[2]), int(found[3])) if found else (0, 0, 0)


def _summary(key: str, message: EmailMessage, flags: str) -> MailSummary:
    kind = _method(message)
    return MailSummary(
        key=key,
        sender=str(message.get("From", "")),
        # As mail clients show it: one space where folding left two (an encoded word).
        subject=" ".join(str(message.get("Subject", "")).split()),
        at=_date(message),
        seen=SEEN in flags,
        cancellation=kind == "CANCEL",
        invitation=kind == "REQUEST",
    )


def _date(message: EmailMessage) -> datetime:
    try:
        return parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError):
        return datetime.fromtimestamp(0).astimezone()


def _calendar(message: EmailMessage) -> Calendar | None:
    """The iCalendar of the message's ``text/calendar`` part (the first: RFC 6047)."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            try:
                return Calendar.from_ical(part.get_content())
            except (ValueError, KeyError):
                return None
    return None


def _method(message: EmailMessage) -> str | None:
    calendar = _calendar(message)
    return None if calendar is None else str(calendar.get("METHOD", "")).upper() or None


def _event(message: EmailMessage) -> Event | None:
    calendar = _calendar(message)
    if calendar is None:
        return None
    return next((c for c in calendar.walk("VEVENT") if isinstance(c, Event)), None)


def _invitation(message: EmailMessage) -> InvitationDetails | None:
    calendar, event = _calendar(message), _event(message)
    if calendar is None or event is None:
        return None
    try:
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    except KeyError:
        return None
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return None
    location = str(event.get("LOCATION", "")) or None
    link = str(event.get("URL", "")) or None
    if link is None and location and location.startswith(("https://", "http://")):
        link = location
    return InvitationDetails(
        uid=str(event.get("UID", "")),
        method=str(calendar.get("METHOD", "")).upper(),
        sequence=int(event.get("SEQUENCE", 0)),
        title=str(event.get("SUMMARY", "")),
        start=start,
        end=end,
        status=str(event.get("STATUS", "CONFIRMED")).upper(),
        organiser=_who(event.get("ORGANIZER")),
        attendees=tuple(
            Attendee(
                str(each.params.get("CN", "")),
                _mailto(each),
                str(each.params.get("PARTSTAT", "NEEDS-ACTION")),
            )
            for each in _attendees(event)
        ),
        join_link=link,
        location=location if location != link else None,
    )


def _attendees(event: Event) -> list[vCalAddress]:
    listed = event.get("ATTENDEE", [])
    return [a for a in (listed if isinstance(listed, list) else [listed]) if a is not None]


def _attendee(event: Event, address: str) -> vCalAddress | None:
    return next((a for a in _attendees(event) if _mailto(a).lower() == address.lower()), None)


def _mailto(value: object) -> str:
    text = str(value)
    return text[len("mailto:") :] if text.lower().startswith("mailto:") else text


def _who(value: object) -> str:
    if value is None:
        return ""
    name = str(getattr(value, "params", {}).get("CN", ""))
    return f"{name} <{_mailto(value)}>" if name else _mailto(value)
