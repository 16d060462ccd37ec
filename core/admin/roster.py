"""A program's roster: people named by email or chat user id, mentoring pairs and circles.

Someone named before they ever talked to Pairtime is recorded with what is
known (an email, or a chat user id); when they first write to the bot their
chat profile completes the record. Every function here is a use case: the
command line prints what it returns, an admin console would show it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from core.admin.ports import AdminPorts
from core.errors import Conflict, NotFound, RosterError
from core.people import (
    ChatIdentity,
    Group,
    Person,
    Profile,
    ProgramId,
    platform_of,
    workspace_of,
)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHAT_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.\-]{1,199}$")


@dataclass(frozen=True, slots=True)
class LineResult:
    line: int
    ok: bool
    message: str


async def choose_program(ports: AdminPorts, wanted: str | None) -> ProgramId:
    """``--program`` if given (created if new), else the only program there is."""
    if wanted:
        if platform_of(wanted) is None:
            raise RosterError(
                f"--program {wanted!r} is not a program id; use slack:TEAM_ID, teams:TENANT_ID "
                "or web:demo"
            )
        program = ProgramId(wanted)
        await ports.programs.ensure(program, wanted)
        return program
    known = await ports.programs.known()
    if len(known) == 1:
        return known[0]
    if not known:
        raise NotFound(
            "there is no program yet: name one with --program slack:TEAM_ID (or teams:TENANT_ID)"
        )
    raise RosterError(f"several programs exist; choose one with --program ({', '.join(known)})")


async def find_or_add(ports: AdminPorts, program: ProgramId, reference: str) -> tuple[Person, bool]:
    """The person named by ``reference`` (an email or a chat user id); True when new."""
    reference = reference.strip()
    if EMAIL.match(reference):
        found = await ports.people.by_email(reference)
        if found is not None:
            return found, False
        return await ports.people.add_by_email(reference), True
    if CHAT_USER.match(reference):
        found = await ports.people.by_chat_user(program, reference)
        if found is not None:
            return found, False
        platform = platform_of(program)
        if platform is None:
            raise RosterError(f"{program} is not a chat program: name people there by email")
        identity = ChatIdentity(platform, workspace_of(program), reference)
        return await ports.people.remember(program, identity, Profile(reference)), True
    raise RosterError(f"{reference!r} is neither an email address nor a chat user id")


async def find(ports: AdminPorts, program: ProgramId, reference: str) -> Person:
    reference = reference.strip()
    found = (
        await ports.people.by_email(reference)
        if EMAIL.match(reference)
        else await ports.people.by_chat_user(program, reference)
    )
    if found is None:
        raise NotFound(f"nobody called {reference!r} is known in {program}")
    return found


async def import_pairs(
    ports: AdminPorts, program: ProgramId, lines: Iterable[str]
) -> list[LineResult]:
    """Import ``mentor,mentee`` rows; a header row is optional. Bad rows are rejected alone."""
    results = []
    for number, row in enumerate(csv.reader(lines), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (number == 1 and [c.lower() for c in cells] == ["mentor", "mentee"]):
            continue
        if len(cells) != 2 or not all(cells):
            results.append(
                LineResult(
                    number,
                    ok=False,
                    message=f"expected two columns, mentor and mentee; got {row!r}",
                )
            )
            continue
        mentor_ref, mentee_ref = cells
        try:
            mentor, new_mentor = await find_or_add(ports, program, mentor_ref)
            mentee, new_mentee = await find_or_add(ports, program, mentee_ref)
        except RosterError as error:
            results.append(LineResult(number, ok=False, message=str(error)))
            continue
        if mentor.id == mentee.id:
            results.append(
                LineResult(number, ok=False, message="a person cannot mentor themselves")
            )
            continue
        added = await ports.pairings.pair(program, mentor.id, mentee.id)
        created = [ref for ref, new in ((mentor_ref, new_mentor), (mentee_ref, new_mentee)) if new]
        note = f" (new: {', '.join(created)})" if created else ""
        verb = "paired" if added else "already paired"
        results.append(
            LineResult(number, ok=True, message=f"{verb} {mentor_ref} → {mentee_ref}{note}")
        )
    return results


CHANNEL = re.compile(r"^[^\s,]{1,200}$")
HEADER = ["circle", "member"]


async def import_circles(
    ports: AdminPorts, program: ProgramId, lines: Iterable[str]
) -> list[LineResult]:
    """Import ``circle,member[,channel]`` rows; a header row is optional.

    A circle is created by its first row and gains a member per row; a channel on any of
    its rows links it to that chat channel (a poll asked for there invites the circle).
    Running the same file again changes nothing. Bad rows are rejected alone.
    """
    results = []
    for number, row in enumerate(csv.reader(lines), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (number == 1 and [c.lower() for c in cells[:2]] == HEADER):
            continue
        if len(cells) not in (2, 3) or not all(cells[:2]):
            results.append(
                LineResult(
                    number,
                    ok=False,
                    message=f"expected circle, member and optionally channel; got {row!r}",
                )
            )
            continue
        name, reference, channel = cells[0], cells[1], (cells[2] if len(cells) == 3 else "")
        try:
            message = await _import_circle_row(ports, program, name, reference, channel)
        except RosterError as error:
            results.append(LineResult(number, ok=False, message=str(error)))
            continue
        results.append(LineResult(number, ok=True, message=message))
    return results


async def _import_circle_row(
    ports: AdminPorts, program: ProgramId, name: str, reference: str, channel: str
) -> str:
    """One row, checked whole before anything is written: a rejected row changes nothing."""
    if len(name) > 200:
        raise RosterError("a circle's name is at most 200 characters")
    channel = channel_id(channel) if channel else ""
    circle = await ports.circles.named(program, name)
    relink = bool(channel) and (circle is None or circle.channel != channel)
    if relink:
        await _channel_free(ports, program, channel, circle)
    if not (EMAIL.match(reference) or CHAT_USER.match(reference)):
        raise RosterError(f"{reference!r} is neither an email address nor a chat user id")
    person, new = await find_or_add(ports, program, reference)
    notes = []
    if circle is None:
        circle = await _create_circle(ports, program, name)
        notes.append("new circle")
    if relink:
        await link_circle(ports, program, circle, channel)
        notes.append(f"meets in {channel}")
    if new:
        notes.append(f"new: {reference}")
    verb = "added" if await ports.circles.add_member(circle.id, person.id) else "already in"
    return f"{verb} {reference} → {name}" + (f" ({', '.join(notes)})" if notes else "")


async def _create_circle(ports: AdminPorts, program: ProgramId, name: str) -> Group:
    try:
        return await ports.circles.create(program, name, ())
    except Conflict:  # created meanwhile by another import
        found = await ports.circles.named(program, name)
        if found is None:
            raise
        return found


def channel_id(text: str) -> str:
    """The channel id in ``text``: an id as it is, or the id inside a channel's link, as
    Slack ("Copy link": …/archives/C0123ABCD) and Teams ("Get link to channel":
    …/l/channel/19%3a…%40thread.tacv2/Name?…) give them."""
    text = text.strip()
    parsed = urlsplit(text)
    if parsed.scheme in {"http", "https"}:
        parts = [unquote(part) for part in parsed.path.split("/") if part]
        for marker in ("archives", "channel"):
            if marker in parts[:-1]:
                text = parts[parts.index(marker) + 1]
                break
        else:
            raise RosterError(f"{text!r} is not a link to a Slack or Teams channel")
    if not CHANNEL.match(text):
        raise RosterError(
            f"{text!r} is not a channel id: use the id (C0123ABCD on Slack) or the channel's link"
        )
    return text


async def link_circle(
    ports: AdminPorts, program: ProgramId, circle: Group, channel: str | None
) -> None:
    """Link ``circle`` to ``channel`` (None: unlink); refused when another circle has it."""
    if channel is not None:
        await _channel_free(ports, program, channel, circle)
    try:
        await ports.circles.link(circle.id, channel)
    except Conflict:
        raise Conflict(f"{channel} was just linked to another circle") from None


async def _channel_free(
    ports: AdminPorts, program: ProgramId, channel: str, circle: Group | None
) -> None:
    other = await ports.circles.by_channel(program, channel)
    if other is not None and (circle is None or other.id != circle.id):
        raise Conflict(f"{channel} is already the channel of the circle {other.name!r}")


async def find_circle(ports: AdminPorts, program: ProgramId, name: str) -> Group:
    circle = await ports.circles.named(program, name.strip())
    if circle is None:
        known = [g.name for g in await ports.circles.all(program)]
        hint = f" (circles: {', '.join(known)})" if known else ""
        raise NotFound(f"there is no circle called {name!r} in {program}{hint}")
    return circle


async def remove_circle(ports: AdminPorts, program: ProgramId, name: str) -> Group:
    """Forget the circle called ``name`` (its members stay in the program); the circle."""
    circle = await find_circle(ports, program, name)
    await ports.circles.remove(circle.id)
    return circle


@dataclass(frozen=True, slots=True)
class CircleListing:
    circle: Group
    members: tuple[Person, ...]  # by name


async def circles(ports: AdminPorts, program: ProgramId) -> list[CircleListing]:
    """Every circle of the program, by name, with its members by name."""
    listed = []
    for circle in await ports.circles.all(program):
        people = await ports.people.many(circle.members)
        members = sorted(people.values(), key=lambda p: p.name.lower())
        listed.append(CircleListing(circle, tuple(members)))
    return listed


async def pairs(ports: AdminPorts, program: ProgramId) -> Sequence[tuple[Person, Person]]:
    """Every (mentor, mentee) pair, by mentor then mentee name."""
    return await ports.pairings.all(program)
