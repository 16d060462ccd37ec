"""A meeting's life once its time is chosen: accept, decline, other times, move, cancel,
a place to meet, reminders, and "my meetings".

Who may do what:

* a pair's proposal (the ``confirmation`` rule ``partner``) is answered by the person who
  did not choose the time: Accept, Decline (frees the time, emails a cancellation, tells
  the proposer) or Other times (a picker for the same pair; the time picked replaces the
  proposal, and now the other one answers);
* either person of a pair may move or cancel their meeting; a circle's meeting is moved
  or cancelled by its organiser only, and each other member may decline it for themselves;
* cancelling asks first.

Every change is one conditional update on the meeting's sequence (``Meetings.change``),
with its private messages (``outbox``), emails and reminders enqueued in the same
transaction: of many clicks, in any
process, one changes the meeting and the others are shown the meeting as it now is. A
button that no longer fits the meeting (an older proposal, a cancelled meeting) answers
with the meeting's current state, with the buttons that fit it now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core import wording
from core.actions import (
    AcceptMeeting,
    CancelMeeting,
    ConfirmCancel,
    DeclineMeeting,
    KeepMeeting,
    MoveMeeting,
    OtherTimes,
    SetPlace,
)
from core.commands import Command
from core.errors import MailRefused
from core.invitations import InvitationEmail, Method
from core.meetings import Meeting, MeetingStatus, SlotOffer
from core.people import Person, PersonId, ProgramId
from core.program import MAX_PLACE, LocationMode, ProgramSettings
from core.scheduling import announce, outbox, polls, publishing
from core.scheduling.common import DEFAULT_HORIZON, FindRequest
from core.scheduling.context import Context, Ports
from core.scheduling.find_time import offer_times
from core.scheduling.meeting_views import (
    asks_partner,
    buttons_for,
    lead_of,
    not_emailed,
    one_of,
    people_of,
    state_of,
    title_of,
    view,
    zone_for,
)
from core.scheduling.outbox import Tell
from core.scheduling.participants import Ask, Refuse, resolve
from core.time import Interval, describe
from core.views import (
    Button,
    ButtonStyle,
    DirectMessage,
    MeetingItem,
    MeetingList,
    MessageUpdate,
    Notice,
    Outcome,
    Question,
    Tone,
)

NOT_FOUND = "I can't find that meeting among yours."
LISTED = 20  # meetings in "my meetings"; the rest are counted


async def current(
    ports: Ports, ctx: Context, meeting: Meeting, *, note: str | None = None
) -> Outcome:
    """The clicked message becomes the meeting as it now is (a button that no longer fits)."""
    people = await people_of(ports, meeting.participants)
    settings = await ports.programs.settings(meeting.program)
    names = {p.id: p.name for p in people}
    headline = note or state_of(meeting, ctx.person.id, names)
    return Outcome(
        view(ports, meeting, ctx.person, people, settings, headline=headline, zone=ctx.zone),
        replaces_original=True,
    )


# ---------------------------------------------------------------- booking


@dataclass(frozen=True, slots=True)
class Pick:
    """A time picked from an offer, with the offer's people and their program's settings."""

    offer: SlotOffer
    slot: Interval
    people: Sequence[Person]
    settings: ProgramSettings


def new_meeting(ports: Ports, ctx: Context, pick: Pick) -> Meeting:
    """The meeting a click on ``pick.slot`` makes: proposed to a pair's partner, or
    confirmed."""
    offer, slot, settings = pick.offer, pick.slot, pick.settings
    place = settings.location.place if settings.location.mode is LocationMode.FIXED else None
    status = (
        MeetingStatus.PROPOSED
        if asks_partner(settings, offer.participants)
        else MeetingStatus.CONFIRMED
    )
    return Meeting(
        ref=ports.new_ref(),
        program=offer.program,
        organizer=offer.requester,
        participants=offer.participants,
        start=slot.start,
        end=slot.end,
        title=title_of(pick.people),
        created_at=ports.clock.now(),
        offer_ref=offer.ref,
        status=status,
        proposer=ctx.person.id,
        location=place,
    )


async def booking_work(
    ports: Ports,
    ctx: Context,
    meeting: Meeting,
    people: Sequence[Person],
    settings: ProgramSettings,
) -> tuple[list[Tell], list[Any]]:
    """What a new meeting tells each person privately, and every job it enqueues (those
    messages, emails, reminders, the nudge of an unanswered proposal)."""
    now = ports.clock.now()
    messages = announce.invitation_emails(ports, meeting, people, settings, stamp=now)
    tells = _booking_tells(
        ports, ctx, meeting=meeting, people=people, settings=settings, messages=messages
    )
    jobs = [
        *outbox.jobs(meeting, tells, now),
        *await publishing.delivery_jobs(ports, meeting, messages, now),
        *announce.reminder_jobs(meeting, settings, now),
        *announce.pending_job(meeting, now),
    ]
    return tells, jobs


def _booking_tells(
    ports: Ports,
    ctx: Context,
    *,
    meeting: Meeting,
    people: Sequence[Person],
    settings: ProgramSettings,
    messages: Sequence[InvitationEmail],
) -> list[Tell]:
    me = ctx.person
    proposing = meeting.status is MeetingStatus.PROPOSED
    partner = next((p for p in people if p.id != me.id), None)
    ask_place = settings.location.mode is LocationMode.ASK
    tells: list[Tell] = []
    for person in people:
        if person.id == me.id:
            headline = (
                f"You proposed this time to {partner.name if partner else 'your partner'}. "
                "I'll tell you when they answer."
                if proposing
                else f"You booked {meeting.title}."
            )
            notes = tuple(not_emailed(people, messages, ports))
            tells.append(Tell(me.id, headline, notes, place=ask_place, zone=ctx.zone))
        else:
            headline = (
                f"{me.name} proposes a time for {meeting.title}."
                if proposing
                else f"{me.name} booked {meeting.title} with you."
            )
            tells.append(Tell(person.id, headline))
    return tells


def booked(
    ports: Ports,
    ctx: Context,
    *,
    meeting: Meeting,
    people: Sequence[Person],
    settings: ProgramSettings,
    tells: Sequence[Tell],
) -> Outcome:
    """What a new meeting shows the person who chose its time: the picker becomes it. Each
    person's own message (``tells``) was stored with the meeting, and goes out from there."""
    me = ctx.person
    lead = lead_of(meeting, people, me.id)
    return Outcome(
        view(
            ports,
            meeting,
            me,
            people,
            settings,
            headline=lead,
            zone=ctx.zone,
            buttons=False,
            files=False,
        ),
        replaces_original=True,
        told=outbox.told(tells),
    )


