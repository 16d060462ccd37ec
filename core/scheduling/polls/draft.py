"""The private draft: its view, and the organiser's edits until it is posted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import assert_never

from core.actions import EditPoll, PollOp
from core.polls import Poll, PollOption, PollStatus
from core.scheduling.context import Context, Ports
from core.scheduling.polls.closing import cancel, close
from core.scheduling.polls.constants import DEADLINES, GONE, MAX_OPTIONS, NOT_ORGANISER
from core.scheduling.polls.deadlines import deadline_jobs
from core.scheduling.polls.message import names_of, poll_view
from core.scheduling.polls.voting import busy_counts
from core.time import Interval
from core.views import (
    Broadcast,
    Button,
    ButtonStyle,
    Notice,
    Outcome,
    PollDraftView,
    PollOptionView,
    TimeInput,
    Tone,
)


async def draft_view(
    ports: Ports, ctx: Context, poll: Poll, notes: Sequence[str] = ()
) -> PollDraftView:
    names = await names_of(ports, poll.invitees)
    seal = ports.actions.seal
    return PollDraftView(
        title=poll.title,
        zone=ctx.zone,
        duration_minutes=poll.duration_minutes,
        options=tuple(
            (
                PollOptionView(o.id, o.start, o.end, 0, 0, o.busy_count),
                Button("Remove", seal(EditPoll(poll.ref, PollOp.REMOVE, option=o.id))),
            )
            for o in poll.options
        ),
        invitees=tuple(names[p] for p in poll.invitees if p in names),
        connected=poll.connected,
        add_time=TimeInput("Add a time of your own", seal(EditPoll(poll.ref, PollOp.ADD))),
        deadlines=tuple(
            Button(
                label,
                seal(EditPoll(poll.ref, PollOp.DEADLINE, hours=hours)),
                _selected(poll, hours),
            )
            for hours, label in DEADLINES
        ),
        deadline=poll.deadline,
        required=tuple(
            Button(
                names.get(person, "someone"),
                seal(EditPoll(poll.ref, PollOp.REQUIRE, person=person)),
                ButtonStyle.PRIMARY if person in poll.required else ButtonStyle.DEFAULT,
            )
            for person in poll.invitees
        ),
        required_names=tuple(names[p] for p in poll.required if p in names),
        post=Button("Post poll", seal(EditPoll(poll.ref, PollOp.POST)), ButtonStyle.PRIMARY),
        cancel=Button("Discard", seal(EditPoll(poll.ref, PollOp.CANCEL)), ButtonStyle.DANGER),
        notes=(
            *notes,
            f"{poll.connected} of {len(poll.invitees)} invitees have connected calendars.",
        ),
    )


def _selected(poll: Poll, hours: int) -> ButtonStyle:
    if poll.deadline is None:
        return ButtonStyle.PRIMARY if hours == 0 else ButtonStyle.DEFAULT
    offered = poll.created_at + timedelta(hours=hours)
    return ButtonStyle.PRIMARY if hours and poll.deadline == offered else ButtonStyle.DEFAULT


async def edit(ports: Ports, ctx: Context, action: EditPoll, value: str | None) -> Outcome:
    """Every organiser's button: draft edits, posting, closing, cancelling."""
    poll = await ports.polls.get(action.poll)
    if poll is None:
        return Outcome(Notice(GONE, Tone.WARNING))
    if ctx.person.id != poll.organizer:
        return Outcome(Notice(NOT_ORGANISER, Tone.WARNING))
    if action.op is PollOp.CLOSE:
        return await close(ports, poll, by=ctx)
    if action.op is PollOp.CANCEL:
        return await cancel(ports, ctx, poll)
    if poll.status is not PollStatus.DRAFT:
        return Outcome(Notice("This poll was posted already.", Tone.INFO))
    notes: list[str] = []
    match action.op:
        case PollOp.REMOVE:
            kept = [o for o in poll.options if o.id != action.option]
            if len(kept) < 1:
                notes.append("A poll needs at least one time.")
            else:
                await ports.polls.replace_options(poll.ref, kept, None)
        case PollOp.ADD:
            added = await _own_time(ports, ctx, poll, value)
            if isinstance(added, str):
                notes.append(added)
            else:
                options = sorted([*poll.options, added], key=lambda o: o.start)
                await ports.polls.replace_options(poll.ref, options, None)
        case PollOp.DEADLINE:
            hours = action.hours
            deadline = ports.clock.now() + timedelta(hours=hours) if hours else None
            await ports.polls.set_terms(poll.ref, deadline=deadline, required=poll.required)
        case PollOp.REQUIRE:
            person = action.person
            required = [p for p in poll.required if p != person]
            if person is not None and person not in poll.required and person in poll.invitees:
                required.append(person)
            await ports.polls.set_terms(poll.ref, deadline=poll.deadline, required=required)
        case PollOp.POST:
            return await _post(ports, ctx, poll)
        case _:
            assert_never(action.op)
    updated = await ports.polls.get(poll.ref)
    assert updated is not None
    return Outcome(await draft_view(ports, ctx, updated, notes), replaces_original=True)


async def _own_time(ports: Ports, ctx: Context, poll: Poll, value: str | None) -> PollOption | str:
    """An option at the organiser's local time ``value`` (``YYYY-MM-DDTHH:MM``), or a reason."""
    try:
        local = datetime.fromisoformat(value or "")
    except ValueError:
        return "Give the time as a date and a time of day."
    if local.tzinfo is None:
        local = local.replace(tzinfo=ctx.zone)
    start = local.astimezone(poll.created_at.tzinfo)
    if start <= ports.clock.now():
        return "That time has passed; choose one in the future."
    if len(poll.options) >= MAX_OPTIONS:
        return f"A poll can offer at most {MAX_OPTIONS} times."
    if any(o.start == start for o in poll.options):
        return "That time is already offered."
    span = Interval(start, start + timedelta(minutes=poll.duration_minutes))
    busy = await busy_counts(ports, poll, [span])
    return PollOption(0, span.start, span.end, busy[0])


async def _post(ports: Ports, ctx: Context, poll: Poll) -> Outcome:
    if poll.channel is None and ctx.private:
        return Outcome(
            Notice(
                "Everyone votes where the poll is posted, so ask me for it in the channel your "
                "invitees are in.",
                Tone.INFO,
            )
        )
    now = ports.clock.now()
    if not await ports.polls.open(poll.ref, now, then=deadline_jobs(poll.ref, poll.deadline, now)):
        return Outcome(Notice("This poll was posted already.", Tone.INFO))
    opened = await ports.polls.get(poll.ref)
    assert opened is not None
    return Outcome(
        Notice("Your poll is posted. I'll book the winning time when you close it.", Tone.SUCCESS),
        replaces_original=True,
        broadcast=Broadcast(
            await poll_view(ports, opened, ctx.zone), key=f"poll:{poll.ref}", channel=poll.channel
        ),
    )


async def posted(ports: Ports, key: str, message: Mapping[str, str]) -> None:
    """Where the adapter posted a poll, so that votes and the deadline can update it."""
    if key.startswith("poll:"):
        await ports.polls.posted(key.removeprefix("poll:"), message)
