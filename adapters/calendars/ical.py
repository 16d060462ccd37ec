"""Events in iCalendar form to busy intervals: only the time ranges come out.

Recurring events are expanded with ``recurring-ical-events`` (RRULE, RDATE,
EXDATE and moved instances with RECURRENCE-ID). Rules applied:

* STATUS:CANCELLED events are free, so left out;
* an all-day event (DATE values) covers whole local days of the calendar's
  owner, whatever its TRANSP: ``busy`` when opaque, ``all_day`` when marked
  free (TRANSPARENT), for the program's rule to decide;
* other TRANSP:TRANSPARENT events are free, so left out;
* STATUS:TENTATIVE is ``tentative``; Outlook's out-of-office marker is ``oof``;
* a floating time (no zone) is read in the owner's zone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Event

from core.availability import BusyInterval, BusyStatus
from core.time import Interval, local_day

log = logging.getLogger(__name__)


def busy_from_ical(texts: Iterable[str], window: Interval, zone: ZoneInfo) -> list[BusyInterval]:
    """Busy intervals overlapping ``window`` in the calendar objects ``texts``."""
    busy: list[BusyInterval] = []
    for event in _occurrences(texts, window):
        busy.extend(_intervals(event, window, zone))
    return busy


def _occurrences(texts: Iterable[str], window: Interval) -> Iterator[Event]:
    """The events of ``texts`` overlapping ``window``, recurrences expanded."""
    for text in texts:
        try:
            calendar = Calendar.from_ical(text)
            occurrences = recurring_ical_events.of(calendar).between(window.start, window.end)
        except (ValueError, KeyError) as error:
            # One broken event must not hide everyone's other events; say which kind of fault.
            log.warning(
                "skipped a calendar object that could not be read: %s", type(error).__name__
            )
            continue
        yield from (event for event in occurrences if isinstance(event, Event))


@dataclass(frozen=True, slots=True)
class Entry:
    """One occurrence of an event as its owner's calendar shows it, with what Pairtime reads
    from it: ``busy`` is the intervals :func:`busy_from_ical` takes (none when it is free)."""

    uid: str
    title: str
    start: datetime
    end: datetime
    all_day: bool
    busy: tuple[BusyInterval, ...]


def entries_from_ical(texts: Iterable[str], window: Interval, zone: ZoneInfo) -> list[Entry]:
    """The occurrences overlapping ``window``, titled, in start order: for a person looking at
    their own calendar (the playground's), never for reading other people's busy times."""
    entries: list[Entry] = []
    for event in _occurrences(texts, window):
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start = event.decoded("DTSTART")
        end = _end(event, start)
        all_day = not isinstance(start, datetime)
        if all_day:
            first = local_day(start, zone).start
            last = local_day(end.date() if isinstance(end, datetime) else end, zone).start
            span = (first, max(last, local_day(start, zone).end))
        else:
            span = (_instant(start, zone), _instant(end, zone))
        entries.append(
            Entry(
                uid=str(event.get("UID", "")),
                title=str(event.get("SUMMARY", "")),
                start=span[0],
                end=span[1],
                all_day=all_day,
                busy=tuple(_intervals(event, window, zone)),
            )
        )
    return sorted(entries, key=lambda entry: (entry.start, not entry.all_day, entry.title))


def _intervals(event: Event, window: Interval, zone: ZoneInfo) -> list[BusyInterval]:
    transparent = str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
    status = str(event.get("STATUS", "CONFIRMED")).upper()
    if status == "CANCELLED":
        return []
    start = event.decoded("DTSTART")
    all_day = not isinstance(start, datetime)
    if transparent and not all_day:
        return []
    kind = BusyStatus.TENTATIVE if status == "TENTATIVE" else BusyStatus.BUSY
    if str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper() == "OOF":
        kind = BusyStatus.OOF
    elif transparent:
        kind = BusyStatus.ALL_DAY
    end = _end(event, start)
    if all_day:  # whole local days
        days = max((end - start).days, 1) if isinstance(end, date) else 1
        spans = [local_day(start + timedelta(days=offset), zone) for offset in range(days)]
        return [BusyInterval(s.start, s.end, kind) for s in spans if s.overlaps(window)]
    begin, finish = _instant(start, zone), _instant(end, zone)
    if finish <= begin or not (begin < window.end and window.start < finish):
        return []
    return [BusyInterval(begin, finish, kind)]


def _end(event: Event, start: date | datetime) -> date | datetime:
    if "DTEND" in event:
        end: date | datetime = event.decoded("DTEND")
        return end
    if "DURATION" in event:
        duration: timedelta = event.decoded("DURATION")
        return start + duration
    # RFC 5545 3.6.1: a date lasts one day, a date-time with nothing else ends as it starts.
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):  # a date end for a timed start: midnight of that day
        value = datetime.combine(value, datetime.min.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)  # floating time: the owner's wall clock
    return value.astimezone(UTC)
