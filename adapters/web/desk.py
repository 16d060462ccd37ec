"""The Inbox and Calendar tabs as HTML, from ``adapters.web.inbox``'s data. Pure.

Times are written in the viewing person's zone, as everywhere on the page; the templates
(``templates/inbox.html``, ``mail.html``, ``calendar.html``) escape every value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.templates import render
from adapters.web.inbox import Answer, CalendarEntry, MailSummary, OpenedMail
from adapters.web.render import zone_name
from core.time import describe, local_day

PACKAGE = "adapters.web"
DASH = "\u2013"
READS_AS = {
    "busy": "Busy for Pairtime",
    "tentative": "Tentative for Pairtime",
    "oof": "Out of office for Pairtime",
    "all_day": "All day, marked free: the program's rule decides",
    "free": "Free for Pairtime",
}
PARTSTAT = {
    "NEEDS-ACTION": "not answered yet",
    "ACCEPTED": "accepted",
    "DECLINED": "declined",
    "TENTATIVE": "maybe",
}
STATUS = {"TENTATIVE": "Proposed", "CONFIRMED": "Confirmed", "CANCELLED": "Cancelled"}


@dataclass(frozen=True, slots=True)
class Moment:
    """A time for a template: the machine-readable stamp and the words."""

    stamp: str
    text: str


def moment(at: datetime, zone: ZoneInfo, text: str | None = None) -> Moment:
    local = at.astimezone(zone)
    return Moment(local.isoformat(timespec="minutes"), text or describe(at, zone))


def inbox(items: Sequence[MailSummary], *, name: str, zone: ZoneInfo, local_mail: bool) -> str:
    """The list of a person's emails, newest first."""
    return render(
        PACKAGE,
        "inbox.html",
        items=[{"mail": item, "at": moment(item.at, zone)} for item in items],
        name=name,
        local_mail=local_mail,
    )


def opened(mail: OpenedMail, *, name: str, zone: ZoneInfo) -> str:
    """One email: its headers, the invitation it carries, and its plain text."""
    invitation = mail.invitation
    shown = None
    if invitation is not None:
        local_start, local_end = invitation.start.astimezone(zone), invitation.end.astimezone(zone)
        end_text = (
            f"{local_end:%H:%M}"
            if local_start.date() == local_end.date()
            else describe(invitation.end, zone)
        )
        shown = {
            "details": invitation,
            "start": moment(invitation.start, zone),
            "end": moment(invitation.end, zone, end_text),
            "zone": zone_name(zone, invitation.start),
            "status": STATUS.get(invitation.status, invitation.status.title()),
            "attendees": [
                {"who": a, "answer": PARTSTAT.get(a.partstat, a.partstat.lower())}
                for a in invitation.attendees
            ],
            "accepted": invitation.answer is Answer.ACCEPTED,
            "declined": invitation.answer is Answer.DECLINED,
            "answerable": not invitation.cancelled and not invitation.outdated,
        }
    return render(
        PACKAGE,
        "mail.html",
        mail=mail,
        at=moment(mail.summary.at, zone),
        invitation=shown,
        name=name,
        dash=DASH,
    )


def week(
    entries: Sequence[CalendarEntry],
    *,
    monday: date,
    name: str,
    zone: ZoneInfo,
    which: str,
) -> str:
    """A person's calendar from ``monday`` for seven days, as they see it in their zone."""
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        span = local_day(day, zone)
        shown = []
        for entry in entries:
            if entry.all_day:
                if entry.start < span.end and span.start < entry.end:
                    shown.append(_entry(entry, zone, all_day=True))
            elif entry.start.astimezone(zone).date() == day:
                shown.append(_entry(entry, zone, all_day=False))
        days.append({"date": day, "label": f"{day:%a} {day.day} {day:%b}", "entries": shown})
    return render(
        PACKAGE,
        "calendar.html",
        days=days,
        name=name,
        zone=zone_name(zone, local_day(monday, zone).start),
        which=which,
    )


def _entry(entry: CalendarEntry, zone: ZoneInfo, *, all_day: bool) -> dict[str, object]:
    if all_day:
        when = None
    else:
        start = moment(entry.start, zone, f"{entry.start.astimezone(zone):%H:%M}")
        end = moment(entry.end, zone, f"{entry.end.astimezone(zone):%H:%M}")
        when = (start, end)
    return {
        "entry": entry,
        "when": when,
        "reads_as": READS_AS.get(entry.reads_as, entry.reads_as),
        "css": entry.reads_as.replace("_", "-"),
    }
