"""The administrative commands: ``pairtime db``, ``keys``, ``pairs``, ``circles``, ``admins``
and ``program``.

Each returns an exit status and prints for people: results on standard
output, problems as one line each on standard error. No secret is printed,
except the new key ``keys generate`` exists to print. The roster, admin and rule
commands are thin: the use cases are ``core.admin``'s, which an admin console calls too.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.bootstrap import open_storage
from bot.settings import Settings
from core.admin import AdminPorts, programs, roster
from core.admin.roster import LineResult
from core.errors import InvalidInput, RosterError
from core.people import ProgramId
from core.program import ConfirmationRule
from core.rules import AllDayEvents
from storage import migrate
from storage.rotation import rotate
from storage.store import Storage

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_BAD_INPUT = 2


def fail(command: str, message: str) -> int:
    print(f"pairtime {command}: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


@asynccontextmanager
async def _storage(settings: Settings) -> AsyncIterator[Storage]:
    storage = open_storage(settings)
    try:
        yield storage
    finally:
        await storage.close()


async def _ready(storage: Storage, command: str) -> bool:
    if await migrate.is_current(storage.database):
        return True
    fail(command, "the database schema is not current: run `pairtime db upgrade` first")
    return False


async def db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    async with _storage(settings) as storage:
        before = await migrate.current_revision(storage.database)
        head = migrate.head_revision()
        if before == head:
            print(f"The database is already at the current schema ({head}).")
            return EXIT_OK
        await migrate.upgrade(storage.database)
        print(f"Upgraded the database schema from {before or 'empty'} to {head}.")
        return EXIT_OK


async def db_status(settings: Settings, _args: argparse.Namespace) -> int:
    async with _storage(settings) as storage:
        current = await migrate.current_revision(storage.database)
        head = migrate.head_revision()
        state = "current" if current == head else "behind: run `pairtime db upgrade`"
        print(f"Schema revision {current or 'none'} ({state}); this version needs {head}.")
        return EXIT_OK if current == head else EXIT_PARTIAL


async def keys_rotate(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.encryption_keys:
        return fail(
            "keys rotate",
            "PAIRTIME_ENCRYPTION_KEYS is not set: put the new key first and the old ones after it",
        )
    async with _storage(settings) as storage:
        if not await _ready(storage, "keys rotate"):
            return EXIT_BAD_INPUT
        report = await rotate(storage.database, storage.vault, batch_size=args.batch_size)
    for table, count in sorted(report.resealed.items()):
        print(f"{table}: re-encrypted {count} value(s) under the first key")
    if not report.resealed:
        print("Every stored secret was already encrypted under the first key.")
    for table, rows in sorted(report.unreadable.items()):
        print(
            f"pairtime keys rotate: {table}: {len(rows)} value(s) no configured key opens "
            f"(rows {', '.join(rows)}); add the key they were written with and run again",
            file=sys.stderr,
        )
    return EXIT_OK if report.complete else EXIT_PARTIAL


ProgramCommand = Callable[[AdminPorts, ProgramId, argparse.Namespace], Awaitable[int]]


def admin_ports(storage: Storage) -> AdminPorts:
    return AdminPorts(storage.people, storage.pairings, storage.groups, storage.programs)


def program_command(
    name: str | Callable[[argparse.Namespace], str],
) -> Callable[[ProgramCommand], Callable[[Settings, argparse.Namespace], Awaitable[int]]]:
    """A command about one program: storage opened, schema checked, ``--program`` chosen.

    A RosterError or InvalidInput raised by the command becomes its one-line error.
    """

    def decorate(body: ProgramCommand) -> Callable[[Settings, argparse.Namespace], Awaitable[int]]:
        async def run(settings: Settings, args: argparse.Namespace) -> int:
            command = name(args) if callable(name) else name
            async with _storage(settings) as storage:
                if not await _ready(storage, command):
                    return EXIT_BAD_INPUT
                ports = admin_ports(storage)
                try:
                    program = await roster.choose_program(ports, args.program)
                    return await body(ports, program, args)
                except (RosterError, InvalidInput) as error:
                    return fail(command, str(error))

        return run

    return decorate


async def _read(path: Path) -> list[str]:
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except OSError as error:
        raise RosterError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path} is not UTF-8 text: save it as CSV (UTF-8)") from None
    return text.splitlines()


def _report(results: list[LineResult]) -> int:
    for result in results:
        if result.ok:
            print(f"line {result.line}: {result.message}")
        else:
            print(f"line {result.line}: rejected: {result.message}", file=sys.stderr)
    rejected = sum(not r.ok for r in results)
    print(f"{len(results) - rejected} line(s) imported, {rejected} rejected.")
    return EXIT_PARTIAL if rejected else EXIT_OK


@program_command("pairs import")
async def pairs_import(ports: AdminPorts, program: ProgramId, args: argparse.Namespace) -> int:
    return _report(await roster.import_pairs(ports, program, await _read(args.file)))


@program_command("circles import")
async def circles_import(ports: AdminPorts, program: ProgramId, args: argparse.Namespace) -> int:
    return _report(await roster.import_circles(ports, program, await _read(args.file)))


@program_command("circles list")
async def circles_list(ports: AdminPorts, program: ProgramId, _args: argparse.Namespace) -> int:
    listed = await roster.circles(ports, program)
    if not listed:
        print(f"No circles in {program} yet. Import some with `pairtime circles import FILE.csv`.")
    for entry in listed:
        circle = entry.circle
        where = f"meets in {circle.channel}" if circle.channel else "no channel"
        print(f"{circle.name} ({len(circle.members)} member(s), {where})")
        for person in entry.members:
            print(f"  {_label(person.name, person.email)}")
    return EXIT_OK


@program_command("circles link")
async def circles_link(ports: AdminPorts, program: ProgramId, args: argparse.Namespace) -> int:
    circle = await roster.find_circle(ports, program, args.circle)
    channel = roster.channel_id(args.channel) if args.channel else None
    await roster.link_circle(ports, program, circle, channel)
    if channel is None:
        print(f"The circle {circle.name!r} no longer has a channel.")
    else:
        print(f"The circle {circle.name!r} meets in {channel}: a poll asked for there invites it.")
    return EXIT_OK


@program_command("circles remove")
async def circles_remove(ports: AdminPorts, program: ProgramId, args: argparse.Namespace) -> int:
    circle = await roster.remove_circle(ports, program, args.circle)
    print(f"Removed the circle {circle.name!r}; its {len(circle.members)} member(s) stay.")
    return EXIT_OK


@program_command("pairs list")
async def pairs_list(ports: AdminPorts, program: ProgramId, _args: argparse.Namespace) -> int:
    pairs = await roster.pairs(ports, program)
    if not pairs:
        print(f"No pairs in {program} yet. Import some with `pairtime pairs import FILE.csv`.")
    for mentor, mentee in pairs:
        print(f"{_label(mentor.name, mentor.email)} → {_label(mentee.name, mentee.email)}")
    return EXIT_OK


@program_command(lambda args: f"admins {args.action}")
async def admins_change(ports: AdminPorts, program: ProgramId, args: argparse.Namespace) -> int:
    if args.action == "grant":
        change = await programs.grant_admin(ports, program, args.person)
        done = "is now an admin" if change.changed else "was already an admin"
    else:
        change = await programs.revoke_admin(ports, program, args.person)
        done = "is no longer an admin" if change.changed else "was not an admin"
    print(f"{_label(change.person.name, change.person.email)} {done} of {program}.")
    return EXIT_OK


@program_command("admins list")
async def admins_list(ports: AdminPorts, program: ProgramId, _args: argparse.Namespace) -> int:
    people = await programs.admins(ports, program)
    if not people:
        print(f"{program} has no admins yet: `pairtime admins grant EMAIL` adds one.")
    for person in people:
        print(_label(person.name, person.email))
    return EXIT_OK


def _label(name: str, email: str | None) -> str:
    return f"{name} <{email}>" if email and email != name else name


@program_command("program show")
async def program_show(ports: AdminPorts, program: ProgramId, _args: argparse.Namespace) -> int:
    shown = await programs.rules(ports, program)
    print(f"Program {program}")
    for label, value in shown.view.lines:
        print(f"  {label}: {value}")
    print(f"  Zone assumed when a profile has none: {shown.default_timezone}")
    return EXIT_OK


@program_command("program set")
async def program_set(ports: AdminPorts, program: ProgramId, args: argparse.Namespace) -> int:
    await programs.change_rules(
        ports, program, rule_changes(args), field=lambda n: f"--{n.replace('_', '-')}"
    )
    print(f"Saved the rules of {program}.")
    return EXIT_OK


def rule_changes(args: argparse.Namespace) -> programs.RuleChanges:
    """The options given on the command line, as core's changes."""
    return programs.RuleChanges(
        earliest=args.earliest,
        latest=args.latest,
        weekends=None if args.weekends is None else args.weekends == "yes",
        granularity=args.granularity,
        notice=args.notice,
        buffer=args.buffer,
        tentative_is_busy=None if args.tentative is None else args.tentative == "busy",
        all_day_events=None if args.all_day_events is None else AllDayEvents(args.all_day_events),
        duration=args.duration,
        providers=args.providers,
        timezone=args.timezone,
        confirmation=None if args.confirmation is None else ConfirmationRule(args.confirmation),
        reminder_minutes=args.reminder_minutes,
        location=args.location,
    )
