"""Everyone in a program as an admin sees them: roles, tracks, and whether Pairtime can read
their calendar, never what is in it.

An admin cannot connect anyone's calendar: they can only remind people to connect their
own, at most once a day each (a durable job per person and day, whose key makes a second
reminder that day a no-op, in any process).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.admin.access import Scope
from core.admin.ports import AdminPorts
from core.calendars import CalendarConnection, ConnectionStatus
from core.errors import NotAllowed
from core.jobs import NewJob
from core.organisation import OrgStatus
from core.people import Person, PersonId, ProgramId
from core.ports import Jobs, Organisations
from core.tracks import TrackId

CONNECT_REMINDER = "connect.reminder"  # a job: one person's DM with their connect buttons


class CalendarState(StrEnum):
    CONNECTED = "connected"
    ORGANISATION = "organisation"  # read through the organisation's connection
    NEEDS_RECONNECT = "needs_reconnect"
    NOT_CONNECTED = "not_connected"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    CalendarState.CONNECTED: "connected",
    CalendarState.ORGANISATION: "through the organisation",
    CalendarState.NEEDS_RECONNECT: "needs reconnecting",
    CalendarState.NOT_CONNECTED: "not connected",
}


class CalendarSummaries(Protocol):
    async def summaries(self, people: Sequence[PersonId]) -> Mapping[PersonId, CalendarConnection]:
        """The people's connections, without opening any secret."""
        ...


@dataclass(frozen=True, slots=True)
class PeoplePorts:
    """What the people page reads beyond the roster, and where reminders go."""

    connections: CalendarSummaries
    organisations: Organisations
    jobs: Jobs


@dataclass(frozen=True, slots=True)
class PersonRow:
    person: Person
    roles: tuple[str, ...]  # "mentor", "mentee", "circle member", "admin"
    tracks: tuple[str, ...]  # names
    state: CalendarState
    service: str | None  # "Google", "Example Org (Microsoft 365)"
    last_read: datetime | None  # the last successful read


async def people(
    ports: AdminPorts,
    scope: Scope,
    reads: PeoplePorts,
    *,
    only: frozenset[CalendarState] = frozenset(),
) -> list[PersonRow]:
    """Everyone in the pairs and circles ``scope`` may see (and, for a program-wide admin,
    the program's admins), by name; only those in ``only`` states when it is given."""
    roles: dict[PersonId, set[str]] = {}
    tracks: dict[PersonId, set[TrackId]] = {}

    def add(person: PersonId, role: str, track: TrackId | None) -> None:
        roles.setdefault(person, set()).add(role)
        if track is not None:
            tracks.setdefault(person, set()).add(track)

    for pair in await ports.pairings.listing(scope.program):
        if scope.may(pair.track):
            add(pair.mentor.id, "mentor", pair.track)
            add(pair.mentee.id, "mentee", pair.track)
    for circle in await ports.circles.all(scope.program):
        track = TrackId(circle.track) if circle.track else None
        if scope.may(track):
            for member in circle.members:
                add(member, "circle member", track)
    if scope.program_wide:
        for admin in await ports.programs.admins(scope.program):
            add(admin, "admin", None)
    names = {t.id: t.name for t in await ports.tracks.all(scope.program)}
    found = await ports.people.many(sorted(roles))
    connections = await reads.connections.summaries(sorted(found))
    organisations = [
        c
        for c in await reads.organisations.of_program(scope.program)
        if c.status is OrgStatus.CONNECTED
    ]
    rows = []
    for person in sorted(found.values(), key=lambda p: (p.name.lower(), p.id)):
        # Only someone in a connected domain may be read through it: ask (opt-outs, reach)
        # for them alone, not once per person.
        maybe = any(c.covers(person.email) for c in organisations)
        state, service, last_read = await _calendar(
            reads, scope.program, person, connections.get(person.id), organisation=maybe
        )
        if only and state not in only:
            continue
        rows.append(
            PersonRow(
                person,
                tuple(sorted(roles[person.id])),
                tuple(sorted(names.get(t, t) for t in tracks.get(person.id, ()))),
                state,
                service,
                last_read,
            )
        )
    return rows


async def _calendar(
    reads: PeoplePorts,
    program: ProgramId,
    person: Person,
    connection: CalendarConnection | None,
    *,
    organisation: bool,
) -> tuple[CalendarState, str | None, datetime | None]:
    if connection is not None and connection.status is ConnectionStatus.CONNECTED:
        state = (
            CalendarState.NEEDS_RECONNECT
            if connection.misses_free_events
            else CalendarState.CONNECTED
        )
        return state, connection.provider.label, connection.last_sync
    # As a search reads it: through the organisation when no personal connection works.
    covering = await reads.organisations.covering(program, person) if organisation else None
    if covering is not None:
        return CalendarState.ORGANISATION, covering.described, covering.last_read_at
    if connection is not None:
        return CalendarState.NEEDS_RECONNECT, connection.provider.label, connection.last_sync
    return CalendarState.NOT_CONNECTED, None, None


@dataclass(frozen=True, slots=True)
class Reminded:
    sent: int  # reminders queued now
    already: int  # reminded today already
    skipped: int  # connected, or not someone this admin may remind


async def remind_to_connect(
    ports: AdminPorts, scope: Scope, reads: PeoplePorts, chosen: Sequence[str]
) -> Reminded:
    """Queue a private reminder with connect buttons for each of ``chosen`` (person ids)
    whose calendar cannot be read, among the people ``scope`` sees; once a day each."""
    if not chosen:
        raise NotAllowed("choose the people to remind first")
    wanted = set(chosen)
    due = [
        row.person.id
        for row in await people(ports, scope, reads)
        if row.person.id in wanted
        and row.state in (CalendarState.NOT_CONNECTED, CalendarState.NEEDS_RECONNECT)
    ]
    now = ports.clock.now()
    day = now.date().isoformat()
    jobs = [
        NewJob(
            CONNECT_REMINDER,
            f"{CONNECT_REMINDER}:{scope.program}:{person}:{day}",
            {"program": scope.program, "person": person},
        )
        for person in due
    ]
    sent = await reads.jobs.enqueue_all(jobs, now)
    return Reminded(sent, len(due) - sent, len(wanted) - len(due))
