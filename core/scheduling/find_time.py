"""Find a time: read everyone's busy times, run the engine, offer a spread of slots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace as dataclass_replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.actions import MoreTimes, PickSlot, ReplayFind, ReplayKept
from core.availability import Mode, SlotRequest, find_slots
from core.calendars import BusyResult, BusyTimes, NeedsReconnect, ReconnectCause, Unreadable
from core.commands import Command, assumption_text
from core.explain import explain
from core.meetings import SlotOffer
from core.people import Person, PersonId
from core.program import ProgramSettings
from core.scheduling.busy import read
from core.scheduling.common import (
    FindRequest,
    TimeTaken,
    asked_minutes,
    asked_window,
    engine_participant,
)
from core.scheduling.connections import PRIVATELY, connect_prompt, reconnect_request
from core.scheduling.context import Context, Ports
from core.scheduling.empty import reasons_text, window_words
from core.scheduling.participants import ONLY_PARTNERS, Ask, Chosen, Refuse, may_see, resolve
from core.time import Interval, describe
from core.tracks import effective
from core.views import (
    Button,
    ButtonStyle,
    DirectMessage,
    Notice,
    Outcome,
    Question,
    SlotChoice,
    SlotPicker,
    Tone,
)

PAGE_SIZE = 8  # times per picker: enough choice, still readable on a phone
TAKEN = "That time can't be booked any more: a calendar changed, or it is now too soon."
KEPT_GONE = "That button has expired. Ask me again for fresh times."
SHORTEST = 15  # minutes; below this a "shorter meeting" suggestion makes no sense


async def find_time(ports: Ports, ctx: Context, command: Command) -> Outcome:
    settings = await ports.programs.settings(ctx.program)
    window = asked_window(command, ports.clock.now())
    resolution = await resolve(ports, ctx, command.participants, without=command.without)
    if isinstance(resolution, Refuse):
        carry_on: tuple[Button, ...] = ()
        text = resolution.text
        if resolution.settled:
            text += f" Or carry on without them: {_with_you(resolution.settled)}."
            alone = _asked(command, resolution.settled, window, settings)
            carry_on = (
                Button(
                    f"Times with {_with_you(resolution.settled)}",
                    await alone.seal(ports, ctx.program, ctx.person.id),
                ),
            )
        return Outcome(Notice(text, Tone.WARNING, carry_on))
    if isinstance(resolution, Ask):
        options = []
        for option in resolution.options:
            asked = _asked(command, (*resolution.settled, *option.people), window, settings)
            options.append(
                Button(option.label, await asked.seal(ports, ctx.program, ctx.person.id))
            )
        return Outcome(Question(resolution.text, tuple(options)))
    settings = await _rules_among(ports, ctx, resolution)
    request = _asked(command, resolution.people, window, settings)
    assumed = [assumption_text(item) for item in command.assumptions]
    assumed += resolution.notes
    return await offer_times(
        ports, ctx, settings, request, others=resolution.people, assumed=assumed
    )


def _asked(
    command: Command, people: Sequence[Person], window: Interval, settings: ProgramSettings
) -> FindRequest:
    """What ``command`` asks of ``people`` (the speaker aside) within ``window``."""
    return FindRequest(
        tuple(p.id for p in people),
        asked_minutes(command, settings),
        window,
        command.time_of_day,
        ruled_out=command.ruled_out,
    )


async def _rules_among(ports: Ports, ctx: Context, chosen: Chosen) -> ProgramSettings:
    """The rules of the track the speaker's pair or circle with these people is in. With one
    partner, their pair's track came with whom the speaker knows: no read of its own."""
    people = chosen.people
    tracks = chosen.known.pair_tracks if chosen.known is not None else {}
    if len(people) == 1 and people[0].id in tracks:
        return effective(await ports.programs.settings(ctx.program), tracks[people[0].id])
    return await ports.programs.settings(
        ctx.program, among=[ctx.person.id, *(p.id for p in people)]
    )


