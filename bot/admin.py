"""The administrative commands: ``pairtime db``, ``keys``, ``pairs``, ``circles``, ``admins``
and ``program``.

Each returns an exit status and prints for people: results on standard
output, problems as one line each on standard error. No secret is printed,
except the new key ``keys generate`` exists to print.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from bot.bootstrap import open_storage
from bot.roster import (
    LineResult,
    RosterError,
    channel_id,
    choose_program,
    find,
    find_circle,
    find_or_add,
    import_circles,
    import_pairs,
    link_circle,
)
from bot.settings import Settings
from core.commands import Provider
from core.errors import InvalidInput
from core.people import ProgramId
from core.program import ProgramSettings
from core.rules import AllDayEvents
from core.scheduling.info import settings_view
from core.slots_json import MAX_BUFFER_MINUTES, MAX_NOTICE_MINUTES
from core.time import DayTime, zone_named
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


ProgramCommand = Callable[[Storage, ProgramId, argparse.Namespace], Awaitable[int]]


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
                try:
                    program = await choose_program(storage, args.program)
                    return await body(storage, program, args)
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
async def pairs_import(storage: Storage, program: ProgramId, args: argparse.Namespace) -> int:
    return _report(await import_pairs(storage, program, await _read(args.file)))


@program_command("circles import")
async def circles_import(storage: Storage, program: ProgramId, args: argparse.Namespace) -> int:
    return _report(await import_circles(storage, program, await _read(args.file)))


@program_command("circles list")
async def circles_list(storage: Storage, program: ProgramId, _args: argparse.Namespace) -> int:
    circles = await storage.groups.all(program)
    if not circles:
        print(f"No circles in {program} yet. Import some with `pairtime circles import FILE.csv`.")
    for circle in circles:
        people = await storage.people.many(circle.members)
        where = f"meets in {circle.channel}" if circle.channel else "no channel"
        print(f"{circle.name} ({len(circle.members)} member(s), {where})")
        for person in sorted(people.values(), key=lambda p: p.name.lower()):
            print(f"  {_label(person.name, person.email)}")
    return EXIT_OK


@program_command("circles link")
async def circles_link(storage: Storage, program: ProgramId, args: argparse.Namespace) -> int:
    circle = await find_circle(storage, program, args.circle)
    channel = channel_id(args.channel) if args.channel else None
    await link_circle(storage, program, circle, channel)
    if channel is None:
        print(f"The circle {circle.name!r} no longer has a channel.")
    else:
        print(f"The circle {circle.name!r} meets in {channel}: a poll asked for there invites it.")
    return EXIT_OK


@program_command("circles remove")
async def circles_remove(storage: Storage, program: ProgramId, args: argparse.Namespace) -> int:
    circle = await find_circle(storage, program, args.circle)
    await storage.groups.remove(circle.id)
    print(f"Removed the circle {circle.name!r}; its {len(circle.members)} member(s) stay.")
    return EXIT_OK


@program_command("pairs list")
async def pairs_list(storage: Storage, program: ProgramId, _args: argparse.Namespace) -> int:
    pairs = await storage.pairings.all(program)
    if not pairs:
        print(f"No pairs in {program} yet. Import some with `pairtime pairs import FILE.csv`.")
    for mentor, mentee in pairs:
        print(f"{_label(mentor.name, mentor.email)} → {_label(mentee.name, mentee.email)}")
    return EXIT_OK


@program_command(lambda args: f"admins {args.action}")
async def admins_change(storage: Storage, program: ProgramId, args: argparse.Namespace) -> int:
    if args.action == "grant":
        person, _ = await find_or_add(storage, program, args.person)
        changed = await storage.programs.grant_admin(program, person.id)
        done = "is now an admin" if changed else "was already an admin"
    else:
        person = await find(storage, program, args.person)
        changed = await storage.programs.revoke_admin(program, person.id)
        done = "is no longer an admin" if changed else "was not an admin"
    print(f"{_label(person.name, person.email)} {done} of {program}.")
    return EXIT_OK


@program_command("admins list")
async def admins_list(storage: Storage, program: ProgramId, _args: argparse.Namespace) -> int:
    people = await storage.people.many(await storage.programs.admins(program))
    if not people:
        print(f"{program} has no admins yet: `pairtime admins grant EMAIL` adds one.")
    for person in sorted(people.values(), key=lambda p: p.name):
        print(_label(person.name, person.email))
    return EXIT_OK


def _label(name: str, email: str | None) -> str:
    return f"{name} <{email}>" if email and email != name else name


@program_command("program show")
async def program_show(storage: Storage, program: ProgramId, _args: argparse.Namespace) -> int:
    current = await storage.programs.settings(program)
    print(f"Program {program}")
    for label, value in settings_view(current, can_edit=False).lines:
        print(f"  {label}: {value}")
    print(f"  Zone assumed when a profile has none: {current.default_timezone}")
    return EXIT_OK


@program_command("program set")
async def program_set(storage: Storage, program: ProgramId, args: argparse.Namespace) -> int:
    current = await storage.programs.settings(program)
    await storage.programs.save_settings(program, program_changes(current, args))
    print(f"Saved the rules of {program}.")
    return EXIT_OK


def program_changes(current: ProgramSettings, args: argparse.Namespace) -> ProgramSettings:
    """``current`` with the options given on the command line; InvalidInput names a bad one."""
    rules = current.rules
    earliest = DayTime.parse(args.earliest, field="--earliest") if args.earliest else rules.earliest
    latest = DayTime.parse(args.latest, field="--latest") if args.latest else rules.latest
    if latest <= earliest:
        raise InvalidInput("--latest", "must be later than --earliest")
    for name in ("granularity", "notice", "buffer", "duration"):
        value = getattr(args, name)
        if value is not None and value < 0:
            raise InvalidInput(f"--{name}", "cannot be negative")
    # The bounds of `pairtime slots`: past them every search would overflow or crawl.
    for name, most in (("notice", MAX_NOTICE_MINUTES), ("buffer", MAX_BUFFER_MINUTES)):
        value = getattr(args, name)
        if value is not None and value > most:
            raise InvalidInput(f"--{name}", f"must be at most {most} minutes")
    if args.granularity is not None and (args.granularity == 0 or 1440 % args.granularity):
        raise InvalidInput("--granularity", "must divide a day (for example 15, 30 or 60)")
    if args.duration is not None and not 5 <= args.duration <= 480:
        raise InvalidInput("--duration", "must be between 5 and 480 minutes")
    providers = current.allowed_providers
    if args.providers:
        try:
            providers = frozenset(Provider(p.strip()) for p in args.providers.split(","))
        except ValueError:
            raise InvalidInput(
                "--providers", "is a comma-separated list of google, microsoft and icloud"
            ) from None
    if args.timezone:
        zone_named(args.timezone, field="--timezone")
    return replace(
        current,
        rules=replace(
            rules,
            earliest=earliest,
            latest=latest,
            weekends=rules.weekends if args.weekends is None else args.weekends == "yes",
            granularity_minutes=args.granularity or rules.granularity_minutes,
            min_notice_minutes=rules.min_notice_minutes if args.notice is None else args.notice,
            buffer_minutes=rules.buffer_minutes if args.buffer is None else args.buffer,
            tentative_is_busy=rules.tentative_is_busy
            if args.tentative is None
            else args.tentative == "busy",
            all_day_events=rules.all_day_events
            if args.all_day_events is None
            else AllDayEvents(args.all_day_events),
        ),
        default_duration_minutes=args.duration or current.default_duration_minutes,
        allowed_providers=providers,
        default_timezone=args.timezone or current.default_timezone,
    )