# ---------------------------------------------------------------- answering a proposal


async def _load(ports: Ports, ctx: Context, ref: str) -> Meeting | Outcome:
    meeting = await ports.meetings.get(ref)
    if meeting is None or ctx.person.id not in meeting.participants:
        return Outcome(Notice(NOT_FOUND, Tone.WARNING))
    return meeting


async def _proposal(ports: Ports, ctx: Context, ref: str, sequence: int) -> Meeting | Outcome:
    """The proposal ``ctx.person`` is to answer, or what to show instead: that it is not
    found, or the meeting as it is now (answered already, or moved since)."""
    meeting = await _load(ports, ctx, ref)
    if isinstance(meeting, Outcome) or _answers(meeting, ctx.person.id, sequence):
        return meeting
    return await current(ports, ctx, meeting)


def _answers(meeting: Meeting, person: PersonId, sequence: int) -> bool:
    """Whether ``person`` is the one to answer the proposal made at ``sequence``."""
    return (
        meeting.status is MeetingStatus.PROPOSED
        and meeting.sequence == sequence
        and meeting.is_pair
        and person != meeting.proposer
    )


async def _change(
    ports: Ports,
    meeting: Meeting,
    changed: Meeting,
    people: Sequence[Person],
    settings: ProgramSettings,
    *,
    to: Sequence[Person] | None = None,
    method: Method | None = None,
    listed: Sequence[Person] | None = None,
    moved_in_time: bool = False,
    tells: Sequence[Tell] = (),
) -> Meeting | None:
    """Store ``changed`` in place of ``meeting``, with the private messages (``tells``) and
    the invitations (or the program's event) the change sends, and its reminders again when it
    moved; None when someone changed it first. ``to``, ``method`` and ``listed`` say which
    invitations (see ``announce.invitation_emails``)."""
    now = ports.clock.now()
    future = replace(changed, sequence=meeting.sequence + 1)
    messages = announce.invitation_emails(
        ports, future, people, settings, stamp=now, to=to, method=method, listed=listed
    )
    jobs = [
        *outbox.jobs(future, tells, now),
        *await publishing.delivery_jobs(ports, future, messages, now),
    ]
    if moved_in_time:
        jobs = [*jobs, *announce.reminder_jobs(future, settings, now)]
        jobs += announce.pending_job(future, now)
    return await ports.meetings.change(changed, expected=meeting.sequence, jobs=jobs)


