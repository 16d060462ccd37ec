from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.scheduling.find_time import spread
from core.time import Interval


def day_of_slots(day: int, count: int) -> list[Interval]:
    start = datetime(2026, 3, day, 9, tzinfo=UTC)
    step = timedelta(minutes=30)
    return [Interval(start + i * step, start + (i + 1) * step) for i in range(count)]


def test_places_go_round_robin_across_days_and_spread_within_each():
    monday, tuesday, wednesday = day_of_slots(2, 16), day_of_slots(3, 1), day_of_slots(4, 10)
    chosen = spread([*monday, *tuesday, *wednesday], 8, ZoneInfo("UTC"))
    assert chosen == sorted(chosen)
    per_day = {d: [c for c in chosen if c.start.day == d] for d in (2, 3, 4)}
    assert [len(per_day[d]) for d in (2, 3, 4)] == [4, 1, 3]
    # Evenly spaced: the first and last of Monday, and two between.
    assert per_day[2] == [monday[0], monday[5], monday[10], monday[15]]
    assert per_day[4] == [wednesday[0], wednesday[4], wednesday[9]]


def test_fewer_slots_than_places_returns_them_all():
    slots = day_of_slots(2, 3)
    assert spread(slots, 8, ZoneInfo("UTC")) == slots
    assert spread([], 8, ZoneInfo("UTC")) == []


def test_days_are_the_viewers_local_days():
    morning = day_of_slots(2, 3)  # 09:00-10:30 UTC on 2 March
    late = [
        Interval(
            datetime(2026, 3, 2, 23, m, tzinfo=UTC), datetime(2026, 3, 2, 23, m + 30, tzinfo=UTC)
        )
        for m in (0, 29)
    ]
    # In UTC all five are one day, so two picks are its first and last slots;
    # in Berlin 23:00 UTC is already 3 March, so each day gets its first slot.
    assert spread([*morning, *late], 2, ZoneInfo("UTC")) == [morning[0], late[1]]
    assert spread([*morning, *late], 2, ZoneInfo("Europe/Berlin")) == [morning[0], late[0]]
