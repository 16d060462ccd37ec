"""What running a program needs from storage, beyond what the chat use cases read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.people import ChatIdentity, Group, Person, PersonId, Profile, ProgramId
from core.program import ProgramSettings


class Directory(Protocol):
    """People, as an admin names them: by email or by chat user id."""

    async def many(self, people: Sequence[PersonId]) -> Mapping[PersonId, Person]: ...

    async def by_email(self, email: str) -> Person | None: ...

    async def add_by_email(self, email: str) -> Person:
        """Someone known only by email so far (an imported roster); chat fills in the rest."""
        ...

    async def by_chat_user(self, program: ProgramId, user_id: str) -> Person | None: ...

    async def remember(
        self, program: ProgramId, identity: ChatIdentity, profile: Profile
    ) -> Person: ...


class PairingsAdmin(Protocol):
    async def pair(self, program: ProgramId, mentor: PersonId, mentee: PersonId) -> bool:
        """Pair them; False when they were paired already."""
        ...

    async def all(self, program: ProgramId) -> Sequence[tuple[Person, Person]]: ...


class Circles(Protocol):
    async def named(self, program: ProgramId, name: str) -> Group | None: ...

    async def by_channel(self, program: ProgramId, channel: str) -> Group | None: ...

    async def all(self, program: ProgramId) -> Sequence[Group]: ...

    async def create(
        self,
        program: ProgramId,
        name: str,
        members: Sequence[PersonId],
        channel: str | None = None,
    ) -> Group:
        """A new circle; :class:`~core.errors.Conflict` when the name or channel is taken."""
        ...

    async def add_member(self, group: str, person: PersonId) -> bool:
        """False when they were in it already."""
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


@dataclass(frozen=True, slots=True)
class AdminPorts:
    people: Directory
    pairings: PairingsAdmin
    circles: Circles
    programs: ProgramsAdmin
