"""Chat shorthand and misspelt weekdays are written out before the grammar reads them."""

from __future__ import annotations

import pytest

from core.parsing.shorthand import closest_weekday, expand


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tmrw", "tomorrow"),
        ("2moro", "tomorrow"),
        ("tdy", "today"),
        ("2nite", "tonight"),
        ("nxt wk", "next week"),
        ("this wk", "this week"),
        ("in 2wks", "in 2weeks"),
        ("wknd", "weekend"),
        ("eow", "end of the week"),
        ("by eod", "by today"),
        ("w/c 12th", "week commencing 12th"),
        ("w/e 4th", "week ending 4th"),
        ("arvo", "afternoon"),
        ("wendsday", "wednesday"),
        ("thrusday", "thursday"),
        ("fri pm", "fri afternoon"),
        ("tomorrow a.m.", "tomorrow morning"),
        ("b4 fri", "before fri"),
    ],
)
def test_shorthand_is_written_out(text, expected):
    assert expand(text) == (expected, [])


@pytest.mark.parametrize(
    "text",
    ["tom and sam", "wedding", "i am free", "3 pm", "the pm said", "tomorrows", "atomic", "sunday"],
)
def test_whole_words_only(text):
    assert expand(text) == (text, [])


def test_an_unlisted_slip_is_read_as_the_nearest_weekday_and_reported():
    assert expand("on thursdya") == ("on thursday", [("thursdya", "thursday")])


@pytest.mark.parametrize(
    ("word", "weekday"),
    [
        ("mondya", "monday"),
        ("tuesdy", "tuesday"),
        ("wensdy", None),  # three edits away
        ("blursday", None),  # two edits from thursday, but it starts otherwise
        ("sundya", "sunday"),
        ("satruday", "saturday"),
    ],
)
def test_closest_weekday(word, weekday):
    assert closest_weekday(word) == weekday


def test_words_that_end_like_a_weekday_are_not_weekdays():
    assert expand("my birthday holiday") == ("my birthday holiday", [])
