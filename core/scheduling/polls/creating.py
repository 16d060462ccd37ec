""" "Poll my circle": whom to invite, and the times most of them can make."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from itertools import groupby

from core.availability import Mode, Slot, SlotRequest, find_slots
from core.calendars import BusyTimes
from core.commands import Command, assumption_text
from core.explain import Away, Full, explain
from core.people import CrowdedChannel, Person
from core.polls import Poll, PollOption, PollStatus
from core.scheduling.busy import read
from core.scheduling.common import asked_minutes, asked_window, engine_participant
from core.scheduling.context import Context, Ports
from core.scheduling.empty import reasons_text, window_words
from core.scheduling.participants import Ask, Refuse, resolve, visible_to
from core.scheduling.polls.constants import MAX_INVITEES, PROPOSED, WHO
from core.scheduling.polls.draft import draft_view
from core.scheduling.window import allowed
from core.views import (
    Notice,
    Outcome,
    Tone,
)


async def create(ports: Ports, ctx: Context, command: Command) -> Outcome:
    """Propose times to the organiser, privately, as a draft."""
    now = ports.clock.now()
    window = asked_window(command, now)
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
    duration = asked_minutes(command, settings)
    # Everyone is invited; only the calendars the organiser may see are read.
    seen = await visible_to(ports, ctx.program, ctx.person.id, [p.id for p in people])
    busy = await read(ports, seen, window)
    participants = [engine_participant(p, busy, settings, ctx) for p in people]
    within = allowed(window, command.time_of_day, command.excluded, ctx.zone)
    asked = SlotRequest(
        window=window,
        duration=timedelta(minutes=duration),
        participants=participants,
        now=now,
        rules=settings.rules,
        mode=Mode.MOST,
        within=within,
    )
    slots = find_slots(asked)
    chosen = propose(slots, PROPOSED, ctx)
    assumed = [assumption_text(item) for item in command.assumptions]
    if not chosen:
        why = reasons_text(
            [r for r in explain(asked) if not isinstance(r, Away | Full)],
            names={p.id: p.name for p in people},
            speaker=ctx.person.id,
            zone=ctx.zone,
        )
        nothing = (
            f"I couldn't find {duration} minutes {window_words(window, ctx.zone)} "
            f"({ctx.zone.key} time) within everyone's hours."
        )
        advice = "Try a longer window or a shorter meeting."
        return Outcome(Notice(" ".join([nothing, *why, advice, *assumed]), Tone.WARNING))
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
    return Outcome(await draft_view(ports, ctx, poll, assumed))


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
        found = await resolve(ports, ctx, command.participants, without=command.without)
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