def _others(ctx: Context, meeting: Meeting) -> list[PersonId]:
    """Everyone in ``meeting`` still attending but the speaker."""
    return [p for p in meeting.attending if p != ctx.person.id]


def _tells(to: Sequence[PersonId | None], headline: str) -> list[Tell]:
    return [Tell(person, headline) for person in to if person is not None]


def _changed(
    ports: Ports,
    ctx: Context,
    meeting: Meeting,
    people: Sequence[Person],
    settings: ProgramSettings,
    *,
    headline: str,
    tells: Sequence[Tell],
    updates: tuple[MessageUpdate, ...] = (),
) -> Outcome:
    """What the speaker sees of the change they made (in place of what they clicked); what
    it tells the others privately was stored with it (``tells``) and goes out from there."""
    return Outcome(
        view(ports, meeting, ctx.person, people, settings, headline=headline, zone=ctx.zone),
        replaces_original=True,
        updates=updates,
        told=outbox.told(tells),
    )


async def accept(ports: Ports, ctx: Context, action: AcceptMeeting) -> Outcome:
    meeting = await _proposal(ports, ctx, action.meeting, action.sequence)
    if isinstance(meeting, Outcome):
        return meeting
    people = await people_of(ports, meeting.participants)
    settings = await ports.programs.settings(meeting.program)
    confirmed = replace(meeting, status=MeetingStatus.CONFIRMED)
    tells = _tells([meeting.proposer], f"{ctx.person.name} accepted {meeting.title}.")
    stored = await _change(ports, meeting, confirmed, people, settings, tells=tells)
    if stored is None:  # another click (or the proposer) changed it first
        return await current(ports, ctx, await ports.meetings.get(meeting.ref) or meeting)
    return _changed(
        ports, ctx, stored, people, settings,
        headline=f"You accepted {stored.title}.", tells=tells,
    )  # fmt: skip


async def decline(ports: Ports, ctx: Context, action: DeclineMeeting) -> Outcome:
    meeting = await _load(ports, ctx, action.meeting)
    if isinstance(meeting, Outcome):
        return meeting
    if meeting.is_pair:
        if not _answers(meeting, ctx.person.id, action.sequence):
            return await current(ports, ctx, meeting)
        return await _decline_proposal(ports, ctx, meeting)
    if ctx.person.id == meeting.organizer:
        return Outcome(
            Notice(
                "You organise this meeting: cancel it instead, and everyone will be told.",
                Tone.INFO,
                (
                    Button(
                        "Cancel meeting",
                        ports.actions.seal(CancelMeeting(meeting.ref)),
                        ButtonStyle.DANGER,
                    ),
                ),
            )
        )
    if (
        not meeting.status.active
        or ctx.person.id in meeting.declined
        or meeting.sequence != action.sequence
    ):
        return await current(ports, ctx, meeting)
    return await _decline_for_myself(ports, ctx, meeting)


async def _decline_proposal(ports: Ports, ctx: Context, meeting: Meeting) -> Outcome:
    people = await people_of(ports, meeting.participants)
    settings = await ports.programs.settings(meeting.program)
    declined = replace(meeting, status=MeetingStatus.DECLINED)
    proposer = next((p for p in people if p.id == meeting.proposer), None)
    # The proposer is offered to find another time with the one who declined.
    tells = [
        Tell(
            proposer.id,
            f"{ctx.person.name} declined {meeting.title}; the time is free again.",
            again_with=ctx.person.id,
        )
        for proposer in [proposer]
        if proposer is not None
    ]
    # The cancellation goes to both: the proposal was in both calendars.
    stored = await _change(
        ports, meeting, declined, people, settings, to=people, method=Method.CANCEL, tells=tells
    )
    if stored is None:
        return await current(ports, ctx, await ports.meetings.get(meeting.ref) or meeting)
    name = proposer.name if proposer else "the person who proposed it"
    return _changed(
        ports, ctx, stored, people, settings,
        headline=f"You declined {stored.title}; I've told {name}.", tells=tells,
    )  # fmt: skip


