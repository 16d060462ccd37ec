"""Group polls, from "poll my circle" to a booked meeting.

1. The organiser asks, naming the invitees or "my circle"; naming nobody in a channel
   invites the circle linked to it, else everyone in it (at most ``MAX_INVITEES``).
   Pairtime reads the invitees' calendars once and
   proposes the times most of them can make (the engine's ``most`` mode),
   spread over several days, in a private draft. The organiser removes or
   adds times, may set a deadline and required attendees, then posts it.
2. The channel sees the poll: per time, the votes and how many invitees are
   busy, by their calendars or Pairtime meetings (never who). Invitees vote "yes" or "if need be";
   clicking again withdraws. A voter sees privately where their own calendar
   clashes. Busy counts are refreshed at most every 10 minutes, not per vote.
3. At the deadline, or when the organiser closes it, the winner is the time
   every required attendee can make with the most "yes" (then "if need be",
   then the earliest); ties are stated. It is booked once and everyone gets
   the invitation. Closing twice, in any process, does it once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import assert_never
from zoneinfo import ZoneInfo

from core import actions
from core.actions import Connect, EditPoll, PollOp
from core.availability import Mode, Slot, SlotRequest, find_slots
from core.calendars import BusyTimes
from core.commands import Command
from core.jobs import NewJob
from core.meetings import Meeting
from core.people import CrowdedChannel, Person, PersonId, ProgramId
from core.polls import Choice, Click, Poll, PollOption, PollStatus, Vote
from core.program import LocationMode, ProgramSettings
from core.scheduling import announce, meeting_views, publishing
from core.scheduling.busy import read
from core.scheduling.context import Context, Ports, zone_of
from core.scheduling.find_time import DEFAULT_HORIZON, engine_participant
from core.scheduling.participants import Ask, Refuse, resolve
from core.time import Interval, describe, local_dates
from core.views import (
    Broadcast,
    Button,
    ButtonStyle,
    DirectMessage,
    MessageUpdate,
    Notice,
    Outcome,
    PollDraftView,
    PollOptionView,
    PollView,
    TimeInput,
    Tone,
)

PROPOSED = 5
MIN_OPTIONS, MAX_OPTIONS = 3, 8
BUSY_REFRESH = timedelta(minutes=10)
DEADLINES = ((0, "No deadline"), (24, "In 1 day"), (48, "In 2 days"), (168, "In 1 week"))
# A poll invites at most this many (the organiser included): its message and draft are built
# and checked for fifty in Slack and Teams.
MAX_INVITEES = 50
WHO = (
    "Who should I invite? Mention them (“poll @ana @ben for an hour next week”), or say "
    "“poll my circle”."
)
NOT_ORGANISER = "Only the organiser can change this poll."
GONE = "This poll no longer exists."


# ---------------------------------------------------------------- creating


async def create(ports: Ports, ctx: Context, command: Command) -> Outcome:
    """Propose times to the organiser, privately, as a draft."""
    settings = await ports.programs.settings(ctx.program)
    now = ports.clock.now()
    window = command.window or Interval(now, now + DEFAULT_HORIZON)
    duration = (
        command.duration_minutes if command.duration_given else settings.default_duration_minutes
    )
    invited = await _invitees(ports, ctx, command)
    if isinstance(invited, Notice):
        return Outcome(invited)
    title, others, circle_channel = invited
    if len(others) + 1 > MAX_INVITEES:
        return Outcome(
            Notice(
                f"That would invite {len(others) + 1} people, and a poll can invite at most "
                f"{MAX_INVITEES} (you included). Mention fewer people, or ask your program "
                "admin to split the circle.",
                Tone.INFO,
            )
        )
    # Everyone votes where the poll is posted: a private chat will not do, the circle's will.
    channel = circle_channel if ctx.private else ctx.channel
    people = [ctx.person, *others]
    # The rules of the track these people's pair or circle is in.
    settings = await ports.programs.settings(ctx.program, among=[p.id for p in people])
    if not command.duration_given:
        duration = settings.default_duration_minutes
    busy = await read(ports, [p.id for p in people], window)
    participants = [engine_participant(p, busy, settings, ctx) for p in people]
    within = None
    if command.time_of_day is not None:
        start, end = command.time_of_day.start, command.time_of_day.end
        within = [
            Interval(start.on(day, ctx.zone), end.on(day, ctx.zone))
            for day in local_dates(window, ctx.zone)
            if start.on(day, ctx.zone) < end.on(day, ctx.zone)
        ]
    slots = find_slots(
        SlotRequest(
            window=window,
            duration=timedelta(minutes=duration),
            participants=participants,
            now=now,
            rules=settings.rules,
            mode=Mode.MOST,
            within=within,
        )
    )
    chosen = propose(slots, PROPOSED, ctx)
    if not chosen:
        return Outcome(
            Notice(
                f"I couldn't find {duration} minutes in that window within everyone's hours. "
                "Try a longer window or a shorter meeting.",
                Tone.WARNING,
            )
        )
    poll = await ports.polls.create(
        Poll(
            ref=ports.new_ref(),
            program=ctx.program,
            organizer=ctx.person.id,
            title=title,
            duration_minutes=duration,
            invitees=tuple(p.id for p in people),
            options=tuple(PollOption(0, s.start, s.end, len(s.busy)) for s in chosen),
            created_at=now,
            status=PollStatus.DRAFT,
            channel=channel,
            window_start=window.start,
            window_end=window.end,
            connected=sum(isinstance(busy.calendar(p.id), BusyTimes) for p in people),
            busy_checked_at=now,
        )
    )
    return Outcome(await draft_view(ports, ctx, poll))


def propose(slots: Sequence[Slot], count: int, ctx: Context) -> list[Slot]:
    """The ``count`` best-attended slots, spread over days, not overlapping, in order.

    ``slots`` come ranked by the engine (most free first, then earliest).
    Attendance comes first: a time fewer people can make is taken only when
    the better ones run out. Within one level of attendance the times are
    spread: each day gets one before any day gets a second.
    """
    chosen: list[Slot] = []
    per_day: dict[date, int] = {}
    for _, level in groupby(slots, key=lambda slot: len(slot.free)):
        candidates = list(level)
        for share in range(1, count + 1):
            for slot in candidates:
                if len(chosen) == count:
                    return sorted(chosen, key=lambda s: s.start)
                day = slot.start.astimezone(ctx.zone).date()
                if per_day.get(day, 0) >= share or slot in chosen:
                    continue
                if any(slot.start < other.end and other.start < slot.end for other in chosen):
                    continue
                chosen.append(slot)
                per_day[day] = per_day.get(day, 0) + 1
    return sorted(chosen, key=lambda slot: slot.start)


async def _invitees(
    ports: Ports, ctx: Context, command: Command
) -> tuple[str, list[Person], str | None] | Notice:
    """The poll's title, its invitees but the organiser, and their circle's channel if any."""
    if command.participants:
        found = await resolve(ports, ctx, command.participants)
        if isinstance(found, Refuse):
            return Notice(found.text, Tone.WARNING)
        if isinstance(found, Ask):
            names = "; ".join(option.label for option in found.options)
            return Notice(f"{found.text} ({names}) Mention them in the poll request.", Tone.INFO)
        groups = await ports.groups.groups_of(ctx.program, ctx.person.id)
        wanted = {p.id for p in found.people}
        circle = next((g for g in groups if set(g.members) >= wanted), None)
        if circle is not None and len(found.people) > 1:
            return circle.name, list(found.people), circle.channel
        return f"Meeting with {ctx.person.name}", list(found.people), None
    if ctx.channel is not None and not ctx.private:
        circle = await ports.groups.by_channel(ctx.program, ctx.channel)
        if circle is not None:
            people = await ports.people.many(circle.members)
            members = [people[m] for m in circle.members if m in people and m != ctx.person.id]
            return circle.name, members, circle.channel
        return await _channel_members(ports, ctx, ctx.channel)
    return Notice(WHO, Tone.INFO)


async def _channel_members(
    ports: Ports, ctx: Context, channel: str
) -> tuple[str, list[Person], str | None] | Notice:
    """Everyone in the channel but the organiser, when it has no circle and nobody was named.

    The title names the organiser, as for a poll of mentioned people: core knows the
    channel by its id only, and the title becomes the booked meeting's.
    """
    found = await ports.channel_members.members(ctx.program, channel, limit=MAX_INVITEES)
    if found is None:
        return Notice(WHO, Tone.INFO)
    if isinstance(found, CrowdedChannel):
        return _crowded(found)
    others: list[Person] = []
    seen = {ctx.person.id}  # the organiser is invited anyway, first
    for person in found:
        if person.id not in seen:
            seen.add(person.id)
            others.append(person)
    if not others:
        return Notice(
            "You're the only person in this channel I could invite. Mention the people to "
            "invite (“poll @ana @ben for an hour next week”), or ask me in a channel they're in.",
            Tone.INFO,
        )
    if len(others) + 1 > MAX_INVITEES:
        return _crowded(CrowdedChannel(len(others) + 1))
    return f"Meeting with {ctx.person.name}", others, channel


def _crowded(channel: CrowdedChannel) -> Notice:
    count = f"more than {channel.members:,}" if channel.at_least else f"{channel.members:,}"
    return Notice(
        f"This channel has {count} members, and a poll can invite at most {MAX_INVITEES} "
        "people (you included). Mention the people to invite (“poll @ana @ben for an hour "
        "next week”), or ask your program admin to link a circle to this channel.",
        Tone.INFO,
    )


# ---------------------------------------------------------------- the draft


async def draft_view(
    ports: Ports, ctx: Context, poll: Poll, notes: Sequence[str] = ()
) -> PollDraftView:
    names = await _names(ports, poll.invitees)
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
        return await _cancel(ports, ctx, poll)
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
    busy = await _busy_counts(ports, poll, [span])
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


# ---------------------------------------------------------------- voting


async def vote(ports: Ports, ctx: Context, action: actions.Vote) -> Outcome:
    """A click on "yes" or "if need be", decided in one transaction from the click as sent
    (its time and id, see :class:`~core.polls.Ballot`): however late it is handled, or if
    it is handled twice, the tally is what the clicks add up to."""
    poll = await ports.polls.get(action.poll)
    if poll is None:
        return Outcome(Notice(GONE, Tone.WARNING))
    if poll.status is not PollStatus.OPEN:
        return Outcome(Notice(_not_open(poll), Tone.INFO))
    if ctx.person.id not in poll.invitees:
        return Outcome(Notice("Only the people invited to this poll can vote in it.", Tone.INFO))
    option = next((o for o in poll.options if o.id == action.option), None)
    if option is None:
        return Outcome(Notice("That time is not part of this poll any more.", Tone.WARNING))
    click = Click(action.choice, ctx.sent_at or ports.clock.now(), ctx.event_id or ports.new_ref())
    ballot = await ports.polls.cast(poll.ref, option.id, ctx.person.id, click)
    if ballot is None:
        return Outcome(Notice("This poll just closed; your vote was not counted.", Tone.INFO))
    when = describe(option.start, ctx.zone)
    now = ballot.vote
    said = (
        f"You voted {_said(now)} for {when}."
        if now is not None
        else f"You withdrew your vote for {when}."
    )
    poll = await _refreshed(ports, poll)
    clashes = await _clashes(ports, ctx, poll)
    if clashes:
        said += (
            " Your calendar is busy at: "
            + "; ".join(describe(o.start, ctx.zone) for o in clashes)
            + "."
        )
    return Outcome(Notice(said, Tone.SUCCESS), updates=await _updates(ports, poll))


def _not_open(poll: Poll) -> str:
    state = "closed" if poll.status is PollStatus.CLOSED else "no longer open"
    return f"This poll is {state}; votes can't change any more."


def _said(choice: Choice) -> str:
    return "“yes”" if choice is Choice.YES else "“if need be”"


async def _refreshed(ports: Ports, poll: Poll) -> Poll:
    """The poll with busy counts at most ten minutes old (read again only when older)."""
    now = ports.clock.now()
    if poll.busy_checked_at is not None and now - poll.busy_checked_at < BUSY_REFRESH:
        return poll
    counts = await _busy_counts(ports, poll, [Interval(o.start, o.end) for o in poll.options])
    options = [replace(o, busy_count=n) for o, n in zip(poll.options, counts, strict=True)]
    await ports.polls.replace_options(poll.ref, options, now)
    return replace(poll, options=tuple(options), busy_checked_at=now)


async def _busy_counts(ports: Ports, poll: Poll, spans: Sequence[Interval]) -> list[int]:
    settings = await ports.programs.settings(poll.program)
    window = Interval(min(s.start for s in spans), max(s.end for s in spans))
    busy = await read(ports, poll.invitees, window)
    return [
        sum(busy.during(person, span, settings.rules) for person in poll.invitees) for span in spans
    ]


async def _clashes(ports: Ports, ctx: Context, poll: Poll) -> list[PollOption]:
    if not poll.options:
        return []
    settings = await ports.programs.settings(poll.program)
    window = Interval(poll.options[0].start, max(o.end for o in poll.options))
    mine = await read(ports, [ctx.person.id], window)
    return [
        o
        for o in poll.options
        if mine.during(ctx.person.id, Interval(o.start, o.end), settings.rules)
    ]


# ---------------------------------------------------------------- closing


@dataclass(frozen=True, slots=True)
class Result:
    """How a poll ended. ``text`` is for the shared message, so it names no time: each
    reader sees the options in their own zone, marked winner or tied. ``told`` is for the
    organiser alone, with the tied times in their zone."""

    winner: PollOption | None
    text: str
    tied: tuple[int, ...] = ()
    told: str = ""

    @property
    def private(self) -> str:
        return self.told or self.text


def decide(poll: Poll, votes: Sequence[Vote], zone: ZoneInfo) -> Result:
    """The winning option: every required attendee in, most "yes", then "if need be", earliest."""
    yes: dict[int, set[PersonId]] = {o.id: set() for o in poll.options}
    maybe: dict[int, set[PersonId]] = {o.id: set() for o in poll.options}
    for v in votes:
        (yes if v.choice is Choice.YES else maybe).setdefault(v.option, set()).add(v.person)
    if not votes:
        return Result(None, "Nobody voted, so nothing was booked.")
    required = set(poll.required)
    eligible = [o for o in poll.options if required <= yes[o.id] | maybe[o.id]]
    if not eligible:
        return Result(None, "No time suits every required attendee, so nothing was booked.")

    def score(option: PollOption) -> tuple[int, int]:
        return (len(yes[option.id]), len(maybe[option.id]))

    best = min(eligible, key=lambda o: (-score(o)[0], -score(o)[1], o.start))
    tied = [o for o in eligible if o is not best and score(o) == score(best)]
    if not tied:
        return Result(best, "The most popular time was booked.")
    others = ", ".join(describe(o.start, zone) for o in tied)
    count = "another time" if len(tied) == 1 else f"{len(tied)} other times"
    return Result(
        best,
        f"It tied with {count} (marked “tied”); the earliest was booked.",
        tied=tuple(o.id for o in tied),
        told=f"It tied with {others}; the earliest was booked.",
    )


async def close(ports: Ports, poll: Poll, *, by: Context | None) -> Outcome:
    """Close and book (the organiser's button, or the deadline when ``by`` is None)."""
    now = ports.clock.now()
    settings = await ports.programs.settings(poll.program)
    organizer = await ports.people.get(poll.organizer)
    zone = (
        by.zone
        if by
        else zone_of(organizer.timezone if organizer else None, settings.default_timezone)
    )
    if not await ports.polls.finish(poll.ref, PollStatus.CLOSED, now):
        # The close that won shows the result on the card; a render from here would not.
        return Outcome(Notice("This poll is already closed.", Tone.INFO))
    closed = await ports.polls.get(poll.ref) or poll
    result = decide(closed, await ports.polls.votes(poll.ref), zone)
    direct: tuple[DirectMessage, ...] = ()
    if result.winner is not None:
        votes = await ports.polls.votes(poll.ref)
        meeting, direct = await _book(
            ports, closed, option=result.winner, votes=votes, settings=settings, now=now
        )
        await ports.polls.booked(poll.ref, meeting.ref)
        closed = replace(closed, meeting=meeting.ref)
    view = await poll_view(ports, closed, zone, result=result)
    reply = Notice(result.private, Tone.SUCCESS if result.winner else Tone.INFO) if by else None
    return Outcome(reply, direct=direct, updates=_update(closed, view))


async def _book(
    ports: Ports,
    poll: Poll,
    *,
    option: PollOption,
    votes: Sequence[Vote],
    settings: ProgramSettings,
    now: datetime,
) -> tuple[Meeting, tuple[DirectMessage, ...]]:
    """Book the winning time for the organiser, those who said yes or "if need be" to it,
    and the required attendees: they get the invitation, and it is their busy time."""
    coming = {poll.organizer, *poll.required}
    coming |= {v.person for v in votes if v.option == option.id}
    people = await ports.people.many(poll.invitees)
    attendees = [people[p] for p in poll.invitees if p in people and p in coming]
    meeting = Meeting(
        ref=ports.new_ref(),
        program=poll.program,
        organizer=poll.organizer,
        participants=tuple(p.id for p in attendees),
        start=option.start,
        end=option.end,
        title=poll.title,
        created_at=now,
        poll_ref=poll.ref,
        proposer=poll.organizer,
        location=settings.location.place if settings.location.mode is LocationMode.FIXED else None,
    )
    messages = announce.invitation_emails(ports, meeting, attendees, settings, stamp=now)
    jobs = [
        *await publishing.delivery_jobs(ports, meeting, messages, now),
        *announce.reminder_jobs(meeting, settings, now),
    ]
    meeting, created = await ports.meetings.book(meeting, jobs)
    if not created:  # a second close in another process: its messages went out there
        return meeting, ()
    ask_place = settings.location.mode is LocationMode.ASK
    direct = tuple(
        DirectMessage(
            person.id,
            meeting_views.view(
                ports,
                meeting,
                person,
                attendees,
                settings,
                headline=f"The poll “{poll.title}” is closed: the meeting is booked.",
                zone=zone_of(person.timezone, settings.default_timezone),
                notes=meeting_views.not_emailed(attendees, messages, ports)
                if person.id == poll.organizer
                else (),
                place=ask_place and person.id == poll.organizer,
            ),
        )
        for person in attendees
    )
    return meeting, direct


async def card_updates(ports: Ports, poll: Poll) -> tuple[MessageUpdate, ...]:
    """The poll's card as it now is (its meeting cancelled, for one)."""
    return await _updates(ports, poll)


async def _cancel(ports: Ports, ctx: Context, poll: Poll) -> Outcome:
    if not await ports.polls.finish(poll.ref, PollStatus.CANCELLED, ports.clock.now()):
        return Outcome(Notice("This poll is already closed.", Tone.INFO))
    cancelled = await ports.polls.get(poll.ref) or poll
    view = await poll_view(ports, cancelled, ctx.zone)
    was_draft = poll.status is PollStatus.DRAFT
    return Outcome(
        Notice("The poll is discarded." if was_draft else "The poll is cancelled.", Tone.INFO),
        replaces_original=was_draft,
        updates=_update(cancelled, view),
    )


# ---------------------------------------------------------------- the deadline

# Durable jobs (see core.jobs), enqueued with the poll's opening in one transaction, so a
# posted poll always has them; whichever process claims one runs it, once.
CLOSE_JOB = "poll.close"
NUDGE_JOB = "poll.nudge"
NUDGE_AT_MOST = timedelta(hours=24)  # before the deadline


def deadline_jobs(ref: str, deadline: datetime | None, posted_at: datetime) -> list[NewJob]:
    """The close at ``deadline``, and one reminder halfway between posting and the deadline,
    or a day before the deadline when that is later."""
    if deadline is None:
        return []
    lead = min(NUDGE_AT_MOST, (deadline - posted_at) / 2)
    payload = {"poll": ref}
    return [
        NewJob(CLOSE_JOB, f"{CLOSE_JOB}:{ref}", payload, due_at=deadline),
        NewJob(NUDGE_JOB, f"{NUDGE_JOB}:{ref}", payload, due_at=deadline - lead),
    ]


async def deadline(ports: Ports, ref: str) -> tuple[ProgramId, Outcome] | None:
    """Close and book a poll whose deadline came; None when it is not open any more."""
    poll = await ports.polls.get(ref)
    if poll is None or poll.status is not PollStatus.OPEN:
        return None
    return poll.program, await close(ports, poll, by=None)


async def nudge(ports: Ports, ref: str) -> tuple[ProgramId, Outcome] | None:
    """Remind the invitees who have not voted (the organiser aside), each once."""
    poll = await ports.polls.get(ref)
    if poll is None or poll.status is not PollStatus.OPEN:
        return None
    now = ports.clock.now()
    settings = await ports.programs.settings(poll.program)
    waiting = [p for p in await ports.polls.unvoted(ref) if p != poll.organizer]
    people = await ports.people.many(waiting)
    direct: list[DirectMessage] = []
    for person in waiting:
        # Conditional in the database: a reminder interrupted and run again is sent once.
        if not await ports.polls.nudged(ref, person, now):
            continue
        found = people.get(person)
        zone = zone_of(found.timezone if found else None, settings.default_timezone)
        closes = describe(poll.deadline, zone) if poll.deadline else "soon"
        notice = Notice(
            f"Reminder: the poll “{poll.title}” closes {closes}, and you haven't voted yet.",
            Tone.INFO,
        )
        direct.append(DirectMessage(person, notice))
    return poll.program, Outcome(None, direct=tuple(direct))


# ---------------------------------------------------------------- the poll message


async def poll_view(
    ports: Ports, poll: Poll, zone: ZoneInfo, *, result: Result | None = None
) -> PollView:
    # Votes, status and version read together: the view says which state it shows.
    counted = await ports.polls.counted(poll.ref)
    votes = counted.votes
    poll = replace(poll, status=counted.status)
    names = await _names(ports, (poll.organizer, *poll.required))
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
            yes=sum(v.option == o.id and v.choice is Choice.YES for v in votes),
            if_need_be=sum(v.option == o.id and v.choice is Choice.IF_NEED_BE for v in votes),
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
        status=poll.status.value,
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
        version=counted.version,
    )


async def _updates(ports: Ports, poll: Poll) -> tuple[MessageUpdate, ...]:
    if poll.message is None:
        return ()
    organizer = await ports.people.get(poll.organizer)
    settings = await ports.programs.settings(poll.program)
    zone = zone_of(organizer.timezone if organizer else None, settings.default_timezone)
    view = await poll_view(ports, poll, zone)
    if view.status != PollStatus.OPEN.value:
        return ()  # closed meanwhile: the close's own update shows the result
    return _update(poll, view)


def _update(poll: Poll, view: PollView) -> tuple[MessageUpdate, ...]:
    if poll.message is None:
        return ()
    return (MessageUpdate(poll.message, view, version=view.version),)


async def _names(ports: Ports, people: Sequence[PersonId]) -> dict[PersonId, str]:
    found = await ports.people.many(list(dict.fromkeys(people)))
    return {pid: person.name for pid, person in found.items()}
