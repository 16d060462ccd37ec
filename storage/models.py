"""The tables. Constraints, not process-local locks, keep data right under concurrency:

* one calendar connection per person (``calendar_connections.person_id`` unique);
* one meeting per slot offer (``meetings.offer_ref`` unique), and per poll;
* a meeting changes only from the sequence its changer read (a conditional update);
* one vote per person and poll option (primary key), so repeats cannot count twice;
* a chat event or activity is processed once (``processed_events`` primary key);
* durable work is kept once per key (``jobs.key`` unique), and claimed by one worker at a
  time (a lease in ``claimed_by`` / ``claimed_until``, see ``repositories.jobs``).

Every secret column holds a Fernet token (see ``storage.crypto``), never plaintext.
Times are stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints, so migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Program(Base):
    """A mentoring program: one per Slack workspace, Teams tenant, or the web playground."""

    __tablename__ = "programs"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # "slack:T123"
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class Person(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ChatIdentity(Base):
    """How a person is known on one platform in one program."""

    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("program_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str | None] = mapped_column(String(200))  # @maria
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)


class ProgramAdmin(Base):
    __tablename__ = "program_admins"

    program_id: Mapped[str] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )


class Track(Base):
    """A part of a program ("2026 engineering mentoring"): its pairs and circles, and the
    rules it overrides (``rules``: only the rules it changes, as ``RuleChanges``'s JSON).
    Archived, never deleted, so that activity and the audit log keep their names."""

    __tablename__ = "tracks"
    __table_args__ = (Index("ix_tracks_program_name", "program_id", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]


class TrackAdmin(Base):
    """An admin of some tracks only (a program-wide admin is in ``program_admins``)."""

    __tablename__ = "track_admins"

    track_id: Mapped[str] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AuditEntry(Base):
    """One change an admin made (rules, tracks, roster, admins): who, when, old → new.

    The actor and track are plain columns, not foreign keys: the log outlives them."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_program_at", "program_id", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor_id: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))  # as shown: a name, or "command line"
    track_id: Mapped[str | None] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(300))  # "Earliest start", "pair ana → ben"
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)


class Pairing(Base):
    __tablename__ = "pairings"
    __table_args__ = (UniqueConstraint("program_id", "mentor_id", "mentee_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    mentor_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    mentee_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    # The track the pair belongs to (tracks are archived, never deleted: no foreign key, so
    # migration 0007 adds it with a plain ALTER TABLE). Written on every insert.
    track_id: Mapped[str | None] = mapped_column(String(40), index=True)


class Group(Base):
    """A mentoring circle: named once in its program, and meeting in at most one channel
    that no other circle of the program meets in."""

    __tablename__ = "groups"
    __table_args__ = (
        Index("ix_groups_program_name", "program_id", "name", unique=True),
        Index("ix_groups_program_channel", "program_id", "channel", unique=True),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(200))
    track_id: Mapped[str | None] = mapped_column(String(40), index=True)  # as Pairing's


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CalendarConnection(Base):
    """A person's one calendar. ``secret`` is sealed: OAuth tokens or iCloud credentials."""

    __tablename__ = "calendar_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    # The account's address, sealed like the secret (it came with a credential), and the
    # masked form statuses show (core.privacy.masked).
    account: Mapped[str | None] = mapped_column(Text)
    account_hint: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20))
    secret: Mapped[str] = mapped_column(Text)
    connected_at: Mapped[datetime]
    last_sync: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # A grant that cannot see events marked free (Google connections made before Pairtime
    # read events): its owner is asked once to reconnect, at ``reconnect_asked_at``.
    misses_free_events: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reconnect_asked_at: Mapped[datetime | None]
    # Of the next 14 days, how many the last read found filled by all-day or
    # out-of-office events (None before the first read).
    away_days: Mapped[int | None]


class ConnectState(Base):
    """A single-use, expiring ticket from a connect link to its OAuth callback."""

    __tablename__ = "connect_states"

    state: Mapped[str] = mapped_column(String(100), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(20))
    # The PKCE verifier and the like, sealed: they let whoever holds them finish the flow.
    secret: Mapped[str | None] = mapped_column(Text)
    # SHA-256 (hex) of the cookie of the first browser that opened the link: only it may
    # go on. The cookie itself is never stored.
    browser: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class SlotOffer(Base):
    __tablename__ = "slot_offers"

    ref: Mapped[str] = mapped_column(String(40), primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    requester_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    participants: Mapped[list[Any]]
    duration_minutes: Mapped[int]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    time_of_day: Mapped[list[Any] | None] = mapped_column(JSON)
    slots: Mapped[list[Any]]  # [[start epoch, end epoch], ...]
    shown: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)
    meeting_ref: Mapped[str | None] = mapped_column(String(40))  # the meeting a pick moves
    ruled_out: Mapped[list[Any] | None] = mapped_column(JSON)  # as buttons carry it


class Meeting(Base):
    __tablename__ = "meetings"

    ref: Mapped[str] = mapped_column(String(40), primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    offer_ref: Mapped[str | None] = mapped_column(String(40), unique=True)
    poll_ref: Mapped[str | None] = mapped_column(String(40), unique=True)
    organizer_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))  # proposed, confirmed, declined, cancelled
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    # Who chose the current time: always a participant (no foreign key; see migration 0003).
    proposer_id: Mapped[str | None] = mapped_column(String(40))
    location: Mapped[str | None] = mapped_column(String(500))


