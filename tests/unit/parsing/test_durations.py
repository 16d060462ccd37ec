"""Meeting lengths, and phrases that look like one but are not."""

from __future__ import annotations

import pytest

from core.parsing.durations import find_duration


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("for 45 minutes", 45),
        ("45 min", 45),
        ("45m", 45),
        ("45-minute call", 45),
        ("an hour", 60),
        ("1h", 60),
        ("1 hr", 60),
        ("2 hrs", 120),
        ("90 minutes", 90),
        ("30 mins", 30),
        ("half an hour", 30),
        ("a half hour", 30),
        ("half-hour", 30),
        ("1/2 hour", 30),
        ("1.5 hours", 90),
        ("0.75 hours", 45),
        ("an hour and a half", 90),
        ("one and a half hours", 90),
        ("two hours and a quarter", 135),
        ("two hours", 120),
        ("twenty five minutes", 25),
        ("forty-five minutes", 45),
        ("1h30", 90),
        ("1h30m", 90),
        ("1h 30m", 90),
        ("1 hour 15 minutes", 75),
        ("an hour and 20 minutes", 80),
        ("quarter of an hour", 15),
        ("a quarter hour", 15),
        ("three quarters of an hour", 45),
        ("a couple of hours", 120),
        ("an hour-long chat", 60),
        ("30 or 45 minutes", 45),  # only the second number has a unit
    ],
)
def test_durations(text, minutes):
    assert find_duration(text)[0] == minutes


@pytest.mark.parametrize(
    "text",
    [
        "in 3 days",
        "at 10am",
        "3pm",
        "ah well",  # "a h" only with a space between a word number and its unit
        "give me a minute",  # 1 minute is no meeting
        "for 9999 hours",  # nor is more than a day
        "between 2 and 4",
        "1:1",
        "",
    ],
)
def test_not_durations(text):
    assert find_duration(text)[0] is None


def test_the_first_duration_wins_and_every_one_is_removed():
    minutes, rest = find_duration("45 min, or else an hour, on friday")
    assert minutes == 45
    assert rest.split() == [",", "or", "else", ",", "on", "friday"]
