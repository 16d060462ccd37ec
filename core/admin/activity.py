"""How active each pair, circle and track is: the numbers an admin runs a program by.

Counted here from plain facts (storage reads meetings and polls in a few queries):

* a pair's meetings are those of exactly its two people; a circle's are those among its
  members only (three or more, or all of a smaller circle), and its polls those posted in
  its channel or among its members;
* **booked**: confirmed meetings (a proposal still waiting for the partner is not yet);
  **held**: booked ones that have ended; **cancelled** and **declined** as they ended up;
* **response rate**: of everyone a poll asked (drafts aside), the share who voted;
* **poll to booking**: the median time from a poll's creation to its meeting;
* per track: confirmed meetings per week (Monday to Sunday, UTC) over the last 12 weeks,
  how its participants' calendars are read, and its pairs that have not met in 30 days.

Only what the admin's scope may see is counted, and the period is the last year.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from core.admin.access import Scope
from core.admin.people import CalendarState, PeoplePorts, people
from core.admin.ports import AdminPorts
from core.admin.tracks import tracks
from core.people import Person, PersonId, ProgramId
from core.tracks import Track, TrackId

PERIOD = timedelta(days=365)
WEEKS = 12
QUIET_DAYS = 30
BOOKED = "confirmed"
CANCELLED = "cancelled"
DECLINED = "declined"
DRAFT = "draft"


@dataclass(frozen=True, slots=True)
class MeetingFact:
    ref: str
    start: datetime
    end: datetime
    status: str  # proposed, confirmed, declined, cancelled
    people: frozenset[PersonId]
    poll: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PollFact:
    ref: str
    organizer: PersonId
    channel: str | None
    status: str  # draft, open, closed, cancelled
    created_at: datetime
    invited: frozenset[PersonId]
    answered: frozenset[PersonId]  # voted for at least one time
    booked_at: datetime | None  # when its meeting was made


class ActivityFacts(Protocol):
    async def meetings(self, program: ProgramId, since: datetime) -> Sequence[MeetingFact]:
        """Meetings starting, or created, from ``since`` on."""
        ...

    async def polls(self, program: ProgramId, since: datetime) -> Sequence[PollFact]: ...


@dataclass(frozen=True, slots=True)
class Stats:
    booked: int
    held: int
    cancelled: int
    declined: int
    last: datetime | None  # the start of the last meeting held
    next: datetime | None  # the start of the next one booked or proposed
    days_since: int | None  # since the last meeting held ended
    polls: int
    response_rate: float | None  # 0..1; None without polls
    poll_to_booking: timedelta | None  # median


@dataclass(frozen=True, slots=True)
class PairActivity:
    mentor: Person
    mentee: Person
    track: str
    stats: Stats


@dataclass(frozen=True, slots=True)
class CircleActivity:
    name: str
    track: str
    members: int
    stats: Stats


@dataclass(frozen=True, slots=True)
class TrackActivity:
    track: Track
    weeks: tuple[tuple[date, int], ...]  # (Monday, confirmed meetings that week), oldest first
    calendars: tuple[tuple[str, int], ...]  # ("Google", 3), ("not connected", 2)...
    participants: int
    pairs: int
    quiet_pairs: int  # pairs that have not met in QUIET_DAYS

    @property
    def connected_share(self) -> float | None:
        if not self.participants:
            return None
        unread = {CalendarState.NOT_CONNECTED.label, CalendarState.NEEDS_RECONNECT.label}
        read = sum(n for label, n in self.calendars if label not in unread)
        return read / self.participants


@dataclass(frozen=True, slots=True)
class Activity:
    now: datetime
    pairs: tuple[PairActivity, ...]
    circles: tuple[CircleActivity, ...]
    tracks: tuple[TrackActivity, ...]


def stats(meetings: Sequence[MeetingFact], polls: Sequence[PollFact], now: datetime) -> Stats:
    booked = [m for m in meetings if m.status == BOOKED]
    held = [m for m in booked if m.end <= now]
    last = max(held, key=lambda m: m.start, default=None)
    upcoming = [m for m in meetings if m.status in (BOOKED, "proposed") and m.start > now]
    asked = [p for p in polls if p.status != DRAFT]
    invited = sum(len(p.invited) for p in asked)
    answered = sum(len(p.answered & p.invited) for p in asked)
    waits = [p.booked_at - p.created_at for p in asked if p.booked_at is not None]
    return Stats(
        booked=len(booked),
        held=len(held),
        cancelled=sum(1 for m in meetings if m.status == CANCELLED),
        declined=sum(1 for m in meetings if m.status == DECLINED),
        last=last.start if last else None,
        next=min((m.start for m in upcoming), default=None),
        days_since=(now - last.end).days if last else None,
        polls=len(asked),
        response_rate=answered / invited if invited else None,
        poll_to_booking=timedelta(seconds=statistics.median(w.total_seconds() for w in waits))
        if waits
        else None,
    )


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def activity(
    ports: AdminPorts, scope: Scope, reads: PeoplePorts, facts: ActivityFacts
) -> Activity:
    """Every pair, circle and track ``scope`` may see, with its numbers."""
    now = ports.clock.now()
    since = now - PERIOD
    meetings = list(await facts.meetings(scope.program, since))
    polls = list(await facts.polls(scope.program, since))
    # Indexed by their people: a pair's are found at once, not by a pass over them all.
    by_people: dict[frozenset[PersonId], list[MeetingFact]] = defaultdict(list)
    for meeting in meetings:
        by_people[meeting.people].append(meeting)
    polls_by_people: dict[frozenset[PersonId], list[PollFact]] = defaultdict(list)
    for poll in polls:
        polls_by_people[poll.invited | {poll.organizer}].append(poll)
    visible = await tracks(ports, scope)
    names = {t.id: t.name for t in visible}
    pair_sets: dict[frozenset[PersonId], TrackId | None] = {}
    pairs: list[PairActivity] = []
    for pair in await ports.pairings.listing(scope.program):
        if not scope.may(pair.track):
            continue
        two = frozenset({pair.mentor.id, pair.mentee.id})
        pair_sets[two] = pair.track
        mine = by_people.get(two, [])
        asked = polls_by_people.get(two, [])
        pairs.append(
            PairActivity(
                pair.mentor,
                pair.mentee,
                names.get(pair.track, "") if pair.track else "",
                stats(mine, asked, now),
            )
        )
    circles: list[CircleActivity] = []
    circle_sets: list[tuple[frozenset[PersonId], TrackId | None]] = []
    for circle in await ports.circles.all(scope.program):
        track = TrackId(circle.track) if circle.track else None
        if not scope.may(track):
            continue
        members = frozenset(circle.members)
        circle_sets.append((members, track))
        enough = min(3, len(members))
        mine = [
            m
            for m in meetings
            if m.people <= members and len(m.people) >= enough and m.people not in pair_sets
        ]
        asked = [
            p
            for p in polls
            if (circle.channel and p.channel == circle.channel)
            or (len(p.invited | {p.organizer}) >= enough and p.invited | {p.organizer} <= members)
        ]
        circles.append(
            CircleActivity(
                circle.name,
                names.get(track, "") if track else "",
                len(members),
                stats(mine, asked, now),
            )
        )
    return Activity(
        now,
        tuple(pairs),
        tuple(circles),
        tuple(
            await _tracks(
                ports,
                scope,
                reads,
                visible=visible,
                meetings=meetings,
                pair_sets=pair_sets,
                circle_sets=circle_sets,
                now=now,
            )
        ),
    )


async def _tracks(
    ports: AdminPorts,
    scope: Scope,
    reads: PeoplePorts,
    *,
    visible: list[Track],
    meetings: list[MeetingFact],
    pair_sets: dict[frozenset[PersonId], TrackId | None],
    circle_sets: list[tuple[frozenset[PersonId], TrackId | None]],
    now: datetime,
) -> list[TrackActivity]:

    def track_of(meeting: MeetingFact) -> TrackId | None:
        if meeting.people in pair_sets:
            return pair_sets[meeting.people]
        for members, track in circle_sets:
            if meeting.people <= members:
                return track
        return None

    this_week = monday(now.date())
    weeks = [this_week - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    per_week: Counter[tuple[TrackId | None, date]] = Counter(
        (track_of(m), monday(m.start.date())) for m in meetings if m.status == BOOKED
    )
    rows = await people(ports, scope, reads)
    met = {
        m.people
        for m in meetings
        if m.status == BOOKED and m.end <= now and now - m.end <= timedelta(days=QUIET_DAYS)
    }
    found = []
    for track in visible:
        in_track = [r for r in rows if track.name in r.tracks]
        calendars = Counter(
            r.service if r.state is CalendarState.CONNECTED and r.service else r.state.label
            for r in in_track
        )
        mine = [two for two, t in pair_sets.items() if t == track.id]
        found.append(
            TrackActivity(
                track,
                tuple((week, per_week[(track.id, week)]) for week in weeks),
                tuple(sorted(calendars.items(), key=lambda item: (-item[1], item[0]))),
                len(in_track),
                len(mine),
                sum(1 for two in mine if two not in met),
            )
        )
    return found