async def _decline_for_myself(ports: Ports, ctx: Context, meeting: Meeting) -> Outcome:
    people = await people_of(ports, meeting.participants)
    settings = await ports.programs.settings(meeting.program)
    changed = replace(meeting, declined=(*meeting.declined, ctx.person.id))
    organizer = next((p for p in people if p.id == meeting.organizer), None)
    tells = _tells(
        [organizer.id if organizer else None], f"{ctx.person.name} declined {meeting.title}."
    )
    # Only the one who declined is sent a cancellation, listing them alone.
    stored = await _change(
        ports, meeting, changed, people, settings,
        to=[ctx.person], method=Method.CANCEL, listed=[ctx.person], tells=tells,
    )  # fmt: skip
    if stored is None:
        return await current(ports, ctx, await ports.meetings.get(meeting.ref) or meeting)
    name = organizer.name if organizer else "the organiser"
    return _changed(
        ports, ctx, stored, people, settings,
        headline=f"You declined {stored.title}; I've told {name}.", tells=tells,
    )  # fmt: skip


async def other_times(ports: Ports, ctx: Context, action: OtherTimes) -> Outcome:
    meeting = await _proposal(ports, ctx, action.meeting, action.sequence)
    if isinstance(meeting, Outcome):
        return meeting
    settings = await ports.programs.settings(meeting.program)
    proposer = meeting.proposer
    assert proposer is not None  # a pair's proposal has one
    now = ports.clock.now()
    request = FindRequest(
        (proposer,), _minutes(meeting), Interval(now, now + DEFAULT_HORIZON), moving=meeting.ref
    )
    return await offer_times(
        ports,
        ctx,
        settings,
        request,
        replace=True,
        lead="Choose another time: it replaces the proposal, and they'll be asked to accept it.",
    )


def _minutes(meeting: Meeting) -> int:
    return int((meeting.end - meeting.start) / timedelta(minutes=1))


# ---------------------------------------------------------------- moving


async def move(
    ports: Ports, ctx: Context, action: MoveMeeting, *, window: Interval | None = None
) -> Outcome:
    """Times for the same people, to move the meeting to (in ``window``, or the next days)."""
    meeting = await _changeable(ports, ctx, action.meeting, "move")
    if isinstance(meeting, Outcome):
        return meeting
    settings = await ports.programs.settings(meeting.program)
    now = ports.clock.now()
    request = FindRequest(
        tuple(p for p in meeting.attending if p != ctx.person.id),
        _minutes(meeting),
        window or Interval(now, now + DEFAULT_HORIZON),
        moving=meeting.ref,
    )
    return await offer_times(
        ports, ctx, settings, request, lead=f"Choose the new time for {meeting.title}."
    )


async def _changeable(ports: Ports, ctx: Context, ref: str, verb: str) -> Meeting | Outcome:
    """Meeting ``ref`` when the speaker may ``verb`` it now; else what to show instead."""
    meeting = await _load(ports, ctx, ref)
    if isinstance(meeting, Outcome):
        return meeting
    if not meeting.status.active or ctx.person.id not in meeting.attending:
        return await current(ports, ctx, meeting)
    if not meeting.may_change(ctx.person.id):
        return _organiser_only(ports, meeting, verb)
    return meeting


def _organiser_only(ports: Ports, meeting: Meeting, verb: str) -> Outcome:
    return Outcome(
        Notice(
            f"Only the organiser can {verb} this circle's meeting. You can decline it for "
            "yourself.",
            Tone.INFO,
            (
                Button(
                    "Decline",
                    ports.actions.seal(DeclineMeeting(meeting.ref, meeting.sequence)),
                    ButtonStyle.DANGER,
                ),
            ),
        )
    )


