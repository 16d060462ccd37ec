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
from datetime import UTC, datetime
from pathlib import Path

from bot.bootstrap import open_storage
from bot.settings import Settings
from core.admin import AdminPorts, admins, imports, programs, roster, rules, tracks
from core.admin.access import Scope, command_line
from core.commands import Provider
from core.errors import InvalidInput, NotAllowed, RosterError
from core.ports import Clock
from core.program import ConfirmationRule, VideoRule, Visibility
from core.rules import AllDayEvents
from core.scheduling.info import services_text
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
        await migrate.upgrade(storage.database, vault=storage.vault)
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
        print(f"{table}: re-encrypted {count} row(s) under the first key")
    if not report.resealed:
        print("Every stored secret was already encrypted under the first key.")
    for table, rows in sorted(report.unreadable.items()):
        print(
            f"pairtime keys rotate: {table}: {len(rows)} row(s) hold a value no configured key "
            f"opens (rows {', '.join(rows)}); add the key they were written with and run again",
            file=sys.stderr,
        )
    return EXIT_OK if report.complete else EXIT_PARTIAL


ProgramCommand = Callable[[AdminPorts, Scope, argparse.Namespace], Awaitable[int]]


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def admin_ports(storage: Storage, clock: Clock | None = None) -> AdminPorts:
    return AdminPorts(
        storage.people,
        storage.pairings,
        storage.groups,
        storage.programs,
        storage.tracks,
        storage.roster,
        storage.audit,
        clock or _Clock(),
    )


def program_command(
    name: str | Callable[[argparse.Namespace], str],
) -> Callable[[ProgramCommand], Callable[[Settings, argparse.Namespace], Awaitable[int]]]:
    """A command about one program: storage opened, schema checked, ``--program`` chosen;
    the command runs as the whole program's admin (it runs on the server).

    A RosterError, NotAllowed or InvalidInput raised by the command becomes its one-line
    error.
    """

    def decorate(body: ProgramCommand) -> Callable[[Settings, argparse.Namespace], Awaitable[int]]:
        async def run(settings: Settings, args: argparse.Namespace) -> int:
            command = name(args) if callable(name) else name
            async with _storage(settings) as storage:
                if not await _ready(storage, command):
                    return EXIT_BAD_INPUT
                ports = admin_ports(storage)
                args.available_services = settings.calendars.available
                try:
                    program = await roster.choose_program(ports, args.program)
                    return await body(ports, command_line(program), args)
                except (RosterError, InvalidInput, NotAllowed) as error:
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


def _report(command: str, report: imports.ImportReport) -> int:
    """Each line, then one summary: exit 0 when everything was imported, 2 when bad lines
    stopped the import (one line on standard error), 1 when ``--partial`` skipped some."""
    preview = report.preview
    for line in preview.lines:
        print(f"line {line.line}: {line.status.value}: {line.text}")
    new = preview.count(imports.LineStatus.NEW)
    unchanged = preview.count(imports.LineStatus.UNCHANGED)
    bad = len(preview.errors)
    if bad and not report.written:
        return fail(
            command,
            f"{bad} of {len(preview.lines)} line(s) have errors (listed above), so nothing was "
            "imported: fix them and import again, or import the good lines with --partial",
        )
    track = preview.track.name
    print(
        f"Imported {new} new line(s) into the track {track!r}; {unchanged} unchanged"
        + (f"; {bad} line(s) with errors skipped." if bad else ".")
    )
    return EXIT_PARTIAL if bad else EXIT_OK