async def replay(ports: Ports, ctx: Context, action: ReplayFind) -> Outcome:
    """A suggestion or clarification button: run the request it carries, for its requester only."""
    return await _replay(ports, ctx, action.requester, FindRequest.replayed(action))


async def replay_kept(ports: Ports, ctx: Context, action: ReplayKept) -> Outcome:
    """The same, for a request too long to carry: run the one kept for the button (gone once
    offers' lifetime has passed, or when someone it names was forgotten)."""
    kept = await ports.offers.get(action.offer)
    if kept is None or kept.program != ctx.program:
        return Outcome(Notice(KEPT_GONE, Tone.WARNING))
    return await _replay(ports, ctx, kept.requester, FindRequest.kept(kept))


async def _replay(ports: Ports, ctx: Context, requester: PersonId, request: FindRequest) -> Outcome:
    if requester != ctx.person.id:
        return Outcome(Notice("That button was meant for someone else.", Tone.WARNING))
    if not await may_see(ports, ctx, request.others):  # the program's rule may have changed
        return Outcome(Notice(f"{ONLY_PARTNERS}.", Tone.WARNING))
    settings = await ports.programs.settings(ctx.program, among=[ctx.person.id, *request.others])
    return await offer_times(ports, ctx, settings, request, replace=True)


async def offer_again(ports: Ports, ctx: Context, taken: TimeTaken) -> Outcome:
    """Fresh times in place of the picker whose time was taken meanwhile."""
    return await offer_times(ports, ctx, taken.settings, taken.request, replace=True, lead=TAKEN)


async def offer_times(
    ports: Ports,
    ctx: Context,
    settings: ProgramSettings,
    request: FindRequest,
    *,
    replace: bool = False,
    lead: str | None = None,
    others: Sequence[Person] | None = None,
    assumed: Sequence[str] = (),
) -> Outcome:
    """Offer a page of free times for ``request``; ``lead`` is a note to put first.

    ``others`` are the request's people when the caller has just looked them up;
    ``assumed`` says what the parser assumed ("I looked over the next two weeks...").
    """
    now = ports.clock.now()
    if others is None:
        found = await ports.people.many(request.others)
        others = [found[pid] for pid in request.others if pid in found]
    people = [ctx.person, *others]
    busy = await read(ports, [p.id for p in people], request.window, excluding=request.moving)
    results = busy.calendars
    participants = [engine_participant(person, busy, settings, ctx) for person in people]
    asked = SlotRequest(
        window=request.window,
        duration=timedelta(minutes=request.duration_minutes),
        participants=participants,
        now=now,
        rules=settings.rules,
        mode=Mode.ALL,
        within=request.within(ctx.zone),
    )
    slots = find_slots(asked)
    if request.moving is not None:  # a move offers other times than the meeting's own
        moving = await ports.meetings.get(request.moving)
        if moving is not None:
            slots = [slot for slot in slots if slot.start != moving.start]
    if not slots:
        why = reasons_text(
            explain(asked),
            names={p.id: p.name for p in people},
            speaker=ctx.person.id,
            zone=ctx.zone,
        )
        notice = await _nothing_free(ports, ctx, settings, request, people=people, why=why)
        text = " ".join([*([lead] if lead else []), notice.text, *assumed])
        return Outcome(dataclass_replace(notice, text=text), replaces_original=replace)
    all_slots = tuple(Interval(slot.start, slot.end) for slot in slots)
    page = spread(all_slots, PAGE_SIZE, ctx.zone)
    offer = SlotOffer(
        ref=ports.new_ref(),
        program=ctx.program,
        requester=ctx.person.id,
        participants=tuple(p.id for p in people),
        duration_minutes=request.duration_minutes,
        window=request.window,
        slots=all_slots,
        shown=tuple(page),
        created_at=now,
        time_of_day=request.time_of_day,
        moving=request.moving,
        ruled_out=request.ruled_out,
    )
    await ports.offers.add(offer)
    notes = [lead] if lead else []
    notes += assumed
    notes += _notes(ctx, people, results)
    picker = await picker_for(
        ports,
        ctx,
        offer=offer,
        page=page,
        others=others,
        notes=notes,
        connected=isinstance(results.get(ctx.person.id), BusyTimes | NeedsReconnect | Unreadable),
    )
    return Outcome(
        picker, direct=await _reconnect_requests(ports, ctx, results), replaces_original=replace
    )


