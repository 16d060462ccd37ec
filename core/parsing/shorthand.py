"""Chat shorthand and common misspellings, written out: "nxt wk" → "next week", "tmrw" → "tomorrow".

The grammar in the other modules then reads one spelling of each word. A
word is only ever replaced whole, so "tom" (a name) and "wed" in "wedding"
stay as they are. A misspelled weekday that is no listed variant ("thursdya")
is read as the weekday it is closest to, and reported, so the answer can
say what it assumed.
"""

from __future__ import annotations

import re

_SPELLINGS: dict[str, str] = {
    "tomorrow": (
        "tmrw tmw tmr tmro tmrow tmrrw tmoro tmorrow tomoz tomo tomm tomorow tommorow tommorrow "
        "tomorrrow tomrrow tomorro tomrw tomorw tomorroww tommorw 2moro 2morro 2morrow 2morow "
        "2mrw 2mro 2mrow 2mor"
    ),
    "today": "tdy 2day tday tody todays eod cob eob",
    "tonight": "2nite tonite 2night tnite tonigh tonght",
    "week": "wk wek weeek",
    "weeks": "wks wkz weks",
    "weekend": "wkend wknd wkd wekend weeknd w/end",
    "next": "nxt nex",
    "morning": "mornin morn mrng mrn mornign moring",
    "afternoon": "arvo avo aft aftn afternon aftrnoon afternnon",
    "evening": "evng evenin evning",
    "monday": "mondy monady mondya mnday",
    "tuesday": "tuesady tusday teusday tuseday tuesay tuesdy tueday tuesdsay",
    "wednesday": (
        "wensday wendsday wednsday wedensday wedsday wednessday wednes wenesday wedneday "
        "wednseday wedenesday wednesdy"
    ),
    "thursday": "thr thrs thursady thrusday thurday thursay thurdsay thirsday thursdy",
    "friday": "fridy firday fryday frday fridya frid friady",
    "saturday": "satruday saterday saturady satday saturdy",
    "sunday": "sunady sundy sundya",
    "end of the week": "eow eotw",
    "end of next week": "eonw",
    "end of the month": "eom eotm",
    "week commencing": "w/c w/b wc wb",
    "week ending": "w/e",
    "minutes": "minz minuts mintues",
    "between": "btwn betw",
    "before": "b4 bfr",
    "please": "pls plz plse",
}
_EXPANSIONS = {
    variant: word for word, variants in _SPELLINGS.items() for variant in variants.split()
}
SHORTHAND_WORDS = frozenset(_EXPANSIONS)
"""Every shorthand and misspelling this module writes out."""
_SHORTHAND = re.compile(
    r"(?<![\w/@'])(?:"
    + "|".join(re.escape(v) for v in sorted(_EXPANSIONS, key=len, reverse=True))
    + r")(?![\w/])"
)
# "2wks", "3wk": the shorthand touches its number.
_WEEKS_AFTER_NUMBER = re.compile(r"(?<=[0-9])wks?\b")
# "fri pm", "tomorrow a.m.": a half of the day after a day, never "I am free".
_HALF_DAY = re.compile(
    r"\b(?P<day>today|tomorrow|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues|tue|weds|wed|thurs|thur|thu|fri|sat|sun|weekdays?)s?"
    r"\s+(?:(?P<am>a\.m\.?|am)|(?P<pm>p\.m\.?|pm))(?![\w.])"
)
# A word that ends like a weekday but is none: checked against the weekdays by spelling.
_DAYISH = re.compile(r"\b[a-z]{3,9}(?:day|dya|dy)\b")
_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NOT_WEEKDAYS = frozenset(
    {
        "today",
        "yesterday",
        "holiday",
        "birthday",
        "someday",
        "everyday",
        "midday",
        "weekday",
        "workday",
        "payday",
        "doomsday",
        "heyday",
        "noonday",
        "halfday",
        "wellbeingday",
        "mayday",
    }
    | set(_WEEKDAY_NAMES)
    | set(_EXPANSIONS)
)


def expand(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``text`` (normalised) with shorthand written out, and the weekdays read from
    unlisted misspellings as (written, weekday) pairs."""
    text = _SHORTHAND.sub(lambda match: _EXPANSIONS[match.group()], text)
    text = _WEEKS_AFTER_NUMBER.sub(
        lambda match: "weeks" if match.group().endswith("s") else "week", text
    )
    text = _HALF_DAY.sub(
        lambda match: f"{match.group('day')} {'morning' if match.group('am') else 'afternoon'}",
        text,
    )
    read: list[tuple[str, str]] = []

    def weekday(match: re.Match[str]) -> str:
        written = match.group()
        if written in _NOT_WEEKDAYS:
            return written
        meaning = closest_weekday(written)
        if meaning is None:
            return written
        read.append((written, meaning))
        return meaning

    return _DAYISH.sub(weekday, text), read


def closest_weekday(word: str) -> str | None:
    """The weekday ``word`` is a slip of the keyboard away from (at most two edits,
    and nearer to it than to any other), or None."""
    distances = sorted((_distance(word, name), name) for name in _WEEKDAY_NAMES)
    (best, name), (second, _) = distances[0], distances[1]
    if best <= 2 and best < second and word[0] == name[0]:
        return name
    return None


def _distance(first: str, second: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from ``first`` to ``second``."""
    previous_row: list[int] = []
    row = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(second)
        for j, b in enumerate(second, 1):
            row[j] = min(previous_row[j] + 1, row[j - 1] + 1, previous_row[j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[-1]
