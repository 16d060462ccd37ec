"""Tracks as admins run them: list, create, rename, archive, and find one by name.

A program-wide admin creates tracks; an admin of a track renames it and sees it. The
last track that is not archived cannot be archived: a pair added without a track name
lands in the oldest active one.
"""

from __future__ import annotations

from core.admin.access import Scope
from core.admin.ports import AdminPorts
from core.audit import Change
from core.errors import Conflict, NotFound
from core.tracks import Track, TrackId, checked_name


async def tracks(ports: AdminPorts, scope: Scope, *, archived: bool = True) -> list[Track]:
    """The tracks ``scope`` may see, by name (archived ones too unless ``archived`` is
    False). A program whose first track was never made gets its default one here."""
    found = list(await ports.tracks.all(scope.program))
    if not found:
        found = [await ports.tracks.default(scope.program, ports.clock.now())]
    return [t for t in scope.visible(found) if archived or not t.archived]


async def find_track(ports: AdminPorts, scope: Scope, reference: str) -> Track:
    """The track named ``reference`` (its name, or its id as the console sends it)."""
    wanted = reference.strip()
    found = await ports.tracks.get(scope.program, TrackId(wanted)) or await ports.tracks.named(
        scope.program, " ".join(wanted.split())
    )
    if found is None:
        known = [t.name for t in await tracks(ports, scope)]
        hint = f" (tracks: {', '.join(known)})" if known else ""
        raise NotFound(f"there is no track called {reference!r} in {scope.program}{hint}")
    scope.check(found.id)
    return found


async def track_for(ports: AdminPorts, scope: Scope, reference: str | None) -> Track:
    """The track a new pair or circle goes to: the one named, else the program's default
    (for an admin of one track, that track)."""
    if reference:
        found = await find_track(ports, scope, reference)
        if found.archived:
            raise Conflict(f"the track {found.name!r} is archived: bring it back first")
        return found
    if scope.tracks is not None:
        mine = await tracks(ports, scope, archived=False)
        if len(mine) == 1:
            return mine[0]
        raise NotFound("name the track: you are an admin of several")
    return await ports.tracks.default(scope.program, ports.clock.now())


async def create_track(ports: AdminPorts, scope: Scope, name: str) -> Track:
    scope.check(None)
    name = checked_name(name)
    now = ports.clock.now()
    created = await ports.tracks.create(scope.program, name, now)
    await ports.audit.record(
        scope.program, scope.actor, [Change("track", None, name, created.id)], now
    )
    return created


async def rename_track(ports: AdminPorts, scope: Scope, reference: str, name: str) -> Track:
    track = await find_track(ports, scope, reference)
    name = checked_name(name)
    if name == track.name:
        return track
    other = await ports.tracks.named(scope.program, name)
    if other is not None:
        raise Conflict(f"another track is called {name!r}")
    await ports.tracks.rename(track.id, name)
    now = ports.clock.now()
    await ports.audit.record(
        scope.program, scope.actor, [Change("track name", track.name, name, track.id)], now
    )
    return Track(track.id, track.program, name, track.rules, track.archived)


async def archive_track(
    ports: AdminPorts, scope: Scope, reference: str, *, archived: bool = True
) -> Track:
    """Archive a track (its pairs and circles stay, and keep its rules), or bring it back."""
    track = await find_track(ports, scope, reference)
    if track.archived == archived:
        return track
    if archived:
        active = [t for t in await ports.tracks.all(scope.program) if not t.archived]
        if [t.id for t in active] == [track.id]:
            raise Conflict(f"{track.name!r} is the program's only track: create another first")
    now = ports.clock.now()
    await ports.tracks.archive(track.id, now if archived else None)
    states = ("active", "archived") if archived else ("archived", "active")
    await ports.audit.record(
        scope.program, scope.actor, [Change(f"track {track.name}", *states, track.id)], now
    )
    return Track(track.id, track.program, track.name, track.rules, archived)
