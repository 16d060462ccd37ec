"""A booked meeting is busy time in every later search, picker, poll proposal and busy count."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from core.commands import Command, Intent, Mention
from core.meetings import MeetingStatus
from core.people import Group
from core.time import Interval
from core.views import Confirmation, Notice, PollDraftView, PollView, SlotPicker
from tests.memory import PROGRAM, World

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)  # a Wednesday
MONDAY = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
EIGHT = datetime(2026, 11, 30, 8, tzinfo=UTC)


def find(*user_ids: str, window: Interval = MONDAY) -> Command:
    return Command(Intent.FIND_TIME, tuple(Mention(u) for u in user_ids), window=window)


async def book_at(world: World, who, command: Command, start: datetime) -> Confirmation:
    picker = (await world.send(who, command)).reply
    assert isinstance(picker, SlotPicker)
    choice = next(c for c in picker.slots if c.start == start)
    booked = (await world.click(who, choice.action)).reply
    assert isinstance(booked, Confirmation)
    return booked


async def test_a_booked_time_is_not_offered_again_even_without_calendars():
    """The issue's new user: a mentor with two mentees and no calendar connected anywhere."""
    world = World(NOW)
    maria = world.person("Maria", connected=None)
    world.person("Sam", connected=None)
    lee = world.person("Lee", connected=None)
    await book_at(world, maria, find("USAM"), EIGHT)

    again = (await world.send(maria, find("ULEE"))).reply
    assert isinstance(again, SlotPicker)
    offered = [choice.start for choice in again.slots]
    assert EIGHT not in offered
    assert datetime(2026, 11, 30, 8, 30, tzinfo=UTC) in offered  # the meeting is 30 minutes

    # Sam is busy too, though the new search is Lee's with someone else.
    for_sam = (await world.send(lee, find("USAM"))).reply
    assert isinstance(for_sam, SlotPicker)
    assert EIGHT not in [choice.start for choice in for_sam.slots]


async def test_a_stale_picker_cannot_book_a_time_taken_since():
    world = World(NOW)
    maria = world.person("Maria", connected=None)
    world.person("Sam", connected=None)
    world.person("Lee", connected=None)
    first = (await world.send(maria, find("USAM"))).reply
    second = (await world.send(maria, find("ULEE"))).reply
    assert isinstance(first, SlotPicker)
    assert isinstance(second, SlotPicker)
    await world.click(maria, next(c for c in first.slots if c.start == EIGHT).action)

    outcome = await world.click(maria, next(c for c in second.slots if c.start == EIGHT).action)
    fresh = outcome.reply
    assert isinstance(fresh, SlotPicker)
    assert fresh.notes[0].startswith("That time can't be booked any more")
    assert len(world.meetings.meetings) == 1


async def test_a_cancelled_or_declined_meeting_frees_the_time_at_once():
    world = World(NOW)
    maria = world.person("Maria", connected=None)
    world.person("Sam", connected=None)
    world.person("Lee", connected=None)
    await book_at(world, maria, find("USAM"), EIGHT)
    (meeting,) = world.meetings.meetings.values()

    for status in (MeetingStatus.CANCELLED, MeetingStatus.DECLINED):
        world.meetings.meetings[meeting.ref] = replace(meeting, status=status)
        picker = (await world.send(maria, find("ULEE"))).reply
        assert isinstance(picker, SlotPicker)
        assert EIGHT in [choice.start for choice in picker.slots]


async def test_a_circle_member_who_declined_is_free_again():
    world = World(NOW)
    maria = world.person("Maria", connected=None)
    world.person("Sam", connected=None)
    world.person("Lee", connected=None)
    await book_at(world, maria, find("USAM", "ULEE"), EIGHT)
    (meeting,) = world.meetings.meetings.values()
    lee = world.people.people[meeting.participants[2]]
    world.meetings.meetings[meeting.ref] = replace(meeting, declined=(lee.id,))

    picker = (await world.send(lee, find("UMARIA"))).reply
    assert isinstance(picker, SlotPicker)
    assert EIGHT not in [choice.start for choice in picker.slots]  # Maria still meets Sam
    picker = (await world.send(world.person("Zed", connected=None), find("ULEE"))).reply
    assert isinstance(picker, SlotPicker)
    assert EIGHT in [choice.start for choice in picker.slots]


async def test_polls_propose_around_meetings_and_count_them_as_busy():
    world = World(NOW)
    ana = world.person("Ana")
    ben = world.person("Ben", connected=None)  # no calendar: only his meetings count
    cy = world.person("Cy")
    world.groups.groups.append(Group("g1", PROGRAM, "Circle", (ana.id, ben.id, cy.id), "C1"))
    # Every Monday slot but 08:00 is taken in Ana's and Cy's calendars...
    world.busy(ana, "2026-11-30T08:30:00+00:00", "2026-12-01T00:00:00+00:00")
    world.busy(cy, "2026-11-30T08:30:00+00:00", "2026-12-01T00:00:00+00:00")
    # ...and Ben has a Pairtime meeting at 08:00 with someone else.
    world.person("Sam", connected=None)
    await book_at(world, ben, find("USAM"), EIGHT)

    context = await world.context(ana, private=False, channel="C1")
    command = Command(
        Intent.POLL,
        (Mention("UBEN"), Mention("UCY")),
        duration_minutes=30,
        duration_given=True,
        window=MONDAY,
    )
    preview = (await world.scheduler.handle(context, command)).reply
    assert isinstance(preview, PollDraftView)
    at_eight = [view for view, _ in preview.options if view.start == EIGHT]
    # Offered (the best Monday has), with Ben counted busy though he has no calendar.
    assert [view.busy for view in at_eight] == [1]

    posted = await world.click(ana, preview.post.action)
    assert posted.broadcast is not None
    assert isinstance(posted.broadcast.view, PollView)
    await world.scheduler.posted(posted.broadcast.key, {"channel": "C1", "ts": "1.0"})
    world.clock.advance(MONDAY.start - NOW - (MONDAY.start - NOW) / 2)  # busy counts go stale
    option = next(o for o in posted.broadcast.view.options if o.start == EIGHT)
    assert option.vote_yes is not None
    voted = await world.click(ben, option.vote_yes.action)
    (update,) = voted.updates
    assert isinstance(update.view, PollView)
    assert next(o for o in update.view.options if o.start == EIGHT).busy == 1
    assert isinstance(voted.reply, Notice)
    assert "busy at" in voted.reply.text  # Ben is told his own meeting clashes
