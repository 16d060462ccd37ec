"""Slot starts stay on the organiser's wall-clock grid across clock changes.

Grids that do not divide the shift (45 or 90 minutes over a one-hour change,
anything but 30 over Lord Howe's half hour) used to slip off the wall clock or
skip a grid time next to a change. Each property is checked against a brute
force that walks every real minute and reads the organiser's clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.availability import Mode, Participant, SlotRequest, find_slots
from core.rules import Rules
from core.slots_json import parse_slot_request
from core.time import DayTime, Interval

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # the clocks move by 30 minutes
ZONES = [NEW_YORK, LONDON, LORD_HOWE]
GRIDS = [15, 20, 40, 45, 90, 120]

# The 2026 changes, as UTC instants; checked below, so a wrong one cannot hide.
CHANGES = {
    NEW_YORK: [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)],
    LONDON: [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)],
    LORD_HOWE: [
        datetime(2026, 4, 4, 15, tzinfo=UTC),  # 02:00 +11:00 back to 01:30 +10:30
        datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # 02:00 +10:30 on to 02:30 +11:00
    ],
}
MINUTE = timedelta(minutes=1)


def offset(instant: datetime, zone: ZoneInfo) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


@pytest.mark.parametrize(("zone", "change"), [(z, c) for z, cs in CHANGES.items() for c in cs])
def test_the_changes_used_here_are_real(zone: ZoneInfo, change: datetime):
    assert offset(change - MINUTE, zone) != offset(change, zone)


def on_grid(instant: datetime, zone: ZoneInfo, grid: int) -> bool:
    local = instant.astimezone(zone)
    return (
        local.second == 0
        and local.microsecond == 0
        and (local.hour * 60 + local.minute) % grid == 0
    )


def allowed(person: Participant, rules: Rules, start: datetime, end: datetime) -> bool:
    """Inside the rules' hours of the local day the slot starts on (every day is allowed here)."""
    day = start.astimezone(person.timezone).date()
    midnight = datetime(day.year, day.month, day.day, tzinfo=person.timezone)
    opens = midnight + timedelta(minutes=rules.earliest.minutes)
    closes = (
        datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=person.timezone)
        if rules.latest.minutes == 24 * 60
        else midnight + timedelta(minutes=rules.latest.minutes)
    )
    return opens.astimezone(UTC) <= start and end <= closes.astimezone(UTC)


def brute_force(request: SlotRequest) -> list[datetime]:
    """Every real minute of the window whose organiser's clock reads a grid time."""
    anchor = request.participants[0].timezone
    grid = request.rules.granularity_minutes
    minute = request.window.start.replace(second=0, microsecond=0)
    if minute < request.window.start:
        minute += MINUTE
    found = []
    while minute + request.duration <= request.window.end:
        start, end = minute, minute + request.duration
        minute += MINUTE
        if start < request.now + request.rules.min_notice or not on_grid(start, anchor, grid):
            continue
        if all(allowed(p, request.rules, start, end) for p in request.participants):
            found.append(start)
    return found


@st.composite
def requests_across_a_change(draw: st.DrawFn) -> SlotRequest:
    zone = draw(st.sampled_from(ZONES))
    change = draw(st.sampled_from(CHANGES[zone]))
    # Windows that begin off any grid (odd minutes and seconds), up to a day before the change.
    start = change - timedelta(
        minutes=draw(st.integers(-120, 24 * 60)), seconds=draw(st.sampled_from([0, 0, 17]))
    )
    end = start + timedelta(minutes=draw(st.integers(60, 36 * 60)))
    # Allowed hours that take in the night of the change, most of the time.
    rules = Rules(
        earliest=DayTime(draw(st.sampled_from([0, 0, 30, 60, 90, 120]))),
        latest=DayTime(draw(st.sampled_from([24 * 60, 24 * 60, 23 * 60, 4 * 60, 3 * 60]))),
        weekends=True,  # the changes fall on Sundays
        granularity_minutes=draw(st.sampled_from(GRIDS)),
        min_notice_minutes=0,
    )
    people = [Participant("organiser", zone)]
    if draw(st.booleans()):  # a guest whose own day bounds the region differently
        guest = draw(st.sampled_from([*ZONES, ZoneInfo("UTC"), ZoneInfo("Asia/Kathmandu")]))
        people.append(Participant("guest", guest))
    return SlotRequest(
        window=Interval(start, end),
        duration=timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 90]))),
        participants=people,
        now=start - timedelta(minutes=draw(st.sampled_from([0, 600, 24 * 60]))),
        rules=rules,
        mode=draw(st.sampled_from(list(Mode))),
    )


