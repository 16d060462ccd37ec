"""Ruled-out times become absolute spans inside the window, on the speaker's clock."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from core.parsing import parse
from core.time import Interval

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 25, 10, tzinfo=LONDON)  # a Wednesday


def local(spans: tuple[Interval, ...]) -> list[tuple[str, str]]:
    return [
        (
            f"{span.start.astimezone(LONDON):%a %d %H:%M}",
            f"{span.end.astimezone(LONDON):%a %d %H:%M}",
        )
        for span in spans
    ]


def test_a_weekday_alone_is_every_such_day_in_the_window():
    command = parse("find a time with my mentee, not Monday", LONDON, NOW)
    assert local(command.excluded) == [
        ("Mon 30 00:00", "Tue 01 00:00"),
        ("Mon 07 00:00", "Tue 08 00:00"),
    ]


def test_a_named_day_is_that_day_only():
    command = parse("find a time with my mentee, not next Monday", LONDON, NOW)
    assert local(command.excluded) == [("Mon 30 00:00", "Tue 01 00:00")]


def test_a_week_named_with_its_day_frames_the_window():
    command = parse("any day but Friday next week with my mentee", LONDON, NOW)
    assert command.window is not None
    assert local((command.window,)) == [("Mon 30 00:00", "Mon 07 00:00")]
    assert local(command.excluded) == [("Fri 04 00:00", "Sat 05 00:00")]


def test_a_week_alone_is_ruled_out_whole():
    command = parse("find a time with my mentee, not next week", LONDON, NOW)
    assert local(command.excluded) == [("Mon 30 00:00", "Mon 07 00:00")]


def test_a_part_of_a_day_is_that_part_of_the_days_named():
    command = parse("find a time with my mentee this week, not tomorrow afternoon", LONDON, NOW)
    assert local(command.excluded) == [("Thu 26 12:00", "Thu 26 17:00")]


def test_parts_of_days_stay_on_the_wall_clock_across_a_clock_change():
    # London's clocks go back on Sunday 25 October 2026.
    now = datetime(2026, 10, 21, 10, tzinfo=LONDON)
    command = parse("find a time with my mentee in the next 7 days, no mornings", LONDON, now)
    starts = [span.start.astimezone(LONDON).time() for span in command.excluded]
    ends = [span.end.astimezone(LONDON).time() for span in command.excluded]
    assert starts == [time(10)] + [time(8)] * 7
    assert ends == [time(12)] * 7 + [time(10)]
    offsets = {span.start.astimezone(LONDON).utcoffset() for span in command.excluded}
    assert len(offsets) == 2


def test_what_is_ruled_out_lies_in_the_window_sorted_and_apart():
    command = parse("find a time with my mentee, not Monday or Tuesday, no mornings", LONDON, NOW)
    assert command.window is not None
    assert all(command.window.contains(span) for span in command.excluded)
    assert all(
        a.end < b.start for a, b in zip(command.excluded, command.excluded[1:], strict=False)
    )


def test_days_of_the_week_and_hours_rule_out_the_same_in_a_later_window():
    command = parse("find an hour with my mentee, not Monday, not tomorrow afternoon", LONDON, NOW)
    later = Interval(datetime(2026, 12, 7, tzinfo=LONDON), datetime(2026, 12, 14, tzinfo=LONDON))
    # "Monday" is every Monday; "tomorrow afternoon" is one afternoon, not in that window.
    assert local(command.ruled_out.within(later, LONDON)) == [("Mon 07 00:00", "Tue 08 00:00")]
    evenings = parse("find an hour with my mentee tomorrow, no evenings", LONDON, NOW)
    assert local(evenings.ruled_out.within(later, LONDON))[:2] == [
        ("Mon 07 17:00", "Mon 07 21:00"),
        ("Tue 08 17:00", "Tue 08 21:00"),
    ]


def test_named_days_side_by_side_travel_as_one_span():
    command = parse("find a time with my mentee, not tomorrow or the 27th", LONDON, NOW)
    assert local(command.ruled_out.spans) == [("Thu 26 00:00", "Sat 28 00:00")]
