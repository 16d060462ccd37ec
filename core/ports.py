"""The ports core needs from the outside world, as Protocols.

``storage/`` implements the repositories, ``adapters/calendars`` the busy-time
source, connect links and calendar connections; tests use the in-memory
versions in ``tests/memory.py``. Every method that touches the outside is
async; none takes or returns a token or a password.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.calendars import BusyResult, CalendarConnection
from core.commands import Provider
from core.invitations import InvitationEmail, Mailbox
from core.jobs import JobState, NewJob
from core.meetings import Meeting, SlotOffer
from core.organisation import (
    OrganisationConnection,
    OrganisationSetup,
    OrgProvider,
    Verified,
)
from core.people import (
    Acquaintances,
    ChatIdentity,
    CrowdedChannel,
    Group,
    Listing,
    Person,
    PersonId,
    Profile,
    ProgramId,
)
from core.polls import Ballot, BookOnClose, Click, Counted, Poll, PollOption, Vote
from core.program import ProgramSettings
from core.publishing import ProgramEvent, PublishedEvent
from core.time import Interval
from core.views import Outcome


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class People(Protocol):
    async def get(self, person: PersonId) -> Person | None: ...

    async def many(self, people: Sequence[PersonId]) -> Mapping[PersonId, Person]: ...

    async def by_chat_user(self, program: ProgramId, user_id: str) -> Person | None:
        """The person behind a mention in this program's chat platform."""
        ...

    async def listings(self, program: ProgramId) -> Sequence[Listing]:
        """Everyone known in ``program`` with their handle there, by name, for finding people
        by the words typed (``core.scheduling.lookup`` matches them)."""
        ...

    async def identities(self, person: PersonId) -> Sequence[ChatIdentity]: ...

    async def remember(
        self, program: ProgramId, identity: ChatIdentity, profile: Profile
    ) -> Person:
        """The person behind ``identity``, created or refreshed from ``profile`` (fields it
        leaves empty keep what was known). Someone known on another platform by the same
        email is the same person: one calendar serves them everywhere."""
        ...

    async def list_program(self, program: ProgramId) -> Sequence[tuple[Person, str]]:
        """Everyone known in ``program`` with their chat user id there, by name."""
        ...


class Pairings(Protocol):
    async def mentees_of(self, program: ProgramId, mentor: PersonId) -> Sequence[Person]: ...

    async def mentors_of(self, program: ProgramId, mentee: PersonId) -> Sequence[Person]: ...

    async def acquaintances(self, program: ProgramId, person: PersonId) -> Acquaintances:
        """``person``'s mentees, mentors and circle co-members, their chat user ids, and
        whether ``person`` is an admin of ``program``: in one read, as every search asks."""
        ...

    async def all(self, program: ProgramId) -> Sequence[tuple[Person, Person]]:
        """Every (mentor, mentee) pair of the program, by mentor then mentee name."""
        ...


class Groups(Protocol):
    async def groups_of(self, program: ProgramId, member: PersonId) -> Sequence[Group]: ...

    async def by_channel(self, program: ProgramId, channel: str) -> Group | None:
        """The circle that meets in ``channel``, if one is linked to it."""
        ...


class ChannelMembers(Protocol):
    async def members(
        self, program: ProgramId, channel: str, *, limit: int
    ) -> Sequence[Person] | CrowdedChannel | None:
        """The people in ``channel`` (no bots, no deactivated accounts), each known to
        Pairtime from then on: a poll asked for in a channel with no circle invites them.

        More than ``limit`` people gives :class:`CrowdedChannel` (an adapter may tell from
        its own count, apps included, without looking everyone up). None: this platform
        cannot list that channel (Pairtime is not in it, lacks a permission, or it is gone).
        """
        ...


class Programs(Protocol):
    async def ensure(self, program: ProgramId, name: str) -> None:
        """Create the program on first contact; later calls change nothing."""
        ...

    async def settings(
        self, program: ProgramId, *, among: Sequence[PersonId] = ()
    ) -> ProgramSettings:
        """The program's rules; for a search ``among`` some people, their track's: the
        track of the pair they form, else of the one circle they are all in (for one
        person, the one track they are in). Without one, the program's own."""
        ...

    async def save_settings(self, program: ProgramId, settings: ProgramSettings) -> None: ...

    async def is_admin(self, program: ProgramId, person: PersonId) -> bool: ...

    async def admins(self, program: ProgramId) -> Sequence[PersonId]: ...


class CalendarConnections(Protocol):
    async def get(self, person: PersonId) -> CalendarConnection | None: ...

    async def disconnect(self, person: PersonId) -> CalendarConnection | None:
        """Forget the person's calendar (revoking the grant where the provider allows).

        Returns what was removed, or None when nothing was connected.
        """
        ...

    async def to_ask_to_reconnect(self, limit: int) -> Sequence[CalendarConnection]:
        """Connections that miss events marked free whose owner was not yet asked to
        reconnect (at most ``limit``)."""
        ...

    async def asked_to_reconnect(self, person: PersonId, now: datetime) -> bool:
        """Note that ``person`` is being asked; True only for the one call, in any process,
        that noted it first."""
        ...