async def _reconnect_requests(
    ports: Ports, ctx: Context, results: Mapping[PersonId, BusyResult]
) -> tuple[DirectMessage, ...]:
    """One message to each person whose revoked calendar this read discovered."""
    messages = []
    for person, result in results.items():
        if isinstance(result, NeedsReconnect) and result.tell:
            message = await reconnect_request(
                ports, ctx.program, person, result.provider, result.cause
            )
            if message is not None:
                messages.append(message)
    return tuple(messages)


async def more_times(ports: Ports, ctx: Context, action: MoreTimes) -> Outcome:
    offer = await ports.offers.get(action.offer)
    if offer is None:
        return Outcome(
            Notice("Those times have expired. Ask me again for fresh ones.", Tone.WARNING)
        )
    if ctx.person.id != offer.requester:
        return Outcome(Notice("Only the person who asked can see more times here.", Tone.WARNING))
    settings = await ports.programs.settings(ctx.program, among=offer.participants)
    earliest = ports.clock.now() + settings.rules.min_notice
    remaining = [s for s in offer.slots if s not in offer.shown and s.start >= earliest]
    if not remaining:
        return Outcome(Notice("Those were all the free times I found in that window.", Tone.INFO))
    page = spread(remaining, PAGE_SIZE, ctx.zone)
    shown = (*offer.shown, *page)
    await ports.offers.mark_shown(offer.ref, page)
    found = await ports.people.many(offer.participants)
    others = [found[pid] for pid in offer.participants if pid in found and pid != ctx.person.id]
    updated = dataclass_replace(offer, shown=shown)
    picker = await picker_for(ports, ctx, offer=updated, page=page, others=others, notes=())
    return Outcome(picker, replaces_original=True)


async def picker_for(
    ports: Ports,
    ctx: Context,
    *,
    offer: SlotOffer,
    page: Sequence[Interval],
    others: Sequence[Person],
    notes: Sequence[str],
    connected: bool | None = None,
) -> SlotPicker:
    """The picker for ``page`` of ``offer``; ``connected`` says whether the speaker has a
    calendar when the caller already knows (it saves asking again)."""
    shown = set(offer.shown)  # a set: a week's slots against a tuple cost ~0.3 ms a picker
    remaining = sum(1 for slot in offer.slots if slot not in shown)
    connect = None
    if connected is None:
        connected = await ports.connections.get(ctx.person.id) is not None
    if not connected:
        if ctx.private:
            prompt = await connect_prompt(ports, ctx, None)
            connect = prompt if not isinstance(prompt, Notice) else None
        else:  # connect links are personal: never in a message others can see
            notes = [*notes, PRIVATELY]
    return SlotPicker(
        title=f"Times for {_with_you(others)}",
        zone=ctx.zone,
        duration_minutes=offer.duration_minutes,
        slots=tuple(
            SlotChoice(
                slot.start,
                slot.end,
                ports.actions.seal(PickSlot(offer.ref, slot.start)),
            )
            for slot in page
        ),
        more=Button("More times", ports.actions.seal(MoreTimes(offer.ref))) if remaining else None,
        notes=tuple(notes),
        connect=connect,
        remaining=remaining,
    )


def spread(slots: Sequence[Interval], count: int, zone: ZoneInfo) -> list[Interval]:
    """Up to ``count`` of ``slots``, spread across days and across each day, in order.

    Ten slots on one morning are no choice at all: the days with free time
    share the places round-robin (earlier days get any extra), and each day's
    share is taken at evenly spaced points of that day.
    """
    by_day: dict[object, list[Interval]] = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(zone).date(), []).append(slot)
    days = list(by_day.values())
    quotas = [0] * len(days)
    left = count
    while left:
        before = left
        for index, day in enumerate(days):
            if left and quotas[index] < len(day):
                quotas[index] += 1
                left -= 1
        if left == before:  # every day is used up
            break
    chosen: list[Interval] = []
    for day, take in zip(days, quotas, strict=True):
        if take == 1:
            chosen.append(day[0])
        elif take > 1:
            step = (len(day) - 1) / (take - 1)
            chosen.extend(day[round(index * step)] for index in range(take))
    return sorted(chosen)


