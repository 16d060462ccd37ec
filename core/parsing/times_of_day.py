"""When in the day: "afternoon", "between 2 and 4pm", "after 3pm", "before noon", "at 10".

A clock time without am or pm is read as office hours suggest: 1 to 6 is the
afternoon, 7 to 11 the morning, 12 is noon. In a range the other end then
follows, so "between 2 and 4pm" is 14:00 to 16:00 and "11 to 1" is 11:00 to
13:00. A time with a leading zero or past 12 ("08:30", "14:00") is read on
the 24-hour clock.
"""

from __future__ import annotations

import re

from core.commands import Aspect, Ignored, TimeOfDay
from core.parsing.text import blank, starting_with
from core.time import MINUTES_PER_DAY, DayTime

_CLOCK = (
    r"(?:noon|midday|midnight"
    r"|[0-9]{1,2}(?:[:.][0-9]{2})?(?:\s*(?:a\.?m\.?|p\.?m\.?)(?![a-z]))?)"
)
_STARTS = r"(?<![0-9.:/-])"
# "3 days", "2 hours", "the 3rd" and "12/3" are not times of day.
_ENDS = (
    r"(?![0-9/]|\s*(?:st|nd|rd|th|h|hrs?|hours?|m|mins?|minutes?|days?|weeks?|months?"
    r"|years?|people|persons?)\b)"
)
_TO = r"\s*(?:-|\b(?:to|until|till|through|thru)\b)\s*"
# A digit, "@", noon, midday, midnight or a word before a time starts each one.
_CLOCKS = starting_with(
    "0-9@abdeflmnstu",
    rf"\b(?:between|from)\s+(?P<range_start>{_CLOCK})(?:{_TO}|\s+and\s+)(?P<range_end>{_CLOCK}){_ENDS}"
    rf"|{_STARTS}(?P<span_start>{_CLOCK}){_TO}(?P<span_end>{_CLOCK}){_ENDS}"
    r"|\b(?:before|until|till|til|by|no\s+later\s+than|not\s+after|ending\s+by|done\s+by)\s+"
    rf"(?P<before>{_CLOCK}|lunch(?:\s*time)?){_ENDS}"
    r"|\b(?:after|from|not\s+before|no\s+earlier\s+than|later\s+than|starting\s+(?:at|from))\s+"
    rf"(?P<after>{_CLOCK}|lunch(?:\s*time)?){_ENDS}"
    rf"|(?:\b(?:at|around|about)\s+|(?<![\w@])@\s*)(?P<at>{_CLOCK}){_ENDS}"
    rf"|{_STARTS}(?P<bare>[0-9]{{1,2}}(?:[:.][0-9]{{2}})?\s*(?:a\.?m\.?|p\.?m\.?)(?![a-z])"
    rf"|[0-9]{{1,2}}:[0-9]{{2}}){_ENDS}",
)
# Every clock phrase holds a digit, noon, midday, midnight or lunch.
_CLOCKS_HINT = re.compile(r"[0-9]|noon|midday|midnight|lunch")
_PARTS_OF_DAY = (
    (re.compile(r"\bmornings?\b"), TimeOfDay(DayTime.of(8), DayTime.of(12))),
    (re.compile(r"\bafternoons?\b|\barvo\b"), TimeOfDay(DayTime.of(12), DayTime.of(17))),
    (re.compile(r"\bevenings?\b|\btonight\b"), TimeOfDay(DayTime.of(17), DayTime.of(21))),
    (re.compile(r"\blunch(?:\s*time)?\b"), TimeOfDay(DayTime.of(12), DayTime.of(14))),
)
_LUNCH = _PARTS_OF_DAY[3][1]
_ONE_ON_ONE = re.compile(r"\s*1\s*-\s*1\s*")
_CLOCK_PARTS = re.compile(
    r"(?P<hour>[0-9]{1,2})(?:[:.](?P<minute>[0-9]{2}))?\s*(?:(?P<am>a)|(?P<pm>p))?"
)


_Clock = tuple[int, ...]
"""The minutes after midnight a written time may mean, the usual reading first."""


