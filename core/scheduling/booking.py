"""Picking a slot: booking a meeting (exactly once), or moving one to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from core.actions import (
    DownloadInvitation,
    InvalidAction,
    PickSlot,
)
from core.availability import Mode, SlotRequest, find_slots
from core.invitations import invitation
from core.meetings import Meeting, SlotOffer
from core.people import Person, PersonId
from core.program import ProgramSettings
from core.scheduling import meetings
from core.scheduling.busy import read
from core.scheduling.common import FindRequest, TimeTaken, engine_participant
from core.scheduling.context import Context, Ports
from core.scheduling.meeting_views import lead_of
from core.time import Interval
from core.views import (
    Confirmation,
    Invitation,
    Notice,
    Outcome,
    Tone,
)

EXPIRED = "Those times have expired. Ask me again for fresh ones."
INVITATION_LINK_LIFETIME = timedelta(days=30)  # after the meeting ends


async def pick(ports: Ports, ctx: Context, action: PickSlot) -> Outcome | TimeTaken:
    offer = await ports.offers.get(action.offer)
    if offer is None:
        return Outcome(Notice(EXPIRED, Tone.WARNING))
    if ctx.person.id not in offer.participants:
        return Outcome(Notice("Only the people in this meeting can choose its time.", Tone.WARNING))
    slot = next((s for s in offer.slots if s.start == action.start), None)
    if slot is None:
        return Outcome(Notice(EXPIRED, Tone.WARNING))
    settings = await ports.programs.settings(ctx.program, among=offer.participants)
    people = await _people(ports, offer.participants)

    moving = await ports.meetings.get(offer.moving) if offer.moving else None
    if offer.moving is not None and (moving is None or not moving.status.active):
        return Outcome(Notice("That meeting is off now, so there is nothing to move.", Tone.INFO))
    if moving is None:
        existing = await ports.meetings.for_offer(offer.ref)
        if existing is not None:
            return _already_booked(ctx, existing, people, slot)
    elif moving.start == slot.start:  # the same move, clicked again
        return await meetings.current(ports, ctx, moving, note=f"Moved: {moving.title}")

    # Calendars may have changed since the offer: check this one slot afresh.
    picked = meetings.Pick(offer, slot, people, settings)
    if not await _still_free(ports, ctx, picked):
        if moving is None and (booked := await ports.meetings.for_offer(offer.ref)) is not None:
            # The same click, resent, booked this offer while this copy read calendars: the
            # time is busy with that very meeting, not taken.
            return _already_booked(ctx, booked, people, slot)
        return _offer_again(ctx, offer, settings)
    if moving is not None:
        return await meetings.move_to(
            ports, ctx, meeting=moving, slot=slot, people=people, settings=settings
        )

    meeting = meetings.new_meeting(ports, ctx, picked)
    # The private messages are jobs stored with the meeting: a process that dies after this
    # commit leaves them to another (the click's second run finds the meeting booked).
    tells, jobs = await meetings.booking_work(ports, ctx, meeting, people, settings)
    stored, created = await ports.meetings.book(meeting, jobs)
    if not created:
        same_people = set(stored.attending) == set(offer.participants)
        if stored.offer_ref == offer.ref or (same_people and stored.start == slot.start):
            # Another click on this offer won the race, or the partner's on their own
            # offer of the same time: one meeting, shown as it is.
            return _already_booked(ctx, stored, people, slot)
        return _offer_again(ctx, offer, settings)  # a meeting booked meanwhile
    return meetings.booked(
        ports, ctx, meeting=stored, people=people, settings=settings, tells=tells
    )


def _offer_again(ctx: Context, offer: SlotOffer, settings: ProgramSettings) -> TimeTaken:
    request = FindRequest(
        tuple(p for p in offer.participants if p != ctx.person.id),
        offer.duration_minutes,
        offer.window,
        offer.time_of_day,
        moving=offer.moving,
        ruled_out=offer.ruled_out,
    )
    return TimeTaken(request, settings)


async def _still_free(ports: Ports, ctx: Context, picked: meetings.Pick) -> bool:
    offer, slot, settings = picked.offer, picked.slot, picked.settings
    busy = await read(ports, offer.participants, slot, fresh=True, excluding=offer.moving)
    participants = [engine_participant(p, busy, settings, ctx) for p in picked.people]
    # Hours rules and notice are checked again too: a click hours later may be too late.
    request = SlotRequest(
        window=slot,
        duration=offer.duration,
        participants=participants,
        now=ports.clock.now(),
        rules=replace(settings.rules, granularity_minutes=1),
        mode=Mode.ALL,
    )
    return any(found.start == slot.start for found in find_slots(request))


def _already_booked(
    ctx: Context, meeting: Meeting, people: Sequence[Person], slot: Interval
) -> Outcome:
    if meeting.start == slot.start and meeting.status.active:
        # A double click or a resent event: the same answer again, nothing new sent.
        lead = lead_of(meeting, people, ctx.person.id)
        return Outcome(_booked_view(meeting, ctx, people, headline=lead), replaces_original=True)
    return Outcome(
        Notice(
            "A time has already been chosen for this meeting; see the confirmation in your "
            "direct messages.",
            Tone.INFO,
        )
    )


def _booked_view(
    meeting: Meeting, ctx: Context, people: Sequence[Person], *, headline: str
) -> Confirmation:
    """What replaces the picker (or confirmation) that was clicked: no buttons left."""
    return Confirmation(
        headline=headline,
        title=meeting.title,
        start=meeting.start,
        end=meeting.end,
        zone=ctx.zone,
        with_names=tuple(p.name for p in people if p.id != ctx.person.id),
        cancelled=not meeting.status.active,
    )


async def _people(ports: Ports, ids: Sequence[PersonId]) -> list[Person]:
    found = await ports.people.many(ids)
    return [found[pid] for pid in ids if pid in found]


async def invitation_for(ports: Ports, token: str) -> Invitation | None:
    """The invitation a download token names, if the token is ours, the meeting exists and
    ended less than :data:`INVITATION_LINK_LIFETIME` ago (a link in a chat history should
    not serve a meeting's attendees and time forever)."""
    try:
        action = ports.actions.open(token)
    except InvalidAction:
        return None
    if not isinstance(action, DownloadInvitation):
        return None
    meeting = await ports.meetings.get(action.meeting)
    if meeting is None or action.person not in meeting.participants:
        return None
    if ports.clock.now() > meeting.end + INVITATION_LINK_LIFETIME:
        return None
    people = await _people(ports, meeting.participants)
    settings = await ports.programs.settings(meeting.program)
    sender = ports.mailer.sender if ports.mailer is not None else None
    return invitation(meeting, people, settings, stamp=ports.clock.now(), sender=sender)