@program_command("pairs import")
async def pairs_import(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    lines = await _read(args.file)
    preview = await imports.preview_pairs(ports, scope, lines, args.track)
    report = await imports.write(ports, scope, preview, partial=args.partial)
    return _report("pairs import", report)


@program_command("circles import")
async def circles_import(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    lines = await _read(args.file)
    preview = await imports.preview_circles(ports, scope, lines, args.track)
    report = await imports.write(ports, scope, preview, partial=args.partial)
    return _report("circles import", report)


async def _track_names(ports: AdminPorts, scope: Scope) -> dict[str | None, str]:
    return {t.id: t.name for t in await tracks.tracks(ports, scope)}


@program_command("circles list")
async def circles_list(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    names = await _track_names(ports, scope)
    wanted = (await tracks.find_track(ports, scope, args.track)).id if args.track else None
    listed = [e for e in await roster.circles(ports, scope) if wanted in (None, e.circle.track)]
    if not listed:
        print(
            f"No circles in {scope.program} yet. "
            "Import some with `pairtime circles import FILE.csv`."
        )
    for entry in listed:
        circle = entry.circle
        where = f"meets in {circle.channel}" if circle.channel else "no channel"
        track = names.get(circle.track, "no track")
        print(f"{circle.name} ({len(circle.members)} member(s), {where}, track {track})")
        for person in entry.members:
            print(f"  {roster.label(person)}")
    return EXIT_OK


@program_command("circles link")
async def circles_link(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    circle = await roster.link_circle(ports, scope, args.circle, args.channel)
    if circle.channel is None:
        print(f"The circle {circle.name!r} no longer has a channel.")
    else:
        print(
            f"The circle {circle.name!r} meets in {circle.channel}: "
            "a poll asked for there invites it."
        )
    return EXIT_OK


@program_command("circles remove")
async def circles_remove(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    circle = await roster.remove_circle(ports, scope, args.circle)
    print(f"Removed the circle {circle.name!r}; its {len(circle.members)} member(s) stay.")
    return EXIT_OK


@program_command("circles move")
async def circles_move(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    circle = await roster.move_circle(ports, scope, args.circle, args.track)
    print(f"The circle {circle.name!r} is in the track {args.track!r}.")
    return EXIT_OK


@program_command("pairs list")
async def pairs_list(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    names = await _track_names(ports, scope)
    wanted = (await tracks.find_track(ports, scope, args.track)).id if args.track else None
    pairs = [p for p in await roster.pairs(ports, scope) if wanted in (None, p.track)]
    if not pairs:
        print(
            f"No pairs in {scope.program} yet. Import some with `pairtime pairs import FILE.csv`."
        )
    for pair in pairs:
        track = "" if wanted else f" (track {names.get(pair.track, 'none')})"
        print(f"{roster.label(pair.mentor)} → {roster.label(pair.mentee)}{track}")
    return EXIT_OK


@program_command("pairs remove")
async def pairs_remove(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    pair = await roster.remove_pair(ports, scope, args.mentor, args.mentee)
    print(f"{roster.label(pair.mentor)} and {roster.label(pair.mentee)} are no longer paired.")
    return EXIT_OK


@program_command("pairs move")
async def pairs_move(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    pair = await roster.move_pair(ports, scope, args.mentor, args.mentee, args.track)
    print(
        f"{roster.label(pair.mentor)} → {roster.label(pair.mentee)} is in the track {args.track!r}."
    )
    return EXIT_OK


@program_command(lambda args: f"admins {args.action}")
async def admins_change(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    where = f"the track {args.track!r} of {scope.program}" if args.track else scope.program
    if args.action == "grant":
        change = await admins.grant_admin(ports, scope, args.person, args.track)
        done = "is now an admin" if change.changed else "was already an admin"
    else:
        change = await admins.revoke_admin(ports, scope, args.person, args.track)
        done = "is no longer an admin" if change.changed else "was not an admin"
    print(f"{roster.label(change.person)} {done} of {where}.")
    return EXIT_OK


@program_command("admins list")
async def admins_list(ports: AdminPorts, scope: Scope, _args: argparse.Namespace) -> int:
    listed = await admins.admins(ports, scope)
    if not listed:
        print(f"{scope.program} has no admins yet: `pairtime admins grant EMAIL` adds one.")
    for entry in listed:
        runs = "" if entry.tracks is None else f" (tracks: {', '.join(entry.tracks)})"
        print(roster.label(entry.person) + runs)
    return EXIT_OK


@program_command("tracks list")
async def tracks_list(ports: AdminPorts, scope: Scope, _args: argparse.Namespace) -> int:
    for track in await tracks.tracks(ports, scope):
        own = sorted(track.overrides())
        notes = ["archived"] if track.archived else []
        if own:
            notes.append(f"sets {', '.join(own)}")
        print(track.name + (f" ({'; '.join(notes)})" if notes else ""))
    return EXIT_OK


@program_command(lambda args: f"tracks {args.action}")
async def tracks_change(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    match args.action:
        case "create":
            track = await tracks.create_track(ports, scope, args.name)
            print(f"Created the track {track.name!r}.")
        case "rename":
            track = await tracks.rename_track(ports, scope, args.name, args.new_name)
            print(f"The track {args.name!r} is now called {track.name!r}.")
        case "archive":
            track = await tracks.archive_track(ports, scope, args.name)
            print(f"Archived the track {track.name!r}; its pairs and circles keep its rules.")
        case _:
            track = await tracks.archive_track(ports, scope, args.name, archived=False)
            print(f"The track {track.name!r} is active again.")
    return EXIT_OK


@program_command("program show")
async def program_show(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    page = await rules.rules_page(ports, scope, args.track)
    if page.track is None:
        print(f"Program {scope.program}")
    else:
        print(f"Track {page.track.name!r} of {scope.program} (* its own; the rest inherited)")
    for row in page.rows:
        mark = "" if page.track is None else ("  " if row.inherited else "* ")
        shown = row.shown
        if row.rule.name == "providers":  # what people can connect, as every answer says
            available = getattr(args, "available_services", frozenset(Provider))
            shown = services_text(page.settings.allowed_providers, available, admin=True)
        print(f"  {mark}{row.rule.label}: {shown}")
    return EXIT_OK


@program_command("program set")
async def program_set(ports: AdminPorts, scope: Scope, args: argparse.Namespace) -> int:
    changes = rule_changes(args)
    if args.track:
        page = await rules.change_track_rules(
            ports,
            scope,
            args.track,
            changes,
            inherit=frozenset(_rule_named(option) for option in args.inherit or ()),
            field=_option,
        )
        assert page.track is not None
        print(f"Saved the rules of the track {page.track.name!r} of {scope.program}.")
        return EXIT_OK
    if args.inherit:
        return fail("program set", "--inherit is for a track's rules: give --track too")
    await rules.change_program_rules(ports, scope, changes, field=_option)
    print(f"Saved the rules of {scope.program}.")
    return EXIT_OK


# Rules whose option is not their name in RuleChanges, spelled with dashes.
OPTIONS = {"tentative_is_busy": "tentative"}


def _option(rule: str) -> str:
    return "--" + OPTIONS.get(rule, rule).replace("_", "-")


def _rule_named(option: str) -> str:
    name = option.removeprefix("--").replace("-", "_")
    return next((rule for rule, given in OPTIONS.items() if given == name), name)


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
        video=None if getattr(args, "video", None) is None else VideoRule(args.video),
        availability_visible_to=None
        if args.availability_visible_to is None
        else Visibility(args.availability_visible_to),
        retention_days=getattr(args, "retention_days", None),
    )
