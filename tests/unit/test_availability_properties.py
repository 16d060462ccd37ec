"""Properties of the availability engine, checked against a minute-by-minute reference."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.availability import (
    BusyInterval,
    BusyStatus,
    Mode,
    Participant,
    SlotRequest,
    _busy_mask,
    find_slots,
)
from core.rules import AllDayEvents, Rules, WorkingHours
from core.time import DayTime, Interval

ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "Europe/London",
        "America/New_York",
        "Asia/Kathmandu",
        "Asia/Kolkata",
        "Australia/Lord_Howe",  # a 30-minute daylight-saving shift
        "Pacific/Chatham",
    )
]
# Around the 2026 clock changes in the US (8 March), Europe (29 March) and on
# Lord Howe Island (5 April, where the clocks go back by only 30 minutes).
ORIGINS = [
    datetime(2026, 3, 6, tzinfo=UTC),
    datetime(2026, 3, 27, tzinfo=UTC),
    datetime(2026, 4, 3, 12, tzinfo=UTC),
]
WINDOW_MINUTES = 3 * 24 * 60


@st.composite
def busy_intervals(draw: st.DrawFn, origin: datetime) -> list[BusyInterval]:
    count = draw(st.integers(0, 12))
    intervals = []
    for _ in range(count):
        # On a 15-minute grid, so blocks often touch slots exactly (adjacent, not overlapping).
        offset = draw(st.integers(-8, WINDOW_MINUTES // 15 + 8)) * 15
        length = draw(st.integers(0, 20)) * 15
        status = draw(st.sampled_from(list(BusyStatus)))
        start = origin + timedelta(minutes=offset)
        intervals.append(BusyInterval(start, start + timedelta(minutes=length), status))
    return intervals


@st.composite
def participants(draw: st.DrawFn, origin: datetime) -> list[Participant]:
    count = draw(st.integers(1, 3))
    people = []
    for index in range(count):
        hours = None
        if draw(st.integers(0, 3)) == 0:  # most people state no working hours
            start = draw(st.integers(0, 10)) * 60
            end = draw(st.integers(14, 24)) * 60
            days = draw(st.frozensets(st.integers(1, 7), min_size=3))
            hours = WorkingHours(DayTime(start), DayTime(end), days)
        people.append(
            Participant(
                id=f"p{index}",
                timezone=draw(st.sampled_from(ZONES)),
                calendar_connected=draw(st.booleans()),
                busy=draw(busy_intervals(origin)),
                working_hours=hours,
            )
        )
    return people


@st.composite
def slot_requests(draw: st.DrawFn) -> SlotRequest:
    origin = draw(st.sampled_from(ORIGINS))
    # Wide days, so that people several zones apart still share some hours.
    earliest = draw(st.integers(0, 9)) * 60
    latest = draw(st.integers(15, 24)) * 60
    rules = Rules(
        earliest=DayTime(earliest),
        latest=DayTime(latest),
        weekends=draw(st.integers(0, 3)) > 0,
        granularity_minutes=draw(st.sampled_from([15, 20, 30, 40, 45, 60, 90, 120])),
        min_notice_minutes=draw(st.sampled_from([0, 60, 24 * 60])),
        buffer_minutes=draw(st.sampled_from([0, 10, 30])),
        tentative_is_busy=draw(st.booleans()),
        all_day_events=draw(st.sampled_from(list(AllDayEvents))),
    )
    start = origin + timedelta(minutes=draw(st.integers(0, 600)))
    end = start + timedelta(minutes=draw(st.integers(12 * 60, WINDOW_MINUTES - 600)))
    return SlotRequest(
        window=Interval(start, end),
        duration=timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 90]))),
        participants=draw(participants(origin)),
        now=origin + timedelta(minutes=draw(st.integers(-600, 900))),
        rules=rules,
        mode=draw(st.sampled_from(list(Mode))),
    )


def counts_as_busy(interval: BusyInterval, rules: Rules) -> bool:
    if interval.status is BusyStatus.TENTATIVE:
        return rules.tentative_is_busy
    if interval.status is BusyStatus.ALL_DAY:
        return rules.all_day_events is AllDayEvents.BUSY
    return interval.status in (BusyStatus.BUSY, BusyStatus.OOF)


def within_hours(person: Participant, rules: Rules, start: datetime, end: datetime) -> bool:
    """The rules read literally: the slot fits the person's allowed hours of its local day."""
    day = start.astimezone(person.timezone).date()
    weekday = day.isoweekday()
    if not rules.weekends and weekday > 5:
        return False
    first, last = rules.earliest.minutes, rules.latest.minutes
    if person.working_hours is not None:
        if weekday not in person.working_hours.days:
            return False
        first = max(first, person.working_hours.start.minutes)
        last = min(last, person.working_hours.end.minutes)
    midnight = datetime(day.year, day.month, day.day, tzinfo=person.timezone)
    opens = (midnight + timedelta(minutes=first)).astimezone(UTC)
    closes = (
        datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=person.timezone)
        if last == 24 * 60
        else midnight + timedelta(minutes=last)
    ).astimezone(UTC)
    return opens <= start and end <= closes


