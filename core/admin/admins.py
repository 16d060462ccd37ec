"""A program's admins: of the whole program, or of some of its tracks.

Only an admin of the whole program grants or revokes; every grant and revocation is in
the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.admin.access import Scope
from core.admin.ports import AdminPorts
from core.admin.roster import find, find_or_add, label
from core.admin.tracks import find_track
from core.audit import Change
from core.people import Person, PersonId


@dataclass(frozen=True, slots=True)
class AdminChange:
    person: Person
    changed: bool  # False: it was so already


@dataclass(frozen=True, slots=True)
class AdminListing:
    person: Person
    tracks: tuple[str, ...] | None  # the names of the tracks they run; None: all of them


async def grant_admin(
    ports: AdminPorts, scope: Scope, reference: str, track: str | None = None
) -> AdminChange:
    """Make the person ``reference`` names (an email or chat user id, recorded if new) an
    admin of the whole program, or of ``track`` only."""
    scope.check(None)
    chosen = await find_track(ports, scope, track) if track else None
    person, _ = await find_or_add(ports, scope.program, reference)
    if chosen is None:
        changed = await ports.programs.grant_admin(scope.program, person.id)
    else:
        changed = await ports.tracks.grant(chosen.id, person.id)
    if changed:
        what = "the whole program" if chosen is None else f"the track {chosen.name}"
        change = Change(f"admin {label(person)}", None, what, chosen.id if chosen else None)
        await ports.audit.record(scope.program, scope.actor, [change], ports.clock.now())
    return AdminChange(person, changed)


async def revoke_admin(
    ports: AdminPorts, scope: Scope, reference: str, track: str | None = None
) -> AdminChange:
    """Stop ``reference`` being an admin of the program and of all its tracks, or of
    ``track`` only."""
    scope.check(None)
    person = await find(ports, scope.program, reference)
    if track:
        chosen = await find_track(ports, scope, track)
        changed = await ports.tracks.revoke(chosen.id, person.id)
        what = f"the track {chosen.name}"
    else:
        changed = await ports.programs.revoke_admin(scope.program, person.id)
        for mine, track_id in await ports.tracks.admins(scope.program):
            if mine == person.id:
                changed = await ports.tracks.revoke(track_id, person.id) or changed
        what = "the program"
    if changed:
        change = Change(f"admin {label(person)}", what, None)
        await ports.audit.record(scope.program, scope.actor, [change], ports.clock.now())
    return AdminChange(person, changed)


async def admins(ports: AdminPorts, scope: Scope) -> list[AdminListing]:
    """The program's admins by name, each with the tracks they run (None: all)."""
    program_wide = set(await ports.programs.admins(scope.program))
    names: dict[str, str] = {t.id: t.name for t in await ports.tracks.all(scope.program)}
    per_track: dict[PersonId, list[str]] = {}
    for person, track in await ports.tracks.admins(scope.program):
        if person not in program_wide:
            per_track.setdefault(person, []).append(names.get(track, track))
    people = await ports.people.many(sorted(program_wide | set(per_track)))
    return [
        AdminListing(
            person,
            None if person.id in program_wide else tuple(sorted(per_track[person.id])),
        )
        for person in sorted(people.values(), key=lambda p: p.name.lower())
    ]
