"""Why the engine found no slot: the reasons an empty answer gives, computed, not guessed.

The checks follow the engine's own steps (``core.availability``), stopping at the first
that leaves no room for the meeting:

1. the minimum notice leaves nothing of the window;
2. the window holds only days the program does not meet on (a weekend);
3. the participants' allowed hours (program hours and working hours, each in their own
   zone) never overlap for long enough: with the longest overlap there is, if any;
4. the speaker's own restriction ("afternoons", "not Monday") leaves too little;
5. otherwise calendars and meetings fill the rest: who was out of office (or on an all-day
   event that counts as busy) on which of the meeting days.

Each reason is a small value; ``core.scheduling.find_time`` puts it in words for the reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from core.availability import BusyStatus, SlotRequest
from core.rules import AllDayEvents, allowed_hours
from core.time import Interval, intersect, local_dates

WEEKEND = frozenset({6, 7})
_MOMENT = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class TooSoon:
    """The window ends before the program's minimum notice allows a meeting."""

    notice: timedelta


@dataclass(frozen=True, slots=True)
class OffDays:
    """Every day of the window is one the program does not meet on (a weekend)."""


@dataclass(frozen=True, slots=True)
class HoursApart:
    """Everyone's allowed hours overlap for less than the meeting: ``longest`` is the
    longest shared span there is (None: none at all)."""

    longest: Interval | None


@dataclass(frozen=True, slots=True)
class Restricted:
    """The speaker's own restriction (a time of day, days ruled out) leaves too little."""


@dataclass(frozen=True, slots=True)
class Away:
    """``person`` is out of office (or on an all-day event counted busy) on ``days``, each
    a meeting day in their own zone."""

    person: str
    days: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class Full:
    """Calendars and Pairtime's meetings fill every shared hour."""


Reason = TooSoon | OffDays | HoursApart | Restricted | Away | Full


def explain(request: SlotRequest) -> tuple[Reason, ...]:
    """The main reasons ``request`` has no slot (meaningful when the engine found none)."""
    earliest = max(request.window.start, request.now + request.rules.min_notice)
    if earliest >= request.window.end:
        return (TooSoon(request.rules.min_notice),)
    span = Interval(earliest, request.window.end)
    if not request.rules.weekends:
        zones = {p.timezone for p in request.participants}
        inside = Interval(span.start, span.end - _MOMENT)  # the end itself is not in it
        days = [day for zone in zones for day in local_dates(inside, zone)]
        if all(day.isoweekday() in WEEKEND for day in days):
            return (OffDays(),)
    shared = [span]
    for participant in request.participants:
        own = allowed_hours(span, participant.timezone, request.rules, participant.working_hours)
        shared = intersect(shared, own)
    fitting = [s for s in shared if s.end - s.start >= request.duration]
    if not fitting:
        longest = max(shared, key=lambda s: s.end - s.start, default=None)
        return (HoursApart(longest),)
    if request.within is not None:
        fitting = [
            s
            for s in intersect(fitting, sorted(request.within))
            if s.end - s.start >= request.duration
        ]
        if not fitting:
            return (Restricted(),)
    away = tuple(_away(request, fitting))
    return (*away, Full())


def _away(request: SlotRequest, region: Sequence[Interval]) -> list[Away]:
    """Who is away (all of a meeting day's shared hours covered by out-of-office or a busy
    all-day event), and on which days."""
    statuses = {BusyStatus.OOF}
    if request.rules.all_day_events is AllDayEvents.BUSY:
        statuses.add(BusyStatus.ALL_DAY)
    found = []
    for participant in request.participants:
        blocks = sorted(
            (Interval(b.start, b.end) for b in participant.busy if b.status in statuses),
            key=lambda i: i.start,
        )
        if not blocks:
            continue
        days: dict[date, bool] = {}
        for part in region:
            day = part.start.astimezone(participant.timezone).date()
            covered = sum(
                (s.end - s.start for s in intersect([part], _merged(blocks))), timedelta()
            )
            days[day] = days.get(day, True) and covered >= part.end - part.start
        away = tuple(day for day, all_taken in days.items() if all_taken)
        if away:
            found.append(Away(participant.id, away))
    return found


def _merged(blocks: Sequence[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for block in blocks:
        if merged and block.start <= merged[-1].end:
            if block.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, block.end)
        else:
            merged.append(block)
    return merged
