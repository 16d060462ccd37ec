"""What admins changed: who, when, what, old → new. Shown on the console's pages.

Every admin use case records its changes here; a change that changes nothing (a rule set
to the value it had) records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.people import Person, PersonId, ProgramId
from core.tracks import TrackId


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: an admin, or whoever ran a ``pairtime`` command on the server."""

    person: PersonId | None
    name: str

    @classmethod
    def of(cls, person: Person) -> Actor:
        return cls(person.id, f"{person.name} <{person.email}>" if person.email else person.name)


COMMAND_LINE = Actor(None, "the pairtime command line")


@dataclass(frozen=True, slots=True)
class Change:
    """One change: ``subject`` names what changed ("Earliest start", "pair ana → ben");
    ``old`` or ``new`` is None when the thing was created or removed."""

    subject: str
    old: str | None
    new: str | None
    track: TrackId | None = None  # None: program-wide


@dataclass(frozen=True, slots=True)
class AuditEntry:
    program: ProgramId
    at: datetime
    actor: Actor
    change: Change
    track_name: str | None = None  # as the track is called now