class Organisations(Protocol):
    """A program's organisation connections (see :mod:`core.organisation`), and who opted out."""

    async def of_program(self, program: ProgramId) -> Sequence[OrganisationConnection]: ...

    async def covering(self, program: ProgramId, person: Person) -> OrganisationConnection | None:
        """The connected organisation connection that reads ``person``'s calendar: their
        address is in its domains, they did not opt out, and its last read of their
        mailbox did not find it outside the grant's reach."""
        ...

    async def opt_out(self, program: ProgramId, person: PersonId, now: datetime) -> bool:
        """``person`` asks not to be read through the organisation; False if they had."""
        ...

    async def opt_in(self, program: ProgramId, person: PersonId) -> bool:
        """``person`` may be read through the organisation again; False if they could."""
        ...

    async def opted_out(self, program: ProgramId, person: PersonId) -> bool: ...

    async def save(
        self, program: ProgramId, setup: OrganisationSetup, by: PersonId | None, now: datetime
    ) -> OrganisationConnection:
        """Store the connection (its secret sealed) as ``setup``, which the provider has
        verified (:meth:`~core.organisation.OrganisationSetup.as_verified`), replacing the
        program's earlier one of the same kind."""
        ...

    async def remove(
        self, program: ProgramId, provider: OrgProvider
    ) -> OrganisationConnection | None:
        """Delete the connection and its stored secret; what was removed, if anything."""
        ...

    async def people_covered(self, program: ProgramId, provider: OrgProvider) -> int:
        """How many of the program's people the connection reads (no personal connection,
        not opted out, in its domains, not found outside its reach)."""
        ...


class OrganisationAuthority(Protocol):
    """The providers' side of an organisation connection (the calendar adapters)."""

    def consent_url(self, setup: OrganisationSetup) -> str | None:
        """Where an administrator grants the access first (Microsoft's admin consent)."""
        ...

    async def verify(self, setup: OrganisationSetup) -> Verified:
        """Fetch one token and read the program account's calendar with it; raises
        :class:`~core.organisation.OrganisationRefused` saying what failed."""
        ...

    async def forget(self, connection: OrganisationConnection) -> None:
        """Drop what was kept in memory for the connection (tokens, sessions); best effort."""
        ...


class BusyTimeSource(Protocol):
    async def busy_times(
        self, people: Sequence[PersonId], window: Interval, *, fresh: bool = False
    ) -> Mapping[PersonId, BusyResult]:
        """Busy times of everyone in ``people`` over ``window``, read concurrently.

        Every person gets an answer: their busy blocks, "not connected", or
        "unreadable" with a reason. ``fresh`` skips any cache (used right
        before booking).
        """
        ...


class ConnectLinks(Protocol):
    @property
    def available(self) -> frozenset[Provider]:
        """The services this server can connect (it has their app credentials)."""
        ...

    async def links(
        self, identity: ChatIdentity, person: PersonId, providers: Sequence[Provider]
    ) -> list[str]:
        """Single-use URLs, one per provider in order, through which ``person``, speaking
        as ``identity``, connects. Made together (one write, not one per service)."""
        ...


class ConsoleSignIn(Protocol):
    """The admin console's door: who may sign in, and their single-use sign-in links."""

    async def may_sign_in(self, program: ProgramId, person: PersonId) -> bool:
        """Whether ``person`` is an admin of ``program`` or of one of its tracks."""
        ...

    async def link(self, program: ProgramId, identity: ChatIdentity, person: PersonId) -> str:
        """A sign-in URL for ``person`` speaking as ``identity``: once, within 10 minutes."""
        ...


class ChatAddresses(Protocol):
    """How to reach a person or a channel on a chat platform later, in the platform's own
    terms (a Bot Framework conversation reference): kept per program and key."""

    async def save(
        self, program: ProgramId, key: str, address: dict[str, Any], now: datetime
    ) -> None: ...

    async def get(self, program: ProgramId, key: str) -> dict[str, Any] | None: ...


class EventLog(Protocol):
    """Chat events seen before: Slack and Teams resend what they think was lost."""

    async def first_time(self, key: str, now: datetime) -> bool:
        """Record ``key``; True only for the first caller, whichever process it runs in."""
        ...

    async def claim(self, key: str, now: datetime, lease: timedelta) -> bool:
        """Claim ``key`` until ``now + lease``, for work that is settled once done:
        True when the key is new, or its earlier claim ran out unsettled (whoever held it
        died at work); False while another claim holds it, and once it is settled."""
        ...

    async def settle(self, key: str) -> None:
        """The claimed work is done: ``key`` is taken for good, as by :meth:`first_time`."""
        ...

    async def release(self, key: str) -> None:
        """The claimed work failed: ``key`` may be claimed again at once."""
        ...


