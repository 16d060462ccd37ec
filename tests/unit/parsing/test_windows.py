"""Day spans: the definition of "next Thursday", local midnights, and spans that have passed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.commands import Intent
from core.parsing import PAST_HINT, parse
from core.time import Interval

LONDON = ZoneInfo("Europe/London")


def window(text: str, now: datetime, zone: ZoneInfo = LONDON) -> Interval:
    command = parse(f"find a time {text}", zone, now)
    assert command.window is not None, command
    return command.window


@pytest.mark.parametrize("day", range(23, 30))  # Monday 23 to Sunday 29 November 2026
def test_next_thursday_is_the_thursday_of_next_iso_week_whatever_day_it_is_said(day):
    now = datetime(2026, 11, day, 12, tzinfo=LONDON)
    thursday = window("next thursday", now).start.astimezone(LONDON).date()
    assert thursday == date(2026, 12, 3)
    assert thursday.isocalendar().week == now.isocalendar().week + 1


@pytest.mark.parametrize("day", range(23, 30))
def test_a_plain_weekday_is_the_next_one_today_included(day):
    now = datetime(2026, 11, day, 12, tzinfo=LONDON)
    thursday = window("thursday", now).end.astimezone(LONDON).date() - timedelta(days=1)
    assert thursday.weekday() == 3
    assert 0 <= (thursday - now.date()).days < 7


def test_a_day_is_25_hours_when_the_clocks_go_back():
    now = datetime(2026, 10, 21, 10, tzinfo=LONDON)
    assert window("on sunday", now).duration == timedelta(hours=25)
    new_york = ZoneInfo("America/New_York")
    now = datetime(2026, 10, 28, 10, tzinfo=new_york)
    assert window("on sunday", now, new_york).duration == timedelta(hours=25)


def test_a_day_is_23_hours_when_the_clocks_go_forward():
    sydney = ZoneInfo("Australia/Sydney")
    now = datetime(2026, 9, 30, 10, tzinfo=sydney)
    assert window("on sunday", now, sydney).duration == timedelta(hours=23)


def test_a_midnight_the_clocks_skip_starts_the_day_at_the_first_instant_there_is():
    # Santiago moves from 00:00 to 01:00 on 6 September 2026.
    santiago = ZoneInfo("America/Santiago")
    now = datetime(2026, 9, 2, 10, tzinfo=santiago)
    span = window("on sunday", now, santiago)
    assert span.start.astimezone(santiago).date() == date(2026, 9, 6)
    assert span.duration == timedelta(hours=23)


def test_the_window_is_stored_in_utc():
    now = datetime(2026, 11, 25, 10, tzinfo=ZoneInfo("Asia/Kolkata"))
    span = window("tomorrow", now, ZoneInfo("Asia/Kolkata"))
    assert span.start == datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
    assert span.start.tzinfo is UTC


def test_only_spans_still_to_come_count():
    now = datetime(2026, 11, 25, 10, tzinfo=LONDON)
    assert window("yesterday or tomorrow", now).start == datetime(2026, 11, 26, tzinfo=UTC)
    for text in ("yesterday", "before today", "on dec 3 2025", "monday this week"):
        command = parse(f"find a time {text}", LONDON, now)
        assert (command.intent, command.hint) == (Intent.UNKNOWN, PAST_HINT), text


def test_a_date_at_the_end_of_the_calendar_is_ignored_rather_than_overflowing():
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)
    for text in ("on dec 31 9999", "after 9999-12-31", "by 31/12/9999"):
        command = parse(f"find a time {text}", ZoneInfo("UTC"), now)
        assert command.window == parse("find a time", ZoneInfo("UTC"), now).window, text
