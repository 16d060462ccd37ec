"""How much of the next two weeks a calendar's all-day and out-of-office events take."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.availability import BusyInterval, BusyStatus
from core.calendars import away_days
from core.time import Interval, local_day

NEW_YORK = ZoneInfo("America/New_York")  # clocks go forward on Sunday 8 March 2026
NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)  # Monday 2 March, 10:00 in New York
TWO_WEEKS = Interval(datetime(2026, 3, 2, 15, tzinfo=UTC), datetime(2026, 3, 17, tzinfo=UTC))


def day(d: int, status: BusyStatus = BusyStatus.ALL_DAY) -> BusyInterval:
    span = local_day(date(2026, 3, d), NEW_YORK)
    return BusyInterval(span.start, span.end, status)


def hours(d: int, start: float, end: float, status: BusyStatus = BusyStatus.OOF) -> BusyInterval:
    midnight = datetime(2026, 3, d, tzinfo=NEW_YORK)
    return BusyInterval(
        (midnight + timedelta(hours=start)).astimezone(UTC),
        (midnight + timedelta(hours=end)).astimezone(UTC),
        status,
    )


def test_all_day_events_of_any_marking_and_working_hours_out_of_office_count():
    blocks = [
        day(3),  # marked free: the program's rule decides, but it is all day
        day(4, BusyStatus.BUSY),  # an all-day event marked busy
        day(5, BusyStatus.OOF),
        hours(6, 9, 17),  # out of office through the working day
        hours(9, 8, 12),
        hours(9, 12, 18),  # two blocks that meet, across the day after the clock change
        hours(10, 9, 12),
        hours(10, 13, 17),  # a gap at lunch: this day is not taken
        hours(11, 9, 17, BusyStatus.BUSY),  # a long meeting is not an all-day event
        hours(12, 0, 24, BusyStatus.WORKING_ELSEWHERE),
        day(13, BusyStatus.FREE),
    ]
    assert away_days(blocks, NEW_YORK, TWO_WEEKS, NOW) == 5


def test_today_counts_and_days_past_the_window_or_the_fortnight_do_not():
    blocks = [day(d) for d in range(2, 20)]
    # Monday 2 March to Sunday 15 March: 14 days, today included though it has begun.
    assert away_days(blocks, NEW_YORK, TWO_WEEKS, NOW) == 14
    this_week = Interval(NOW, datetime(2026, 3, 7, tzinfo=UTC))
    assert away_days(blocks, NEW_YORK, this_week, NOW) == 5  # unread days are not guessed
    assert away_days([], NEW_YORK, TWO_WEEKS, NOW) == 0
