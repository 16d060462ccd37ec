"""A meeting's life in chat: propose, accept, decline, other times, move, cancel, a place,
reminders, "my meetings"; with the invitation emails each change leaves in the outbox."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from core.actions import CancelMeeting, MoveMeeting
from core.commands import Command, Intent, Mention, Relation, RelationRef
from core.errors import MailRefused
from core.meetings import Meeting, MeetingStatus
from core.people import Group, Person
from core.program import ConfirmationRule, LocationMode, LocationRule, ProgramSettings
from core.time import Interval
from core.views import (
    Button,
    Confirmation,
    DirectMessage,
    MeetingList,
    Notice,
    Outcome,
    Question,
    SlotPicker,
    View,
)
from tests.memory import PROGRAM, World

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)  # a Wednesday
NEXT_WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC))
FIND = Command(Intent.FIND_TIME, (RelationRef(Relation.MENTEE),), window=NEXT_WEEK)


def button(view: View | None, label: str) -> str:
    assert isinstance(view, Confirmation | Question | Notice)
    buttons = view.options if isinstance(view, Question) else view.buttons
    found = [b.action for b in buttons if isinstance(b, Button) and b.label == label]
    assert found, f"no {label!r} among {[b.label for b in buttons]}"
    return found[0]


def labels(view: View | None) -> list[str]:
    assert isinstance(view, Confirmation)
    return [b.label for b in view.buttons]


def to(outcome: Outcome, person: Person) -> Confirmation:
    (message,) = [m for m in outcome.direct if m.person == person.id]
    assert isinstance(message.view, Confirmation)
    return message.view


def only(world: World) -> Meeting:
    (meeting,) = world.meetings.meetings.values()
    return meeting


def calendar_of(world: World, address: str, sequence: int) -> Calendar:
    (job,) = [
        j
        for j in world.pending("email")
        if j.payload["to"] == address and j.payload["sequence"] == sequence
    ]
    return Calendar.from_ical(job.payload["ics"])


async def pair(
    *, confirmation: ConfirmationRule = ConfirmationRule.PARTNER, **settings: object
) -> tuple[World, Person, Person, Outcome]:
    """Maria (mentor) picks a time with Sam; invitations are emailed."""
    world = World(NOW, mail=True)
    world.programs.current[PROGRAM] = ProgramSettings(confirmation=confirmation, **settings)  # type: ignore[arg-type]
    maria = world.person("Maria", "Europe/London")
    sam = world.person("Sam", "America/New_York")
    world.pair(maria, sam)
    picker = (await world.send(maria, FIND)).reply
    assert isinstance(picker, SlotPicker)
    booked = await world.click_seen(maria, picker.slots[0].action)
    return world, maria, sam, booked


# ---------------------------------------------------------------- proposing and answering


async def test_the_partner_is_asked_and_the_time_is_held_for_both_meanwhile():
    world, maria, sam, booked = await pair()
    meeting = only(world)
    assert meeting.status is MeetingStatus.PROPOSED
    assert meeting.proposer == maria.id
    assert isinstance(booked.reply, Confirmation)
    assert booked.reply.headline == "Proposed: Mentoring: Maria and Sam, waiting for Sam"

    mine, theirs = to(booked, maria), to(booked, sam)
    assert mine.headline == "You proposed this time to Sam. I'll tell you when they answer."
    assert mine.pending
    assert labels(mine) == ["Move", "Cancel meeting"]
    assert mine.notes == ("The invitation is on its way to everyone by email.",)
    assert theirs.headline == "Maria proposes a time for Mentoring: Maria and Sam."
    assert labels(theirs) == ["Accept", "Decline", "Other times"]

    # Emailed to both as a tentative REQUEST; one nudge tomorrow; reminders before it.
    for address in ("maria@example.org", "sam@example.org"):
        event = calendar_of(world, address, 0).walk("VEVENT")[0]
        assert str(event["status"]) == "TENTATIVE"
    (nudge,) = world.pending("meeting.pending")
    assert nudge.due_at == NOW + timedelta(hours=24)
    reminders = world.pending("meeting.reminder")
    assert {j.payload["person"] for j in reminders} == {maria.id, sam.id}
    assert {j.due_at for j in reminders} == {meeting.start - timedelta(minutes=15)}

    # Busy for both while it waits.
    world.open_to_all()
    lee = world.person("Lee")
    again = (
        await world.send(lee, Command(Intent.FIND_TIME, (Mention("USAM"),), window=NEXT_WEEK))
    ).reply
    assert isinstance(again, SlotPicker)
    assert meeting.start not in [c.start for c in again.slots]


async def test_accepting_confirms_it_for_both_once():
    world, maria, sam, booked = await pair()
    accept = button(to(booked, sam), "Accept")

    assert isinstance((await world.click_seen(maria, accept)).reply, Confirmation)  # not hers
    assert only(world).status is MeetingStatus.PROPOSED

    outcome = await world.click_seen(sam, accept)
    meeting = only(world)
    assert (meeting.status, meeting.sequence) == (MeetingStatus.CONFIRMED, 1)
    assert outcome.replaces_original
    assert isinstance(outcome.reply, Confirmation)
    assert outcome.reply.headline == "You accepted Mentoring: Maria and Sam."
    assert labels(outcome.reply) == ["Move", "Cancel meeting"]
    told = to(outcome, maria)
    assert told.headline == "Sam accepted Mentoring: Maria and Sam."
    event = calendar_of(world, "sam@example.org", 1).walk("VEVENT")[0]
    assert (str(event["status"]), event["sequence"]) == ("CONFIRMED", 1)

    twice = await world.click_seen(sam, accept)  # a double click, or a resent event
    assert twice.direct == ()
    assert isinstance(twice.reply, Confirmation)
    assert twice.reply.headline == "Confirmed."
    assert only(world).sequence == 1
    assert len([j for j in world.pending("email") if j.payload["sequence"] == 1]) == 2


async def test_declining_frees_the_time_sends_the_cancellation_and_tells_the_booker():
    world, maria, sam, booked = await pair()
    outcome = await world.click_seen(sam, button(to(booked, sam), "Decline"))
    meeting = only(world)
    assert (meeting.status, meeting.sequence) == (MeetingStatus.DECLINED, 1)
    assert isinstance(outcome.reply, Confirmation)
    assert outcome.reply.cancelled
    assert outcome.reply.headline == "You declined Mentoring: Maria and Sam; I've told Maria."
    told = to(outcome, maria)
    assert told.headline == "Sam declined Mentoring: Maria and Sam; the time is free again."
    assert labels(told) == ["Find another time"]
    for address in ("maria@example.org", "sam@example.org"):
        calendar = calendar_of(world, address, 1)
        assert str(calendar["method"]) == "CANCEL"
    assert await world.meetings.busy([maria.id, sam.id], NEXT_WEEK) == {}

    again = await world.click_seen(maria, button(told, "Find another time"))
    assert isinstance(again.reply, SlotPicker)
    assert meeting.start in [c.start for c in again.reply.slots]


async def test_other_times_replaces_the_proposal_and_the_booker_answers_now():
    world, maria, sam, booked = await pair()
    first = only(world)
    picker = (await world.click_seen(sam, button(to(booked, sam), "Other times"))).reply
    assert isinstance(picker, SlotPicker)
    assert first.start not in [c.start for c in picker.slots]  # other times than its own
    # Its own time is not in its way: the half hour after it is among the times found.
    offer = list(world.offers.offers.values())[-1]
    assert offer.moving == first.ref
    assert first.end in [slot.start for slot in offer.slots]
    choice = picker.slots[0]

    outcome = await world.click_seen(sam, choice.action)
    meeting = only(world)
    assert (meeting.ref, meeting.sequence, meeting.start) == (first.ref, 1, choice.start)
    assert (meeting.status, meeting.proposer) == (MeetingStatus.PROPOSED, sam.id)
    assert isinstance(outcome.reply, Confirmation)
    assert outcome.reply.headline.startswith("New time proposed for Mentoring: Maria and Sam")
    asked = to(outcome, maria)
    assert asked.headline == "Sam proposes a new time for Mentoring: Maria and Sam."
    assert labels(asked) == ["Accept", "Decline", "Other times"]
    event = calendar_of(world, "maria@example.org", 1).walk("VEVENT")[0]
    assert str(event["uid"]) == f"{first.ref}@pairtime"
    assert event.decoded("dtstart") == choice.start

    # The old proposal's buttons answer with the meeting as it now is.
    stale = await world.click_seen(sam, button(to(booked, sam), "Accept"))
    assert isinstance(stale.reply, Confirmation)
    assert stale.reply.start == choice.start
    assert stale.direct == ()


async def test_an_unanswered_proposal_is_nudged_once_after_a_day():
    world, _maria, sam, _booked = await pair()
    assert await world.run_due("meeting.pending") == []  # not yet
    world.clock.advance(timedelta(hours=24))
    ((_, outcome),) = await world.run_due("meeting.pending")
    (message,) = outcome.direct
    assert message.person == sam.id
    assert isinstance(message.view, Confirmation)
    assert message.view.headline.startswith("Reminder: Maria proposed this time")
    assert await world.run_due("meeting.pending") == []


async def test_an_answered_proposal_is_not_nudged():
    world, _maria, sam, booked = await pair()
    await world.click_seen(sam, button(to(booked, sam), "Accept"))
    world.clock.advance(timedelta(hours=24))
    assert await world.run_due("meeting.pending") == []


# ---------------------------------------------------------------- moving and cancelling


async def test_either_person_moves_a_pair_meeting_keeping_its_uid():
    world, maria, sam, _booked = await pair(confirmation=ConfirmationRule.AUTO)
    first = only(world)
    assert first.status is MeetingStatus.CONFIRMED
    ctx = await world.context(sam)
    picker = (await world.scheduler.perform(ctx, MoveMeeting(first.ref))).reply
    assert isinstance(picker, SlotPicker)
    choice = next(c for c in picker.slots if c.start != first.start)
    outcome = await world.click_seen(sam, choice.action)

    moved = only(world)
    assert (moved.ref, moved.sequence, moved.start) == (first.ref, 1, choice.start)
    assert moved.status is MeetingStatus.CONFIRMED
    assert to(outcome, maria).headline == "Sam moved Mentoring: Maria and Sam to this time."
    assert await world.meetings.busy([maria.id], Interval(first.start, first.end)) == {}
    # New reminders for the new start; the old ones come to nothing.
    keys = {j.key for j in world.pending("meeting.reminder")}
    assert any(str(int(choice.start.timestamp())) in key for key in keys)
    world.clock.current = first.start - timedelta(minutes=15)
    assert await world.run_due("meeting.reminder") == []

    again = await world.click_seen(sam, choice.action)  # the same move, clicked twice
    assert only(world).sequence == 1
    assert again.direct == ()


async def test_a_circle_meeting_is_moved_or_cancelled_by_its_organiser_only():
    world = World(NOW, mail=True)
    ana, ben, cy = world.person("Ana"), world.person("Ben"), world.person("Cy")
    world.groups.groups.append(Group("g1", PROGRAM, "Circle", (ana.id, ben.id, cy.id)))
    command = Command(Intent.FIND_TIME, (RelationRef(Relation.GROUP),), window=NEXT_WEEK)
    picker = (await world.send(ana, command)).reply
    assert isinstance(picker, SlotPicker)
    booked = await world.click_seen(ana, picker.slots[0].action)
    meeting = only(world)
    assert meeting.status is MeetingStatus.CONFIRMED  # circles are never asked
    assert labels(to(booked, ana)) == ["Move", "Cancel meeting"]
    assert labels(to(booked, ben)) == ["Decline"]

    ctx = await world.context(ben)
    refused = await world.scheduler.perform(ctx, CancelMeeting(meeting.ref))
    assert isinstance(refused.reply, Notice)
    assert refused.reply.text.startswith("Only the organiser can cancel")

    declined = await world.click_seen(ben, button(to(booked, ben), "Decline"))
    assert isinstance(declined.reply, Confirmation)
    assert declined.reply.headline == "You declined Mentoring circle (3 people); I've told Ana."
    assert to(declined, ana).headline == "Ben declined Mentoring circle (3 people)."
    after = only(world)
    assert (after.status, after.declined, after.sequence) == (
        MeetingStatus.CONFIRMED,
        (ben.id,),
        1,
    )
    # Ben alone is sent a cancellation that lists him alone; the others hear nothing new.
    cancel = calendar_of(world, "ben@example.org", 1)
    assert str(cancel["method"]) == "CANCEL"
    assert str(cancel.walk("VEVENT")[0]["attendee"]) == "mailto:ben@example.org"
    assert [j.payload["to"] for j in world.pending("email") if j.payload["sequence"] == 1] == [
        "ben@example.org"
    ]
    busy = await world.meetings.busy([ana.id, ben.id, cy.id], NEXT_WEEK)
    assert set(busy) == {ana.id, cy.id}


async def test_cancelling_by_text_finds_the_meeting_and_asks_first():
    world, maria, sam, _booked = await pair(confirmation=ConfirmationRule.AUTO)
    asked = await world.send(maria, Command(Intent.CANCEL_MEETING, (Mention("USAM"),)))
    assert isinstance(asked.reply, Question)
    assert asked.reply.text.startswith("Cancel Mentoring: Maria and Sam on ")
    done = await world.click_seen(maria, button(asked.reply, "Cancel meeting"))
    assert only(world).status is MeetingStatus.CANCELLED
    assert to(done, sam).headline == "Maria cancelled Mentoring: Maria and Sam."
    nothing = await world.send(maria, Command(Intent.CANCEL_MEETING, (Mention("USAM"),)))
    assert isinstance(nothing.reply, Notice)
    assert nothing.reply.text.startswith("I can't find an upcoming meeting of yours with them")


async def test_moving_by_text_searches_the_window_asked_for():
    world, maria, _sam, _booked = await pair(confirmation=ConfirmationRule.AUTO)
    thursday = Interval(datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC))
    outcome = await world.send(
        maria, Command(Intent.MOVE_MEETING, (Mention("USAM"),), window=thursday)
    )
    assert isinstance(outcome.reply, SlotPicker)
    assert outcome.reply.slots
    assert all(thursday.start <= c.start < thursday.end for c in outcome.reply.slots)


async def test_concurrent_answers_change_the_meeting_once():
    """Twenty clicks at once, by both of the pair, on Accept and Decline: one wins."""
    world, maria, sam, booked = await pair()
    theirs = to(booked, sam)
    clicks = [
        world.click(sam if i % 2 else maria, button(theirs, "Accept" if i % 3 else "Decline"))
        for i in range(20)
    ]
    await asyncio.gather(*clicks)
    meeting = only(world)
    assert meeting.sequence == 1
    assert meeting.status in (MeetingStatus.CONFIRMED, MeetingStatus.DECLINED)
    assert len([j for j in world.pending("email") if j.payload["sequence"] == 1]) == 2


# ---------------------------------------------------------------- the rest of the rules


async def test_reminders_come_once_before_a_confirmed_meeting_and_never_when_off():
    world, maria, sam, booked = await pair()
    await world.click_seen(sam, button(to(booked, sam), "Accept"))
    meeting = only(world)
    world.clock.current = meeting.start - timedelta(minutes=20)
    assert await world.run_due("meeting.reminder") == []
    world.clock.current = meeting.start - timedelta(minutes=15)
    said = await world.run_due("meeting.reminder")
    assert sorted(message.person for _, outcome in said for message in outcome.direct) == sorted(
        [maria.id, sam.id]
    )
    first = said[0][1].direct[0]
    assert isinstance(first, DirectMessage)
    assert isinstance(first.view, Confirmation)
    assert first.view.headline == "Starting in 15 minutes: Mentoring: Maria and Sam"
    assert await world.run_due("meeting.reminder") == []

    quiet, *_ = await pair(reminder_minutes=0)
    assert quiet.pending("meeting.reminder") == []


async def test_a_fixed_place_is_in_the_meeting_and_its_invitation():
    link = "https://zoom.example.org/j/123"
    world, _maria, sam, booked = await pair(
        location=LocationRule(LocationMode.FIXED, link), confirmation=ConfirmationRule.AUTO
    )
    assert only(world).location == link
    assert to(booked, sam).location == link
    event = calendar_of(world, "sam@example.org", 0).walk("VEVENT")[0]
    assert str(event["location"]) == link
    assert link in str(event["description"])
    # The reminder carries the join link too.
    world.clock.current = only(world).start - timedelta(minutes=15)
    said = await world.run_due("meeting.reminder")
    reminders = [m.view for _, outcome in said for m in outcome.direct]
    assert len(reminders) == 2
    assert all(isinstance(r, Confirmation) and r.location == link for r in reminders)


async def test_when_asked_the_booker_adds_a_place_and_everyone_is_updated():
    world, maria, sam, booked = await pair(
        location=LocationRule(LocationMode.ASK), confirmation=ConfirmationRule.AUTO
    )
    mine = to(booked, maria)
    assert mine.place is not None
    assert to(booked, sam).place is None
    empty = await world.click_seen(maria, mine.place.action, value="   ")
    assert isinstance(empty.reply, Notice)
    saved = await world.click_seen(maria, mine.place.action, value="  Room   4B ")
    assert only(world).location == "Room 4B"
    assert to(saved, sam).location == "Room 4B"
    event = calendar_of(world, "sam@example.org", 1).walk("VEVENT")[0]
    assert str(event["location"]) == "Room 4B"


async def test_no_email_address_no_invitation_and_the_booker_is_told():
    world = World(NOW, mail=True)
    maria = world.person("Maria")
    sam = world.person("Sam")
    world.people.people[sam.id] = replace(sam, email=None)
    world.pair(maria, sam)
    picker = (await world.send(maria, FIND)).reply
    assert isinstance(picker, SlotPicker)
    booked = await world.click_seen(maria, picker.slots[0].action)
    assert to(booked, maria).notes == (
        (
            "Sam has no email address in their chat profile, so no invitation was emailed to "
            "them; they can add the .ics file from their confirmation."
        ),
    )
    assert [j.payload["to"] for j in world.pending("email")] == ["maria@example.org"]
    assert to(booked, sam).invitation is not None  # the .ics stays in chat


async def test_without_email_nothing_is_queued_and_the_ics_stays():
    world = World(NOW)
    maria, sam = world.person("Maria"), world.person("Sam")
    world.pair(maria, sam)
    picker = (await world.send(maria, FIND)).reply
    assert isinstance(picker, SlotPicker)
    booked = await world.click_seen(maria, picker.slots[0].action)
    assert world.pending("email") == []
    assert to(booked, maria).notes == ()
    assert to(booked, sam).invitation is not None


async def test_my_meetings_lists_what_each_may_do():
    world, maria, sam, _booked = await pair()
    outcome = await world.send(sam, Command(Intent.MY_MEETINGS))
    listing = outcome.reply
    assert isinstance(listing, MeetingList)
    (item,) = listing.meetings
    assert item.status == "Maria proposes this time."
    assert [b.label for b in item.buttons] == ["Accept", "Decline", "Other times"]
    mine = (await world.send(maria, Command(Intent.MY_MEETINGS))).reply
    assert isinstance(mine, MeetingList)
    assert mine.meetings[0].status == "Waiting for Sam."
    assert [b.label for b in mine.meetings[0].buttons] == ["Move", "Cancel meeting"]
    lee = world.person("Lee")
    empty = (await world.send(lee, Command(Intent.MY_MEETINGS))).reply
    assert isinstance(empty, MeetingList)
    assert empty.meetings == ()


async def test_an_invitation_that_cannot_be_emailed_is_retried_then_the_organiser_told():
    world, maria, _sam, _booked = await pair()
    job = world.pending("email")[0]
    assert world.mailer is not None
    world.mailer.down = True
    with pytest.raises(MailRefused) as failed:
        await world.scheduler.send_invitation(job.payload)
    assert not failed.value.permanent
    told = await world.scheduler.invitation_failed(job.payload)
    assert told is not None
    program, outcome = told
    assert program == PROGRAM
    (message,) = outcome.direct
    assert message.person == maria.id
    assert isinstance(message.view, Notice)
    assert message.view.text.startswith("I couldn't email the invitation for Mentoring")
