"""Importing pairs and circles from CSV, as one transaction.

Every line is checked first, against what is stored and against the lines before it,
without writing anything: the result is a :class:`Preview`, one :class:`LinePreview`
per line (new, unchanged, or an error with its reason), which the console shows before
an admin confirms. Then everything the good lines ask for is written in one transaction
(``RosterWriter.apply``).

All or nothing, by default: when any line is bad, nothing is written and every bad line
is named, so a file is fixed and imported again whole, never half-imported. ``partial``
writes the good lines anyway (``pairtime pairs import --partial``, the console's "Import
the good lines"). A bad line never creates anybody: people are created by the write.

Cost: one lookup of the named people (in batches), one read of the program's pairs or
circles, one write: 10,000 lines take seconds, not one transaction per line
(bench/imports.py measures it).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from core.admin.access import Scope
from core.admin.ports import AdminPorts
from core.admin.roster import (
    CHAT_USER,
    EMAIL,
    MAX_CIRCLE_NAME,
    _has_control,
    channel_id,
    reference_problem,
)
from core.admin.tracks import track_for
from core.audit import Change
from core.errors import RosterError
from core.people import Group, Person
from core.time import quoted
from core.tracks import Track, TrackId

MAX_LINE = 4000  # characters: ids, emails and a channel's link fit many times over
MAX_LINES = 100_000


class LineStatus(StrEnum):
    NEW = "new"  # something is added
    UNCHANGED = "unchanged"  # all of it is there already
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class LinePreview:
    line: int  # 1-based, as an editor numbers it
    status: LineStatus
    text: str  # what it adds, or why it is refused


@dataclass(frozen=True, slots=True)
class NewPerson:
    """Someone a good line names who is not known yet."""

    key: str  # "+" and the email (lower case) or chat user id
    email: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewCircle:
    key: str  # "+" and its name
    name: str
    channel: str | None


@dataclass(frozen=True, slots=True)
class RosterBatch:
    """What an import writes, in one transaction. People and circles are named by key:
    a stored id, or a new one's ``+…`` key."""

    track: TrackId  # where new pairs and circles go
    people: tuple[NewPerson, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()  # (mentor, mentee)
    circles: tuple[NewCircle, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (stored circle id, channel)
    members: tuple[tuple[str, str], ...] = ()  # (circle, person)

    @property
    def empty(self) -> bool:
        return not (self.people or self.pairs or self.circles or self.links or self.members)


@dataclass(frozen=True, slots=True)
class Preview:
    track: Track
    lines: tuple[LinePreview, ...]
    batch: RosterBatch
    changes: tuple[Change, ...] = ()  # for the audit log

    def count(self, status: LineStatus) -> int:
        return sum(1 for line in self.lines if line.status is status)

    @property
    def errors(self) -> tuple[LinePreview, ...]:
        return tuple(line for line in self.lines if line.status is LineStatus.ERROR)


@dataclass(frozen=True, slots=True)
class ImportReport:
    preview: Preview
    written: bool  # False: nothing was written (bad lines, all-or-nothing; or nothing new)


def _rows(
    lines: Iterable[str], header: tuple[str, ...]
) -> tuple[list[tuple[int, list[str]]], list[LinePreview]]:
    """Each readable line's number and cells, and an error for each line that cannot be
    read; blank lines and a header are skipped. Lines are read one by one, so one bad line
    (a stray quote) spoils only itself."""
    rows: list[tuple[int, list[str]]] = []
    unread: list[LinePreview] = []
    for number, line in enumerate(lines, start=1):
        if number > MAX_LINES:
            unread.append(_error(number, f"a file holds at most {MAX_LINES:,} lines"))
            break
        try:
            cells = _cells(line)
        except RosterError as error:
            unread.append(_error(number, str(error)))
            continue
        if not any(cells):
            continue
        if number == 1 and tuple(c.lower() for c in cells[: len(header)]) == header:
            continue
        rows.append((number, cells))
    return rows, unread


def _cells(line: str) -> list[str]:
    if len(line) > MAX_LINE:
        raise RosterError(f"the line is longer than {MAX_LINE:,} characters")
    if "\x00" in line:
        raise RosterError("the line contains a NUL character")
    try:
        return [cell.strip() for cell in next(csv.reader([line]), [])]
    except csv.Error as error:
        raise RosterError(f"the line is not CSV: {error}") from None


def _error(number: int, problem: str) -> LinePreview:
    return LinePreview(number, LineStatus.ERROR, problem)


def _in_order(previews: list[LinePreview]) -> tuple[LinePreview, ...]:
    return tuple(sorted(previews, key=lambda preview: preview.line))


@dataclass
class _People:
    """Who the lines name: stored people found in one lookup, new ones by key."""

    by_email: Mapping[str, Person]
    by_user: Mapping[str, Person]
    new: dict[str, NewPerson] = field(default_factory=dict)

    def key(self, reference: str) -> tuple[str, bool]:
        """The person's key, and whether this line is the first to name them (and they
        are not stored yet)."""
        email = EMAIL.match(reference) is not None
        found = self.by_email.get(reference.lower()) if email else self.by_user.get(reference)
        if found is not None:
            return found.id, False
        key = "+" + (reference.lower() if email else reference)
        if key in self.new:
            return key, False
        self.new[key] = (
            NewPerson(key, email=reference) if email else NewPerson(key, user_id=reference)
        )
        return key, True


async def _lookup(ports: AdminPorts, scope: Scope, references: set[str]) -> _People:
    emails = sorted({r.lower() for r in references if EMAIL.match(r)})
    users = sorted(r for r in references if not EMAIL.match(r) and CHAT_USER.match(r))
    return _People(
        await ports.people.by_emails(emails), await ports.people.by_chat_users(scope.program, users)
    )


async def preview_pairs(
    ports: AdminPorts, scope: Scope, lines: Iterable[str], track: str | None = None
) -> Preview:
    """Check ``mentor,mentee`` lines (a header line is optional) without writing."""
    into = await track_for(ports, scope, track)
    rows, previews = _rows(lines, ("mentor", "mentee"))
    references = {c for _, cells in rows for c in cells[:2]}
    people = await _lookup(ports, scope, references)
    stored = {(p.mentor.id, p.mentee.id) for p in await ports.pairings.listing(scope.program)}
    added: set[tuple[str, str]] = set()
    changes: list[Change] = []
    for number, cells in rows:
        if len(cells) != 2 or not all(cells):
            shown = ", ".join(quoted(c, 40) for c in cells[:4])
            previews.append(_error(number, f"expected two columns, mentor and mentee; got {shown}"))
            continue
        problem = reference_problem(cells[0]) or reference_problem(cells[1])
        if problem is None and _same(cells[0], cells[1]):
            problem = "a person cannot mentor themselves"
        if problem is not None:
            previews.append(_error(number, problem))
            continue
        # Keys are taken only for good lines: a refused line creates nobody.
        mentor, new_mentor = people.key(cells[0])
        mentee, new_mentee = people.key(cells[1])
        if mentor == mentee:
            for key, new in ((mentor, new_mentor), (mentee, new_mentee)):
                if new:
                    people.new.pop(key, None)
            previews.append(_error(number, "a person cannot mentor themselves"))
            continue
        shown = f"{cells[0]} → {cells[1]}"
        if (mentor, mentee) in stored or (mentor, mentee) in added:
            previews.append(LinePreview(number, LineStatus.UNCHANGED, f"already paired {shown}"))
            continue
        added.add((mentor, mentee))
        created = [c for c, new in ((cells[0], new_mentor), (cells[1], new_mentee)) if new]
        note = f" (new: {', '.join(created)})" if created else ""
        previews.append(LinePreview(number, LineStatus.NEW, f"pair {shown}{note}"))
        changes.append(Change(f"pair {shown}", None, into.name, into.id))
    batch = RosterBatch(
        into.id,
        people=_needed(people.new, {k for pair in added for k in pair}),
        pairs=tuple(sorted(added)),
    )
    return Preview(into, _in_order(previews), batch, tuple(changes))


def _same(first: str, second: str) -> bool:
    return first.lower() == second.lower()


def _needed(new: Mapping[str, NewPerson], used: set[str]) -> tuple[NewPerson, ...]:
    return tuple(person for key, person in sorted(new.items()) if key in used)


async def preview_circles(
    ports: AdminPorts, scope: Scope, lines: Iterable[str], track: str | None = None
) -> Preview:
    """Check ``circle,member[,channel]`` lines (a header line is optional) without writing.

    A circle is created by its first line and gains a member per line; a channel on any
    of its lines links it to that chat channel (a poll asked for there invites the circle).
    Importing the same file again changes nothing.
    """
    into = await track_for(ports, scope, track)
    rows, previews = _rows(lines, ("circle", "member"))
    references = {cells[1] for _, cells in rows if len(cells) > 1}
    people = await _lookup(ports, scope, references)
    stored = {c.name: c for c in await ports.circles.all(scope.program)}
    by_channel = {c.channel: c.name for c in stored.values() if c.channel}
    channels = {c.name: c.channel for c in stored.values()}  # as this import leaves them
    new_circles: dict[str, NewCircle] = {}
    members: set[tuple[str, str]] = set()
    links: dict[str, str] = {}
    changes: list[Change] = []
    for number, cells in rows:
        try:
            name, reference, channel = _circle_line(cells, stored, scope)
        except RosterError as error:
            previews.append(_error(number, str(error)))
            continue
        if channel and by_channel.get(channel, name) != name:
            taken = f"{channel} is already the channel of the circle {by_channel[channel]!r}"
            previews.append(_error(number, taken))
            continue
        notes = []
        circle = stored.get(name)
        if circle is None and name not in new_circles:
            new_circles[name] = NewCircle("+" + name, name, None)
            notes.append("new circle")
            changes.append(Change(f"circle {name}", None, into.name, into.id))
        circle_key = circle.id if circle is not None else "+" + name
        if channel and channels.get(name) != channel:
            old = channels.get(name)
            if old:
                by_channel.pop(old, None)
            channels[name] = channel
            by_channel[channel] = name
            if circle is None:
                new_circles[name] = NewCircle("+" + name, name, channel)
            else:
                links[circle.id] = channel
            notes.append(f"meets in {channel}")
            changes.append(Change(f"channel of {name}", old, channel, _track_of(circle, into)))
        person, new = people.key(reference)
        if new:
            notes.append(f"new: {reference}")
        stored_member = circle is not None and person in circle.members
        if stored_member or (circle_key, person) in members:
            if notes:
                previews.append(LinePreview(number, LineStatus.NEW, "; ".join(notes)))
            else:
                previews.append(
                    LinePreview(number, LineStatus.UNCHANGED, f"{reference} is in {name} already")
                )
            continue
        members.add((circle_key, person))
        changes.append(Change(f"member of {name}", None, reference, _track_of(circle, into)))
        detail = f"add {reference} → {name}" + (f" ({', '.join(notes)})" if notes else "")
        previews.append(LinePreview(number, LineStatus.NEW, detail))
    batch = RosterBatch(
        into.id,
        people=_needed(people.new, {p for _, p in members}),
        circles=tuple(new_circles[n] for n in sorted(new_circles)),
        links=tuple(sorted(links.items())),
        members=tuple(sorted(members)),
    )
    return Preview(into, _in_order(previews), batch, tuple(changes))


def _track_of(circle: Group | None, into: Track) -> TrackId:
    return TrackId(circle.track) if circle is not None and circle.track else into.id


def _circle_line(
    cells: list[str], stored: Mapping[str, Group], scope: Scope
) -> tuple[str, str, str]:
    if len(cells) not in (2, 3) or not all(cells[:2]):
        shown = ", ".join(quoted(c, 40) for c in cells[:4])
        raise RosterError(f"expected circle, member and optionally channel; got {shown}")
    name = " ".join(cells[0].split())
    if len(name) > MAX_CIRCLE_NAME or _has_control(name):
        raise RosterError("a circle's name is at most 200 characters, without control characters")
    problem = reference_problem(cells[1])
    if problem is not None:
        raise RosterError(problem)
    circle = stored.get(name)
    if circle is not None and not scope.may(TrackId(circle.track) if circle.track else None):
        raise RosterError(f"the circle {name!r} is in a track you are not an admin of")
    channel = channel_id(cells[2]) if len(cells) == 3 and cells[2] else ""
    return name, cells[1], channel


async def write(
    ports: AdminPorts, scope: Scope, preview: Preview, *, partial: bool = False
) -> ImportReport:
    """Write what ``preview`` (of :func:`preview_pairs` or :func:`preview_circles`) found
    new, in one transaction: all of it, or nothing when a line is bad (unless ``partial``)."""
    if (preview.errors and not partial) or preview.batch.empty:
        return ImportReport(preview, written=False)
    now = ports.clock.now()
    await ports.roster.apply(scope.program, preview.batch, now)
    await ports.audit.record(scope.program, scope.actor, preview.changes, now)
    return ImportReport(preview, written=True)
