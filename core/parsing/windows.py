"""Which days a request covers: "tomorrow", "next week", "before Friday", "in December".

Days are the speaker's: each runs from one local midnight to the next, so it
lasts 23 or 25 hours when the clocks change, and "in the next 3 days" means
the same wall-clock time three days on. Spans end at a midnight, are
half-open, and are kept in UTC.

A weekday alone ("Thursday", "this Thursday") is the next such day, today
included. "Next Thursday" is the Thursday of the ISO week (Monday to Sunday)
after the current one: said on a Wednesday it is eight days away, not
tomorrow. People split on that phrase; the calendar week is the reading that
never depends on what day it is said.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from core.commands import Aspect, Ignored
from core.parsing.dates import MONTHS, WEEKDAYS
from core.parsing.number_words import QUANTITY, quantity_value
from core.parsing.text import (
    DAY_CLOSE,
    DAY_OPEN,
    PLACEHOLDER_CLOSE,
    PLACEHOLDER_OPEN,
    blank,
    starting_with,
)
from core.time import DayTime, Interval

DEFAULT_DAYS = 14
"""How far ahead a request looks when it names no days; also the length of "after Friday"."""

_LONGEST_DAYS = 3660  # ten years: anything longer is not a meeting window

_RELATIVE = starting_with(
    "cdfinotw",
    rf"(?:\b(?:in|within|over|during|for)\s+)?(?:\bthe\s+)?\b(?:next|coming)\s+"
    rf"(?P<next>{QUANTITY})(?P<next_unit>days?|weeks?|fortnights?|hours?|hrs?)\b"
    rf"|\bwithin\s+(?:the\s+)?(?:next\s+)?(?P<within>{QUANTITY})"
    r"(?P<within_unit>days?|weeks?|fortnights?|hours?|hrs?)\b"
    r"|\b(?:in|within|over|during)\s+the\s+(?:next|coming)\s+(?P<single>day|week|fortnight)\b"
    r"|\bwithin\s+(?:a\s+|the\s+next\s+)?(?P<fortnight>fortnight)\b",
)

# One day, written any of these ways. Each is first replaced by a numbered
# token, so the window grammar below speaks of "before <day>" or "between
# <day> and <day>" without repeating this pattern (which would make it slow
# to compile), and a token's phrase is then read with the named groups.
_DAY = starting_with(
    f"2cdfimnstwy{PLACEHOLDER_OPEN}",
    r"\b(?P<after_tomorrow>(?:the\s+)?day\s+after\s+(?:tomorrow|tmrw))\b"
    r"|\b(?P<today>today|tonight|this\s+(?:morning|afternoon|evening))\b"
    r"|\b(?P<tomorrow>tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow|2morrow)\b"
    r"|\b(?P<yesterday>yesterday)\b"
    rf"|\bnext\s+(?P<next_weekday>{WEEKDAYS})s?\b"
    rf"|\b(?P<weekday_of>{WEEKDAYS})s?\s+(?:of\s+)?(?P<week_after>next|this)\s+week\b"
    rf"|\b(?P<week_before>next|this)\s+week\s+(?:on\s+)?(?P<weekday_in>{WEEKDAYS})s?\b"
    rf"|\b(?:(?:this\s+)?coming\s+|this\s+)?(?P<weekday>{WEEKDAYS})s?\b"
    rf"|\bin\s+(?P<in_days>{QUANTITY})days?\b"
    rf"|{PLACEHOLDER_OPEN}(?P<date>[0-9]+){PLACEHOLDER_CLOSE}",
)


def _token(name: str) -> str:
    return rf"{DAY_OPEN}(?P<{name}>[0-9]+){DAY_CLOSE}"


_TO = r"\s*(?:-|\b(?:to|through|thru|until|till)\b)\s*"
_WINDOW = starting_with(
    f"abdefilmnoprstuw{DAY_OPEN}",
    rf"\b(?:between|from)\s+{_token('range_from')}(?:\s*\band\b\s*|{_TO}){_token('range_to')}"
    rf"|{_token('span_from')}{_TO}{_token('span_to')}"
    r"|\b(?:the\s+)?week\s+(?P<week_from>commencing|beginning|starting|of|ending)"
    rf"\s+(?:(?:on|from)\s+)?{_token('week_day')}"
    r"|\b(?P<bound>before|prior\s+to|until|till|til|through|thru|by|no\s+later\s+than"
    r"|not\s+after|not\s+before|no\s+earlier\s+than|after"
    r"|from|starting|beginning|as\s+of)\s+(?:(?:the\s+)?end\s+of\s+)?(?:(?:on|from)\s+)?"
    rf"{_token('bound_day')}"
    rf"|{_token('day')}"
    r"|\b(?P<before_next_week>(?:before|until|till)\s+next\s+week)\b"
    r"|\b(?P<end_of_next_week>(?:by\s+)?(?:the\s+)?end\s+of\s+next\s+week)\b"
    r"|\b(?P<week_after_next>(?:the\s+)?week\s+after\s+next)\b"
    r"|\b(?P<early_next_week>(?:early|(?:the\s+)?(?:start|beginning)\s+of)\s+next\s+week)\b"
    r"|\b(?P<mid_next_week>mid(?:dle\s+of|-|\s+)?\s*next\s+week)\b"
    r"|\b(?P<late_next_week>(?:late|later|(?:the\s+)?(?:back\s+)?end\s+of)\s+next\s+week)\b"
    r"|\b(?P<next_weekend>next\s+weekend)\b"
    r"|\b(?P<weekend>weekend)\b"
    r"|\b(?P<next_week>next\s+week|(?:the\s+)?following\s+week)\b"
    r"|\b(?P<this_week>(?:the\s+)?(?:rest|end)\s+of\s+(?:the|this)\s+week|this\s+week)\b"
    rf"|\bin\s+(?P<in_weeks>{QUANTITY})weeks?\b"
    r"|\b(?P<next_month>next\s+month)\b"
    r"|\b(?P<this_month>(?:the\s+)?(?:rest|end)\s+of\s+(?:the|this)\s+month|this\s+month)\b"
    r"|\b(?:in|during|throughout|over|for|this)\s+(?:early\s+|mid\s*-?\s*|late\s+"
    rf"|the\s+month\s+of\s+)?(?P<month>{MONTHS})\b",
)
# What every match of _DAY, then of _WINDOW, holds: a message without it skips that pass.
_DAY_HINT = re.compile(
    rf"day|tonight|this|tom|tmr|2mor|mon|tue|wed|thu|fri|sat|sun|{PLACEHOLDER_OPEN}"
)
_WINDOW_HINT = re.compile(rf"week|month|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|{DAY_OPEN}")
_BEFORE = ("before", "prior")
_THROUGH = ("until", "till", "til", "through", "thru", "by", "no later", "not after")
_AFTER = ("after",)


class Grain(Enum):
    """How much of the calendar a phrase names, which decides what ruling it out means."""

    DAYS = "days"  # "tomorrow", "the 3rd", "Mon-Wed": those days
    WEEKDAYS = "weekdays"  # "Monday", "Fridays", "weekends": every such day, when ruled out
    COARSE = "coarse"  # "next week", "in December": a frame for the days inside it


@dataclass(frozen=True, slots=True)
class Found:
    """A span a phrase names, and its grain; ``weekdays`` (0 is Monday) for
    :attr:`Grain.WEEKDAYS`."""

    span: Interval
    grain: Grain
    weekdays: frozenset[int] = frozenset()
    week: Interval | None = None
    """For "Friday next week": the week named with the day, which frames it."""


@dataclass(frozen=True, slots=True)
class _Context:
    now: datetime  # in the speaker's zone
    zone: ZoneInfo
    dates: list[date]

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def monday(self) -> date:
        return self.today - timedelta(days=self.today.weekday())

    def midnight(self, day: date) -> datetime:
        return DayTime(0).on(day, self.zone)

    def days(self, first: date, end: date) -> Interval:
        """From the midnight starting ``first`` to the one starting ``end``."""
        return Interval(self.midnight(first), self.midnight(end))

    def from_now(self, end: datetime) -> Interval:
        start = self.now.astimezone(UTC)
        return Interval(start, max(start, end))

    def later(self, days: float) -> datetime:
        """The same wall-clock time ``days`` on, in UTC."""
        return (self.now + timedelta(days=days)).astimezone(UTC)


def find_relative_spans(text: str, now: datetime, zone: ZoneInfo) -> tuple[list[Interval], str]:
    """Spans counted from now ("in the next 3 days", "within 48 hours"), and the text
    without them.

    Read before durations, so "within 2 hours" is not taken for a meeting length.
    """
    context = _Context(now.astimezone(zone), zone, [])
    spans, found = [], []
    for match in _RELATIVE.finditer(text):
        found.append(match.span())
        quantity = match.group("next") or match.group("within")
        unit = match.group("next_unit") or match.group("within_unit")
        if quantity is None:
            quantity, unit = "1", match.group("single") or match.group("fortnight")
        amount = quantity_value(quantity)
        if amount is None or amount <= 0:
            continue
        try:
            if unit.startswith("h"):
                end = now.astimezone(UTC) + timedelta(hours=min(amount, 24 * _LONGEST_DAYS))
            else:
                factor = 14 if unit.startswith("f") else 7 if unit.startswith("w") else 1
                end = context.later(min(amount * factor, _LONGEST_DAYS))
        except (OverflowError, ValueError):
            continue
        spans.append(context.from_now(end))
    return spans, blank(text, found)


def find_calendar_spans(
    text: str,
    now: datetime,
    zone: ZoneInfo,
    dates: list[date],
    *,
    ignored: list[Ignored] | None = None,
) -> list[Interval]:
    """Spans named by days, weeks and months.

    ``dates`` are the dates whose placeholders ``dates.find_dates`` left in
    ``text``. A span may lie wholly in the past ("yesterday"); the caller
    decides. A phrase that names no span ("between Dec 5 and Dec 3") is added
    to ``ignored``.
    """
    return [found.span for found in find_spans(text, now, zone, dates, ignored=ignored)[0]]


def find_spans(
    text: str,
    now: datetime,
    zone: ZoneInfo,
    dates: list[date],
    *,
    ignored: list[Ignored] | None = None,
) -> tuple[list[Found], str]:
    """:func:`find_calendar_spans` with the grain of each span, and the text
    without the phrases read."""
    context = _Context(now.astimezone(zone), zone, dates)
    days: list[str] = []

    def token(match: re.Match[str]) -> str:
        days.append(match.group())
        return f"{DAY_OPEN}{len(days) - 1}{DAY_CLOSE}"

    found = []
    tokenized = _DAY.sub(token, text) if _DAY_HINT.search(text) else text
    if _WINDOW_HINT.search(tokenized) is None:
        return [], tokenized
    read = []
    for match in _WINDOW.finditer(tokenized):
        read.append(match.span())
        try:
            span = _span(match, days, context)
        except (OverflowError, ValueError):
            span = None  # a date at the end of the calendar, year 9999
        if span is not None:
            found.append(_with_grain(span, match, days, context))
        elif ignored is not None:
            ignored.append(Ignored(_written(match.group(), days, dates), Aspect.DAY))
    return found, blank(tokenized, read)


_COARSE = frozenset(
    {
        "before_next_week",
        "end_of_next_week",
        "week_after_next",
        "next_week",
        "this_week",
        "next_month",
        "this_month",
        "in_weeks",
        "month",
        "week_day",
    }
)
_PLAIN_WEEKDAY = re.compile(rf"(?P<name>{WEEKDAYS})(?P<plural>s?)")


def _with_grain(span: Interval, match: re.Match[str], days: list[str], context: _Context) -> Found:
    if match.group("weekend") is not None:
        return Found(span, Grain.WEEKDAYS, frozenset({5, 6}))
    if match.group("day") is not None:
        written = days[int(match.group("day"))]
        plain = _PLAIN_WEEKDAY.fullmatch(written)
        if plain is not None:
            return Found(span, Grain.WEEKDAYS, frozenset({_weekday(plain.group("name"))}))
        parts = _DAY.fullmatch(written)
        if parts is not None and (parts.group("weekday_of") or parts.group("weekday_in")):
            day = span.start.astimezone(context.zone).date()
            monday = day - timedelta(days=day.weekday())
            return Found(span, Grain.DAYS, week=context.days(monday, monday + timedelta(days=7)))
    grain = Grain.COARSE if _COARSE.intersection(_named_groups(match)) else Grain.DAYS
    return Found(span, grain)


def _named_groups(match: re.Match[str]) -> set[str]:
    return {name for name, value in match.groupdict().items() if value is not None}


def _written(phrase: str, days: list[str], dates: list[date]) -> str:
    """A matched phrase as the speaker wrote it, its day and date tokens read back."""

    def day(token: re.Match[str]) -> str:
        return days[int(token.group(1))]

    def placeholder(token: re.Match[str]) -> str:
        index = int(token.group(1))
        return dates[index].strftime("%-d %b") if index < len(dates) else ""

    phrase = re.sub(f"{DAY_OPEN}([0-9]+){DAY_CLOSE}", day, phrase)
    phrase = re.sub(f"{PLACEHOLDER_OPEN}([0-9]+){PLACEHOLDER_CLOSE}", placeholder, phrase)
    return " ".join(phrase.split())


def window_from(spans: list[Interval], now: datetime, zone: ZoneInfo) -> Interval | None:
    """The smallest window holding every span still to come, starting no earlier than
    now; None when all of them have passed. No spans at all means the next
    :data:`DEFAULT_DAYS` days, counted on the wall clock.
    """
    if not spans:
        context = _Context(now.astimezone(zone), zone, [])
        return context.from_now(context.later(DEFAULT_DAYS))
    current = now.astimezone(UTC)
    live = [span for span in spans if span.end > current]
    if not live:
        return None
    return Interval(max(current, min(span.start for span in live)), max(span.end for span in live))


def _span(match: re.Match[str], days: list[str], context: _Context) -> Interval | None:
    group = match.group

    def day(name: str, weekday_from: date | None = None) -> date | None:
        return _day(days[int(group(name))], context, weekday_from=weekday_from)

    if group("range_from") is not None or group("span_from") is not None:
        range_or_span = "range" if group("range_from") is not None else "span"
        first = day(f"{range_or_span}_from")
        if first is None:
            return None
        last = day(f"{range_or_span}_to", weekday_from=first)
        return None if last is None or last < first else context.days(first, _next(last))
    if group("week_day") is not None:
        return _week_of(group("week_from"), days[int(group("week_day"))], context)
    if group("bound") is not None:
        return _bounded(group("bound"), days[int(group("bound_day"))], context)
    if group("day") is not None:
        single = day("day")
        return None if single is None else context.days(single, _next(single))
    for name, span in _NAMED_SPANS.items():
        if group(name) is not None:
            return span(context)
    if group("in_weeks") is not None:
        weeks = quantity_value(group("in_weeks"))
        if weeks is None or not 0 < weeks * 7 <= _LONGEST_DAYS:
            return None
        target = context.today + timedelta(days=round(weeks * 7))
        monday = target - timedelta(days=target.weekday())
        return context.days(monday, monday + timedelta(days=7))
    return _month(_MONTH_NUMBERS[group("month")[:3]], context)


def _bounded(bound: str, written_day: str, context: _Context) -> Interval | None:
    words = " ".join(bound.split())
    before = words.startswith(_BEFORE)
    # "Before Friday" said on a Friday means next Friday, or nothing would be left.
    day = _day(written_day, context, strictly_after_today=before)
    if day is None:
        return None
    if before:
        return context.from_now(context.midnight(day))
    if words.startswith(_THROUGH):
        return context.from_now(context.midnight(_next(day)))
    start = _next(day) if words.startswith(_AFTER) else day
    return context.days(start, start + timedelta(days=DEFAULT_DAYS))


def _week_of(kind: str, written_day: str, context: _Context) -> Interval | None:
    """ "Week commencing" (w/c, w/b) a day: seven days from it; "week ending" (w/e):
    the seven up to it; "week of": the Monday-to-Sunday week holding it."""
    day = _day(written_day, context)
    if day is None:
        return None
    if kind in ("commencing", "beginning", "starting"):
        first = day
    elif kind == "ending":
        first = day - timedelta(days=6)
    else:
        first = day - timedelta(days=day.weekday())
    return context.days(first, first + timedelta(days=7))


def _day(
    written: str,
    context: _Context,
    *,
    weekday_from: date | None = None,
    strictly_after_today: bool = False,
) -> date | None:
    """The date a day phrase means. A plain weekday is the next one on or after
    ``weekday_from`` (default today), or after today if ``strictly_after_today``."""
    parts = _DAY.fullmatch(written)
    if parts is None:
        return None
    group = parts.group
    today = context.today
    if group("date") is not None:
        index = int(group("date"))
        return context.dates[index] if index < len(context.dates) else None
    if group("today") is not None:
        return today
    if group("tomorrow") is not None:
        return today + timedelta(days=1)
    if group("after_tomorrow") is not None:
        return today + timedelta(days=2)
    if group("yesterday") is not None:
        return today - timedelta(days=1)
    if group("next_weekday") is not None:
        return context.monday + timedelta(days=7 + _weekday(group("next_weekday")))
    if group("weekday_of") is not None or group("weekday_in") is not None:
        weekday = _weekday(group("weekday_of") or group("weekday_in"))
        weeks_on = 1 if (group("week_after") or group("week_before")) == "next" else 0
        return context.monday + timedelta(days=7 * weeks_on + weekday)
    if group("weekday") is not None:
        base = weekday_from or today
        ahead = (_weekday(group("weekday")) - base.weekday()) % 7
        if strictly_after_today and ahead == 0:
            ahead = 7
        return base + timedelta(days=ahead)
    days = quantity_value(group("in_days"))
    if days is None or not 0 <= days <= _LONGEST_DAYS:
        return None
    return today + timedelta(days=round(days))


def _weekday(name: str) -> int:
    return _WEEKDAY_NUMBERS[name[:3]]


def _next(day: date) -> date:
    return day + timedelta(days=1)


def _month(month: int, context: _Context) -> Interval:
    """The whole of the next such month, or the rest of it if it has begun."""
    year = context.today.year + (1 if month < context.today.month else 0)
    return context.days(date(year, month, 1), _first_of_next_month(year, month))


def _first_of_next_month(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def _this_month(context: _Context) -> Interval:
    today = context.today
    return context.from_now(context.midnight(_first_of_next_month(today.year, today.month)))


def _next_month(context: _Context) -> Interval:
    today = context.today
    first = _first_of_next_month(today.year, today.month)
    return context.days(first, _first_of_next_month(first.year, first.month))


def _weeks_from_monday(first: int, end: int) -> Callable[[_Context], Interval]:
    """The days from ``first`` to ``end`` counted from this week's Monday (0)."""

    def span(context: _Context) -> Interval:
        monday = context.monday
        return context.days(monday + timedelta(days=first), monday + timedelta(days=end))

    return span


def _now_until_monday(weeks_on: int) -> Callable[[_Context], Interval]:
    def span(context: _Context) -> Interval:
        return context.from_now(context.midnight(context.monday + timedelta(days=7 * weeks_on)))

    return span


_NAMED_SPANS: dict[str, Callable[[_Context], Interval]] = {
    "before_next_week": _now_until_monday(1),
    "end_of_next_week": _now_until_monday(2),
    "week_after_next": _weeks_from_monday(14, 21),
    "early_next_week": _weeks_from_monday(7, 10),
    "mid_next_week": _weeks_from_monday(8, 11),
    "late_next_week": _weeks_from_monday(10, 14),
    "next_weekend": _weeks_from_monday(12, 14),
    "weekend": _weeks_from_monday(5, 7),
    "next_week": _weeks_from_monday(7, 14),
    "this_week": _now_until_monday(1),
    "next_month": _next_month,
    "this_month": _this_month,
}
_WEEKDAY_NUMBERS = {
    name: number for number, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
}
_MONTH_NUMBERS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
