"""What running a program needs from storage, beyond what the chat use cases read."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from core.people import ChatIdentity, Group, Person, PersonId, Profile, ProgramId
from core.ports import Clock
from core.program import ProgramSettings

if TYPE_CHECKING:  # core.tracks reads RuleChanges, whose module imports this one
    from core.admin.imports import RosterBatch
    from core.admin.programs import RuleChanges
    from core.audit import Actor, AuditEntry, Change
    from core.tracks import Track, TrackId


class Directory(Protocol):
    """People, as an admin names them: by email or by chat user id."""

    async def many(self, people: Sequence[PersonId]) -> Mapping[PersonId, Person]: ...

    async def by_email(self, email: str) -> Person | None: ...

    async def by_emails(self, emails: Sequence[str]) -> Mapping[str, Person]:
        """The people with these addresses (lower case), keyed by address in lower case (the
        first recorded, when several share one)."""
        ...

    async def by_chat_users(
        self, program: ProgramId, user_ids: Sequence[str]
    ) -> Mapping[str, Person]:
        """The people behind these chat user ids of the program, keyed by user id."""
        ...

    async def add_by_email(self, email: str) -> Person:
        """Someone known only by email so far (an imported roster); chat fills in the rest."""
        ...

    async def by_chat_user(self, program: ProgramId, user_id: str) -> Person | None: ...

    async def remember(
        self, program: ProgramId, identity: ChatIdentity, profile: Profile
    ) -> Person: ...


@dataclass(frozen=True, slots=True)
class PairListing:
    mentor: Person
    mentee: Person
    track: TrackId | None


class PairingsAdmin(Protocol):
    async def pair(
        self, program: ProgramId, mentor: PersonId, mentee: PersonId, track: TrackId
    ) -> bool:
        """Pair them in ``track``; False when they were paired already (in any track)."""
        ...

    async def unpair(self, program: ProgramId, mentor: PersonId, mentee: PersonId) -> bool: ...

    async def move(
        self, program: ProgramId, mentor: PersonId, mentee: PersonId, track: TrackId
    ) -> bool:
        """Put the pair in ``track``; False when there is no such pair."""
        ...

    async def all(self, program: ProgramId) -> Sequence[tuple[Person, Person]]: ...

    async def listing(self, program: ProgramId) -> Sequence[PairListing]:
        """Every pair with its track, by mentor then mentee name."""
        ...


class Circles(Protocol):
    async def named(self, program: ProgramId, name: str) -> Group | None: ...

    async def by_channel(self, program: ProgramId, channel: str) -> Group | None: ...

    async def all(self, program: ProgramId) -> Sequence[Group]: ...

    async def create(self, program: ProgramId, name: str, *, track: TrackId) -> Group:
        """A new, empty circle in ``track``; :class:`~core.errors.Conflict` when the name
        is taken."""
        ...

    async def move(self, group: str, track: TrackId) -> bool:
        """Put the circle in ``track``; False when it is gone."""
        ...

    async def add_member(self, group: str, person: PersonId) -> bool:
        """Add ``person`` to the circle; False when they were in it already."""
        ...

    async def link(self, group: str, channel: str | None) -> None:
        """The channel the circle meets in (None: none); :class:`~core.errors.Conflict` when
        another circle of the program meets there."""
        ...

    async def remove(self, group: str) -> bool: ...


class ProgramsAdmin(Protocol):
    async def ensure(self, program: ProgramId, name: str) -> None: ...

    async def known(self) -> Sequence[ProgramId]: ...

    async def settings(self, program: ProgramId) -> ProgramSettings: ...

    async def save_settings(self, program: ProgramId, settings: ProgramSettings) -> None: ...

    async def grant_admin(self, program: ProgramId, person: PersonId) -> bool:
        """False when they were an admin already."""
        ...

    async def revoke_admin(self, program: ProgramId, person: PersonId) -> bool:
        """False when they were not an admin."""
        ...

    async def admins(self, program: ProgramId) -> Sequence[PersonId]: ...


class TracksAdmin(Protocol):
    async def all(self, program: ProgramId) -> Sequence[Track]:
        """Every track of the program, archived ones too, by name."""
        ...

    async def get(self, program: ProgramId, track: TrackId) -> Track | None: ...

    async def named(self, program: ProgramId, name: str) -> Track | None: ...

    async def create(self, program: ProgramId, name: str, now: datetime) -> Track:
        """A new track; :class:`~core.errors.Conflict` when the name is taken."""
        ...

    async def rename(self, track: TrackId, name: str) -> None:
        """:class:`~core.errors.Conflict` when another track has the name."""
        ...

    async def archive(self, track: TrackId, when: datetime | None) -> None:
        """Archive the track at ``when``, or bring it back (None)."""
        ...

    async def save_rules(self, track: TrackId, rules: RuleChanges) -> None:
        """Store what the track overrides (every rule it does not set is inherited)."""
        ...

    async def default(self, program: ProgramId, now: datetime) -> Track:
        """The track a pair or circle lands in when none is named: the oldest one not
        archived, or a new "Main" track when there is none."""
        ...

    async def grant(self, track: TrackId, person: PersonId) -> bool:
        """Make ``person`` an admin of ``track``; False when they were already."""
        ...

    async def revoke(self, track: TrackId, person: PersonId) -> bool: ...

    async def admins(self, program: ProgramId) -> Sequence[tuple[PersonId, TrackId]]:
        """The admins of single tracks of the program."""
        ...


class RosterWriter(Protocol):
    async def apply(self, program: ProgramId, batch: RosterBatch, now: datetime) -> None:
        """Write ``batch`` (new people, pairs, circles, channels, members) in one
        transaction; :class:`~core.errors.Conflict` when another change got in the way
        (nothing written)."""
        ...


class AuditLog(Protocol):
    async def record(
        self, program: ProgramId, actor: Actor, changes: Sequence[Change], now: datetime
    ) -> None: ...

    async def recent(
        self, program: ProgramId, tracks: Collection[TrackId] | None = None, *, limit: int = 50
    ) -> Sequence[AuditEntry]:
        """The latest entries, newest first: of ``tracks`` only, or (None) every entry, the
        program's own changes too."""
        ...


@dataclass(frozen=True, slots=True)
class AdminPorts:
    people: Directory
    pairings: PairingsAdmin
    circles: Circles
    programs: ProgramsAdmin
    tracks: TracksAdmin
    roster: RosterWriter
    audit: AuditLog
    clock: Clock