class MeetingParticipant(Base):
    __tablename__ = "meeting_participants"

    meeting_ref: Mapped[str] = mapped_column(
        ForeignKey("meetings.ref", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int]
    # A circle member who declined for themselves: the meeting is no longer their busy time.
    declined: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Poll(Base):
    __tablename__ = "polls"

    ref: Mapped[str] = mapped_column(String(40), primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    organizer_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    channel: Mapped[str | None] = mapped_column(String(200))
    duration_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), index=True)  # draft, open, closed, ...
    deadline: Mapped[datetime | None] = mapped_column(index=True)
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    connected: Mapped[int] = mapped_column(default=0)
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the adapter's reference
    busy_checked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    meeting_ref: Mapped[str | None] = mapped_column(String(40))
    # Raised by every counted click and change of state: which state a card shows.
    version: Mapped[int] = mapped_column(default=0, server_default="0")


class PollInvitee(Base):
    __tablename__ = "poll_invitees"

    poll_ref: Mapped[str] = mapped_column(
        ForeignKey("polls.ref", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    nudged_at: Mapped[datetime | None]


class PollOption(Base):
    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("poll_ref", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    poll_ref: Mapped[str] = mapped_column(ForeignKey("polls.ref", ondelete="CASCADE"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    position: Mapped[int]
    busy_count: Mapped[int] = mapped_column(default=0)


class PollVote(Base):
    """One row per person and option: a repeated click updates it, never adds a second.

    ``ballot`` keeps the recent clicks behind the vote (``core.polls.Ballot``); a withdrawn
    vote is a row without ``choice``. ``updated_at`` is when the last click was sent.
    """

    __tablename__ = "poll_votes"
    __table_args__ = (Index("ix_poll_votes_poll_ref", "poll_ref"),)

    option_id: Mapped[int] = mapped_column(
        ForeignKey("poll_options.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    poll_ref: Mapped[str] = mapped_column(ForeignKey("polls.ref", ondelete="CASCADE"))
    choice: Mapped[str | None] = mapped_column(String(20))  # yes, if_need_be; None: withdrawn
    updated_at: Mapped[datetime]
    ballot: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class ProcessedEvent(Base):
    """Chat events already handled: Slack retries and duplicate Teams activities stop here."""

    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "slack:Ev123"
    received_at: Mapped[datetime] = mapped_column(index=True)
    # Set while the key is only claimed (a message being sent), None once taken for good.
    claimed_until: Mapped[datetime | None]


class ConversationReference(Base):
    """Where to reach a person privately on Teams (for messages the bot sends first)."""

    __tablename__ = "conversation_references"
    __table_args__ = (UniqueConstraint("program_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(200))
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class OrganizationGrant(Base):
    """An admin's organisation-wide calendar authorisation (``core.organisation``).

    ``secret`` is sealed: the service-account key file, the app's client secret or
    certificate key, or the EWS password, as JSON. ``settings`` holds the plain parts
    (tenant, client id, EWS address, user name). ``domain`` is the first of ``domains``.
    """

    __tablename__ = "organization_grants"
    __table_args__ = (UniqueConstraint("program_id", "provider"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    domain: Mapped[str] = mapped_column(String(200))  # whose addresses it covers
    secret: Mapped[str] = mapped_column(Text)  # sealed service-account key or client secret
    granted_by: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(200), server_default="")
    domains: Mapped[list[Any] | None] = mapped_column(JSON)
    program_account: Mapped[str | None] = mapped_column(String(320))
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), server_default="connected")
    can_write: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_read_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))  # for people; never a secret
    last_error_at: Mapped[datetime | None]


class OrganizationExclusion(Base):
    """Someone an organisation connection does not read: they opted out
    (``opted_out``), or the last read found their mailbox outside the grant's reach
    (``out_of_reach``: read again after a day, in case an admin widened it)."""

    __tablename__ = "organization_exclusions"

    program_id: Mapped[str] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reason: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime]


class Job(Base):
    """Durable work (``core.jobs``): due at ``due_at``, run by whichever worker claims it.

    A claim is a lease: ``claimed_by`` holds it until ``claimed_until``, which its worker
    extends while the job runs. A worker that dies leaves the lease to expire, and another
    (or the same process, restarted) claims the job again. ``revision`` counts replacements,
    ``version`` is the caller's order of them; ``progress`` is what earlier attempts did.
    ``last_error`` holds an error's type or a reason written for people, never a secret.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_due_at", "status", "due_at"),)

    # 64 bits on PostgreSQL (every chat interaction is a job); SQLite's INTEGER already is.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(300), unique=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(10))  # pending, done, failed, cancelled
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    revision: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None] = mapped_column(index=True)


class MeetingTally(Base):
    """Meetings that retention deleted, still counted: per program, week (its Monday, UTC)
    and the status they ended in. Numbers only: nothing here names anyone."""

    __tablename__ = "meeting_tallies"

    program_id: Mapped[str] = mapped_column(
        ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True
    )
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    meetings: Mapped[int] = mapped_column(default=0)


class ProgramEvent(Base):
    """A meeting as an event on the program account's calendar (``core.publishing``): the
    provider's event id, for its updates and its cancellation, and its join link."""

    __tablename__ = "program_events"

    meeting_ref: Mapped[str] = mapped_column(
        ForeignKey("meetings.ref", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(1024))
    join_url: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime]


class ConsoleLink(Base):
    """A single-use sign-in link to the admin console, bound to the chat identity that asked
    for it. Only the SHA-256 of its token is kept: a database read gives no way in."""

    __tablename__ = "console_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A signed-in admin's console session, shared by every process. Only the SHA-256 of the
    cookie is kept; ``csrf`` is the token every form of the session carries."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
