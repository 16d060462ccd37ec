"""A program's roster from the command line: people named by email or chat user id, and pairs.

Someone named before they ever talked to Pairtime is recorded with what is
known (an email, or a chat user id); when they first write to the bot their
chat profile completes the record.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.people import ChatIdentity, Person, Platform, ProgramId
from storage.repositories.people import ChatProfile
from storage.store import Storage

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHAT_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.\-]{1,199}$")


class RosterError(Exception):
    """A name on the command line or in a file that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class LineResult:
    line: int
    ok: bool
    message: str


async def choose_program(storage: Storage, wanted: str | None) -> ProgramId:
    """``--program`` if given (created if new), else the only program there is."""
    if wanted:
        platform, _, workspace = wanted.partition(":")
        if platform not in {p.value for p in Platform} or not workspace:
            raise RosterError(
                f"--program {wanted!r} is not a program id; use slack:TEAM_ID, teams:TENANT_ID "
                "or web:demo"
            )
        program = ProgramId(wanted)
        await storage.programs.ensure(program, wanted)
        return program
    known = await storage.programs.known()
    if len(known) == 1:
        return known[0]
    if not known:
        raise RosterError(
            "there is no program yet: name one with --program slack:TEAM_ID (or teams:TENANT_ID)"
        )
    raise RosterError(f"several programs exist; choose one with --program ({', '.join(known)})")


async def find_or_add(storage: Storage, program: ProgramId, reference: str) -> tuple[Person, bool]:
    """The person named by ``reference`` (an email or a chat user id); True when new."""
    reference = reference.strip()
    if EMAIL.match(reference):
        found = await storage.people.by_email(reference)
        if found is not None:
            return found, False
        return await storage.people.add_by_email(reference), True
    if CHAT_USER.match(reference):
        found = await storage.people.by_chat_user(program, reference)
        if found is not None:
            return found, False
        platform, _, workspace = program.partition(":")
        identity = ChatIdentity(Platform(platform), workspace, reference)
        return await storage.people.remember(program, identity, ChatProfile(reference)), True
    raise RosterError(f"{reference!r} is neither an email address nor a chat user id")


async def find(storage: Storage, program: ProgramId, reference: str) -> Person:
    reference = reference.strip()
    found = (
        await storage.people.by_email(reference)
        if EMAIL.match(reference)
        else await storage.people.by_chat_user(program, reference)
    )
    if found is None:
        raise RosterError(f"nobody called {reference!r} is known in {program}")
    return found


async def import_pairs(
    storage: Storage, program: ProgramId, lines: Iterable[str]
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
            mentor, new_mentor = await find_or_add(storage, program, mentor_ref)
            mentee, new_mentee = await find_or_add(storage, program, mentee_ref)
        except RosterError as error:
            results.append(LineResult(number, ok=False, message=str(error)))
            continue
        if mentor.id == mentee.id:
            results.append(
                LineResult(number, ok=False, message="a person cannot mentor themselves")
            )
            continue
        added = await storage.pairings.pair(program, mentor.id, mentee.id)
        created = [ref for ref, new in ((mentor_ref, new_mentor), (mentee_ref, new_mentee)) if new]
        note = f" (new: {', '.join(created)})" if created else ""
        verb = "paired" if added else "already paired"
        results.append(
            LineResult(number, ok=True, message=f"{verb} {mentor_ref} → {mentee_ref}{note}")
        )
    return results
