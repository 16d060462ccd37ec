"""Quantities as people type them: "45", "1.5", "two", "forty-five", "a couple of"."""

from __future__ import annotations

import re

_UNITS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,  # a common misspelling
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_VAGUE = {"couple": 2, "few": 3}


def _either(words: dict[str, int]) -> str:
    # Longest first, so "fourteen" is not read as "four".
    return "|".join(sorted(words, key=len, reverse=True))


_WORDS = (
    rf"(?:{_either(_TENS)})(?:[\s-]+(?:{_either(_UNITS)}))?"
    rf"|{_either(_TEENS)}|{_either(_UNITS)}"
    r"|(?:a\s+)?couple(?:\s+of)?|(?:a\s+)?few|an?"
)

QUANTITY = rf"\b(?:[0-9]{{1,4}}(?:\.[0-9]{{1,2}})?\s*-?\s*|(?:{_WORDS})(?:\s*-\s*|\s+))"
"""A number and the space or hyphen after it, ready to be followed by a unit.

Digits may touch their unit ("45m"); words may not, or "ah" would be "a h".
"""

_DIGITS = re.compile(r"[0-9]{1,4}(?:\.[0-9]{1,2})?")


def quantity_value(text: str) -> float | None:
    """The value of a :data:`QUANTITY` match, or None if it is not one."""
    words = re.sub(r"[\s-]+", " ", text).strip()
    if _DIGITS.fullmatch(words):
        return float(words)
    words = words.removeprefix("a ").removesuffix(" of")
    if words in ("a", "an"):
        return 1.0
    for table in (_UNITS, _TEENS, _TENS, _VAGUE):
        if words in table:
            return float(table[words])
    tens, _, unit = words.partition(" ")
    if tens in _TENS and unit in _UNITS:
        return float(_TENS[tens] + _UNITS[unit])
    return None