async def move_to(
    ports: Ports,
    ctx: Context,
    *,
    meeting: Meeting,
    slot: Interval,
    people: Sequence[Person],
    settings: ProgramSettings,
) -> Outcome:
    """Move ``meeting`` to ``slot`` (already checked free): the same meeting and UID, a new
    SEQUENCE; a pair's partner is asked again under ``partner``."""
    if meeting.start == slot.start and meeting.status.active:
        return await current(ports, ctx, meeting, note=f"Moved: {meeting.title}")
    if not meeting.status.active:
        return await current(ports, ctx, meeting)
    status = (
        MeetingStatus.PROPOSED
        if asks_partner(settings, meeting.participants)
        else MeetingStatus.CONFIRMED
    )
    moved = replace(meeting, start=slot.start, end=slot.end, status=status, proposer=ctx.person.id)
    proposing = status is MeetingStatus.PROPOSED
    tells = _tells(
        _others(ctx, moved),
        f"{ctx.person.name} proposes a new time for {meeting.title}."
        if proposing
        else f"{ctx.person.name} moved {meeting.title} to this time.",
    )
    stored = await _change(ports, meeting, moved, people, settings, moved_in_time=True, tells=tells)
    if stored is None:
        again = await ports.meetings.get(meeting.ref) or meeting
        if again.start == slot.start and again.status.active:  # the same move, clicked twice
            return await current(ports, ctx, again, note=f"Moved: {again.title}")
        if again.sequence == meeting.sequence:  # unchanged: another meeting took that time
            return await current(
                ports, ctx, again, note="That time was taken meanwhile; this meeting stays."
            )
        return await current(
            ports, ctx, again, note="This meeting changed meanwhile; here it is now."
        )
    partner = stored.partner_of(ctx.person.id)
    names = {p.id: p.name for p in people}
    headline = (
        f"New time proposed for {stored.title}; waiting for {names.get(partner, 'an answer')}."
        if proposing and partner
        else f"Moved: {stored.title}"
    )
    return _changed(ports, ctx, stored, people, settings, headline=headline, tells=tells)


# ---------------------------------------------------------------- cancelling


async def ask_cancel(ports: Ports, ctx: Context, action: CancelMeeting) -> Outcome:
    """Cancelling asks first: nothing changes until the answer."""
    meeting = await _changeable(ports, ctx, action.meeting, "cancel")
    if isinstance(meeting, Outcome):
        return meeting
    seal = ports.actions.seal
    return Outcome(
        Question(
            f"Cancel {meeting.title} on {describe(meeting.start, ctx.zone)}? Everyone in it will "
            "be told, with a calendar cancellation.",
            (
                Button(
                    "Cancel meeting",
                    seal(ConfirmCancel(meeting.ref, meeting.sequence)),
                    ButtonStyle.DANGER,
                ),
                Button("Keep it", seal(KeepMeeting(meeting.ref))),
            ),
        )
    )


async def keep(ports: Ports, ctx: Context, action: KeepMeeting) -> Outcome:
    del ports, ctx, action
    return Outcome(Notice("Your meeting stays as it is.", Tone.SUCCESS), replaces_original=True)


async def confirm_cancel(ports: Ports, ctx: Context, action: ConfirmCancel) -> Outcome:
    meeting = await _load(ports, ctx, action.meeting)
    if isinstance(meeting, Outcome):
        return meeting
    if not meeting.status.active:
        return await current(ports, ctx, meeting, note="This meeting was already cancelled.")
    if not meeting.may_change(ctx.person.id):
        return _organiser_only(ports, meeting, "cancel")
    if meeting.sequence != action.sequence:
        return await current(
            ports, ctx, meeting, note="This meeting changed since you asked; here it is now."
        )
    people = await people_of(ports, meeting.participants)
    settings = await ports.programs.settings(meeting.program)
    cancelled = replace(meeting, status=MeetingStatus.CANCELLED)
    tells = _tells(_others(ctx, cancelled), f"{ctx.person.name} cancelled {meeting.title}.")
    stored = await _change(ports, meeting, cancelled, people, settings, tells=tells)
    if stored is None:
        again = await ports.meetings.get(meeting.ref) or meeting
        if not again.status.active:
            return await current(ports, ctx, again, note="This meeting was already cancelled.")
        return await current(
            ports, ctx, again, note="This meeting changed since you asked; here it is now."
        )
    return _changed(
        ports, ctx, stored, people, settings,
        headline=f"Cancelled: {stored.title}", tells=tells,
        updates=await _poll_card(ports, stored),
    )  # fmt: skip


