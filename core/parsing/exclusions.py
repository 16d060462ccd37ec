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

Days of the week and parts of the day are kept as weekly rules
(:class:`~core.commands.Exclusions`), so a button that searches a later
window rules out the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.commands import Exclusions, TimeOfDay, Weekly, daily_parts, merged
from core.parsing.dates import find_dates
from core.parsing.durations import find_duration
from core.parsing.times_of_day import find_time_of_day
from core.parsing.windows import Found, Grain, find_relative_spans, find_spans
from core.time import Interval


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


def exclusions(clauses: list[RuledOut], zone: ZoneInfo) -> Exclusions:
    """What ``clauses`` rule out: days and hours that repeat as weekly rules, named days,
    weeks and months as they are."""
    spans: list[Interval] = []
    weekly: list[Weekly] = []
    for clause in clauses:
        fine = [found for found in clause.found if found.grain is not Grain.COARSE]
        if fine:
            weekdays = frozenset(
                day for found in fine if found.grain is Grain.WEEKDAYS for day in found.weekdays
            )
            if weekdays:
                weekly.append(Weekly(weekdays, clause.daily))
            days = [found.span for found in fine if found.grain is not Grain.WEEKDAYS]
            if clause.daily is not None:
                days = [part for span in days for part in daily_parts(span, clause.daily, zone)]
            spans += days
        elif clause.found and clause.daily is None:
            spans += [found.span for found in clause.found]
        elif clause.daily is not None:
            weekly.append(Weekly(hours=clause.daily))
    # Merged, so that "not the 1st, 2nd or 3rd" travels in a button as one span.
    return Exclusions(merged(spans), tuple(weekly))
