"""Who may run what: a program-wide admin runs everything, a track's admin only that track.

Every console use case takes the acting admin's :class:`Scope` and checks it before
reading or changing a track; the command line, run on the server, acts for the program.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.admin.ports import AdminPorts
from core.audit import COMMAND_LINE, Actor
from core.errors import NotAllowed
from core.people import Person, PersonId, ProgramId
from core.tracks import Track, TrackId


@dataclass(frozen=True, slots=True)
class Scope:
    """What an admin runs in one program: all of it (``tracks`` None) or those tracks."""

    program: ProgramId
    actor: Actor
    tracks: frozenset[TrackId] | None = None

    @property
    def program_wide(self) -> bool:
        return self.tracks is None

    def may(self, track: TrackId | None) -> bool:
        """Whether this admin may see and change ``track`` (None: the program's own
        rules, admins and integrations, for program-wide admins only)."""
        if self.tracks is None:
            return True
        return track is not None and track in self.tracks

    def check(self, track: TrackId | None) -> None:
        if not self.may(track):
            raise NotAllowed(
                "only an admin of the whole program can do that"
                if track is None
                else "you are not an admin of that track"
            )

    def visible(self, tracks: list[Track]) -> list[Track]:
        return [t for t in tracks if self.may(t.id)]


def command_line(program: ProgramId) -> Scope:
    """Whoever runs ``pairtime`` on the server runs the whole program."""
    return Scope(program, COMMAND_LINE)


async def scope_of(ports: AdminPorts, program: ProgramId, person: Person) -> Scope | None:
    """``person``'s scope in ``program``, or None when they are not an admin of it."""
    if person.id in await ports.programs.admins(program):
        return Scope(program, Actor.of(person))
    tracks = frozenset(t for p, t in await ports.tracks.admins(program) if p == person.id)
    if not tracks:
        return None
    return Scope(program, Actor.of(person), tracks)


async def is_admin(ports: AdminPorts, program: ProgramId, person: PersonId) -> bool:
    """An admin of the program or of any of its tracks."""
    if person in await ports.programs.admins(program):
        return True
    return any(p == person for p, _ in await ports.tracks.admins(program))