async def _poll_card(ports: Ports, meeting: Meeting) -> tuple[MessageUpdate, ...]:
    """A poll's card says when the meeting it booked was cancelled."""
    if meeting.poll_ref is None:
        return ()
    poll = await ports.polls.get(meeting.poll_ref)
    if poll is None:
        return ()
    return await polls.card_updates(ports, poll)


# ---------------------------------------------------------------- a place to meet


async def set_place(ports: Ports, ctx: Context, action: SetPlace, value: str | None) -> Outcome:
    meeting = await _load(ports, ctx, action.meeting)
    if isinstance(meeting, Outcome):
        return meeting
    if not meeting.status.active or not meeting.may_change(ctx.person.id):
        return await current(ports, ctx, meeting)
    place = " ".join((value or "").split())
    if not place:
        return Outcome(Notice("Write a link or a room first, then save it.", Tone.INFO))
    if len(place) > MAX_PLACE:
        return Outcome(
            Notice(f"That is longer than {MAX_PLACE} characters; shorten it.", Tone.WARNING)
        )
    if place == meeting.location:
        return await current(ports, ctx, meeting, note=f"Saved: {place}")
    people = await people_of(ports, meeting.participants)
    settings = await ports.programs.settings(meeting.program)
    placed = replace(meeting, location=place)
    tells = _tells(_others(ctx, placed), f"{ctx.person.name} added where {meeting.title} happens.")
    stored = await _change(ports, meeting, placed, people, settings, tells=tells)
    if stored is None:
        return await current(ports, ctx, await ports.meetings.get(meeting.ref) or meeting)
    return _changed(ports, ctx, stored, people, settings, headline=f"Saved: {place}", tells=tells)


# ---------------------------------------------------------------- my meetings


async def my_meetings(ports: Ports, ctx: Context) -> Outcome:
    return Outcome(await meeting_list(ports, ctx.person, ctx.zone))


async def meeting_list(ports: Ports, person: Person, zone: ZoneInfo) -> MeetingList:
    """``person``'s upcoming meetings, each with what they may do (the App Home uses it too)."""
    meetings = list(await ports.meetings.upcoming(person.id, ports.clock.now()))
    ids = list(dict.fromkeys(p for m in meetings[:LISTED] for p in m.participants))
    found = await ports.people.many(ids)
    names = {pid: found[pid].name for pid in found}
    items = tuple(
        MeetingItem(
            title=m.title,
            start=m.start,
            end=m.end,
            with_names=tuple(names[p] for p in m.attending if p != person.id and p in names),
            status=state_of(m, person.id, names),
            location=m.location,
            buttons=buttons_for(ports, m, person.id),
            pending=m.status is MeetingStatus.PROPOSED,
        )
        for m in meetings[:LISTED]
    )
    return MeetingList("Your upcoming meetings", zone, items, more=max(0, len(meetings) - LISTED))


async def by_text(ports: Ports, ctx: Context, command: Command, *, verb: str) -> Outcome:
    """ "cancel my meeting with Sam", "move my meeting with Sam to Thursday": which one, then
    the same as its button. ``verb`` is ``cancel`` or ``move``."""
    meetings = [
        m
        for m in await ports.meetings.upcoming(ctx.person.id, ports.clock.now())
        if m.status.active
    ]
    if command.participants:
        found = await resolve(ports, ctx, command.participants, seeing=False)
        if isinstance(found, Refuse):
            return Outcome(Notice(found.text, Tone.WARNING))
        named = (
            {p.id for p in found.people}
            if not isinstance(found, Ask)
            else {p.id for option in found.options for p in option.people}
        )
        if isinstance(found, Ask):
            meetings = [m for m in meetings if named & set(m.attending)]
        else:
            meetings = [m for m in meetings if named <= set(m.attending)]
    if not meetings:
        return Outcome(
            Notice(
                "I can't find an upcoming meeting of yours"
                + (" with them." if command.participants else ".")
                + " Say “my meetings” to see them all.",
                Tone.INFO,
            )
        )
    if len(meetings) == 1:
        (meeting,) = meetings
        if verb == "cancel":
            return await ask_cancel(ports, ctx, CancelMeeting(meeting.ref))
        return await move(ports, ctx, MoveMeeting(meeting.ref), window=command.window)
    ids = list(dict.fromkeys(p for m in meetings for p in m.participants))
    people = await ports.people.many(ids)
    seal = ports.actions.seal
    options = []
    for meeting in meetings[:10]:
        others = [people[p].name for p in meeting.attending if p != ctx.person.id and p in people]
        label = (
            f"{describe(meeting.start, ctx.zone)} with {wording.names(others, none='you alone')}"
        )
        action = CancelMeeting(meeting.ref) if verb == "cancel" else MoveMeeting(meeting.ref)
        options.append(Button(label[:70], seal(action)))
    return Outcome(Question(f"Which meeting should I {verb}?", tuple(options)))