def _notes(
    ctx: Context, people: Sequence[Person], results: Mapping[PersonId, BusyResult]
) -> list[str]:
    notes = []
    for person in people:
        result = results.get(person.id)
        speaker = person.id == ctx.person.id
        whose = "Your calendar" if speaker else f"{person.name}'s calendar"
        if isinstance(result, Unreadable):
            notes.append(
                f"{whose} couldn't be checked just now ({result.reason}), so it was left out."
            )
        elif isinstance(result, NeedsReconnect) and result.cause is ReconnectCause.KEY_MISSING:
            notes.append(f"{whose} can't be read by this server just now, so it was left out.")
        elif isinstance(result, NeedsReconnect):
            notes.append(f"{whose} needs to be reconnected, so its times are not checked.")
        elif not isinstance(result, BusyTimes):
            if speaker:
                notes.append("You haven't connected a calendar, so your own times are not checked.")
            else:
                notes.append(
                    f"{person.name} hasn't connected a calendar, so their times are not checked."
                )
    if ctx.zone_assumed:
        notes.append(
            f"Times are shown in {ctx.zone.key}, because your chat profile has no time zone."
        )
    return notes


async def _nothing_free(
    ports: Ports,
    ctx: Context,
    settings: ProgramSettings,
    request: FindRequest,
    *,
    people: Sequence[Person],
    why: Sequence[str],
) -> Notice:
    """No time: the window searched, why, and the next window's first free time."""
    length = request.window.end - request.window.start
    later = dataclass_replace(
        request,
        window=Interval(request.window.end, request.window.end + max(length, timedelta(days=7))),
    )
    first = await _first_free(ports, ctx, settings, later, people)
    label = "Look further ahead" if first is None else f"Times from {describe(first, ctx.zone)}"
    program, requester = ctx.program, ctx.person.id
    buttons = [Button(label, await later.seal(ports, program, requester), ButtonStyle.PRIMARY)]
    if request.duration_minutes > SHORTEST:
        shorter = dataclass_replace(
            request, duration_minutes=max(SHORTEST, request.duration_minutes // 2)
        )
        buttons.append(
            Button(
                f"Try {shorter.duration_minutes} minutes",
                await shorter.seal(ports, program, requester),
            )
        )
    if request.time_of_day is not None:
        any_time = dataclass_replace(request, time_of_day=None)
        buttons.append(Button("Any time of day", await any_time.seal(ports, program, requester)))
    searched = window_words(request.window, ctx.zone)
    nothing = (
        f"I couldn't find {request.duration_minutes} free minutes for "
        f"{_with_you(people[1:])} {searched} ({ctx.zone.key} time)."
    )
    return Notice(" ".join([nothing, *why]), Tone.WARNING, tuple(buttons))


async def _first_free(
    ports: Ports,
    ctx: Context,
    settings: ProgramSettings,
    request: FindRequest,
    people: Sequence[Person],
) -> datetime | None:
    """The first free time of ``request``, for the button that offers it."""
    busy = await read(ports, [p.id for p in people], request.window, excluding=request.moving)
    slots = find_slots(
        SlotRequest(
            window=request.window,
            duration=timedelta(minutes=request.duration_minutes),
            participants=[engine_participant(p, busy, settings, ctx) for p in people],
            now=ports.clock.now(),
            rules=settings.rules,
            mode=Mode.ALL,
            within=request.within(ctx.zone),
            limit=1,
        )
    )
    return slots[0].start if slots else None


def _with_you(people: Sequence[Person]) -> str:
    """ "you and Ben", "you, Ben and Cleo"."""
    names = ["you", *(person.name for person in people)]
    if len(names) == 1:
        return "you"
    return f"{', '.join(names[:-1])} and {names[-1]}"