class Jobs(Protocol):
    """Durable work (see :mod:`core.jobs`): enqueued here, run by a worker in some process.

    Exactly once per key: of many enqueues of one key, one job is kept (and a key stays
    taken while its finished job is kept, a week). The worker retries a failing job with
    backoff, then gives up.
    """

    async def enqueue(self, job: NewJob, now: datetime, *, replace: bool = False) -> bool:
        """Store ``job`` unless its key exists; True when this call stored it.

        With ``replace``, a job of the same key takes the new payload, due time and
        version and is pending again (even if it ran already), unless it holds a higher
        ``version``: a card rendered from older state never replaces a newer one. A job
        replaced while it runs is run again with the new payload once that run ends.
        """
        ...

    async def enqueue_all(self, jobs: Sequence[NewJob], now: datetime) -> int:
        """Store each job whose key is new, in one transaction; how many were stored."""
        ...

    async def cancel(self, key: str, now: datetime) -> bool:
        """Drop the pending job of ``key`` (a reminder of a meeting that moved); False when
        there was none pending. A run already under way finishes but is not retried."""
        ...

    async def state(self, key: str) -> JobState | None:
        """The stored job of ``key``, if it is kept."""
        ...


class Messenger(Protocol):
    async def deliver(self, program: ProgramId, outcome: Outcome) -> bool:
        """Send ``outcome``'s direct messages and apply its message updates, outside any
        conversation (its reply is unused); False when the platform refused or failed a step
        (logged), which may go through if tried again. Never raises.

        Used when Pairtime speaks first: after a calendar connects, for poll
        reminders, when a poll's deadline closes it, and for the private messages a
        meeting's change left in the outbox (``core.scheduling.outbox``).
        """
        ...


class Offers(Protocol):
    async def add(self, offer: SlotOffer) -> None: ...

    async def get(self, ref: str) -> SlotOffer | None: ...

    async def mark_shown(self, ref: str, shown: Sequence[Interval]) -> None:
        """Record that ``shown`` have now been offered too ("more times")."""
        ...


class Polls(Protocol):
    """Polls and votes. Every transition is atomic: of two processes, one wins."""

    async def create(self, poll: Poll) -> Poll:
        """Store a new poll; its options get their ids here (the ids in ``poll`` are ignored)."""
        ...

    async def get(self, ref: str, *, cached: bool = False) -> Poll | None:
        """The poll as stored. With ``cached``, an open, posted poll may be as this process
        read it last: its invitees, options and message no longer change then, but its
        status may have (``cast`` checks it again) and its busy counts too (``counted``
        says when they were checked)."""
        ...

    async def replace_options(
        self, ref: str, options: Sequence[PollOption], busy_checked_at: datetime | None
    ) -> None:
        """A draft's options after an edit, or anyone's busy counts after a refresh."""
        ...

    async def set_terms(
        self, ref: str, *, deadline: datetime | None, required: Sequence[PersonId]
    ) -> None: ...

    async def open(self, ref: str, now: datetime, *, then: Sequence[NewJob] = ()) -> bool:
        """Draft to open, and ``then`` enqueued in the same transaction (its deadline);
        False, and nothing enqueued, when it was not a draft any more."""
        ...

    async def posted(self, ref: str, message: Mapping[str, str]) -> None: ...

    async def close(self, ref: str, now: datetime, book: BookOnClose) -> Poll | None:
        """Close an open poll and store its booking, in one transaction: a crash or a failed
        write leaves the poll open with nothing booked, never closed without its meeting.

        The poll is closed first (clicks under way are counted before, none after); ``book``
        is then given it, closed, and its final votes, and says what to book (None:
        nothing); that meeting, its jobs and the poll's link to it are written with the
        close. ``book`` runs inside the transaction, so it must be quick and call no port;
        an exception from it rolls the close back. Returns the poll as stored (its meeting
        named), or None when it was not open: of two closes, one books.
        """
        ...

    async def cancel(self, ref: str, now: datetime) -> bool:
        """Cancel an open poll or a draft; True only for the call that changed it."""
        ...

    async def cast(self, ref: str, option: int, person: PersonId, click: Click) -> Ballot | None:
        """Add ``click`` to ``person``'s ballot on ``option``, in one transaction, and return
        the ballot; None (nothing changed) when the poll is not open or the option not in it.

        A click counted before (its id) changes nothing and returns the ballot as it is.
        Each counted click raises the poll's version (see :meth:`counted`).
        """
        ...

    async def votes(self, ref: str, person: PersonId | None = None) -> Sequence[Vote]:
        """The poll's votes (only ``person``'s when given), by option then person."""
        ...

    async def counted(self, ref: str) -> Counted:
        """The poll's tally and its version, read together: what a card shows and which
        state it shows (counted by the database: a vote reads no one's vote)."""
        ...

    async def unvoted(self, ref: str) -> Sequence[PersonId]:
        """Invitees who have not voted and were not reminded yet."""
        ...

    async def nudged(self, ref: str, person: PersonId, now: datetime) -> bool:
        """Mark the reminder sent; True only for the call that marked it."""
        ...


