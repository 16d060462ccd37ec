"""Words left over once the grammar has read a message that still look like a day or a time.

"Find a time with Sam on blursday at 3ish" leaves "blursday" and "3ish".
Rather than let them pass in silence (and search a wider window than the
speaker meant), the parser reports them, and the answer says what it did
instead.
"""

from __future__ import annotations

import re

from core.commands import Aspect, Ignored
from core.parsing.vocabulary import NOT_NAMES

_KNOWN_DAY_WORDS = frozenset(
    {
        "today",
        "yesterday",
        "day",
        "days",
        "holiday",
        "holidays",
        "birthday",
        "birthdays",
        "someday",
        "everyday",
        "midday",
        "workday",
        "workdays",
        "weekday",
        "weekdays",
        "payday",
    }
)
_NOT_A_TIME_AFTER_NUMBER = (
    r"(?:people|persons?|folks|attendees|participants|others|of\s+(?:us|them|you)|ppl"
    r"|mentees?|mentors?|slots?|options?|times?|choices|suggestions)"
)
_LEFTOVER = re.compile(
    r"(?P<day>\b[a-z]+days?\b)"
    r"|(?P<number>(?<![\w:./-])(?!1(?::|-|\s?on\s?-?)1\b)[0-9][\w:./-]*)"
    rf"(?!\s+{_NOT_A_TIME_AFTER_NUMBER}\b)"
    r"|(?P<vague>\b(?:midweek|weekly|fortnightly|bi-?weekly|daily|monthly|quarterly|recurring"
    r"|every\s+(?:other\s+)?(?:day|week|month)|christmas|xmas|easter|new\s+year|eoq|eoy)\b)"
    r"|\b(?P<prep>before|after|until|till|by|at|around)\s+(?P<word>[a-z][a-z'-]*)\b"
)
_TIMES_AFTER_A_PREPOSITION = frozenset(
    {"work", "school", "class", "hours", "dinner", "breakfast", "dark", "sunset", "sunrise"}
)
_PLACES = frozenset({"home", "office", "desk", "campus", "hq", "site", "work"})
_MOST = 5
"""Leftovers reported per message: enough to be useful, and a bounded answer."""
_LOOKED_AT = 40  # candidates examined, so a message of "1 1 1 ..." stays cheap


def leftovers(text: str) -> list[Ignored]:
    """The day- or time-like words in ``text`` (what the grammar did not read)."""
    found: list[Ignored] = []
    for count, match in enumerate(_LEFTOVER.finditer(text)):
        if count == _LOOKED_AT:
            break
        ignored = _ignored(match)
        if ignored is not None and ignored not in found:
            found.append(ignored)
            if len(found) == _MOST:
                break
    return found


def _ignored(match: re.Match[str]) -> Ignored | None:
    words = " ".join(match.group().split())
    if match.group("day") is not None:
        return None if words in _KNOWN_DAY_WORDS else Ignored(words, Aspect.DAY)
    if match.group("number") is not None:
        return Ignored(words, _number_aspect(words))
    if match.group("vague") is not None:
        return Ignored(words, Aspect.DAY)
    word = match.group("word")
    if word in _TIMES_AFTER_A_PREPOSITION and not (match.group("prep") == "at" and word in _PLACES):
        return Ignored(words, Aspect.TIME)
    if word in NOT_NAMES or word in _PLACES or match.group("prep") == "at":
        return None
    return Ignored(words, Aspect.DAY)


def _number_aspect(words: str) -> Aspect:
    if re.search(r"st$|nd$|rd$|th$|/|^[0-9]{4}$", words):
        return Aspect.DAY
    return Aspect.TIME