def reference(request: SlotRequest) -> list[tuple[datetime, tuple[str, ...], tuple[str, ...]]]:
    """Walk the window minute by minute: slow, obvious, and independent of the engine."""
    rules = request.rules
    anchor = request.participants[0].timezone
    found = []
    minute = request.window.start.replace(second=0, microsecond=0)
    if minute < request.window.start:
        minute += timedelta(minutes=1)
    while minute + request.duration <= request.window.end:
        start, end = minute, minute + request.duration
        minute += timedelta(minutes=1)
        local = start.astimezone(anchor)
        if (local.hour * 60 + local.minute) % rules.granularity_minutes:
            continue
        if start < request.now + rules.min_notice:
            continue
        if not all(within_hours(p, rules, start, end) for p in request.participants):
            continue
        free: list[str] = []
        busy: list[str] = []
        for person in request.participants:
            if not person.calendar_connected:
                continue
            clash = any(
                counts_as_busy(b, rules)
                and b.start - rules.buffer < end
                and start < b.end + rules.buffer
                for b in person.busy
            )
            (busy if clash else free).append(person.id)
        if request.mode is Mode.ALL and busy:
            continue
        found.append((start, tuple(free), tuple(busy)))
    if request.mode is Mode.MOST:
        found.sort(key=lambda item: (-len(item[1]), item[0]))
    return found


@settings(max_examples=150, deadline=None)
@given(slot_requests())
def test_engine_agrees_with_the_minute_by_minute_reference(request: SlotRequest):
    slots = find_slots(request)
    assert [(s.start, s.free, s.busy) for s in slots] == reference(request)


@settings(max_examples=200, deadline=None)
@given(slot_requests())
def test_every_slot_respects_window_notice_hours_and_busy_times(request: SlotRequest):
    rules = request.rules
    by_id = {p.id: p for p in request.participants}
    for slot in find_slots(request):
        assert request.window.start <= slot.start
        assert slot.end <= request.window.end
        assert slot.end - slot.start == request.duration
        assert slot.start >= request.now + rules.min_notice
        assert all(within_hours(p, rules, slot.start, slot.end) for p in request.participants)
        for person_id in slot.free:
            for block in by_id[person_id].busy:
                if counts_as_busy(block, rules) and block.end > block.start:
                    assert not (block.start < slot.end and slot.start < block.end)
        if request.mode is Mode.ALL:
            assert slot.busy == ()
        unconnected = tuple(p.id for p in request.participants if not p.calendar_connected)
        assert slot.unknown == unconnected


@settings(max_examples=100, deadline=None)
@given(slot_requests(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_busy_intervals(
    request: SlotRequest, shuffler: random.Random
):
    shuffled = []
    for person in request.participants:
        busy = list(person.busy)
        shuffler.shuffle(busy)
        shuffled.append(
            Participant(
                person.id, person.timezone, person.calendar_connected, busy, person.working_hours
            )
        )
    again = SlotRequest(
        request.window,
        request.duration,
        shuffled,
        request.now,
        request.rules,
        request.mode,
        request.limit,
    )
    assert find_slots(again) == find_slots(request)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 60).flatmap(
        lambda size: st.tuples(
            st.just(size),
            st.lists(
                st.lists(
                    st.tuples(st.integers(0, size - 1), st.integers(1, size)).filter(
                        lambda run: run[0] < run[1]
                    ),
                    max_size=80,
                ),
                min_size=1,
                max_size=3,
            ),
        )
    )
)
def test_busy_masks_mark_exactly_the_runs_by_slices_or_by_counting(
    case: tuple[int, list[list[tuple[int, int]]]],
):
    # Few runs are marked a slice at a time, many by counting openings and closings:
    # sizes and run counts here reach both ways.
    size, people = case
    runs = [([first for first, _ in pairs], [stop for _, stop in pairs]) for pairs in people]
    inside = {i for pairs in people for first, stop in pairs for i in range(first, stop)}
    assert list(_busy_mask(runs, size)) == [int(i in inside) for i in range(size)]
