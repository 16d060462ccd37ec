"""The availability engine: people's busy times and a program's rules in, meeting slots out.

How it works, and why it is fast without walking the clock:

1. Each participant's *allowed hours* (program rules and working hours, in
   their own zone) become one UTC interval per local day. The intersection
   of everybody's allowed hours, the window, the minimum notice and any extra
   restriction (such as "afternoons") is where a slot may lie.
2. Candidate starts are laid on that region every ``granularity`` minutes,
   aligned on the wall clock of the *first* participant (the organiser), so
   that a person in Kathmandu or Adelaide is offered 10:00 and 10:30 rather
   than 10:15 and 10:45. Across a clock change the grid stays on that wall
   clock: a time the clocks repeat is offered once per real instant.
3. Each busy interval is located among the sorted candidates with two
   binary searches, marking the candidates it overlaps. Busy intervals are
   never sorted or merged, so their input order cannot matter, and the cost
   is O(B log C) for B busy intervals and C candidates. The searches run
   through ``map`` over columns of starts and ends, so a year of calendars
   costs no Python bytecode per interval; :class:`BusyColumns` hands such
   columns in without an object per interval.

Ordering of the result (deterministic):

* ``all``: slots where every participant with a connected calendar is free,
  earliest first.
* ``most``: every candidate, most participants free first, then earliest
  first. Each slot lists who is free, busy and unknown in participant order.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from itertools import accumulate, chain, compress, repeat
from operator import add, attrgetter, gt, lt, not_, sub, truth
from typing import overload
from zoneinfo import ZoneInfo

from core.rules import AllDayEvents, Rules, WorkingHours, allowed_hours
from core.time import Interval, intersect, local_dates

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_FLIP = bytes.maketrans(b"\x00\x01", b"\x01\x00")  # busy flags to free flags
_START = attrgetter("start")
_END = attrgetter("end")
_STATUS = attrgetter("status")


class BusyStatus(StrEnum):
    """How a calendar describes a block of time."""

    BUSY = "busy"
    TENTATIVE = "tentative"
    OOF = "oof"  # out of office: always busy
    # An all-day event its owner marked free; all-day events marked busy are BUSY.
    # Busy or free as the program's ``all_day_events`` rule says.
    ALL_DAY = "all_day"
    WORKING_ELSEWHERE = "working_elsewhere"  # never busy
    FREE = "free"


class Mode(StrEnum):
    ALL = "all"  # one-to-one mentoring: everyone with a calendar must be free
    MOST = "most"  # group polls: rank by how many are free


@dataclass(frozen=True, slots=True)
class BusyInterval:
    """A block from someone's calendar. Times are aware (UTC from adapters); only the
    span and status leave adapters."""

    start: datetime
    end: datetime
    status: BusyStatus = BusyStatus.BUSY

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a busy interval cannot end before it starts")


@dataclass(frozen=True, slots=True)
class BusyColumns(Sequence[BusyInterval]):
    """Many busy intervals as three parallel columns, without an object per interval.

    What a large ``pairtime slots`` file decodes to; the engine reads the
    columns directly, anything else sees a sequence of :class:`BusyInterval`.
    """

    starts: Sequence[datetime]
    ends: Sequence[datetime]
    statuses: Sequence[BusyStatus]

    def __post_init__(self) -> None:
        if not len(self.starts) == len(self.ends) == len(self.statuses):
            raise ValueError("busy columns must have the same length")
        if any(map(gt, self.starts, self.ends)):
            raise ValueError("a busy interval cannot end before it starts")

    def __len__(self) -> int:
        return len(self.starts)

    @overload
    def __getitem__(self, index: int) -> BusyInterval: ...
    @overload
    def __getitem__(self, index: slice) -> BusyColumns: ...
    def __getitem__(self, index: int | slice) -> BusyInterval | BusyColumns:
        if isinstance(index, slice):
            return BusyColumns(self.starts[index], self.ends[index], self.statuses[index])
        return BusyInterval(self.starts[index], self.ends[index], self.statuses[index])


@dataclass(frozen=True, slots=True)
class Participant:
    """One person as the engine sees them.

    ``booked`` are Pairtime's own meetings: busy whether or not a calendar is
    connected, whatever the rules say of tentative or all-day time. Without a
    connected calendar, a person constrains slots only through the hours rules
    and those meetings, and is reported as ``unknown`` (``busy`` during them).
    """

    id: str
    timezone: ZoneInfo
    calendar_connected: bool = False
    busy: Sequence[BusyInterval] = ()
    working_hours: WorkingHours | None = None
    booked: Sequence[Interval] = ()


@dataclass(frozen=True, slots=True)
class SlotRequest:
    window: Interval
    duration: timedelta
    participants: Sequence[Participant]
    now: datetime
    rules: Rules = field(default_factory=Rules)
    mode: Mode = Mode.ALL
    limit: int | None = None
    # Extra restriction in absolute time, e.g. "afternoons" in the organiser's zone.
    within: Sequence[Interval] | None = None

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise ValueError("the duration must be positive")
        if not self.participants:
            raise ValueError("at least one participant is needed")
        ids = [participant.id for participant in self.participants]
        if len(set(ids)) != len(ids):
            raise ValueError("participant ids must be unique")
        if self.limit is not None and self.limit < 0:
            raise ValueError("the limit cannot be negative")


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    free: tuple[str, ...]
    busy: tuple[str, ...]
    unknown: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SlotTable:
    """The slots of :func:`find_slots` as columns, in the same order.

    For callers that turn thousands of slots into something else (the JSON of
    ``pairtime slots``) without building a :class:`Slot` each.
    """

    starts: Sequence[datetime]
    ends: Sequence[datetime]
    free: Sequence[tuple[str, ...]]
    busy: Sequence[tuple[str, ...]]
    unknown: Sequence[tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.starts)


def find_slots(request: SlotRequest) -> list[Slot]:
    """Candidate meeting slots for ``request``, ordered as the module docstring says."""
    table = slot_table(request)
    return list(map(Slot, table.starts, table.ends, table.free, table.busy, table.unknown))


def slot_table(request: SlotRequest) -> SlotTable:
    """:func:`find_slots`, as columns."""
    rules = request.rules
    participants = request.participants
    duration = request.duration
    connected = [p for p in participants if p.calendar_connected]
    ids = tuple(p.id for p in connected)
    unknown = tuple(p.id for p in participants if not p.calendar_connected)
    region = _meeting_region(request)
    starts = _aligned_starts(region, duration, rules.granularity, participants[0].timezone)
    # Comparing busy blocks against candidates widened by the buffer is the
    # same as widening every block, without touching each block.
    buffer = rules.buffer
    probe_ends = list(map(add, starts, repeat(duration + buffer)))
    probe_starts = list(map(sub, starts, repeat(buffer))) if buffer else starts
    counted = _counted_statuses(rules)

    def busy_flags(person: Participant) -> bytearray:
        """Where ``person`` is busy: their calendar if connected, and their meetings."""
        runs = []
        if person.calendar_connected:
            runs.append(_busy_runs(person.busy, counted, probe_starts, probe_ends))
        if person.booked:
            runs.append(_busy_runs(_as_busy(person.booked), counted, probe_starts, probe_ends))
        return _busy_mask(runs, len(starts))

    if request.mode is Mode.ALL:
        runs = [_busy_runs(p.busy, counted, probe_starts, probe_ends) for p in connected]
        runs += [
            _busy_runs(_as_busy(p.booked), counted, probe_starts, probe_ends)
            for p in participants
            if p.booked
        ]
        blocked = _busy_mask(runs, len(starts))
        starts = list(compress(starts, map(not_, blocked)))
        if request.limit is not None:
            starts = starts[: request.limit]
        return SlotTable(
            starts,
            list(map(add, starts, repeat(duration))),
            [ids] * len(starts),
            [()] * len(starts),
            [unknown] * len(starts),
        )

    busy_masks = [busy_flags(p) for p in connected]
    if busy_masks:
        # zip(*masks) is each candidate's row of flags, in participant order.
        busy = list(map(tuple, map(compress, repeat(ids), zip(*busy_masks, strict=True))))
        free_masks = [mask.translate(_FLIP) for mask in busy_masks]
        free = list(map(tuple, map(compress, repeat(ids), zip(*free_masks, strict=True))))
    else:
        busy, free = [()] * len(starts), [()] * len(starts)
    unknowns: list[tuple[str, ...]] = [unknown] * len(starts)
    booked_only = [p for p in participants if not p.calendar_connected and p.booked]
    if booked_only:
        # People without a calendar are busy in their meetings and unknown the rest of
        # the time; rebuild both lists in participant order where any of them is busy.
        in_meetings = [busy_flags(p) for p in booked_only]
        masks = {p.id: m for p, m in zip(booked_only, in_meetings, strict=True)}
        for index in set(chain.from_iterable(_flagged(m) for m in in_meetings)):
            busy_now = set(busy[index]) | {pid for pid, m in masks.items() if m[index]}
            busy[index] = tuple(p.id for p in participants if p.id in busy_now)
            unknowns[index] = tuple(p for p in unknown if not (p in masks and masks[p][index]))
    # Most free first; sorted() is stable, also in reverse, so ties stay earliest first.
    order = sorted(range(len(starts)), key=list(map(len, free)).__getitem__, reverse=True)
    if request.limit is not None:
        order = order[: request.limit]
    starts = list(map(starts.__getitem__, order))
    return SlotTable(
        starts,
        list(map(add, starts, repeat(duration))),
        list(map(free.__getitem__, order)),
        list(map(busy.__getitem__, order)),
        list(map(unknowns.__getitem__, order)),
    )


def _as_busy(spans: Sequence[Interval]) -> list[BusyInterval]:
    return [BusyInterval(span.start, span.end) for span in spans]


def _flagged(mask: bytearray) -> list[int]:
    return list(compress(range(len(mask)), mask))


def _meeting_region(request: SlotRequest) -> list[Interval]:
    """Where a slot may lie: window, notice, extra restriction and everyone's hours."""
    earliest = max(request.window.start, request.now + request.rules.min_notice)
    if earliest >= request.window.end:
        return []
    span = Interval(earliest, request.window.end)
    region = [span]
    if request.within is not None:
        region = intersect(region, sorted(request.within))
    # People often share a zone and hours; compute each distinct pair once.
    seen: set[tuple[ZoneInfo, WorkingHours | None]] = set()
    for participant in request.participants:
        key = (participant.timezone, participant.working_hours)
        if key in seen:
            continue
        seen.add(key)
        hours = allowed_hours(span, participant.timezone, request.rules, participant.working_hours)
        region = intersect(region, hours)
        if not region:
            break
    return region


