"""A meeting change's private messages are jobs stored with the change (the chat outbox):
one per person and change, never in the click's own outcome, sent by the worker from the
meeting as stored, and dropped when the meeting changed again before they left."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from core.actions import ConfirmCancel
from core.scheduling.outbox import TOLD
from core.views import Confirmation
from tests.unit.scheduling.test_booking import offered


async def test_a_booking_stores_its_messages_with_it_and_its_outcome_sends_none():
    world, ana, ben, picker = await offered()

    outcome = await world.click(ben, picker.slots[0].action)

    assert outcome.direct == ()
    assert outcome.told == (ana.id, ben.id)
    assert isinstance(outcome.reply, Confirmation)  # the clicker is answered at once
    (meeting,) = world.meetings.meetings.values()
    stored = world.pending(TOLD)
    assert [job.key for job in stored] == [
        f"{TOLD}:{meeting.ref}:0:{ana.id}",
        f"{TOLD}:{meeting.ref}:0:{ben.id}",
    ]
    # What to say, not the message: no invitation, no signed button in the row.
    assert all("invitation" not in job.payload for job in stored)
    assert stored[1].payload["zone"] == "America/New_York"  # Ben's as he clicked

    to_ana, to_ben = await world.told()
    assert (to_ana.person, to_ben.person) == (ana.id, ben.id)
    assert isinstance(to_ben.view, Confirmation)
    assert to_ben.view.zone == ZoneInfo("America/New_York")
    assert to_ben.view.invitation is not None


async def test_a_click_run_again_after_its_booking_stores_no_second_message():
    """What a process that died right after the commit leaves: the click is run again, finds
    the meeting, and the messages already stored are the only ones."""
    world, ana, _, picker = await offered()
    await world.click(ana, picker.slots[0].action)
    again = await world.click(ana, picker.slots[0].action)

    assert again.told == ()
    assert len(world.pending(TOLD)) == 2
    assert len(await world.told()) == 2
    assert await world.told() == ()  # sent once: nothing is left


async def test_a_message_overtaken_by_a_later_change_is_dropped():
    world, ana, ben, picker = await offered()
    await world.click(ana, picker.slots[0].action)
    (meeting,) = world.meetings.meetings.values()
    cancel = world.scheduler.ports.actions.seal(ConfirmCancel(meeting.ref, meeting.sequence))

    cancelled = await world.click(ana, cancel)

    assert cancelled.told == (ben.id,)
    (told,) = await world.told()  # the booking's two are moot: only the cancellation goes
    assert told.person == ben.id
    assert isinstance(told.view, Confirmation)
    assert told.view.headline == "Ana cancelled Mentoring: Ana and Ben."
    assert told.view.cancelled
