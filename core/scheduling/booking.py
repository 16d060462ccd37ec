"""Picking a slot (booking a meeting, exactly once) and cancelling it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from core.actions import (
    CancelMeeting,
    DownloadInvitation,
    InvalidAction,
    PickSlot,
)
from core.availability import Mode, SlotRequest, find_slots
from core.invitations import invitation
from core.meetings import Meeting, MeetingStatus, SlotOffer
from core.people import Person, PersonId
from core.program import ProgramSettings
from core.scheduling.busy import read
from core.scheduling.context import Context, Ports, zone_of
from core.scheduling.find_time import FindRequest, engine_participant, offer_times
from core.time import Interval
from core.views import (
    Button,
    ButtonStyle,
    Confirmation,
    DirectMessage,
    Invitation,
    Notice,
    Outcome,
    Tone,
)

EXPIRED = "Those times have expired. Ask me again for fresh ones."
INVITATION_LINK_LIFETIME = timedelta(days=30)  # after the meeting ends


async def pick(ports: Ports, ctx: Context, action: PickSlot) -> Outcome:
    offer = await ports.offers.get(action.offer)
    if offer is None:
        return Outcome(Notice(EXPIRED, Tone.WARNING))
    if ctx.person.id not in offer.participants:
        return Outcome(Notice("Only the people in this meeting can choose its time.", Tone.WARNING))
    slot = next((s for s in offer.slots if s.start == action.start), None)
    if slot is None:
        return Outcome(Notice(EXPIRED, Tone.WARNING))
    settings = await ports.programs.settings(ctx.program)
    people = await _people(ports, offer.participants)

    existing = await ports.meetings.for_offer(offer.ref)
    if existing is not None:
        return _already_booked(ctx, existing, people, slot)

    # Calendars may have changed since the offer: check this one slot afresh.
    if not await _still_free(ports, ctx, offer=offer, slot=slot, people=people, settings=settings):
        request = FindRequest(
            tuple(p for p in offer.participants if p != ctx.person.id),
            offer.duration_minutes,
            offer.window,
            offer.time_of_day,
        )
        return await offer_times(
            ports,
            ctx,
            settings,
            request,
            replace=True,
            lead="That time can't be booked any more: a calendar changed, or it is now too soon.",
        )

    organizer = next(p for p in people if p.id == offer.requester)
    meeting = Meeting(
        ref=ports.new_ref(),
        program=offer.program,
        organizer=offer.requester,
        participants=offer.participants,
        start=slot.start,
        end=slot.end,
        title=_title(people),
        created_at=ports.clock.now(),
        offer_ref=offer.ref,
        proposer=ctx.person.id,
    )
    stored, created = await ports.meetings.book(meeting)
    if not created:  # someone else's click won the race
        return _already_booked(ctx, stored, people, slot)
    return Outcome(
        _booked_view(stored, ctx, people, headline=f"Booked: {stored.title}"),
        direct=tuple(
            DirectMessage(
                person.id,
                _confirmation(
                    ports,
                    stored,
                    person=person,
                    people=people,
                    settings=settings,
                    ctx=ctx,
                    organizer=organizer,
                ),
            )
            for person in people
        ),
        replaces_original=True,
    )


async def cancel(ports: Ports, ctx: Context, action: CancelMeeting) -> Outcome:
    meeting = await ports.meetings.get(action.meeting)
    if meeting is None or ctx.person.id not in meeting.participants:
        return Outcome(Notice("I can't find that meeting among yours.", Tone.WARNING))
    people = await _people(ports, meeting.participants)
    if not meeting.status.active:
        return Outcome(
            _booked_view(meeting, ctx, people, headline="This meeting was already cancelled."),
            replaces_original=True,
        )
    cancelled = await ports.meetings.change(
        replace(meeting, status=MeetingStatus.CANCELLED), expected=meeting.sequence
    )
    if cancelled is None:  # a concurrent cancel got there first
        cancelled = replace(meeting, status=MeetingStatus.CANCELLED)
    settings = await ports.programs.settings(ctx.program)
    stamp = ports.clock.now()
    ics = invitation(cancelled, people, settings, stamp=stamp)
    others = [p for p in people if p.id != ctx.person.id]
    return Outcome(
        _booked_view(cancelled, ctx, people, headline=f"Cancelled: {cancelled.title}"),
        direct=tuple(
            DirectMessage(
                person.id,
                Confirmation(
                    headline=f"{ctx.person.name} cancelled {cancelled.title}.",
                    title=cancelled.title,
                    start=cancelled.start,
                    end=cancelled.end,
                    zone=zone_of(person.timezone, settings.default_timezone),
                    with_names=tuple(p.name for p in people if p.id != person.id),
                    invitation=ics,
                    download=ports.actions.seal(DownloadInvitation(cancelled.ref, person.id)),
                    cancelled=True,
                ),
            )
            for person in others
        ),
        replaces_original=True,
    )


async def _still_free(
    ports: Ports,
    ctx: Context,
    *,
    offer: SlotOffer,
    slot: Interval,
    people: Sequence[Person],
    settings: ProgramSettings,
) -> bool:
    busy = await read(ports, offer.participants, slot, fresh=True, excluding=offer.moving)
    participants = [engine_participant(person, busy, settings, ctx) for person in people]
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
        return Outcome(
            _booked_view(meeting, ctx, people, headline=f"Booked: {meeting.title}"),
            replaces_original=True,
        )
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


def _confirmation(
    ports: Ports,
    meeting: Meeting,
    *,
    person: Person,
    people: Sequence[Person],
    settings: ProgramSettings,
    ctx: Context,
    organizer: Person,
) -> Confirmation:
    headline = (
        f"You booked {meeting.title}."
        if person.id == organizer.id
        else f"{organizer.name} booked {meeting.title} with you."
    )
    zone = (
        ctx.zone
        if person.id == ctx.person.id
        else zone_of(person.timezone, settings.default_timezone)
    )
    return Confirmation(
        headline=headline,
        title=meeting.title,
        start=meeting.start,
        end=meeting.end,
        zone=zone,
        with_names=tuple(p.name for p in people if p.id != person.id),
        invitation=invitation(meeting, people, settings, stamp=meeting.created_at),
        download=ports.actions.seal(DownloadInvitation(meeting.ref, person.id)),
        cancel=Button(
            "Cancel meeting", ports.actions.seal(CancelMeeting(meeting.ref)), ButtonStyle.DANGER
        ),
    )


async def _people(ports: Ports, ids: Sequence[PersonId]) -> list[Person]:
    found = await ports.people.many(ids)
    return [found[pid] for pid in ids if pid in found]


def _title(people: Sequence[Person]) -> str:
    if len(people) == 2:
        return f"Mentoring: {people[0].name} and {people[1].name}"
    return f"Mentoring circle ({len(people)} people)"


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
    return invitation(meeting, people, settings, stamp=meeting.created_at)
