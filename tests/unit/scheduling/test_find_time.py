"""Finding a time, as a conversation with the scheduling service over in-memory ports."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.actions import PickSlot
from core.commands import Command, Intent, Mention, Name, Relation, RelationRef, TimeOfDay
from core.people import Group, Person
from core.program import ProgramSettings
from core.time import DayTime, Interval
from core.views import Button, ConnectPrompt, Notice, Question, SlotPicker
from tests.memory import PROGRAM, World

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wednesday
NEXT_WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))


def find(*refs, window=NEXT_WEEK, minutes=None, time_of_day=None) -> Command:
    return Command(
        Intent.FIND_TIME,
        tuple(refs),
        duration_minutes=minutes or 30,
        duration_given=minutes is not None,
        window=window,
        time_of_day=time_of_day,
    )


MY_MENTEE = RelationRef(Relation.MENTEE)


def pair_world() -> tuple[World, Person, Person]:
    world = World(NOW)
    ana = world.person("Ana", "Europe/London")
    ben = world.person("Ben", "America/New_York")
    world.pair(ana, ben)
    return world, ana, ben


async def test_a_mentor_gets_a_spread_of_times_that_suit_both():
    world, ana, ben = pair_world()
    world.busy(ben, "2026-11-30T13:00:00+00:00", "2026-11-30T15:00:00+00:00")
    outcome = await world.send(ana, find(MY_MENTEE))
    picker = outcome.reply
    assert isinstance(picker, SlotPicker)
    assert picker.title == "Times for you and Ben"
    assert picker.duration_minutes == 30
    assert picker.zone == ZoneInfo("Europe/London")
    assert len(picker.slots) == 8
    # Spread over the week, not eight slots on Monday morning.
    assert len(picker.days()) == 5
    for choice in picker.slots:
        assert not (
            choice.start < datetime(2026, 11, 30, 15, tzinfo=UTC)
            and choice.end > datetime(2026, 11, 30, 13, tzinfo=UTC)
        )
        # 08:00 in New York is 13:00 UTC; 18:00 in London is 18:00 UTC.
        assert time(13) <= choice.start.time()
        assert choice.end.time() <= time(18)
    assert picker.more is not None
    assert picker.remaining > 0
    assert picker.notes == ()
    assert picker.connect is None
    offer = next(iter(world.offers.offers.values()))
    assert offer.participants == (ana.id, ben.id)
    assert offer.shown == tuple(Interval(c.start, c.end) for c in picker.slots)


async def test_buttons_carry_signed_references_not_ids():
    world, ana, _ = pair_world()
    picker = (await world.send(ana, find(MY_MENTEE))).reply
    assert isinstance(picker, SlotPicker)
    action = picker.slots[0].action
    opened = world.ports.actions.open(action)
    assert isinstance(opened, PickSlot)
    assert opened.offer == "ref1"
    assert opened.start == picker.slots[0].start
    _body, signature = action.split(".")
    assert len(signature) >= 20


async def test_several_mentees_get_a_question_and_a_click_answers_it():
    world, ana, _ben = pair_world()
    cleo = world.person("Cleo", "Europe/Paris")
    world.pair(ana, cleo)
    question = (await world.send(ana, find(MY_MENTEE))).reply
    assert isinstance(question, Question)
    assert question.text == "You have 2 mentees. Which one would you like to meet?"
    assert [option.label for option in question.options] == ["Ben", "Cleo"]
    picked = await world.click(ana, question.options[1].action)
    assert isinstance(picked.reply, SlotPicker)
    assert picked.reply.title == "Times for you and Cleo"
    assert picked.replaces_original


async def test_someone_else_cannot_use_my_clarification_buttons():
    world, ana, ben = pair_world()
    world.pair(ana, world.person("Cleo"))
    question = (await world.send(ana, find(MY_MENTEE))).reply
    assert isinstance(question, Question)
    outcome = await world.click(ben, question.options[0].action)
    assert isinstance(outcome.reply, Notice)
    assert outcome.reply.text == "That button was meant for someone else."
    assert world.offers.offers == {}


async def test_no_mentee_is_a_clear_answer():
    world = World(NOW)
    ana = world.person("Ana")
    outcome = await world.send(ana, find(MY_MENTEE))
    assert isinstance(outcome.reply, Notice)
    assert outcome.reply.text.startswith("You don't have a mentee in this program yet.")


async def test_no_participant_named_asks_who_with_the_partners():
    world, ana, _ = pair_world()
    question = (await world.send(ana, find())).reply
    assert isinstance(question, Question)
    assert question.text == "Who would you like to meet?"
    assert [o.label for o in question.options] == ["Ben"]


async def test_mentions_names_and_their_failures():
    world, ana, _ben = pair_world()
    picker = (await world.send(ana, find(Mention("UBEN")))).reply
    assert isinstance(picker, SlotPicker)
    assert picker.title == "Times for you and Ben"
    unknown = (await world.send(ana, find(Mention("UNOBODY")))).reply
    assert isinstance(unknown, Notice)
    assert "I don't know the person you mentioned yet" in unknown.text
    world.open_to_all()
    world.person("Ben Okafor")
    partner_first = (await world.send(ana, find(Name("ben")))).reply
    assert isinstance(partner_first, SlotPicker)
    assert partner_first.title == "Times for you and Ben"
    world.person("Cleo Park")
    world.person("Cleo Marsh")
    ambiguous = (await world.send(ana, find(Name("cleo")))).reply
    assert isinstance(ambiguous, Question)
    assert [o.label for o in ambiguous.options] == ["Cleo Marsh", "Cleo Park"]
    missing = (await world.send(ana, find(Name("zoe")))).reply
    assert isinstance(missing, Notice)
    assert "couldn't find anyone called “zoe”" in missing.text


async def test_mentioning_only_yourself_asks_who_else():
    world, ana, _ = pair_world()
    outcome = await world.send(ana, find(Mention("UANA")))
    assert isinstance(outcome.reply, Question)


async def test_requester_without_a_calendar_still_gets_times_and_a_connect_prompt():
    world = World(NOW)
    ana = world.person("Ana", connected=None)
    ben = world.person("Ben", "America/New_York")
    world.pair(ana, ben)
    picker = (await world.send(ana, find(MY_MENTEE))).reply
    assert isinstance(picker, SlotPicker)
    assert picker.slots
    assert "You haven't connected a calendar, so your own times are not checked." in picker.notes
    assert isinstance(picker.connect, ConnectPrompt)
    assert [link.label for link in picker.connect.links] == [
        "Connect Google",
        "Connect Microsoft 365 / Outlook.com",
        "Connect iCloud",
    ]


async def test_a_partner_without_a_calendar_is_named():
    world = World(NOW)
    ana = world.person("Ana")
    sam = world.person("Sam", "America/New_York", connected=None)
    world.pair(ana, sam)
    picker = (await world.send(ana, find(MY_MENTEE))).reply
    assert isinstance(picker, SlotPicker)
    assert picker.notes == ("Sam hasn't connected a calendar, so their times are not checked.",)


async def test_an_unreadable_calendar_is_named_with_its_reason():
    world, ana, ben = pair_world()
    world.calendars.unreadable[ben.id] = "Google did not answer in time"
    picker = (await world.send(ana, find(MY_MENTEE))).reply
    assert isinstance(picker, SlotPicker)
    assert picker.notes == (
        (
            "Ben's calendar couldn't be checked just now (Google did not answer in time), "
            "so it was left out."
        ),
    )


async def test_nothing_free_offers_the_next_window_and_a_shorter_meeting():
    world, ana, ben = pair_world()
    week = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC))
    world.busy(ben, "2026-11-30T00:00:00+00:00", "2026-12-05T00:00:00+00:00")
    outcome = await world.send(ana, find(MY_MENTEE, window=week, minutes=60))
    notice = outcome.reply
    assert isinstance(notice, Notice)
    assert notice.text == (
        "I couldn't find 60 free minutes for you and Ben from Mon 30 Nov to Fri 4 Dec "
        "(Europe/London time). Calendars and meetings fill the hours you share."
    )
    # The next window, with its first free time (08:00 in New York is 13:00 in London).
    assert [b.label for b in notice.buttons] == ["Times from Mon 7 Dec, 13:00", "Try 30 minutes"]
    further, shorter_one = notice.buttons
    assert isinstance(further, Button)
    assert isinstance(shorter_one, Button)
    later = await world.click(ana, further.action)
    assert isinstance(later.reply, SlotPicker)
    assert later.reply.slots[0].start >= week.end
    assert later.reply.duration_minutes == 60
    shorter = await world.click(ana, shorter_one.action)
    assert isinstance(shorter.reply, Notice)  # still nothing that week, at any length
    assert "30 free minutes" in shorter.reply.text


async def test_time_of_day_applies_in_the_requesters_zone():
    world = World(NOW)
    ana = world.person("Ana", "America/Los_Angeles")
    ben = world.person("Ben", "America/New_York")
    world.pair(ana, ben)
    afternoon = TimeOfDay(DayTime.of(12), DayTime.of(17))
    picker = (await world.send(ana, find(MY_MENTEE, time_of_day=afternoon))).reply
    assert isinstance(picker, SlotPicker)
    los_angeles = ZoneInfo("America/Los_Angeles")
    for choice in picker.slots:
        local_start = choice.start.astimezone(los_angeles).time()
        # Afternoon in LA, and before 18:00 in New York (15:00 in LA).
        assert time(12) <= local_start
        assert choice.end.astimezone(los_angeles).time() <= time(15)


async def test_the_programs_default_length_applies_when_none_is_said():
    world, ana, _ = pair_world()
    world.programs.current[PROGRAM] = ProgramSettings(default_duration_minutes=45)
    picker = (await world.send(ana, find(MY_MENTEE))).reply
    assert isinstance(picker, SlotPicker)
    assert picker.duration_minutes == 45
    assert all(c.end - c.start == timedelta(minutes=45) for c in picker.slots)
    stated = (await world.send(ana, find(MY_MENTEE, minutes=60))).reply
    assert isinstance(stated, SlotPicker)
    assert stated.duration_minutes == 60


async def test_an_assumed_time_zone_is_said():
    world = World(NOW)
    ana = world.person("Ana", timezone=None)
    world.pair(ana, world.person("Ben"))
    picker = (await world.send(ana, find(MY_MENTEE))).reply
    assert isinstance(picker, SlotPicker)
    assert picker.zone == ZoneInfo("UTC")
    assert "Times are shown in UTC, because your chat profile has no time zone." in picker.notes


async def test_more_times_pages_through_the_rest_without_reading_calendars_again():
    world, ana, _ = pair_world()
    first = (await world.send(ana, find(MY_MENTEE))).reply
    assert isinstance(first, SlotPicker)
    reads = len(world.calendars.reads)
    assert first.more is not None
    second = await world.click(ana, first.more.action)
    assert second.replaces_original
    page = second.reply
    assert isinstance(page, SlotPicker)
    assert len(page.slots) == 8
    assert not {c.start for c in page.slots} & {c.start for c in first.slots}
    assert page.remaining == first.remaining - 8
    assert len(world.calendars.reads) == reads


async def test_only_the_requester_pages_for_more():
    world, ana, ben = pair_world()
    first = (await world.send(ana, find(MY_MENTEE))).reply
    assert isinstance(first, SlotPicker)
    assert first.more is not None
    other = await world.click(ben, first.more.action)
    assert isinstance(other.reply, Notice)
    assert not other.replaces_original


async def test_a_circle_is_resolved_to_its_members():
    world, ana, ben = pair_world()
    cleo = world.person("Cleo", "Europe/Berlin")
    world.groups.groups.append(Group("g1", PROGRAM, "Circle A", (ana.id, ben.id, cleo.id)))
    picker = (await world.send(ana, find(RelationRef(Relation.GROUP)))).reply
    assert isinstance(picker, SlotPicker)
    assert picker.title == "Times for you, Ben and Cleo"


async def test_a_revoked_calendar_is_named_and_its_owner_asked_once_to_reconnect():
    world, ana, ben = pair_world()
    world.calendars.revoked[ben.id] = True
    first = await world.send(ana, find(MY_MENTEE))
    picker = first.reply
    assert isinstance(picker, SlotPicker)
    assert picker.notes == (
        "Ben's calendar needs to be reconnected, so its times are not checked.",
    )
    (message,) = first.direct
    assert message.person == ben.id
    assert isinstance(message.view, ConnectPrompt)
    assert message.view.text.startswith("I can no longer read your Google calendar")
    # The link is Ben's own, made for his identity in this program.
    identity, person, provider = world.calendars.issued[-1]
    assert (identity.user_id, person, provider.value) == ("UBEN", ben.id, "google")
    second = await world.send(ana, find(MY_MENTEE))
    assert second.direct == ()
