"""Small in-memory implementations of core's ports, and a World to write dialogues with.

world = World()
mentor = world.person("Ana", "Europe/London")
mentee = world.person("Ben", "America/New_York")
world.pair(mentor, mentee)
outcome = await world.send(mentor, Command(Intent.FIND_TIME, (RelationRef(Relation.MENTEE),)))
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from core.actions import ActionCodec
from core.availability import BusyInterval
from core.calendars import (
    BusyResult,
    BusyTimes,
    CalendarConnection,
    ConnectionStatus,
    NeedsReconnect,
    NotConnected,
    Unreadable,
)
from core.commands import Command, Provider
from core.errors import MailRefused
from core.invitations import InvitationEmail, Mailbox
from core.jobs import JobState, JobStatus, NewJob
from core.meetings import Meeting, SlotOffer
from core.organisation import (
    OrganisationConnection,
    OrganisationSetup,
    OrgProvider,
    OrgStatus,
)
from core.people import (
    Acquaintances,
    ChatIdentity,
    CrowdedChannel,
    Group,
    Listing,
    Person,
    PersonId,
    Platform,
    Profile,
    ProgramId,
)
from core.polls import (
    Ballot,
    BookOnClose,
    Choice,
    Click,
    Counted,
    Poll,
    PollOption,
    PollStatus,
    Vote,
)
from core.program import ProgramSettings, Visibility
from core.scheduling import Context, Ports, Scheduler
from core.time import Interval
from core.views import DirectMessage, Outcome

PROGRAM = ProgramId("slack:T1")


class WriteFailed(Exception):
    """A write refused by a fault a test set (``MemoryMeetings.failing``)."""


@dataclass
class FixedClock:
    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class MemoryPeople:
    people: dict[PersonId, Person] = field(default_factory=dict)
    chat_users: dict[tuple[ProgramId, str], PersonId] = field(default_factory=dict)
    chat_identities: dict[PersonId, list[ChatIdentity]] = field(default_factory=dict)
    writes: int = 0  # calls of remember
    handles: dict[tuple[ProgramId, str], str] = field(default_factory=dict)

    async def get(self, person: PersonId) -> Person | None:
        return self.people.get(person)

    async def many(self, people: Sequence[PersonId]) -> Mapping[PersonId, Person]:
        return {pid: self.people[pid] for pid in people if pid in self.people}

    async def by_chat_user(self, program: ProgramId, user_id: str) -> Person | None:
        person = self.chat_users.get((program, user_id))
        return None if person is None else self.people[person]

    async def listings(self, program: ProgramId) -> Sequence[Listing]:
        listed = [
            Listing(self.people[pid], self.handles.get((program, user)))
            for (prog, user), pid in self.chat_users.items()
            if prog == program
        ]
        return sorted(listed, key=lambda entry: (entry.person.name, entry.person.id))

    async def identities(self, person: PersonId) -> Sequence[ChatIdentity]:
        return self.chat_identities.get(person, [])

    async def remember(
        self, program: ProgramId, identity: ChatIdentity, profile: Profile
    ) -> Person:
        self.writes += 1
        pid = self.chat_users.get((program, identity.user_id))
        if pid is None and profile.email:
            pid = next((p.id for p in self.people.values() if p.email == profile.email), None)
        if pid is None:
            pid = PersonId(f"p-{len(self.people) + 1}")
            self.people[pid] = Person(pid, profile.name, profile.email, profile.timezone)
        else:
            known = self.people[pid]
            self.people[pid] = Person(
                pid,
                profile.name or known.name,
                profile.email or known.email,
                profile.timezone or known.timezone,
            )
        if profile.handle:
            self.handles[(program, identity.user_id)] = profile.handle
        if (program, identity.user_id) not in self.chat_users:
            self.chat_users[(program, identity.user_id)] = pid
            self.chat_identities.setdefault(pid, []).append(identity)
        return self.people[pid]

    async def list_program(self, program: ProgramId) -> Sequence[tuple[Person, str]]:
        listed = [
            (self.people[pid], user)
            for (prog, user), pid in self.chat_users.items()
            if prog == program
        ]
        return sorted(listed, key=lambda entry: entry[0].name)


@dataclass
class MemoryPairings:
    pairs: list[tuple[ProgramId, PersonId, PersonId]] = field(default_factory=list)
    people: MemoryPeople = field(default_factory=MemoryPeople)
    # Lambdas: both classes are defined further down.
    groups: MemoryGroups = field(default_factory=lambda: MemoryGroups())  # noqa: PLW0108
    programs: MemoryPrograms = field(default_factory=lambda: MemoryPrograms())  # noqa: PLW0108

    async def mentees_of(self, program: ProgramId, mentor: PersonId) -> Sequence[Person]:
        return [self.people.people[e] for p, m, e in self.pairs if p == program and m == mentor]

    async def mentors_of(self, program: ProgramId, mentee: PersonId) -> Sequence[Person]:
        return [self.people.people[m] for p, m, e in self.pairs if p == program and e == mentee]

    async def all(self, program: ProgramId) -> Sequence[tuple[Person, Person]]:
        people = self.people.people
        return [(people[m], people[e]) for p, m, e in self.pairs if p == program]

    async def acquaintances(self, program: ProgramId, person: PersonId) -> Acquaintances:
        """As storage reads it in one statement: from this world's pairs, circles, chat
        identities and admins."""
        mentees = await self.mentees_of(program, person)
        mentors = await self.mentors_of(program, person)
        members: list[PersonId] = []
        for group in await self.groups.groups_of(program, person):
            members.extend(m for m in group.members if m != person)
        found = await self.people.many(list(dict.fromkeys(members)))
        co_members = tuple(found[m] for m in dict.fromkeys(members) if m in found)
        known = {p.id for p in (*mentees, *mentors, *co_members)}
        user_ids = {
            user: pid
            for (prog, user), pid in self.people.chat_users.items()
            if prog == program and pid in known
        }
        admin = await self.programs.is_admin(program, person)
        return Acquaintances(tuple(mentees), tuple(mentors), co_members, user_ids, admin)


@dataclass
class MemoryGroups:
    groups: list[Group] = field(default_factory=list)

    async def groups_of(self, program: ProgramId, member: PersonId) -> Sequence[Group]:
        return [g for g in self.groups if g.program == program and member in g.members]

    async def by_channel(self, program: ProgramId, channel: str) -> Group | None:
        return next((g for g in self.groups if g.program == program and g.channel == channel), None)


@dataclass
class MemoryChannelMembers:
    """Channel members as a chat platform lists them; a channel not listed cannot be read."""

    channels: dict[tuple[ProgramId, str], list[Person]] = field(default_factory=dict)
    asked: list[tuple[ProgramId, str, int]] = field(default_factory=list)

    async def members(
        self, program: ProgramId, channel: str, *, limit: int
    ) -> Sequence[Person] | CrowdedChannel | None:
        self.asked.append((program, channel, limit))
        people = self.channels.get((program, channel))
        if people is None:
            return None
        return CrowdedChannel(len(people)) if len(people) > limit else list(people)


@dataclass
class MemoryJobs:
    """Jobs in memory, one per key, as storage keeps them (nothing runs them here)."""

    jobs: dict[str, JobState] = field(default_factory=dict)

    async def enqueue(self, job: NewJob, now: datetime, *, replace: bool = False) -> bool:
        kept = self.jobs.get(job.key)
        if kept is not None and not (replace and kept.version <= job.version):
            return False
        self.jobs[job.key] = JobState(
            job.kind,
            job.key,
            JobStatus.PENDING,
            dict(job.payload),
            job.due_at or now,
            0,
            job.version,
            None,
            None,
        )
        return True

    async def enqueue_all(self, jobs: Sequence[NewJob], now: datetime) -> int:
        return sum([await self.enqueue(job, now) for job in jobs])

    async def cancel(self, key: str, now: datetime) -> bool:
        kept = self.jobs.get(key)
        if kept is None or kept.status is not JobStatus.PENDING:
            return False
        self.jobs[key] = replace(kept, status=JobStatus.CANCELLED, done_at=now)
        return True

    async def state(self, key: str) -> JobState | None:
        return self.jobs.get(key)


@dataclass
class MemoryPolls:
    """Polls in memory, with the same rules as storage: atomic transitions, one vote per option."""

    polls: dict[str, Poll] = field(default_factory=dict)
    ballots: dict[tuple[str, int, PersonId], Ballot] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    nudges: set[tuple[str, PersonId]] = field(default_factory=set)
    next_option: int = 1
    jobs: MemoryJobs = field(default_factory=MemoryJobs)
    meetings: MemoryMeetings | None = None  # where a close books

    def _numbered(self, options: Sequence[PollOption]) -> tuple[PollOption, ...]:
        numbered = []
        for option in options:
            if option.id == 0:
                numbered.append(replace(option, id=self.next_option))
                self.next_option += 1
            else:
                numbered.append(option)
        return tuple(numbered)

    async def create(self, poll: Poll) -> Poll:
        stored = replace(poll, options=self._numbered(poll.options))
        self.polls[poll.ref] = stored
        return stored

    async def get(self, ref: str, *, cached: bool = False) -> Poll | None:
        del cached  # always current here
        return self.polls.get(ref)

    async def replace_options(
        self, ref: str, options: Sequence[PollOption], busy_checked_at: datetime | None
    ) -> None:
        poll = self.polls[ref]
        kept = {o.start: o.id for o in poll.options}
        options = [replace(o, id=kept.get(o.start, o.id)) for o in options]
        self.polls[ref] = replace(
            poll,
            options=self._numbered(options),
            busy_checked_at=busy_checked_at or poll.busy_checked_at,
        )
        if busy_checked_at is not None:
            self.versions[ref] = self.versions.get(ref, 0) + 1

    async def set_terms(
        self, ref: str, *, deadline: datetime | None, required: Sequence[PersonId]
    ) -> None:
        self.polls[ref] = replace(self.polls[ref], deadline=deadline, required=tuple(required))

    async def open(self, ref: str, now: datetime, *, then: Sequence[NewJob] = ()) -> bool:
        poll = self.polls[ref]
        if poll.status is not PollStatus.DRAFT:
            return False
        self.polls[ref] = replace(poll, status=PollStatus.OPEN, posted_at=now)
        await self.jobs.enqueue_all(then, now)
        return True

    async def posted(self, ref: str, message: Mapping[str, str]) -> None:
        self.polls[ref] = replace(self.polls[ref], message=dict(message))

    async def close(self, ref: str, now: datetime, book: BookOnClose) -> Poll | None:
        """All or nothing, as storage's one transaction: the booking is decided and written
        (where :attr:`MemoryMeetings.failing` may refuse it) before the poll is closed."""
        poll = self.polls[ref]
        if poll.status is not PollStatus.OPEN:
            return None
        closed = replace(poll, status=PollStatus.CLOSED, closed_at=now)
        booking = book(closed, await self.votes(ref))
        if booking is not None:
            assert self.meetings is not None, "World gives its polls their meetings"
            meeting, _ = await self.meetings.insert(booking.meeting, booking.jobs)
            closed = replace(closed, meeting=meeting.ref)
        self.polls[ref] = closed
        self.versions[ref] = self.versions.get(ref, 0) + 1
        return closed

    async def cancel(self, ref: str, now: datetime) -> bool:
        poll = self.polls[ref]
        if poll.status not in {PollStatus.OPEN, PollStatus.DRAFT}:
            return False
        self.polls[ref] = replace(poll, status=PollStatus.CANCELLED, closed_at=now)
        self.versions[ref] = self.versions.get(ref, 0) + 1
        return True

    async def cast(self, ref: str, option: int, person: PersonId, click: Click) -> Ballot | None:
        poll = self.polls.get(ref)
        if poll is None or poll.status is not PollStatus.OPEN:
            return None
        if option not in {o.id for o in poll.options}:
            return None
        ballot = self.ballots.get((ref, option, person), Ballot())
        counted = ballot.with_click(click)
        if counted is None:
            return ballot
        self.ballots[ref, option, person] = counted
        self.versions[ref] = self.versions.get(ref, 0) + 1
        return counted

    async def votes(self, ref: str, person: PersonId | None = None) -> Sequence[Vote]:
        return [
            Vote(option, voter, choice, ballot.at)
            for (poll, option, voter), ballot in sorted(self.ballots.items())
            if poll == ref and person in (None, voter) and (choice := ballot.vote) is not None
        ]

    async def counted(self, ref: str) -> Counted:
        poll = self.polls[ref]
        tallies: dict[int, tuple[int, int]] = {}
        for vote in await self.votes(ref):
            yes, maybe = tallies.get(vote.option, (0, 0))
            yes, maybe = (yes + 1, maybe) if vote.choice is Choice.YES else (yes, maybe + 1)
            tallies[vote.option] = (yes, maybe)
        return Counted(self.versions.get(ref, 0), poll.status, tallies, poll.busy_checked_at)

    async def unvoted(self, ref: str) -> Sequence[PersonId]:
        voters = {v.person for v in await self.votes(ref)}
        return sorted(
            p for p in self.polls[ref].invitees if p not in voters and (ref, p) not in self.nudges
        )

    async def nudged(self, ref: str, person: PersonId, now: datetime) -> bool:
        del now  # kept as a set: once is once
        if (ref, person) in self.nudges:
            return False
        self.nudges.add((ref, person))
        return True


@dataclass
class MemoryPrograms:
    current: dict[ProgramId, ProgramSettings] = field(default_factory=dict)
    admin_pairs: set[tuple[ProgramId, PersonId]] = field(default_factory=set)
    names: dict[ProgramId, str] = field(default_factory=dict)

    async def ensure(self, program: ProgramId, name: str) -> None:
        self.names.setdefault(program, name)

    async def settings(
        self, program: ProgramId, *, among: Sequence[PersonId] = ()
    ) -> ProgramSettings:
        """The program's rules; tracks are storage's (tests/admin and the integration
        tests cover them), so ``among`` changes nothing here."""
        del among
        return self.current.get(program, ProgramSettings())

    async def save_settings(self, program: ProgramId, settings: ProgramSettings) -> None:
        self.current[program] = settings

    async def is_admin(self, program: ProgramId, person: PersonId) -> bool:
        return (program, person) in self.admin_pairs

    async def admins(self, program: ProgramId) -> list[PersonId]:
        return sorted(person for p, person in self.admin_pairs if p == program)


@dataclass
class MemoryOrganisations:
    """Organisation connections and opt-outs, as storage keeps them (secrets not kept)."""

    people: MemoryPeople
    calendars: MemoryCalendars
    connections: dict[tuple[ProgramId, OrgProvider], OrganisationConnection] = field(
        default_factory=dict
    )
    opted: set[tuple[ProgramId, PersonId]] = field(default_factory=set)
    out_of_reach: set[tuple[ProgramId, PersonId]] = field(default_factory=set)

    async def of_program(self, program: ProgramId) -> list[OrganisationConnection]:
        return [c for (p, _), c in self.connections.items() if p == program]

    async def covering(self, program: ProgramId, person: Person) -> OrganisationConnection | None:
        if (program, person.id) in self.opted | self.out_of_reach:
            return None
        return next(
            (
                c
                for c in await self.of_program(program)
                if c.status is OrgStatus.CONNECTED and c.covers(person.email)
            ),
            None,
        )

    async def opt_out(self, program: ProgramId, person: PersonId, now: datetime) -> bool:
        del now
        if (program, person) in self.opted:
            return False
        self.opted.add((program, person))
        return True

    async def opt_in(self, program: ProgramId, person: PersonId) -> bool:
        if (program, person) not in self.opted:
            return False
        self.opted.discard((program, person))
        return True

    async def opted_out(self, program: ProgramId, person: PersonId) -> bool:
        return (program, person) in self.opted

    async def save(
        self, program: ProgramId, setup: OrganisationSetup, by: PersonId | None, now: datetime
    ) -> OrganisationConnection:
        del by
        saved = OrganisationConnection(
            program,
            setup.provider,
            setup.name,
            setup.domains,
            setup.program_account,
            OrgStatus.CONNECTED,
            now,
            can_write=setup.write,
        )
        self.connections[(program, setup.provider)] = saved
        return saved

    async def remove(
        self, program: ProgramId, provider: OrgProvider
    ) -> OrganisationConnection | None:
        return self.connections.pop((program, provider), None)

    async def people_covered(self, program: ProgramId, provider: OrgProvider) -> int:
        connection = self.connections.get((program, provider))
        if connection is None or connection.status is not OrgStatus.CONNECTED:
            return 0
        return sum(
            1
            for (p, _), person_id in self.people.chat_users.items()
            if p == program
            and connection.covers(self.people.people[person_id].email)
            and person_id not in self.calendars.connections
            and (program, person_id) not in self.opted | self.out_of_reach
        )


@dataclass
class MemoryCalendars:
    """Connections, busy times and connect links, as the calendar adapters would give them."""

    clock: FixedClock
    connections: dict[PersonId, CalendarConnection] = field(default_factory=dict)
    busy: dict[PersonId, list[BusyInterval]] = field(default_factory=dict)
    unreadable: dict[PersonId, str] = field(default_factory=dict)
    issued: list[tuple[ChatIdentity, PersonId, Provider]] = field(default_factory=list)
    reads: list[tuple[tuple[PersonId, ...], Interval, bool]] = field(default_factory=list)
    available: frozenset[Provider] = frozenset(Provider)
    revoked: dict[PersonId, bool] = field(default_factory=dict)  # person -> not yet told
    asked: dict[PersonId, datetime] = field(default_factory=dict)  # asked to reconnect, when

    async def get(self, person: PersonId) -> CalendarConnection | None:
        return self.connections.get(person)

    async def to_ask_to_reconnect(self, limit: int) -> Sequence[CalendarConnection]:
        waiting = [
            c
            for c in self.connections.values()
            if c.misses_free_events
            and c.person not in self.asked
            and c.status is ConnectionStatus.CONNECTED
        ]
        return waiting[:limit]

    async def asked_to_reconnect(self, person: PersonId, now: datetime) -> bool:
        connection = self.connections.get(person)
        if connection is None or not connection.misses_free_events or person in self.asked:
            return False
        self.asked[person] = now
        return True

    async def disconnect(self, person: PersonId) -> CalendarConnection | None:
        self.busy.pop(person, None)
        return self.connections.pop(person, None)

    async def busy_times(
        self, people: Sequence[PersonId], window: Interval, *, fresh: bool = False
    ) -> Mapping[PersonId, BusyResult]:
        self.reads.append((tuple(people), window, fresh))
        results: dict[PersonId, BusyResult] = {}
        for person in people:
            connection = self.connections.get(person)
            if person in self.revoked and connection is not None:
                results[person] = NeedsReconnect(connection.provider, tell=self.revoked[person])
                self.revoked[person] = False
            elif person in self.unreadable:
                results[person] = Unreadable(self.unreadable[person])
            elif connection is None or connection.status is not ConnectionStatus.CONNECTED:
                results[person] = NotConnected()
            else:
                blocks = [
                    b
                    for b in self.busy.get(person, [])
                    if b.start < window.end and window.start < b.end
                ]
                results[person] = BusyTimes(tuple(blocks))
        return results

    async def links(
        self, identity: ChatIdentity, person: PersonId, providers: Sequence[Provider]
    ) -> list[str]:
        urls = []
        for provider in providers:
            self.issued.append((identity, person, provider))
            urls.append(f"https://pairtime.test/connect/{provider.value}?state=s{len(self.issued)}")
        return urls


@dataclass
class MemoryOffers:
    offers: dict[str, SlotOffer] = field(default_factory=dict)

    async def add(self, offer: SlotOffer) -> None:
        self.offers[offer.ref] = offer

    async def get(self, ref: str) -> SlotOffer | None:
        return self.offers.get(ref)

    async def mark_shown(self, ref: str, shown: Sequence[Interval]) -> None:
        offer = self.offers[ref]
        self.offers[ref] = replace(offer, shown=(*offer.shown, *shown))


@dataclass
class MemoryMeetings:
    """Meetings; the jobs a change asks for go to ``jobs`` only when the change is made.

    ``failing`` is a fault: that many of the next new meetings are refused (the write
    raises :class:`WriteFailed`), whoever writes them (a booking, a poll's close)."""

    jobs: MemoryJobs = field(default_factory=MemoryJobs)
    meetings: dict[str, Meeting] = field(default_factory=dict)
    failing: int = 0
    polls: MemoryPolls | None = None  # where a poll's meeting is named

    async def book(self, meeting: Meeting, jobs: Sequence[NewJob] = ()) -> tuple[Meeting, bool]:
        existing = None
        if meeting.offer_ref:
            existing = await self.for_offer(meeting.offer_ref) or next(
                (
                    m
                    for m in sorted(self.meetings.values(), key=lambda m: m.ref)
                    if m.status.active
                    and set(m.attending) & set(meeting.participants)
                    and m.start < meeting.end
                    and m.end > meeting.start
                ),
                None,
            )
        if existing is not None:
            return existing, False
        stored, created = await self.insert(meeting, jobs)
        if created and meeting.poll_ref and self.polls is not None:
            poll = self.polls.polls[meeting.poll_ref]
            if poll.meeting is None:
                self.polls.polls[poll.ref] = replace(poll, meeting=meeting.ref)
        return stored, created

    async def insert(self, meeting: Meeting, jobs: Sequence[NewJob] = ()) -> tuple[Meeting, bool]:
        """``meeting`` stored with ``jobs`` unless its poll has one (storage's constraint)."""
        if meeting.poll_ref:
            existing = next(
                (m for m in self.meetings.values() if m.poll_ref == meeting.poll_ref), None
            )
            if existing is not None:
                return existing, False
        if self.failing:
            self.failing -= 1
            raise WriteFailed("the meeting was not stored (a fault the test set)")
        self.meetings[meeting.ref] = meeting
        await self.jobs.enqueue_all(jobs, meeting.created_at)
        return meeting, True

    async def get(self, ref: str) -> Meeting | None:
        return self.meetings.get(ref)

    async def for_offer(self, offer_ref: str) -> Meeting | None:
        return next((m for m in self.meetings.values() if m.offer_ref == offer_ref), None)

    async def upcoming(self, person: PersonId, after: datetime) -> Sequence[Meeting]:
        return sorted(
            (
                m
                for m in self.meetings.values()
                if person in m.attending and m.end > after and m.status.active
            ),
            key=lambda m: (m.start, m.ref),
        )

    async def busy(
        self, people: Sequence[PersonId], window: Interval, *, excluding: str | None = None
    ) -> Mapping[PersonId, Sequence[Interval]]:
        found: dict[PersonId, list[Interval]] = {}
        for meeting in self.meetings.values():
            if meeting.ref == excluding or not meeting.status.active:
                continue
            if not (meeting.start < window.end and window.start < meeting.end):
                continue
            for person in meeting.attending:
                if person in people:
                    found.setdefault(person, []).append(meeting.span)
        return found

    async def change(
        self, meeting: Meeting, *, expected: int, jobs: Sequence[NewJob] = ()
    ) -> Meeting | None:
        stored = self.meetings.get(meeting.ref)
        if stored is None or stored.sequence != expected:
            return None
        moved = (stored.start, stored.end) != (meeting.start, meeting.end)
        if (
            moved
            and meeting.status.active
            and any(
                m.ref != meeting.ref
                and m.status.active
                and set(m.attending) & set(meeting.attending)
                and m.start < meeting.end
                and m.end > meeting.start
                for m in self.meetings.values()
            )
        ):
            return None
        changed = replace(  # only what storage writes
            stored,
            status=meeting.status,
            start=meeting.start,
            end=meeting.end,
            title=meeting.title,
            proposer=meeting.proposer,
            location=meeting.location,
            declined=meeting.declined,
            sequence=expected + 1,
        )
        self.meetings[meeting.ref] = changed
        await self.jobs.enqueue_all(jobs, meeting.created_at)
        return changed


@dataclass
class MemoryMailer:
    """Keeps the invitations it is asked to send; ``down`` makes it fail as a server would."""

    sender: Mailbox = field(
        default_factory=lambda: Mailbox("Mentoring Program", "mentoring@example.org")
    )
    sent: list[InvitationEmail] = field(default_factory=list)
    down: bool = False

    async def send(self, email: InvitationEmail) -> None:
        if self.down:
            raise MailRefused("mail.test:25 could not be reached (ConnectionRefusedError)")
        self.sent.append(email)


class World:
    """A program in memory, with a Scheduler over it: the setting for dialogue tests.

    ``mail`` turns invitation emails on (``World.mailer`` keeps what is sent; the jobs that
    send them wait in ``World.jobs`` until :meth:`run_jobs`)."""

    def __init__(self, now: datetime | None = None, *, mail: bool = False) -> None:
        self.clock = FixedClock(now or datetime(2026, 11, 25, 10, 0, tzinfo=UTC))  # a Wednesday
        self.people = MemoryPeople()
        self.groups = MemoryGroups()
        self.programs = MemoryPrograms()
        self.pairings = MemoryPairings(
            people=self.people, groups=self.groups, programs=self.programs
        )
        self.calendars = MemoryCalendars(self.clock)
        self.offers = MemoryOffers()
        self.jobs = MemoryJobs()
        self.meetings = MemoryMeetings(self.jobs)
        self.polls = MemoryPolls(jobs=self.jobs, meetings=self.meetings)
        self.meetings.polls = self.polls
        self.channel_members = MemoryChannelMembers()
        self.organisations = MemoryOrganisations(self.people, self.calendars)
        self.mailer = MemoryMailer() if mail else None
        counter = itertools.count(1)
        self.ports = Ports(
            clock=self.clock,
            people=self.people,
            pairings=self.pairings,
            groups=self.groups,
            programs=self.programs,
            connections=self.calendars,
            busy=self.calendars,
            links=self.calendars,
            offers=self.offers,
            meetings=self.meetings,
            polls=self.polls,
            channel_members=self.channel_members,
            actions=ActionCodec([b"test key"]),
            jobs=self.jobs,
            organisations=self.organisations,
            new_ref=lambda: f"ref{next(counter)}",
            mailer=self.mailer,
        )
        self.scheduler = Scheduler(self.ports)

    def open_to_all(self) -> None:
        """Let anyone find times with anyone (``availability_visible_to: program``), as the
        tests written before that rule assume."""
        settings = self.programs.current.get(PROGRAM, ProgramSettings())
        self.programs.current[PROGRAM] = replace(
            settings, availability_visible_to=Visibility.PROGRAM
        )

    def person(
        self,
        name: str,
        timezone: str | None = "Europe/London",
        *,
        email: str | None = None,
        connected: Provider | None = Provider.GOOGLE,
        handle: str | None = None,
    ) -> Person:
        pid = PersonId(f"p-{name.lower().replace(' ', '-')}")
        person = Person(pid, name, email or f"{name.lower()}@example.org", timezone)
        self.people.people[pid] = person
        user_id = f"U{name.upper().replace(' ', '')}"
        self.people.chat_users[(PROGRAM, user_id)] = pid
        if handle:
            self.people.handles[(PROGRAM, user_id)] = handle
        self.people.chat_identities[pid] = [ChatIdentity(Platform.SLACK, "T1", user_id)]
        if connected is not None:
            self.connect(person, connected)
        return person

    def connect(self, person: Person, provider: Provider = Provider.GOOGLE) -> None:
        self.calendars.connections[person.id] = CalendarConnection(
            person.id, provider, person.email, ConnectionStatus.CONNECTED, self.clock.now()
        )

    def channel(self, channel: str, *members: Person) -> None:
        """``members`` are who the chat platform lists in ``channel``."""
        self.channel_members.channels[(PROGRAM, channel)] = list(members)

    def pair(self, mentor: Person, mentee: Person) -> None:
        self.pairings.pairs.append((PROGRAM, mentor.id, mentee.id))

    def busy(self, person: Person, start: str, end: str) -> None:
        self.calendars.busy.setdefault(person.id, []).append(
            BusyInterval(datetime.fromisoformat(start), datetime.fromisoformat(end))
        )

    async def context(
        self, person: Person, *, private: bool = True, channel: str | None = None
    ) -> Context:
        identity = self.people.chat_identities[person.id][0]
        return await self.scheduler.context(
            PROGRAM, person, identity, private=private, channel=channel
        )

    async def send(self, person: Person, command: Command, *, private: bool = True) -> Outcome:
        return await self.scheduler.handle(await self.context(person, private=private), command)

    async def say(self, person: Person, text: str, *, private: bool = True) -> Outcome:
        return await self.scheduler.handle_text(await self.context(person, private=private), text)

    def pending(self, kind: str) -> list[JobState]:
        """The jobs of ``kind`` waiting in the queue, due or not, in enqueue order."""
        return [
            j for j in self.jobs.jobs.values() if j.kind == kind and j.status is JobStatus.PENDING
        ]

    async def run_due(self, kind: str) -> list[tuple[ProgramId, Outcome]]:
        """Run the due jobs of a meeting ``kind`` as the worker would; what they say in chat."""
        said = []
        for job in self.pending(kind):
            if job.due_at > self.clock.now():
                continue
            self.jobs.jobs[job.key] = replace(job, status=JobStatus.DONE, done_at=self.clock.now())
            match kind:
                case "email":
                    await self.scheduler.send_invitation(job.payload)
                    continue
                case "meeting.reminder":
                    found = await self.scheduler.remind(job.payload)
                case "meeting.pending":
                    found = await self.scheduler.remind_pending(job.payload)
                case "meeting.told":
                    found = await self.scheduler.tell(job.payload)
                case _:
                    raise ValueError(kind)
            if found is not None:
                said.append(found)
        return said

    async def told(self) -> tuple[DirectMessage, ...]:
        """The private messages the changes so far left in the outbox and not yet sent (the
        ``meeting.told`` jobs, run as the worker would), in the order they were stored."""
        said = await self.run_due("meeting.told")
        return tuple(message for _, outcome in said for message in outcome.direct)

    async def click(self, person: Person, action: str, *, value: str | None = None) -> Outcome:
        return await self.scheduler.act(await self.context(person), action, value=value)

    async def click_seen(self, person: Person, action: str, *, value: str | None = None) -> Outcome:
        """The click's outcome with the private messages its change left in the outbox
        added to its own, sent as the worker would: what everyone is told of it."""
        outcome = await self.click(person, action, value=value)
        return replace(outcome, direct=(*outcome.direct, *await self.told()))


@dataclass
class RecordingMessenger:
    """A Messenger that keeps what it was asked to deliver."""

    deliveries: list[tuple[ProgramId, Outcome]] = field(default_factory=list)

    async def deliver(self, program: ProgramId, outcome: Outcome) -> bool:
        self.deliveries.append((program, outcome))
        return True
