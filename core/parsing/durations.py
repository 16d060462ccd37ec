"""How long a meeting should be: "45 min", "an hour and a half", "1h30", "half an hour"."""

from __future__ import annotations

import re

from core.commands import Aspect, Ignored
from core.parsing.number_words import QUANTITY, quantity_value
from core.parsing.text import blank, starting_with

SHORTEST = 5
LONGEST = 24 * 60
"""Durations outside these bounds are not meetings ("give me a minute") and are ignored."""

_HOUR = r"(?:hours?|hrs?|h)\b"
_MINUTE = r"(?:minutes?|mins?|m)\b"
# At one position the first alternative that matches wins, so the longer
# phrasings come before the plain "N hours" and "N minutes".
# A number, a number word, "a", "one", "half", "quarter" or "three" starts each one.
_DURATION = starting_with(
    "0-9acefhnoqst",
    rf"(?P<and_half>{QUANTITY})and\s+(?:a\s+)?half\s+{_HOUR}"
    rf"|(?P<hours_and>{QUANTITY}){_HOUR}\s*and\s+a\s+(?P<fraction>half|quarter)\b"
    rf"|(?P<hours_part>{QUANTITY}){_HOUR}\s*(?:and\s+)?(?P<minutes_part>{QUANTITY}){_MINUTE}"
    r"|\b(?P<compact_hours>[0-9]{1,2})\s*h\s*(?P<compact_minutes>[0-9]{2})(?:\s*m(?:ins?)?)?\b"
    r"|\b(?P<half>(?:(?:a|one)\s+)?half(?:\s+an?|-an)?[\s-]*hour\b|1/2\s*(?:an?\s+)?hours?\b)"
    r"|\b(?P<quarter>(?:(?P<three>three|3)\s+|a\s+)?quarters?(?:\s+of)?(?:\s+an)?[\s-]*hour\b)"
    rf"|(?P<hours>{QUANTITY}){_HOUR}"
    rf"|(?P<minutes>{QUANTITY}){_MINUTE}",
)

# Every duration holds a unit after a number, a space or a hyphen, "hour", or the
# "h" of "1h30": a message without any of them skips the pass above.
_DURATION_HINT = re.compile(r"hour|h\s*[0-9]|[0-9\s-](?:hours?|hrs?|h|minutes?|mins?|m)\b")


def _minutes(match: re.Match[str]) -> float | None:
    group = match.group
    if group("and_half") is not None:
        hours = quantity_value(group("and_half"))
        return None if hours is None else (hours + 0.5) * 60
    if group("hours_and") is not None:
        hours = quantity_value(group("hours_and"))
        extra = 30 if group("fraction") == "half" else 15
        return None if hours is None else hours * 60 + extra
    if group("hours_part") is not None:
        hours = quantity_value(group("hours_part"))
        minutes = quantity_value(group("minutes_part"))
        return None if hours is None or minutes is None else hours * 60 + minutes
    if group("compact_hours") is not None:
        return int(group("compact_hours")) * 60 + int(group("compact_minutes"))
    if group("half") is not None:
        return 30
    if group("quarter") is not None:
        return 45 if group("three") else 15
    if group("hours") is not None:
        hours = quantity_value(group("hours"))
        return None if hours is None else hours * 60
    return quantity_value(group("minutes"))


def find_duration(text: str, *, ignored: list[Ignored] | None = None) -> tuple[int | None, str]:
    """The first meeting length stated in ``text``, in whole minutes, and the text without
    any duration phrase (so "45 min" is not read again as a time of day).

    A length too short or too long for a meeting ("2 minutes", "30 hours"),
    when no other length is given, is added to ``ignored``.
    """
    if _DURATION_HINT.search(text) is None:
        return None, text
    duration = None
    spans = []
    unusable = []
    for match in _DURATION.finditer(text):
        spans.append(match.span())
        minutes = _minutes(match)
        if minutes is not None and SHORTEST <= minutes <= LONGEST:
            duration = round(minutes) if duration is None else duration
        else:
            unusable.append(" ".join(match.group().split()))
    if duration is None and ignored is not None:
        ignored.extend(Ignored(words, Aspect.LENGTH) for words in unusable)
    return duration, blank(text, spans)
