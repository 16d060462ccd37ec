"""Times a message rules out, made absolute: "not Monday", "no afternoons", "not tomorrow morning".

Each ruled-out clause (see ``negation``) is read with the same grammar as
the rest of the message. What it names then depends on its grain:

- days ("tomorrow", "the 3rd") are those days; a weekday alone or in the
  plural ("Monday", "Fridays") and "weekends" are every such day in the
  window, since "I can't do Mondays" is rarely about one Monday;
- a part of the day ("mornings", "after 4pm") is that part of every day
  the clause names, or of every day in the window;
- a week or a month ("next week") is ruled out whole, unless the clause
  also names days or hours inside it: "not Friday next week" and "no
  mornings next week" ask for next week, without its Friday or mornings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.commands import TimeOfDay
from core.parsing.dates import find_dates
from core.parsing.durations import find_duration
from core.parsing.times_of_day import find_time_of_day
from core.parsing.windows import Found, Grain, find_relative_spans, find_spans
from core.time import Interval, local_dates, local_day

HORIZON = timedelta(days=92)
"""How far into a window ruled-out times are listed: a quarter, so that a message
ruling out mornings over a year costs milliseconds, not tens of them."""


@dataclass(frozen=True, slots=True)
class RuledOut:
    """One ruled-out clause, read."""

    found: tuple[Found, ...]
    daily: TimeOfDay | None

    @property
    def frames(self) -> list[Interval]:
        """Weeks and months that frame finer times ruled out in the same clause."""
        weeks = [found.week for found in self.found if found.week is not None]
        if self.daily is None and all(found.grain is Grain.COARSE for found in self.found):
            return weeks
        return weeks + [found.span for found in self.found if found.grain is Grain.COARSE]

    @property
    def says_when(self) -> bool:
        return bool(self.found) or self.daily is not None


def read_ruled_out(clause: str, now: datetime, zone: ZoneInfo, duration_minutes: int) -> RuledOut:
    """What ``clause`` (normalised, its cue removed) names, with the grain of each span."""
    relative, words = find_relative_spans(clause, now, zone)
    _, words = find_duration(words)
    dates, words = find_dates(words, now.astimezone(zone).date(), zone)
    daily, words = find_time_of_day(words, duration_minutes)
    found, _ = find_spans(words, now, zone, dates)
    coarse = [Found(span, Grain.COARSE) for span in relative]
    return RuledOut((*coarse, *found), daily)


def excluded(clauses: list[RuledOut], window: Interval, zone: ZoneInfo) -> tuple[Interval, ...]:
    """The parts of ``window`` that ``clauses`` rule out, sorted and merged.

    Only the window's first :data:`HORIZON` is considered: repeated days and
    hours are listed one by one, and no search looks further ahead.
    """
    if window.duration > HORIZON:
        window = Interval(window.start, window.start + HORIZON)
    pieces: list[Interval] = []
    for clause in clauses:
        fine = [found for found in clause.found if found.grain is not Grain.COARSE]
        if fine:
            days = [span for found in fine for span in _days_of(found, window, zone)]
        elif clause.found and clause.daily is None:
            days = [found.span for found in clause.found]
        elif clause.daily is not None:
            days = [window]
        else:
            days = []
        days = [clipped for span in days if (clipped := _clip(span, window)) is not None]
        if clause.daily is not None:
            days = [part for span in days for part in _daily(span, clause.daily, zone)]
        pieces += days
    return _merged(pieces)


def _days_of(found: Found, window: Interval, zone: ZoneInfo) -> list[Interval]:
    if found.grain is not Grain.WEEKDAYS:
        return [found.span]
    return [
        local_day(day, zone) for day in local_dates(window, zone) if day.weekday() in found.weekdays
    ]


def _daily(span: Interval, daily: TimeOfDay, zone: ZoneInfo) -> list[Interval]:
    parts = []
    for day in local_dates(span, zone):
        try:
            hours = Interval(daily.start.on(day, zone), daily.end.on(day, zone))
        except OverflowError:
            continue  # the last day of the calendar, year 9999
        part = _clip(hours, span)
        if part is not None:
            parts.append(part)
    return parts


def _clip(span: Interval, window: Interval) -> Interval | None:
    start, end = max(span.start, window.start), min(span.end, window.end)
    return Interval(start, end) if start < end else None


def _merged(pieces: list[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for piece in sorted(pieces):
        if merged and piece.start <= merged[-1].end:
            if piece.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, piece.end)
        else:
            merged.append(piece)
    return tuple(merged)
