"""A booked meeting is busy time in every later search, picker, poll proposal and busy count."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from core.actions import CancelMeeting
from core.commands import Command, Intent, Mention
from core.meetings import MeetingStatus
from core.people import Group
from core.time import Interval
from core.views import Confirmation, Notice, PollDraftView, PollView, Question, SlotPicker
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
    world.open_to_all()  # these people are not paired
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
    world.open_to_all()  # these people are not paired
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
    world.open_to_all()  # these people are not paired
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
    world.open_to_all()  # these people are not paired
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
    world.open_to_all()  # these people are not paired
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


async def test_a_booked_poll_invites_its_voters_is_their_busy_time_and_its_card_says_if_cancelled():
    """Yes and if-need-be voters are invited (someone who voted for another time is not),
    the meeting is their busy time, only the organiser may cancel it, and then the card says
    the meeting it booked was cancelled."""
    world = World(NOW, mail=True)
    ana, ben, cy, dee = (world.person(n, connected=None) for n in ("Ana", "Ben", "Cy", "Dee"))
    world.groups.groups.append(
        Group("g1", PROGRAM, "Circle", (ana.id, ben.id, cy.id, dee.id), "C1")
    )
    context = await world.context(ana, private=False, channel="C1")
    command = Command(
        Intent.POLL,
        (Mention("UBEN"), Mention("UCY"), Mention("UDEE")),
        duration_minutes=30,
        duration_given=True,
        window=MONDAY,
    )
    preview = (await world.scheduler.handle(context, command)).reply
    assert isinstance(preview, PollDraftView)
    posted = await world.click(ana, preview.post.action)
    assert posted.broadcast is not None
    poll = posted.broadcast.view
    assert isinstance(poll, PollView)
    await world.scheduler.posted(posted.broadcast.key, {"channel": "C1", "ts": "1.0"})
    won, other = poll.options[0], poll.options[1]
    assert won.vote_yes is not None
    assert won.vote_if_need_be is not None
    assert other.vote_yes is not None
    assert poll.close is not None
    before = (await world.send(ben, find("UCY"))).reply
    assert isinstance(before, SlotPicker)
    assert won.start in [choice.start for choice in before.slots]

    await world.click(ben, won.vote_yes.action)
    await world.click(cy, won.vote_if_need_be.action)
    await world.click(dee, other.vote_yes.action)
    closing = await world.click(ana, poll.close.action)
    (meeting,) = [m for m in world.meetings.meetings.values() if m.poll_ref]
    assert set(meeting.participants) == {ana.id, ben.id, cy.id}
    await world.run_due("email")
    assert world.mailer is not None
    invited = sorted((e.to.address, e.method.value, e.sequence) for e in world.mailer.sent)
    assert invited == [(f"{n}@example.org", "REQUEST", 0) for n in ("ana", "ben", "cy")]

    after = (await world.send(ben, find("UCY"))).reply
    assert isinstance(after, SlotPicker)
    assert won.start not in [choice.start for choice in after.slots]

    ask = world.ports.actions.seal(CancelMeeting(meeting.ref))
    refused = await world.click(ben, ask)
    assert isinstance(refused.reply, Notice)
    assert refused.reply.text.startswith("Only the organiser")
    question = (await world.click(ana, ask)).reply
    assert isinstance(question, Question)
    sure = next(b for b in question.options if b.label == "Cancel meeting")
    cancelled = await world.click(ana, sure.action)
    (card,) = cancelled.updates
    assert isinstance(card.view, PollView)
    assert card.view.result == "The meeting this poll booked was cancelled."
    assert [o.start for o in card.view.options if o.winner] == [won.start]
    assert card.view.status == "closed"
    (closed_card,) = closing.updates
    assert card.version > closed_card.version  # a later state: platforms send it
    await world.run_due("email")
    cancels = sorted(e.to.address for e in world.mailer.sent if e.method.value == "CANCEL")
    assert cancels == ["ana@example.org", "ben@example.org", "cy@example.org"]