def _aligned_starts(
    region: list[Interval], duration: timedelta, step: timedelta, zone: ZoneInfo
) -> list[datetime]:
    """Starts on ``zone``'s wall-clock grid of ``step``, each leaving room for ``duration``.

    Where the offset is the same at both ends of a span (nearly always), the
    grid is an arithmetic progression in UTC. Where the clocks change inside
    it, the grid is read off the wall clock itself, so that a grid that does
    not divide the shift (45 minutes over a one-hour change, anything over Lord
    Howe's half hour) stays on the wall clock, no grid time is skipped, and a
    wall-clock time repeated after a fall-back is offered once per real instant.
    """
    starts: list[datetime] = []
    for span in region:
        last = span.end - duration
        if last < span.start:
            continue
        if _offset(span.start, zone) == _offset(last, zone):
            start = _first_aligned(span.start, step, zone)
            while start <= last:
                starts.append(start)
                start += step
        else:
            starts.extend(_wall_clock_grid(span.start, last, step, zone))
    return starts


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _first_aligned(instant: datetime, step: timedelta, zone: ZoneInfo) -> datetime:
    """The first instant at or after ``instant`` whose wall-clock time is a multiple of ``step``.

    Only for a stretch with one offset: the rounding uses the offset at
    ``instant``. A step divides a day, so "a multiple of ``step`` after local
    midnight" is the same as a multiple of ``step`` since the epoch on the wall
    clock.
    """
    wall = (instant + _offset(instant, zone) - _EPOCH) // _MICROSECOND
    remainder = wall % (step // _MICROSECOND)
    if remainder == 0:
        return instant
    return instant + (step - remainder * _MICROSECOND)


def _wall_clock_grid(
    first: datetime, last: datetime, step: timedelta, zone: ZoneInfo
) -> list[datetime]:
    """Every instant in ``[first, last]`` at which ``zone``'s clock reads a multiple of ``step``.

    Each grid time of each local day is tried with both folds: a time the
    clocks skip does not come back to itself and is dropped, and a time they
    repeat gives two instants. Slow (a conversion per grid time), so kept for
    the spans in which the clocks change.
    """
    found: set[datetime] = set()
    for day in local_dates(Interval(first, last), zone):
        midnight = datetime.combine(day, time())
        for index in range(_DAY // step):
            wall = midnight + index * step
            for fold in (0, 1):
                instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
                if first <= instant <= last and _wall(instant, zone) == wall:
                    found.add(instant)
    return sorted(found)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _counted_statuses(rules: Rules) -> frozenset[BusyStatus]:
    counted = {BusyStatus.BUSY, BusyStatus.OOF}
    if rules.tentative_is_busy:
        counted.add(BusyStatus.TENTATIVE)
    if rules.all_day_events is AllDayEvents.BUSY:
        counted.add(BusyStatus.ALL_DAY)
    return frozenset(counted)


def _busy_runs(
    busy: Sequence[BusyInterval],
    counted: frozenset[BusyStatus],
    starts: list[datetime],
    ends: list[datetime],
) -> tuple[list[int], list[int]]:
    """The runs of candidates that counted busy intervals overlap, as firsts and stops.

    Candidate ``i`` spans ``[starts[i], ends[i])``; both lists are sorted, so
    the candidates a block ``[b0, b1)`` overlaps are those ending after ``b0``
    and starting before ``b1``: one run ``[first, stop)`` found by two
    bisections. Blocks that overlap no candidate are left out.
    """
    if isinstance(busy, BusyColumns):
        block_starts, block_ends, statuses = busy.starts, busy.ends, busy.statuses
    else:
        block_starts = list(map(_START, busy))
        block_ends = list(map(_END, busy))
        statuses = list(map(_STATUS, busy))
    keep = list(map(counted.__contains__, statuses))
    if not all(keep):
        block_starts = list(compress(block_starts, keep))
        block_ends = list(compress(block_ends, keep))
    firsts = list(map(bisect_right, repeat(ends), block_starts))
    stops = list(map(bisect_left, repeat(starts), block_ends))
    overlapping = list(map(lt, firsts, stops))
    return list(compress(firsts, overlapping)), list(compress(stops, overlapping))


def _busy_mask(runs: list[tuple[list[int], list[int]]], size: int) -> bytearray:
    """1 for each of ``size`` candidates inside any run, else 0.

    Few runs among many candidates: a slice assignment per run. Many runs:
    counting where runs open and close, then summing along the candidates,
    marks them all in C, at about a third of a run's cost per candidate.
    """
    if 2 * sum(len(firsts) for firsts, _ in runs) < size:
        mask = bytearray(size)
        for firsts, stops in runs:
            for first, stop in zip(firsts, stops, strict=True):
                mask[first:stop] = b"\x01" * (stop - first)
        return mask
    opened = Counter(chain.from_iterable(firsts for firsts, _ in runs))
    closed = Counter(chain.from_iterable(stops for _, stops in runs))
    changes = map(
        sub, map(opened.get, range(size), repeat(0)), map(closed.get, range(size), repeat(0))
    )
    return bytearray(map(truth, accumulate(changes)))


def busy_during(busy: Sequence[BusyInterval], span: Interval, rules: Rules) -> bool:
    """Whether any block that counts as busy under ``rules`` overlaps ``span`` (plus buffer)."""
    counted = _counted_statuses(rules)
    start, end = span.start - rules.buffer, span.end + rules.buffer
    return any(b.status in counted and b.start < end and start < b.end for b in busy)
