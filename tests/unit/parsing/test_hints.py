"""Each pass's cheap hint finds something wherever the pass's own pattern would, and
each pattern tried only where its first characters are finds what it finds everywhere.

The parser skips a pass when its hint finds nothing, which is only right if
every match of the pass holds what the hint looks for; and a pattern built with
``starting_with`` is only tried at its first characters. A new alternative
that either does not cover fails here, instead of quietly never being read.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.parsing import dates, durations, negation, times_of_day, windows
from core.parsing.text import DAY_CLOSE, DAY_OPEN, PLACEHOLDER_CLOSE, PLACEHOLDER_OPEN
from tests.unit.parsing.test_fuzz import VOCABULARY

LED = {
    "durations": durations._DURATION,
    "dates": dates._DATE,
    "clocks": times_of_day._CLOCKS,
    "relative": windows._RELATIVE,
    "days": windows._DAY,
    "windows": windows._WINDOW,
}
PASSES = {
    "durations": (durations._DURATION, durations._DURATION_HINT),
    "dates": (dates._DATE, dates._DATE_HINT),
    "clocks": (times_of_day._CLOCKS, times_of_day._CLOCKS_HINT),
    "days": (windows._DAY, windows._DAY_HINT),
    "windows": (windows._WINDOW, windows._WINDOW_HINT),
}
# Every run of letters the patterns spell, so random messages hit their alternatives.
PIECES = sorted(
    {
        word
        for pattern in [negation._MARKS, *LED.values()]
        for word in re.findall(r"[a-z']+", pattern.pattern)
    }
    | set(VOCABULARY)
    | {f"{PLACEHOLDER_OPEN}0{PLACEHOLDER_CLOSE}", f"{DAY_OPEN}1{DAY_CLOSE}"}
    | {"1", "12", "2026", "-", "/", ",", "'", "h", "m", "st"}
)
messages = st.lists(
    st.tuples(st.sampled_from(PIECES), st.sampled_from([" ", " ", "", "-", "/", "  ", ", "])),
    min_size=1,
    max_size=10,
).map(lambda pairs: "".join(piece + gap for piece, gap in pairs).strip())

# Phrases each pass reads, so its hint is known to find them.
DATE = f"{PLACEHOLDER_OPEN}0{PLACEHOLDER_CLOSE}"
DAY = f"{DAY_OPEN}0{DAY_CLOSE}"
READ = {
    "durations": "45 min; an hour and a half; 1h30; half an hour; 2 hrs; couple of hours; "
    "eleven minutes; forty-five minutes; few minutes; ninety minutes; one hour; "
    "quarter of an hour; sixty minutes; three quarters of an hour",
    "dates": "dec 3; 3rd of december; 12/3; 2026-12-03; the 3rd; mon 14th; on 3rd; after 3rd; "
    "by 3rd; commencing 3rd; ending 3rd; feb 3; fri 3rd; jan 5; nov 5; sat 3rd; until 3rd; "
    "wed 3rd",
    "clocks": "between 2 and 4pm; 10-11; before noon; after lunch; at 10; @3pm; 14:00; "
    "done by 5pm; ending by 5pm; from 2 to 4; later than 3pm; midnight to 2am; noon to 2pm; "
    "starting at 10; till 5pm; until 5pm",
    "days": f"tomorrow; the day after tmrw; this morning; next thu; in 3 days; {DATE}; "
    "coming friday; day after tomorrow; friday; monday; saturday; wednesday; yesterday",
    "relative": "next 2 weeks; the next 3 days; coming 2 days; in the next 3 days; "
    "for the next 5 days; during the next week; over the coming week; within 48 hours; "
    "within a fortnight",
    "windows": f"next week; weekend; in 2 weeks; this month; in december; from {DAY}; "
    f"as of {DAY}; by the end of next week; during december; early next week; late next week; "
    f"mid next week; over december; prior to {DAY}; rest of the week; starting {DAY}; until {DAY}",
}


def _rules_out(text: str) -> bool:
    return any(mark.lastgroup != "boundary" for mark in negation._MARKS.finditer(text))


@pytest.mark.parametrize("name", sorted(PASSES))
def test_each_hint_finds_the_phrases_its_pass_reads(name: str):
    pattern, hint = PASSES[name]
    for phrase in READ[name].split("; "):
        assert pattern.search(phrase) is not None, phrase
        assert hint.search(phrase) is not None, phrase


def test_the_negation_hint_finds_every_cue():
    for phrase in ("not monday", "i'm busy friday", "friday doesn't work", "no mornings"):
        assert _rules_out(phrase)
        assert negation._CUE_HINT.search(phrase) is not None, phrase


@settings(max_examples=2000)
@given(text=messages)
def test_no_pass_matches_where_its_hint_finds_nothing(text: str):
    for name, (pattern, hint) in PASSES.items():
        if hint.search(text) is None:
            assert pattern.search(text) is None, name
    if negation._CUE_HINT.search(text) is None:
        assert not _rules_out(text)


def _everywhere(led: re.Pattern[str]) -> re.Pattern[str]:
    """The pattern ``starting_with`` was given, tried at every position."""
    assert led.pattern.startswith("(?=[")
    return re.compile(led.pattern[led.pattern.index("])(?:") + 5 : -1])


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple[object, ...]]:
    return [(match.span(), match.groupdict()) for match in pattern.finditer(text)]


@settings(max_examples=2000)
@given(text=messages)
def test_each_pattern_finds_the_same_tried_only_at_its_first_characters(text: str):
    for name, led in LED.items():
        assert _matches(led, text) == _matches(_everywhere(led), text), name


def test_each_pattern_tried_only_at_its_first_characters_still_reads_its_phrases():
    for name, led in LED.items():
        for phrase in READ[name].split("; "):
            found = _matches(led, phrase)
            assert found, (name, phrase)
            assert found == _matches(_everywhere(led), phrase), (name, phrase)