class Meetings(Protocol):
    """Meetings, each change atomic: of two processes (or twenty clicks), one wins."""

    async def book(self, meeting: Meeting, jobs: Sequence[NewJob] = ()) -> tuple[Meeting, bool]:
        """Store ``meeting`` unless its offer (or poll) already has one, atomically, with
        ``jobs`` (its invitations and reminders) enqueued in the same transaction. An
        offer's meeting is also refused when one of its people has another proposed or
        confirmed meeting (not declined) overlapping it: two offers of the same time,
        clicked at once by both people of a pair, make one meeting.

        Returns the stored meeting (or the one in the way) and whether this call created
        it: under any concurrency, one offer yields exactly one meeting and one set of jobs.
        A poll's meeting (``poll_ref``) is named on its poll in the same transaction (a poll
        closed without its meeting, booked late; a close books through ``Polls.close``).
        """
        ...

    async def get(self, ref: str) -> Meeting | None: ...

    async def for_offer(self, offer_ref: str) -> Meeting | None: ...

    async def upcoming(self, person: PersonId, after: datetime) -> Sequence[Meeting]:
        """``person``'s proposed and confirmed meetings ending after ``after`` (not those
        they declined), earliest first."""
        ...

    async def busy(
        self, people: Sequence[PersonId], window: Interval, *, excluding: str | None = None
    ) -> Mapping[PersonId, Sequence[Interval]]:
        """When each of ``people`` has a proposed or confirmed meeting in ``window`` (one they
        did not decline); ``excluding`` leaves out one meeting (the one being moved). People
        without any are absent."""
        ...

    async def change(
        self, meeting: Meeting, *, expected: int, jobs: Sequence[NewJob] = ()
    ) -> Meeting | None:
        """Store ``meeting``'s status, time, proposer, location and declines, with its sequence
        raised, if its stored sequence is still ``expected``, and enqueue ``jobs`` with it;
        the stored meeting, or None when another change got there first (nothing written,
        nothing enqueued). A new time is refused the same way (None, the sequence left as
        it was) when one of its people has another active meeting overlapping it."""
        ...


class PersonalData(Protocol):
    """Everything stored about one person, for a subject access request and for erasure."""

    async def export(self, person: PersonId) -> Mapping[str, Any]:
        """One JSON-ready document of what is held about ``person``, secrets left out."""
        ...

    async def erase(self, person: PersonId) -> Mapping[str, int]:
        """Delete ``person`` and everything that names them, in one transaction; what they
        counted in (votes, invitations, meetings) is kept, pointing at an anonymous
        stand-in. Returns how many of each kind of record went (zero counts left out)."""
        ...


class Mailer(Protocol):
    """Sends invitation emails: the SMTP adapter (an organisation's own calendar account
    may take its place later, behind the same port)."""

    @property
    def sender(self) -> Mailbox:
        """Who invitations come from: their From, and the ORGANIZER of their iCalendar."""
        ...

    async def send(self, email: InvitationEmail) -> None:
        """Hand one message over; :class:`~core.errors.MailRefused` when it was not taken."""
        ...


class MeetingPublisher(Protocol):
    """The program account's calendar (see :mod:`core.publishing`): the organisation
    connection's write grant, behind one port. Called from the worker's durable jobs."""

    async def can_publish(self, program: ProgramId) -> bool:
        """Whether ``program`` has a working organisation connection with the write grant
        whose kind can create events here."""
        ...

    async def publish(
        self, event: ProgramEvent, previous: PublishedEvent | None
    ) -> PublishedEvent | None:
        """Create the event (``previous`` None), update it, or cancel it (``event.active``
        False; None comes back). Creating twice for one meeting makes one event.
        :class:`~core.errors.PublishRefused` says whether trying again may help."""
        ...


class ProgramEvents(Protocol):
    """Which provider event each meeting became on the program account's calendar."""

    async def get(self, meeting: str) -> PublishedEvent | None: ...

    async def save(self, published: PublishedEvent, now: datetime) -> None:
        """Keep ``published``; its join link becomes the meeting's place when it has none
        (without changing the meeting's sequence: its buttons stay valid)."""
        ...

    async def forget(self, meeting: str) -> None:
        """The event was cancelled: nothing is left to update."""
        ...
