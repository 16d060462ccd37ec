"""An empty answer says which window it searched and why, computed by the engine, and what
the parser assumed; ruled-out days are never offered (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.availability import BusyInterval, BusyStatus, Participant, SlotRequest
from core.explain import Away, Full, HoursApart, OffDays, Restricted, TooSoon, explain
from core.rules import Rules
from core.time import DayTime, Interval
from core.views import Button, Notice, SlotPicker
from tests.memory import World

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wednesday
LONDON, TOKYO = ZoneInfo("Europe/London"), ZoneInfo("Asia/Tokyo")
NEXT_WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))


def request(
    *people: Participant,
    window: Interval = NEXT_WEEK,
    duration: timedelta = timedelta(minutes=30),
    **kwargs: object,
) -> SlotRequest:
    return SlotRequest(
        window=window,
        duration=duration,
        participants=people,
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_engine_names_each_reason():
    ana = Participant("ana", LONDON)
    assert explain(request(ana, window=Interval(NOW, NOW + timedelta(minutes=30)))) == (
        TooSoon(timedelta(minutes=60)),
    )
    weekend = Interval(datetime(2026, 12, 5, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
    assert explain(request(ana, window=weekend)) == (OffDays(),)
    # Tokyo's 08:00-18:00 is 23:00-09:00 in London: one shared hour a day, too short for 90
    # minutes; and Auckland's never meets London's.
    late = Rules(earliest=DayTime.of(8), latest=DayTime.of(18))
    ken = Participant("ken", TOKYO)
    (apart,) = explain(request(ana, ken, rules=late, duration=timedelta(minutes=90)))
    assert isinstance(apart, HoursApart)
    assert apart.longest is not None
    assert apart.longest.duration == timedelta(hours=1)
    assert apart.longest.start.astimezone(LONDON).hour == 8
    assert explain(request(ana, Participant("kiri", ZoneInfo("Pacific/Auckland")))) == (
        HoursApart(None),
    )
    mornings = [
        Interval(datetime(2026, 11, 30, 6, tzinfo=UTC), datetime(2026, 11, 30, 7, tzinfo=UTC))
    ]
    assert explain(request(ana, within=mornings)) == (Restricted(),)
    away = [
        BusyInterval(
            datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC), BusyStatus.OOF
        ),
        BusyInterval(datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)),
    ]
    sam = Participant("sam", LONDON, calendar_connected=True, busy=away)
    reasons = explain(request(ana, sam))
    assert reasons[0] == Away(
        "sam",
        tuple(datetime(2026, 11, d).date() for d in (30,))
        + tuple(datetime(2026, 12, d).date() for d in (1, 2)),
    )
    assert reasons[-1] == Full()


def pair(mentee_zone: str = "Europe/London") -> tuple[World, object, object]:
    world = World(NOW)
    ana = world.person("Ana")
    sam = world.person("Sam", mentee_zone)
    world.pair(ana, sam)
    return world, ana, sam


async def test_an_empty_answer_states_the_window_the_reasons_and_the_next_free_time():
    world, ana, sam = pair()
    world.calendars.busy[sam.id] = [  # type: ignore[attr-defined]
        BusyInterval(
            datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC), BusyStatus.OOF
        ),
        BusyInterval(datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC)),
    ]
    notice = (await world.say(ana, "find a time with my mentee next week")).reply  # type: ignore[arg-type]
    assert isinstance(notice, Notice)
    assert notice.text == (
        "I couldn't find 30 free minutes for you and Sam from Mon 30 Nov to Sun 6 Dec "
        "(Europe/London time). Sam is out of office or away Mon 30 Nov\u2013Wed 2 Dec."
    )
    first = notice.buttons[0]
    assert isinstance(first, Button)
    assert first.label == "Times from Mon 7 Dec, 08:00"
    later = (await world.click(ana, first.action)).reply  # type: ignore[arg-type]
    assert isinstance(later, SlotPicker)
    assert later.slots[0].start == datetime(2026, 12, 7, 8, tzinfo=UTC)


async def test_hours_that_do_not_overlap_are_said_in_the_readers_zone():
    world, ana, _ = pair("Pacific/Auckland")
    notice = (await world.say(ana, "find 2 hours with my mentee on Monday")).reply  # type: ignore[arg-type]
    assert isinstance(notice, Notice)
    # Auckland's 08:00-18:00 is 19:00-05:00 in London: Ana's 08:00-18:00 never meets it.
    assert "from Mon 30 Nov" in notice.text or "on Mon 30 Nov" in notice.text
    assert "Your hours and Sam's don't overlap then" in notice.text


async def test_what_the_parser_assumed_is_said_with_the_times():
    world, ana, _ = pair()
    picker = (await world.say(ana, "find a time with my mentee on blursday")).reply  # type: ignore[arg-type]
    assert isinstance(picker, SlotPicker)
    assert picker.notes[:2] == (
        "I didn't understand \u201cblursday\u201d as a day, so I left it out.",
        "I looked over the next two weeks; say \u201cnext week\u201d or a date to narrow it.",
    )


async def test_days_ruled_out_are_never_offered():
    world, ana, _ = pair()
    picker = (await world.say(ana, "find a time with my mentee next week, not Monday")).reply  # type: ignore[arg-type]
    assert isinstance(picker, SlotPicker)
    assert picker.slots
    monday = datetime(2026, 11, 30).date()
    assert all(choice.start.astimezone(LONDON).date() != monday for choice in picker.slots)
    busy_thursday = (
        await world.say(ana, "find a time with my mentee next week, I'm busy Thursday")  # type: ignore[arg-type]
    ).reply
    assert isinstance(busy_thursday, SlotPicker)
    thursday = datetime(2026, 12, 3).date()
    assert all(c.start.astimezone(LONDON).date() != thursday for c in busy_thursday.slots)


async def test_buttons_that_search_again_keep_the_days_ruled_out():
    world, ana, sam = pair()
    world.calendars.busy[sam.id] = [  # type: ignore[attr-defined]
        BusyInterval(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC))
    ]
    notice = (await world.say(ana, "find an hour with my mentee next week, not Monday")).reply  # type: ignore[arg-type]
    assert isinstance(notice, Notice)
    later, shorter = notice.buttons[:2]
    assert isinstance(later, Button)
    assert isinstance(shorter, Button)
    # Monday 7 December is free, but Mondays were ruled out.
    assert later.label == "Times from Tue 8 Dec, 08:00"
    picker = (await world.click(ana, later.action)).reply  # type: ignore[arg-type]
    assert isinstance(picker, SlotPicker)
    assert picker.slots
    assert all(choice.start.astimezone(LONDON).weekday() != 0 for choice in picker.slots)
    # A shorter meeting in the same week: still not Monday 30 November, so still nothing.
    assert shorter.label == "Try 30 minutes"
    again = (await world.click(ana, shorter.action)).reply  # type: ignore[arg-type]
    assert isinstance(again, Notice)
    assert again.text.startswith("I couldn't find 30 free minutes")


async def test_fresh_times_for_a_time_taken_keep_the_days_ruled_out():
    world, ana, sam = pair()
    picker = (await world.say(ana, "find an hour with my mentee next week, not Monday")).reply  # type: ignore[arg-type]
    assert isinstance(picker, SlotPicker)
    choice = picker.slots[0]
    # Sam's week fills up but for Monday, before Ana's click.
    world.calendars.busy[sam.id] = [  # type: ignore[attr-defined]
        BusyInterval(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
    ]
    fresh = (await world.click(ana, choice.action)).reply  # type: ignore[arg-type]
    assert isinstance(fresh, Notice)
    assert fresh.text.startswith("That time can't be booked any more")
    assert "I couldn't find 60 free minutes" in fresh.text