def find_time_of_day(
    text: str, duration_minutes: int, *, ignored: list[Ignored] | None = None
) -> tuple[TimeOfDay | None, str]:
    """The daily restriction ``text`` states, and the text without its clock times.

    Parts of the day ("afternoon") are left in the text, since "this afternoon"
    also names a day. Several clock restrictions narrow each other ("after 10
    and before 2"); a part of the day narrows them too, unless that leaves
    nothing. "At 3pm" means a meeting starting then, so it lasts
    ``duration_minutes``. A clock phrase that names no time ("at 25:00",
    "between 4 and 2pm") is added to ``ignored``.
    """
    clocks: list[TimeOfDay] = []
    spans = []
    for match in _CLOCKS.finditer(text) if _CLOCKS_HINT.search(text) else ():
        spans.append(match.span())
        stated = _restriction(match, duration_minutes)
        if stated is not None:
            clocks.append(stated)
        elif ignored is not None and not _ONE_ON_ONE.fullmatch(match.group()):
            ignored.append(Ignored(" ".join(match.group().split()), Aspect.TIME))
    rest = blank(text, spans)
    parts = [part for pattern, part in _PARTS_OF_DAY if pattern.search(rest)]
    part = _hull(parts) if parts else None
    clock = _intersection(clocks) if clocks else None
    if clock is None:
        return part, rest
    if part is not None:
        return _intersection([clock, part]) or clock, rest
    return clock, rest


def _restriction(match: re.Match[str], duration_minutes: int) -> TimeOfDay | None:
    group = match.group
    if group("range_start") is not None:
        return _range(group("range_start"), group("range_end"), marker_needed=False)
    if group("span_start") is not None:
        # "1-1" is a one-on-one and "12-2" may be a score; "12 to 2" is a time.
        dash = "-" in match.string[match.end("span_start") : match.start("span_end")]
        return _range(group("span_start"), group("span_end"), marker_needed=dash)
    if group("before") is not None:
        if group("before").startswith("lunch"):
            return TimeOfDay(DayTime(0), _LUNCH.start)
        end = _clock(group("before"))
        return None if end is None else _between(0, _as_ends(end)[0])
    if group("after") is not None:
        if group("after").startswith("lunch"):
            return TimeOfDay(_LUNCH.end, DayTime(MINUTES_PER_DAY))
        start = _clock(group("after"))
        return None if start is None else _between(start[0], MINUTES_PER_DAY)
    at = _clock(group("at") or group("bare"))
    if at is None:
        return None
    start_minutes = at[0]
    return _between(start_minutes, min(start_minutes + duration_minutes, MINUTES_PER_DAY))


def _range(first: str, second: str, *, marker_needed: bool) -> TimeOfDay | None:
    start, end = _clock(first), _clock(second)
    if start is None or end is None:
        return None
    if marker_needed and first.isdigit() and second.isdigit():
        return None  # "1-1" is a one-on-one, not one o'clock to one o'clock
    if len(start) == 1 or len(end) > 1:
        # The start as usually meant, and the end's first reading after it.
        start_minutes = start[0]
        later = [value for value in _as_ends(end) if value > start_minutes]
        return _between(start_minutes, min(later)) if later else None
    # Only the end is certain: the start's last reading before it ("11 to 1pm").
    end_minutes = _as_ends(end)[0]
    earlier = [value for value in start if value < end_minutes]
    return _between(max(earlier), end_minutes) if earlier else None


def _clock(text: str) -> _Clock | None:
    words = text.replace(" ", "")
    if words in ("noon", "midday"):
        return (12 * 60,)
    if words == "midnight":
        return (0,)
    parts = _CLOCK_PARTS.match(words)
    if parts is None:
        return None
    hour, minute = int(parts.group("hour")), int(parts.group("minute") or 0)
    if minute >= 60:
        return None
    if parts.group("am") or parts.group("pm"):
        if not 1 <= hour <= 12:
            return None
        return ((hour % 12 + (12 if parts.group("pm") else 0)) * 60 + minute,)
    if hour == 0 or hour > 12 or parts.group("hour").startswith("0"):
        return (hour * 60 + minute,) if hour * 60 + minute <= MINUTES_PER_DAY else None
    morning, afternoon = (hour % 12) * 60 + minute, (hour % 12 + 12) * 60 + minute
    # 12 is noon, 1 to 6 the afternoon, 7 to 11 the morning.
    return (afternoon, morning) if hour <= 6 or hour == 12 else (morning, afternoon)


def _as_ends(clock: _Clock) -> list[int]:
    # Midnight closes a day: "before midnight" runs to 24:00.
    return [value or MINUTES_PER_DAY for value in clock]


def _between(start: int, end: int) -> TimeOfDay | None:
    if not 0 <= start < end <= MINUTES_PER_DAY:
        return None
    return TimeOfDay(DayTime(start), DayTime(end))


def _intersection(restrictions: list[TimeOfDay]) -> TimeOfDay | None:
    start = max(restriction.start for restriction in restrictions)
    end = min(restriction.end for restriction in restrictions)
    return TimeOfDay(start, end) if start < end else None


def _hull(restrictions: list[TimeOfDay]) -> TimeOfDay:
    start = min(restriction.start for restriction in restrictions)
    end = max(restriction.end for restriction in restrictions)
    return TimeOfDay(start, end)