@settings(max_examples=400, deadline=None)
@given(requests_across_a_change())
def test_starts_are_every_grid_time_of_the_organisers_clock(request: SlotRequest):
    starts = sorted(slot.start for slot in find_slots(request))
    assert starts == brute_force(request)


@settings(max_examples=200, deadline=None)
@given(requests_across_a_change())
def test_no_start_is_off_the_grid_or_offered_twice(request: SlotRequest):
    anchor = request.participants[0].timezone
    starts = [slot.start for slot in find_slots(request)]
    assert len(set(starts)) == len(starts)
    assert all(on_grid(start, anchor, request.rules.granularity_minutes) for start in starts)


def whole_night(zone: ZoneInfo, day: date, grid: int, *, minutes: int = 15) -> list[str]:
    """Local starts offered from 00:00 to 06:00 of ``day``, with their UTC offsets."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    request = SlotRequest(
        window=Interval(start, start + timedelta(hours=6)),
        duration=timedelta(minutes=minutes),
        participants=[Participant("organiser", zone)],
        now=start - timedelta(days=1),
        rules=Rules(
            earliest=DayTime(0), latest=DayTime(24 * 60), weekends=True, granularity_minutes=grid
        ),
    )
    return [f"{slot.start.astimezone(zone):%H:%M%z}" for slot in find_slots(request)]


def test_a_45_minute_grid_keeps_03_00_after_new_york_springs_forward():
    assert whole_night(NEW_YORK, date(2026, 3, 8), 45)[:4] == [
        "00:00-0500",
        "00:45-0500",
        "01:30-0500",
        "03:00-0400",  # 02:15 does not exist; 03:00 is less than a step after 01:30
    ]


def test_a_90_minute_grid_offers_new_yorks_repeated_01_30_twice():
    assert whole_night(NEW_YORK, date(2026, 11, 1), 90)[:4] == [
        "00:00-0400",
        "01:30-0400",
        "01:30-0500",  # the same wall-clock time an hour later in real time
        "03:00-0500",
    ]


def test_lord_howes_half_hour_fall_back_repeats_01_30_on_a_45_minute_grid():
    assert whole_night(LORD_HOWE, date(2026, 4, 5), 45)[:5] == [
        "00:00+1100",
        "00:45+1100",
        "01:30+1100",
        "01:30+1030",
        "02:15+1030",
    ]


def test_a_window_opening_just_before_a_change_rounds_on_the_clock_after_it():
    # 01:50 in New York on the night the clocks skip 02:00-03:00: the next 45-minute
    # grid time is 03:00 (EDT), not 02:15 EST, which the clocks show as 03:15.
    opens = datetime(2026, 3, 8, 6, 50, tzinfo=UTC)
    request = SlotRequest(
        window=Interval(opens, opens + timedelta(hours=2)),
        duration=timedelta(minutes=15),
        participants=[Participant("organiser", NEW_YORK)],
        now=opens,
        rules=Rules(
            earliest=DayTime(0), weekends=True, granularity_minutes=45, min_notice_minutes=0
        ),
    )
    first = find_slots(request)[0].start.astimezone(NEW_YORK)
    assert f"{first:%H:%M%z}" == "03:00-0400"


@pytest.mark.parametrize("grid", GRIDS)
def test_every_grid_here_is_accepted_by_the_rules_and_the_json(grid: int):
    assert Rules(granularity_minutes=grid).granularity == timedelta(minutes=grid)
    text = (
        '{"window": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"},'
        f' "duration_minutes": 30, "rules": {{"granularity_minutes": {grid}}},'
        ' "participants": [{"id": "a", "timezone": "UTC"}]}'
    )
    parsed = parse_slot_request(text, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert parsed.rules.granularity_minutes == grid
