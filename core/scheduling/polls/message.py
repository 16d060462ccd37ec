"""The poll's message in the channel, as each chat shows it, and its updates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core import actions
from core.actions import Connect, EditPoll, PollOp
from core.people import PersonId
from core.polls import Choice, Poll, PollStatus
from core.scheduling.context import Ports, zone_of
from core.scheduling.recent import recently
from core.views import (
    Button,
    ButtonStyle,
    MessageUpdate,
    PollOptionView,
    PollView,
)

if TYPE_CHECKING:
    from core.scheduling.polls.closing import Result


async def poll_view(
    ports: Ports,
    poll: Poll,
    zone: ZoneInfo,
    *,
    result: Result | None = None,
    names: Mapping[PersonId, str] | None = None,
) -> PollView:
    """``names`` of the organiser and the required attendees, when the caller read them."""
    # Votes, status and version read together: the view says which state it shows.
    counted = await ports.polls.counted(poll.ref)
    if counted.busy_checked_at is not None and counted.busy_checked_at != poll.busy_checked_at:
        # ``poll`` was kept from before its busy counts were refreshed (by another process).
        poll = await ports.polls.get(poll.ref) or poll
    poll = replace(poll, status=counted.status)
    if names is None:
        names = await names_of(ports, (poll.organizer, *poll.required))
    seal = ports.actions.seal
    open_ = poll.status is PollStatus.OPEN
    winner = result.winner.id if result and result.winner else None
    tied = result.tied if result else ()
    booked = await ports.meetings.get(poll.meeting) if poll.meeting and not result else None
    if booked is not None:  # drawn again after it closed: its meeting marks the winner
        winner = next((o.id for o in poll.options if o.start == booked.start), None)
    options = tuple(
        PollOptionView(
            option=o.id,
            start=o.start,
            end=o.end,
            yes=counted.tally(o.id)[0],
            if_need_be=counted.tally(o.id)[1],
            busy=o.busy_count,
            vote_yes=Button("Yes", seal(actions.Vote(poll.ref, o.id, Choice.YES)))
            if open_
            else None,
            vote_if_need_be=Button(
                "If need be", seal(actions.Vote(poll.ref, o.id, Choice.IF_NEED_BE))
            )
            if open_
            else None,
            winner=o.id == winner,
            tied=o.id in tied,
        )
        for o in poll.options
    )
    text = result.text if result else None
    if poll.status is PollStatus.CANCELLED:
        text = "This poll was cancelled."
    elif booked is not None:
        text = (
            "The most popular time was booked."
            if booked.status.active
            else "The meeting this poll booked was cancelled."
        )
    return PollView(
        title=poll.title,
        organizer=names.get(poll.organizer, "the organiser"),
        zone=zone,
        duration_minutes=poll.duration_minutes,
        options=options,
        invitees=len(poll.invitees),
        connected=poll.connected,
        status=poll.status,
        deadline=poll.deadline,
        required=tuple(names[p] for p in poll.required if p in names),
        result=text,
        close=Button("Close and book", seal(EditPoll(poll.ref, PollOp.CLOSE)), ButtonStyle.PRIMARY)
        if open_
        else None,
        cancel=Button("Cancel poll", seal(EditPoll(poll.ref, PollOp.CANCEL)), ButtonStyle.DANGER)
        if open_
        else None,
        connect=Button("Connect my calendar", seal(Connect()))
        if open_ and poll.connected < len(poll.invitees)
        else None,
        # Once closed, the votes no longer change but its meeting may (cancelled, moved):
        # each change raises the meeting's sequence, so the card's state still only grows.
        version=counted.version + (booked.sequence if booked is not None else 0),
    )


async def open_card_updates(ports: Ports, poll: Poll) -> tuple[MessageUpdate, ...]:
    if poll.message is None:
        return ()
    # One read for the organiser's zone and the names the card shows, kept a little while:
    # every vote draws the card again.
    named = list(dict.fromkeys((poll.organizer, *poll.required)))
    people = await recently(
        ports.recent, ("poll people", poll.ref), lambda: ports.people.many(named)
    )
    organizer = people.get(poll.organizer)
    settings = await ports.programs.settings(poll.program)
    zone = zone_of(organizer.timezone if organizer else None, settings.default_timezone)
    names = {pid: person.name for pid, person in people.items()}
    view = await poll_view(ports, poll, zone, names=names)
    if view.status is not PollStatus.OPEN:
        return ()  # closed meanwhile: the close's own update shows the result
    return card_update(poll, view)


def card_update(poll: Poll, view: PollView) -> tuple[MessageUpdate, ...]:
    if poll.message is None:
        return ()
    return (MessageUpdate(poll.message, view, version=view.version),)


async def names_of(ports: Ports, people: Sequence[PersonId]) -> dict[PersonId, str]:
    found = await ports.people.many(list(dict.fromkeys(people)))
    return {pid: person.name for pid, person in found.items()}
