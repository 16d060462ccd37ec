"""Times of day: parts of the day, clock ranges and bounds, and the am/pm guesses."""

from __future__ import annotations

import pytest

from core.parsing.times_of_day import find_time_of_day


def said(text: str, duration: int = 30) -> tuple[str, str] | None:
    found, _ = find_time_of_day(text, duration)
    return None if found is None else (str(found.start), str(found.end))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("morning", ("08:00", "12:00")),
        ("in the afternoons", ("12:00", "17:00")),
        ("evening", ("17:00", "21:00")),
        ("at lunch", ("12:00", "14:00")),
        ("lunchtime", ("12:00", "14:00")),
        ("between 2 and 4pm", ("14:00", "16:00")),
        ("between 2pm and 4pm", ("14:00", "16:00")),
        ("between 9 and 5", ("09:00", "17:00")),
        ("between 7 and 9", ("07:00", "09:00")),
        ("between 11 and 1", ("11:00", "13:00")),
        ("between 10 and 12", ("10:00", "12:00")),
        ("from 10 to 11:30am", ("10:00", "11:30")),
        ("from 10am to 2", ("10:00", "14:00")),
        ("10-11am", ("10:00", "11:00")),
        ("11-1pm", ("11:00", "13:00")),
        ("9am-5", ("09:00", "17:00")),
        ("10:00-12:00", ("10:00", "12:00")),
        ("14:00 to 16:30", ("14:00", "16:30")),
        ("08:00-09:00", ("08:00", "09:00")),
        ("between 10pm and midnight", ("22:00", "24:00")),
        ("after 3pm", ("15:00", "24:00")),
        ("after 3", ("15:00", "24:00")),
        ("after 9", ("09:00", "24:00")),
        ("after lunch", ("14:00", "24:00")),
        ("before noon", ("00:00", "12:00")),
        ("before midnight", ("00:00", "24:00")),
        ("before 3pm", ("00:00", "15:00")),
        ("before lunch", ("00:00", "12:00")),
        ("by 5", ("00:00", "17:00")),
        ("until 4:30pm", ("00:00", "16:30")),
        ("no earlier than 10am", ("10:00", "24:00")),
        ("not after 6pm", ("00:00", "18:00")),
        ("at 3pm", ("15:00", "15:30")),
        ("at 10", ("10:00", "10:30")),
        ("around 12", ("12:00", "12:30")),
        ("@ 4pm", ("16:00", "16:30")),
        ("3 p.m.", ("15:00", "15:30")),
        ("12am", ("00:00", "00:30")),
        ("15:00", ("15:00", "15:30")),
        ("after 10am and before 2pm", ("10:00", "14:00")),
        ("afternoon after 3", ("15:00", "17:00")),
        ("morning or afternoon", ("08:00", "17:00")),
        # a part of the day that contradicts the clock gives way to it
        ("evening at 9am", ("09:00", "09:30")),
    ],
)
def test_times_of_day(text, expected):
    assert said(text) == expected


def test_at_lasts_the_meeting_and_stops_at_midnight():
    assert said("at 3pm", duration=90) == ("15:00", "16:30")
    assert said("at 11pm", duration=90) == ("23:00", "24:00")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "for 3 days",
        "in 2 hours",
        "the 3rd",
        "12/3",
        "1-1 with my mentee",  # a one-on-one
        "2-4",  # a bare range needs am, pm or a colon
        "between 4pm and 2pm",
        "between 10pm and 2am",  # across midnight: no single daily range says it
        "at 13pm",
        "at 25:00",
        "at 10:75",
        "before friday",
    ],
)
def test_not_times_of_day(text):
    assert said(text) is None


def test_parts_of_the_day_stay_in_the_text_for_this_afternoon():
    _, rest = find_time_of_day("this afternoon after 3pm", 30)
    assert rest.split() == ["this", "afternoon"]
