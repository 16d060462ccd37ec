"""Named scenarios for the availability engine; properties live in test_availability_properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.availability import (
    BusyInterval,
    BusyStatus,
    Mode,
    Participant,
    Slot,
    SlotRequest,
    busy_during,
    find_slots,
)
from core.rules import AllDayEvents, Rules, WorkingHours
from core.time import DayTime, Interval, local_day

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # UTC+05:45
KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+05:30


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def busy(start: str, end: str, status: BusyStatus = BusyStatus.BUSY) -> BusyInterval:
    return BusyInterval(utc(start), utc(end), status)


def request(
    participants: list[Participant],
    start: str,
    end: str,
    *,
    now: str | None = None,
    minutes: int = 30,
    **kwargs: object,
) -> SlotRequest:
    return SlotRequest(
        window=Interval(utc(start), utc(end)),
        duration=timedelta(minutes=minutes),
        participants=participants,
        # By default "now" is a day ahead of the window, so the notice rule stays out of the way.
        now=utc(now) if now else utc(start) - timedelta(days=1),
        **kwargs,  # type: ignore[arg-type]
    )


def starts(slots: list[Slot]) -> list[str]:
    return [slot.start.strftime("%Y-%m-%d %H:%M") for slot in slots]


def daily_span(slots: list[Slot]) -> dict[date, tuple[str, str]]:
    """First start and last end of the offered slots, per UTC date."""
    days: dict[date, tuple[str, str]] = {}
    for slot in slots:
        first, _ = days.get(slot.start.date(), (slot.start.strftime("%H:%M"), ""))
        days[slot.start.date()] = (first, slot.end.strftime("%H:%M"))
    return days


def test_the_issue_example_intersects_working_hours_across_zones():
    maria = Participant(
        "maria",
        LONDON,
        calendar_connected=True,
        working_hours=WorkingHours(DayTime.of(9), DayTime.of(17)),
        busy=[busy("2026-03-02 10:00", "2026-03-02 11:00")],
    )
    sam = Participant("sam", NEW_YORK)
    slots = find_slots(
        request([maria, sam], "2026-03-02", "2026-03-07", now="2026-03-02 09:00", limit=10)
    )
    # London 09-17 GMT is 09-17 UTC; New York 08-18 EST is 13-23 UTC.
    assert starts(slots)[:3] == ["2026-03-02 13:00", "2026-03-02 13:30", "2026-03-02 14:00"]
    assert len(slots) == 10
    assert all(slot.free == ("maria",) and slot.unknown == ("sam",) for slot in slots)


def test_when_america_has_changed_its_clocks_and_europe_has_not():
    """2026: the US springs forward on 8 March, the UK on 29 March."""
    people = [Participant("maria", LONDON), Participant("sam", NEW_YORK)]
    slots = find_slots(request(people, "2026-03-02", "2026-04-04", minutes=30))
    span = daily_span(slots)
    # Before 8 March: New York 08:00 EST = 13:00 UTC, London 18:00 GMT = 18:00 UTC.
    assert span[date(2026, 3, 6)] == ("13:00", "18:00")
    # 9-27 March: New York is on EDT (08:00 = 12:00 UTC), London still on GMT.
    assert span[date(2026, 3, 9)] == ("12:00", "18:00")
    assert span[date(2026, 3, 27)] == ("12:00", "18:00")
    # From 30 March both are on summer time: London's 18:00 BST is 17:00 UTC.
    assert span[date(2026, 3, 30)] == ("12:00", "17:00")
    # No weekend days at all.
    assert all(day.isoweekday() < 6 for day in span)


def test_a_day_on_which_the_clocks_change_keeps_the_wall_clock_grid():
    around_the_clock = Rules(
        earliest=DayTime(0), latest=DayTime.of(24), weekends=True, granularity_minutes=60
    )
    sam = Participant("sam", NEW_YORK)
    spring = find_slots(
        request([sam], "2026-03-08 05:00", "2026-03-09 04:00", minutes=60, rules=around_the_clock)
    )
    local_hours = [slot.start.astimezone(NEW_YORK).hour for slot in spring]
    assert len(spring) == 23  # 8 March 2026 has 23 hours in New York
    assert local_hours == [0, 1, *range(3, 24)]  # 02:00 never happens

    autumn = find_slots(
        request([sam], "2026-11-01 04:00", "2026-11-02 05:00", minutes=60, rules=around_the_clock)
    )
    assert len(autumn) == 25  # 1 November 2026 has 25 hours; 01:00 happens twice
    assert [slot.start.astimezone(NEW_YORK).hour for slot in autumn][:3] == [0, 1, 1]


def test_a_half_hour_clock_change_keeps_hourly_slots_on_the_hour():
    """Lord Howe Island goes from UTC+11 to UTC+10:30 at 02:00 on 5 April 2026."""
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    around_the_clock = Rules(
        earliest=DayTime(0), latest=DayTime.of(24), weekends=True, granularity_minutes=60
    )
    kim = Participant("kim", lord_howe)
    slots = find_slots(
        request([kim], "2026-04-04 13:00", "2026-04-05 13:30", minutes=60, rules=around_the_clock)
    )
    local = [slot.start.astimezone(lord_howe).strftime("%H:%M") for slot in slots]
    assert local[:4] == ["00:00", "01:00", "02:00", "03:00"]
    # 01:30-02:00 happens twice, so the 02:00 mark comes 90 minutes after 01:00.
    assert slots[2].start - slots[1].start == timedelta(minutes=90)
    assert len(slots) == 24


def test_the_earliest_start_moves_in_utc_on_the_day_the_clocks_change():
    weekend_rules = Rules(weekends=True)
    sam = Participant("sam", NEW_YORK)
    slots = find_slots(request([sam], "2026-03-07", "2026-03-09", rules=weekend_rules))
    span = daily_span(slots)
    assert span[date(2026, 3, 7)] == ("13:00", "23:00")  # Saturday, EST
    assert span[date(2026, 3, 8)] == ("12:00", "22:00")  # Sunday, EDT from 02:00


def test_a_zone_with_a_45_minute_offset_gets_slots_on_its_own_hour_marks():
    asha = Participant("asha", KATHMANDU, calendar_connected=True)
    slots = find_slots(request([asha], "2026-03-02", "2026-03-03"))
    local = [slot.start.astimezone(KATHMANDU).strftime("%H:%M") for slot in slots]
    assert local[0] == "08:00"
    assert local[-1] == "17:30"
    assert {time[-2:] for time in local} == {"00", "30"}
    # 08:00 in Kathmandu is 02:15 UTC.
    assert slots[0].start == utc("2026-03-02 02:15")


def test_granularity_rule_aligns_to_the_hour_in_the_organisers_zone():
    hourly = Rules(granularity_minutes=60)
    asha = Participant("asha", KATHMANDU)
    priya = Participant("priya", KOLKATA)
    slots = find_slots(request([asha, priya], "2026-03-02", "2026-03-03", rules=hourly))
    assert {slot.start.astimezone(KATHMANDU).minute for slot in slots} == {0}
    # Organised from Kolkata, the same pair meets on Kolkata's hour marks instead.
    slots = find_slots(request([priya, asha], "2026-03-02", "2026-03-03", rules=hourly))
    assert {slot.start.astimezone(KOLKATA).minute for slot in slots} == {0}


def test_overlapping_and_nested_busy_intervals():
    maria = Participant(
        "maria",
        LONDON,
        calendar_connected=True,
        busy=[
            busy("2026-03-02 09:00", "2026-03-02 12:00"),
            busy("2026-03-02 10:00", "2026-03-02 11:00"),  # nested
            busy("2026-03-02 11:30", "2026-03-02 13:15"),  # overlaps the first
            busy("2026-03-02 15:00", "2026-03-02 15:00"),  # empty: blocks nothing
        ],
    )
    slots = find_slots(request([maria], "2026-03-02 08:00", "2026-03-02 18:00"))
    afternoon = [f"2026-03-02 {h:02d}:{m:02d}" for h in range(13, 18) for m in (0, 30)][1:]
    assert starts(slots) == ["2026-03-02 08:00", "2026-03-02 08:30", *afternoon]
    assert "2026-03-02 13:00" not in starts(slots)  # would overlap 13:00-13:15
    assert "2026-03-02 15:00" in starts(slots)


def test_adjacent_is_not_overlapping():
    maria = Participant(
        "maria",
        LONDON,
        calendar_connected=True,
        busy=[busy("2026-03-02 10:00", "2026-03-02 11:00")],
    )
    offered = starts(find_slots(request([maria], "2026-03-02 09:00", "2026-03-02 12:00")))
    assert offered == [
        "2026-03-02 09:00",
        "2026-03-02 09:30",
        "2026-03-02 11:00",
        "2026-03-02 11:30",
    ]


def test_an_all_day_event_blocks_the_persons_whole_local_day():
    day = local_day(date(2026, 3, 3), NEW_YORK)
    sam = Participant(
        "sam", NEW_YORK, calendar_connected=True, busy=[BusyInterval(day.start, day.end)]
    )
    slots = find_slots(request([sam], "2026-03-02", "2026-03-05"))
    assert {slot.start.astimezone(NEW_YORK).date() for slot in slots} == {
        date(2026, 3, 2),
        date(2026, 3, 4),
    }


@pytest.mark.parametrize(
    ("status", "tentative_is_busy", "all_day_events", "blocked"),
    [
        (BusyStatus.BUSY, True, AllDayEvents.AS_MARKED, True),
        (BusyStatus.OOF, False, AllDayEvents.AS_MARKED, True),
        (BusyStatus.TENTATIVE, True, AllDayEvents.BUSY, True),
        (BusyStatus.TENTATIVE, False, AllDayEvents.BUSY, False),
        (BusyStatus.FREE, True, AllDayEvents.BUSY, False),
        (BusyStatus.WORKING_ELSEWHERE, True, AllDayEvents.BUSY, False),
        # An all-day event marked free: busy by default, as the program promises...
        (BusyStatus.ALL_DAY, False, AllDayEvents.BUSY, True),
        # ...or free when the program respects the event's own marking.
        (BusyStatus.ALL_DAY, True, AllDayEvents.AS_MARKED, False),
    ],
)
def test_statuses(
    status: BusyStatus, tentative_is_busy: bool, all_day_events: AllDayEvents, blocked: bool
):
    maria = Participant(
        "maria",
        LONDON,
        calendar_connected=True,
        busy=[busy("2026-03-02 10:00", "2026-03-02 11:00", status)],
    )
    rules = Rules(tentative_is_busy=tentative_is_busy, all_day_events=all_day_events)
    offered = starts(
        find_slots(request([maria], "2026-03-02 10:00", "2026-03-02 11:00", rules=rules))
    )
    assert offered == ([] if blocked else ["2026-03-02 10:00", "2026-03-02 10:30"])


@pytest.mark.parametrize(
    ("rule", "counted"), [(AllDayEvents.BUSY, True), (AllDayEvents.AS_MARKED, False)]
)
def test_polls_count_an_all_day_event_marked_free_as_the_rule_says(
    rule: AllDayEvents, counted: bool
):
    day = local_day(date(2026, 3, 3), NEW_YORK)
    blocks = [BusyInterval(day.start, day.end, BusyStatus.ALL_DAY)]
    option = Interval(utc("2026-03-03 15:00"), utc("2026-03-03 16:00"))
    assert busy_during(blocks, option, Rules(all_day_events=rule)) is counted


def test_a_participant_without_a_calendar_only_constrains_through_hours():
    maria = Participant("maria", LONDON, calendar_connected=True)
    sam = Participant(
        "sam",
        NEW_YORK,
        calendar_connected=False,
        busy=[busy("2026-03-02 13:00", "2026-03-02 18:00")],
    )
    slots = find_slots(request([maria, sam], "2026-03-02", "2026-03-03"))
    assert starts(slots)[0] == "2026-03-02 13:00"  # his busy list is ignored, his hours are not
    assert slots[0].unknown == ("sam",)
    assert slots[0].free == ("maria",)


def test_minimum_notice_and_window():
    maria = Participant("maria", LONDON, calendar_connected=True)
    slots = find_slots(request([maria], "2026-03-02", "2026-03-02 12:00", now="2026-03-02 09:10"))
    # 60 minutes of notice from 09:10 is 10:10: the next half hour is 10:30.
    assert starts(slots) == ["2026-03-02 10:30", "2026-03-02 11:00", "2026-03-02 11:30"]


def test_a_buffer_keeps_distance_from_busy_times():
    maria = Participant(
        "maria",
        LONDON,
        calendar_connected=True,
        busy=[busy("2026-03-02 10:00", "2026-03-02 11:00")],
    )
    rules = Rules(buffer_minutes=15)
    offered = starts(
        find_slots(request([maria], "2026-03-02 09:00", "2026-03-02 12:30", rules=rules))
    )
    assert offered == ["2026-03-02 09:00", "2026-03-02 11:30", "2026-03-02 12:00"]


def test_within_restricts_to_extra_intervals():
    maria = Participant("maria", LONDON)
    afternoon = [Interval(utc("2026-03-02 12:00"), utc("2026-03-02 13:00"))]
    offered = starts(find_slots(request([maria], "2026-03-02", "2026-03-03", within=afternoon)))
    assert offered == ["2026-03-02 12:00", "2026-03-02 12:30"]


def test_most_mode_ranks_by_people_free_then_time():
    people = [
        Participant(
            "ana",
            LONDON,
            calendar_connected=True,
            busy=[busy("2026-03-02 09:00", "2026-03-02 10:00")],
        ),
        Participant(
            "ben",
            LONDON,
            calendar_connected=True,
            busy=[busy("2026-03-02 08:00", "2026-03-02 09:00")],
        ),
        Participant(
            "cy",
            LONDON,
            calendar_connected=True,
            busy=[busy("2026-03-02 08:00", "2026-03-02 10:00")],
        ),
        Participant("dee", LONDON),
    ]
    slots = find_slots(request(people, "2026-03-02 08:00", "2026-03-02 10:30", mode=Mode.MOST))
    summary = [(s.start.strftime("%H:%M"), s.free, s.busy, s.unknown) for s in slots]
    assert summary == [
        ("10:00", ("ana", "ben", "cy"), (), ("dee",)),
        ("08:00", ("ana",), ("ben", "cy"), ("dee",)),
        ("08:30", ("ana",), ("ben", "cy"), ("dee",)),
        ("09:00", ("ben",), ("ana", "cy"), ("dee",)),
        ("09:30", ("ben",), ("ana", "cy"), ("dee",)),
    ]


def test_limit_keeps_the_first_slots_in_order():
    maria = Participant("maria", LONDON)
    every = find_slots(request([maria], "2026-03-02", "2026-03-03"))
    assert find_slots(request([maria], "2026-03-02", "2026-03-03", limit=3)) == every[:3]
    assert find_slots(request([maria], "2026-03-02", "2026-03-03", limit=0)) == []


def test_no_room_for_the_duration_means_no_slots():
    maria = Participant("maria", LONDON)
    assert find_slots(request([maria], "2026-03-02 17:00", "2026-03-03", minutes=90)) == []


def test_a_window_already_past_gives_nothing():
    maria = Participant("maria", LONDON)
    assert find_slots(request([maria], "2026-03-02", "2026-03-03", now="2026-03-04")) == []


@pytest.mark.parametrize(
    "build",
    [
        lambda: request([], "2026-03-02", "2026-03-03"),
        lambda: request([Participant("a", LONDON)], "2026-03-02", "2026-03-03", minutes=0),
        lambda: request(
            [Participant("a", LONDON), Participant("a", LONDON)], "2026-03-02", "2026-03-03"
        ),
        lambda: Rules(earliest=DayTime.of(18), latest=DayTime.of(8)),
        lambda: Rules(granularity_minutes=7),
        lambda: WorkingHours(DayTime.of(17), DayTime.of(9)),
        lambda: busy("2026-03-02 11:00", "2026-03-02 10:00"),
    ],
)
def test_invalid_domain_values_are_refused(build):
    with pytest.raises(ValueError, match=r"\w"):
        build()


def test_working_hours_kept_in_another_zone_apply_in_that_zone():
    # Sam's profile says New York, but his calendar keeps 09:00-17:00 Pacific hours.
    hours = WorkingHours(DayTime.of(9), DayTime.of(17), zone=ZoneInfo("America/Los_Angeles"))
    sam = Participant("sam", NEW_YORK, working_hours=hours)
    slots = find_slots(request([sam], "2026-03-02", "2026-03-03"))
    # Program hours 08:00-18:00 New York = 13:00-23:00 UTC; Pacific 09:00-17:00 = 17:00-01:00 UTC.
    assert (slots[0].start, slots[-1].end) == (utc("2026-03-02 17:00"), utc("2026-03-02 23:00"))


# ---------------------------------------------------------------- Pairtime's own meetings


def test_a_booked_meeting_blocks_a_person_without_a_calendar():
    """A meeting is busy whether or not its person connected a calendar."""
    unconnected = Participant(
        "sam", LONDON, booked=[Interval(utc("2026-03-02 09:00"), utc("2026-03-02 10:00"))]
    )
    slots = find_slots(
        request(
            [Participant("maria", LONDON, calendar_connected=True), unconnected],
            "2026-03-02 08:00",
            "2026-03-02 11:00",
        )
    )
    assert starts(slots) == ["2026-03-02 08:00", "2026-03-02 08:30", "2026-03-02 10:00",
                             "2026-03-02 10:30"]  # fmt: skip
    assert all(slot.unknown == ("sam",) for slot in slots)


def test_a_booked_meeting_counts_whatever_the_rules_say_of_tentative_time():
    person = Participant(
        "maria",
        LONDON,
        calendar_connected=True,
        busy=[busy("2026-03-02 08:00", "2026-03-02 09:00", BusyStatus.TENTATIVE)],
        booked=[Interval(utc("2026-03-02 09:00"), utc("2026-03-02 09:30"))],
    )
    slots = find_slots(
        request(
            [person],
            "2026-03-02 08:00",
            "2026-03-02 10:00",
            rules=Rules(tentative_is_busy=False, buffer_minutes=0),
        )
    )
    assert starts(slots) == ["2026-03-02 08:00", "2026-03-02 08:30", "2026-03-02 09:30"]


def test_in_most_mode_a_person_in_a_meeting_is_busy_not_unknown():
    sam = Participant(
        "sam", LONDON, booked=[Interval(utc("2026-03-02 08:00"), utc("2026-03-02 08:30"))]
    )
    maria = Participant("maria", LONDON, calendar_connected=True)
    slots = find_slots(
        request([maria, sam], "2026-03-02 08:00", "2026-03-02 09:00", mode=Mode.MOST)
    )
    by_start = {slot.start: slot for slot in slots}
    at_eight = by_start[utc("2026-03-02 08:00")]
    assert (at_eight.free, at_eight.busy, at_eight.unknown) == (("maria",), ("sam",), ())
    half_past = by_start[utc("2026-03-02 08:30")]
    assert (half_past.free, half_past.busy, half_past.unknown) == (("maria",), (), ("sam",))
