"""Picking a time books exactly once; cancelling asks, then tells everyone."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from core.commands import Command, Intent, Relation, RelationRef
from core.meetings import Meeting, MeetingStatus
from core.people import Person
from core.program import ConfirmationRule, ProgramSettings
from core.time import Interval
from core.views import Button, Confirmation, Notice, Question, SlotPicker
from tests.memory import PROGRAM, World

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
NEXT_WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
FIND = Command(Intent.FIND_TIME, (RelationRef(Relation.MENTEE),), window=NEXT_WEEK)


async def offered(
    confirmation: ConfirmationRule = ConfirmationRule.AUTO,
) -> tuple[World, Person, Person, SlotPicker]:
    """Ana and Ben, offered times; by default a chosen time is booked at once (the
    partner's answer has its tests in test_meetings)."""
    world = World(NOW)
    world.programs.current[PROGRAM] = ProgramSettings(confirmation=confirmation)
    ana = world.person("Ana", "Europe/London", email="ana@example.org")
    ben = world.person("Ben", "America/New_York", email="ben@example.org")
    world.pair(ana, ben)
    picker = (await world.send(ana, FIND)).reply
    assert isinstance(picker, SlotPicker)
    return world, ana, ben, picker


async def test_picking_a_time_books_it_and_confirms_to_both():
    world, ana, ben, picker = await offered()
    choice = picker.slots[2]
    outcome = await world.click_seen(ben, choice.action)  # the mentee may pick too

    assert outcome.replaces_original
    booked = outcome.reply
    assert isinstance(booked, Confirmation)
    assert booked.headline == "Booked: Mentoring: Ana and Ben"
    assert booked.buttons == ()  # the picker loses its buttons
    assert booked.zone == ZoneInfo("America/New_York")

    (meeting,) = world.meetings.meetings.values()
    assert (meeting.start, meeting.end) == (choice.start, choice.end)
    assert meeting.participants == (ana.id, ben.id)
    assert meeting.organizer == ana.id

    assert [m.person for m in outcome.direct] == [ana.id, ben.id]
    to_ana, to_ben = (m.view for m in outcome.direct)
    assert isinstance(to_ana, Confirmation)
    assert isinstance(to_ben, Confirmation)
    # Whoever picks the time books it; the requester stays the organiser.
    assert to_ana.headline == "Ben booked Mentoring: Ana and Ben with you."
    assert to_ben.headline == "You booked Mentoring: Ana and Ben."
    assert to_ana.zone == ZoneInfo("Europe/London")
    assert to_ben.zone == ZoneInfo("America/New_York")
    assert to_ana.with_names == ("Ben",)
    assert [b.label for b in to_ana.buttons] == ["Move", "Cancel meeting"]
    assert [b.label for b in to_ben.buttons] == ["Move", "Cancel meeting"]
    assert to_ana.invitation is not None
    assert to_ana.invitation.filename == "meeting.ics"


async def test_the_invitation_is_a_valid_icalendar_request():
    world, ana, _ben, picker = await offered()
    outcome = await world.click_seen(ana, picker.slots[0].action)
    confirmation = outcome.direct[0].view
    assert isinstance(confirmation, Confirmation)
    assert confirmation.invitation is not None
    calendar = Calendar.from_ical(confirmation.invitation.content)
    assert calendar["method"] == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == picker.slots[0].start
    assert event.decoded("dtend") == picker.slots[0].end
    assert str(event["organizer"]) == "mailto:scheduling@pairtime.invalid"
    assert event["organizer"].params["CN"] == "Pairtime"
    attendees = sorted(str(a) for a in event.get("attendee", []))
    assert attendees == ["mailto:ana@example.org", "mailto:ben@example.org"]
    assert str(event["uid"]).endswith("@pairtime")
    assert event["summary"] == "Mentoring: Ana and Ben"


async def test_a_double_click_books_once_and_sends_nothing_new():
    world, ana, _, picker = await offered()
    first = await world.click_seen(ana, picker.slots[0].action)
    second = await world.click_seen(ana, picker.slots[0].action)
    assert len(world.meetings.meetings) == 1
    assert second.direct == ()
    assert second.reply == first.reply


async def test_a_resent_click_that_lost_the_race_shows_the_booking_not_fresh_times():
    """Teams may deliver one click twice at once: the copy that found no meeting yet and then
    read the calendars sees the time busy with the meeting the other copy just booked."""
    world, ana, _, picker = await offered()
    first = await world.click_seen(ana, picker.slots[0].action)
    found = world.meetings.for_offer
    asked: list[str] = []

    async def before_the_booking(offer_ref: str) -> Meeting | None:
        asked.append(offer_ref)  # the first look ran before the other copy committed
        return None if len(asked) == 1 else await found(offer_ref)

    world.meetings.for_offer = before_the_booking  # type: ignore[method-assign]
    second = await world.click_seen(ana, picker.slots[0].action)

    assert len(asked) == 2
    assert second.reply == first.reply
    assert second.direct == ()
    assert len(world.meetings.meetings) == 1


async def test_a_different_time_after_booking_is_refused_politely():
    world, ana, ben, picker = await offered()
    await world.click_seen(ana, picker.slots[0].action)
    late = await world.click_seen(ben, picker.slots[1].action)
    assert isinstance(late.reply, Notice)
    assert late.reply.text.startswith("A time has already been chosen for this meeting")
    assert not late.replaces_original
    assert len(world.meetings.meetings) == 1


async def test_someone_outside_the_offer_cannot_pick():
    world, _, _, picker = await offered()
    eve = world.person("Eve")
    outcome = await world.click_seen(eve, picker.slots[0].action)
    assert isinstance(outcome.reply, Notice)
    assert outcome.reply.text == "Only the people in this meeting can choose its time."
    assert world.meetings.meetings == {}


async def test_a_tampered_reference_is_refused():
    world, ana, _, picker = await offered()
    body, signature = picker.slots[0].action.split(".")
    forged = f"{body[:-2]}AA.{signature}"
    outcome = await world.click_seen(ana, forged)
    assert isinstance(outcome.reply, Notice)
    assert "expired or isn't valid" in outcome.reply.text
    assert (await world.click_seen(ana, "garbage")).reply == outcome.reply
    assert world.meetings.meetings == {}


def signed(world: World, payload: dict[str, object]) -> str:
    """A reference as the codec of an older (or newer) Pairtime would have signed it."""
    codec = world.ports.actions
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    signature = codec._sign(codec._keys[0], body)
    return ".".join(base64.urlsafe_b64encode(b).rstrip(b"=").decode() for b in (body, signature))


async def test_a_button_posted_before_actions_were_typed_still_books():
    world, ana, _, picker = await offered()
    offer = next(iter(world.offers.offers))
    start = int(picker.slots[1].start.timestamp())
    outcome = await world.click_seen(ana, signed(world, {"k": "pick", "o": offer, "s": start}))
    assert isinstance(outcome.reply, Confirmation)
    assert outcome.reply.start == picker.slots[1].start
    assert len(world.meetings.meetings) == 1


async def test_a_signed_button_this_version_does_not_know_is_stale_not_a_crash():
    world, ana, _, _ = await offered()
    payloads: tuple[dict[str, object], ...] = (
        {"k": "accept", "m": "meeting"},  # from a newer Pairtime, during a rolling update
        {"k": "pick", "o": "offer"},  # its start missing
        {"k": "vote", "v": 9, "p": "poll", "o": 1, "c": "yes"},
    )
    for payload in payloads:
        outcome = await world.click_seen(ana, signed(world, payload))
        assert isinstance(outcome.reply, Notice)
        assert "expired or isn't valid" in outcome.reply.text
    assert world.meetings.meetings == {}


async def test_a_slot_that_became_busy_is_not_booked_and_fresh_times_come_instead():
    world, ana, ben, picker = await offered()
    choice = picker.slots[0]
    world.busy(ben, choice.start.isoformat(), choice.end.isoformat())
    outcome = await world.click_seen(ana, choice.action)
    assert world.meetings.meetings == {}
    fresh = outcome.reply
    assert isinstance(fresh, SlotPicker)
    assert fresh.notes[0].startswith("That time can't be booked any more")
    assert choice.start not in {c.start for c in fresh.slots}
    # The check before booking bypassed any cache.
    assert any(fresh_read for _, _, fresh_read in world.calendars.reads)


def button(view: object, label: str) -> str:
    assert isinstance(view, Confirmation | Question | Notice)
    buttons = view.options if isinstance(view, Question) else view.buttons
    return next(b.action for b in buttons if isinstance(b, Button) and b.label == label)


async def test_cancelling_asks_first_then_tells_the_others_with_a_cancel_invitation():
    world, ana, ben, picker = await offered()
    booked = await world.click_seen(ana, picker.slots[0].action)
    to_ben = booked.direct[1].view

    asked = await world.click_seen(ben, button(to_ben, "Cancel meeting"))
    assert isinstance(asked.reply, Question)
    assert asked.reply.text.startswith("Cancel Mentoring: Ana and Ben on ")
    (meeting,) = world.meetings.meetings.values()
    assert meeting.status is MeetingStatus.CONFIRMED  # nothing changes until the answer

    kept = await world.click_seen(ben, button(asked.reply, "Keep it"))
    assert isinstance(kept.reply, Notice)
    assert kept.replaces_original
    assert next(iter(world.meetings.meetings.values())).status is MeetingStatus.CONFIRMED

    outcome = await world.click_seen(ben, button(asked.reply, "Cancel meeting"))
    (meeting,) = world.meetings.meetings.values()
    assert meeting.status is MeetingStatus.CANCELLED
    assert meeting.sequence == 1
    assert outcome.replaces_original
    assert isinstance(outcome.reply, Confirmation)
    assert outcome.reply.cancelled
    assert outcome.reply.buttons == ()
    (message,) = outcome.direct
    assert message.person == ana.id
    assert isinstance(message.view, Confirmation)
    assert message.view.headline == "Ben cancelled Mentoring: Ana and Ben."
    assert message.view.invitation is not None
    calendar = Calendar.from_ical(message.view.invitation.content)
    assert calendar["method"] == "CANCEL"
    assert calendar.walk("VEVENT")[0]["sequence"] == 1

    again = await world.click_seen(ana, button(asked.reply, "Cancel meeting"))
    assert isinstance(again.reply, Confirmation)
    assert again.reply.headline == "This meeting was already cancelled."
    assert again.direct == ()


async def test_only_participants_can_cancel():
    world, ana, _, picker = await offered()
    booked = await world.click_seen(ana, picker.slots[0].action)
    to_ana = booked.direct[0].view
    outcome = await world.click_seen(world.person("Eve"), button(to_ana, "Cancel meeting"))
    assert isinstance(outcome.reply, Notice)
    assert next(iter(world.meetings.meetings.values())).status is MeetingStatus.CONFIRMED


async def test_each_participant_can_download_the_invitation_with_their_signed_token():
    world, ana, _ben, picker = await offered()
    outcome = await world.click_seen(ana, picker.slots[0].action)
    to_ben = outcome.direct[1].view
    assert isinstance(to_ben, Confirmation)
    assert to_ben.download is not None
    found = await world.scheduler.invitation(to_ben.download)
    assert found is not None
    assert Calendar.from_ical(found.content)["method"] == "REQUEST"
    assert await world.scheduler.invitation(to_ben.download[:-3] + "xyz") is None
    assert await world.scheduler.invitation("nonsense") is None


async def test_an_invitation_link_expires_30_days_after_the_meeting():
    world, ana, _ben, picker = await offered()
    outcome = await world.click_seen(ana, picker.slots[0].action)
    to_ana = outcome.direct[0].view
    assert isinstance(to_ana, Confirmation)
    assert to_ana.download is not None
    world.clock.current = picker.slots[0].end + timedelta(days=30)
    assert await world.scheduler.invitation(to_ana.download) is not None
    world.clock.advance(timedelta(minutes=1))
    assert await world.scheduler.invitation(to_ana.download) is None