# ---------------------------------------------------------------- the worker's jobs


async def send_invitation(ports: Ports, payload: Mapping[str, Any]) -> None:
    """One invitation email from the outbox; :class:`MailRefused` when not handed over."""
    if ports.mailer is None:
        raise MailRefused("email is not configured on this server", permanent=True)
    try:
        email = InvitationEmail.from_json(payload)
    except ValueError as error:
        raise MailRefused("the outbox row is not an invitation", permanent=True) from error
    await ports.mailer.send(email)


async def invitation_failed(
    ports: Ports, payload: Mapping[str, Any]
) -> tuple[ProgramId, Outcome] | None:
    """After the last try: tell the meeting's organiser in chat."""
    meeting = await ports.meetings.get(str(payload.get("meeting", "")))
    if meeting is None:
        return None
    organizer = await ports.people.get(meeting.organizer)
    if organizer is None:
        return None
    name = str(payload.get("name") or payload.get("to") or "someone")
    text = (
        f"I couldn't email the invitation for {meeting.title} to {name}: the mail server "
        "did not take it after several tries. They can add it to their calendar from the "
        ".ics file in their confirmation."
    )
    return meeting.program, Outcome(
        None, direct=(DirectMessage(organizer.id, Notice(text, Tone.WARNING)),)
    )


async def remind(ports: Ports, payload: Mapping[str, Any]) -> tuple[ProgramId, Outcome] | None:
    """The reminder before a meeting, unless a later change made it moot."""
    meeting = await ports.meetings.get(str(payload.get("meeting", "")))
    person_id = PersonId(str(payload.get("person", "")))
    now = ports.clock.now()
    if (
        meeting is None
        or meeting.status is not MeetingStatus.CONFIRMED
        or meeting.start.isoformat() != payload.get("start")
        or person_id not in meeting.attending
        or meeting.end <= now
    ):
        return None
    found = await one_of(ports, meeting, person_id)
    if found is None:
        return None
    person, people, settings = found
    minutes = max(0, round((meeting.start - now) / timedelta(minutes=1)))
    when = "now" if minutes == 0 else f"in {minutes} minute{'s' if minutes != 1 else ''}"
    reminder = view(
        ports,
        meeting,
        person,
        people,
        settings,
        headline=f"Starting {when}: {meeting.title}",
        zone=zone_for(person, settings, None),
    )
    return meeting.program, Outcome(None, direct=(DirectMessage(person.id, reminder),))


async def remind_pending(
    ports: Ports, payload: Mapping[str, Any]
) -> tuple[ProgramId, Outcome] | None:
    """One reminder to answer a proposal nobody answered for a day."""
    meeting = await ports.meetings.get(str(payload.get("meeting", "")))
    if (
        meeting is None
        or meeting.status is not MeetingStatus.PROPOSED
        or meeting.sequence != payload.get("sequence")
        or meeting.proposer is None
        or meeting.start <= ports.clock.now()
    ):
        return None
    answerer_id = meeting.partner_of(meeting.proposer)
    people = await people_of(ports, meeting.participants)
    answerer = next((p for p in people if p.id == answerer_id), None)
    proposer = next((p for p in people if p.id == meeting.proposer), None)
    if answerer is None:
        return None
    settings = await ports.programs.settings(meeting.program)
    who = proposer.name if proposer else "Your partner"
    nudge = view(
        ports,
        meeting,
        answerer,
        people,
        settings,
        headline=f"Reminder: {who} proposed this time for {meeting.title} and is waiting for "
        "your answer.",
        zone=zone_for(answerer, settings, None),
    )
    return meeting.program, Outcome(None, direct=(DirectMessage(answerer.id, nudge),))
