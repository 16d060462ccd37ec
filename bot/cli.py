"""The ``pairtime`` command line.

Each command imports what it needs when it runs, so ``pairtime parse`` and
``pairtime slots`` start fast and ``--help`` never touches a database.
Errors are one clear line on standard error and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.settings import Settings

EXIT_BAD_INPUT = 2
EXIT_CONFIG = 78  # EX_CONFIG from sysexits.h
LISTEN_BACKLOG = 128  # aiohttp's own default

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return handler(args)
    except BrokenPipeError:
        # The reader went away (`pairtime slots | head`): not an error worth a
        # traceback. Point stdout at /dev/null so the interpreter's final flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pairtime",
        description="Pairtime finds meeting times for mentoring pairs and circles "
        "from their real calendars, in Slack and Microsoft Teams.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the bot: every route on one HTTP port",
        description="Run the bot's web server (Slack, Teams, calendar connections, /healthz). "
        "A new database is created; one whose schema is behind is refused unless --migrate.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=3978,
        help="port to listen on; 0 picks a free one (default %(default)s)",
    )
    serve.add_argument(
        "--migrate", action="store_true", help="upgrade a database whose schema is behind"
    )
    serve.set_defaults(handler=_serve)

    slots = commands.add_parser(
        "slots",
        help="compute meeting slots from a JSON request",
        description="Read one JSON slot request (standard input or --input) and print the "
        "slots the availability engine finds, as JSON.",
    )
    slots.add_argument(
        "--input", type=Path, help="read the request from this file instead of stdin"
    )
    slots.add_argument(
        "--pretty", action="store_true", help="indent the JSON (default: compact, one line)"
    )
    slots.set_defaults(handler=_slots)

    parse = commands.add_parser(
        "parse",
        help="show how Pairtime reads a chat message",
        description="Read one chat message as Pairtime would and print the command it "
        "understands, as JSON.",
    )
    parse.add_argument(
        "text", nargs="+", metavar="TEXT", help="the message (quoted, or as several words)"
    )
    parse.add_argument(
        "--tz", default="UTC", help="the speaker's IANA time zone (default %(default)s)"
    )
    parse.add_argument(
        "--now", help="the current time, ISO-8601 with an offset (default: the clock)"
    )
    parse.set_defaults(handler=_parse)

    manifests = commands.add_parser(
        "manifests",
        help="write the Slack app manifest and the Teams app package",
        description="Write the Slack app manifest (slack-manifest.yaml) and, given the bot's "
        "app id, the Teams app package (manifest.json, icons and the zip to upload) with "
        "every URL filled in from --base-url.",
    )
    manifests.add_argument(
        "--base-url", required=True, help="the public https address, e.g. https://bot.example.org"
    )
    manifests.add_argument("--out", type=Path, required=True, help="the folder to write into")
    manifests.add_argument(
        "--teams-app-id", help="the Azure Bot's app id (default: MICROSOFT_APP_ID)"
    )
    manifests.set_defaults(handler=_manifests)

    _storage_commands(commands)
    _org_commands(commands)
    return parser


def _org_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``pairtime org``: its handlers are in ``bot.org_admin``."""
    from core.organisation import OrgProvider

    def handler(command: str, name: str) -> Handler:
        return _storage_handler(command, name, module="bot.org_admin")

    org = commands.add_parser(
        "org",
        help="connect the organisation's calendars once, for the whole program",
        description="Connect Google Workspace, Microsoft 365 or Exchange Server once, so "
        "everyone in the program whose address is in the connected domains is covered "
        "without connecting a calendar themselves. See docs/organisation.md.",
    )
    org.set_defaults(handler=lambda _args, p=org: _missing_subcommand(p))
    sub = org.add_subparsers(title="commands", metavar="COMMAND")

    def program_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--program",
            help="slack:TEAM_ID, teams:TENANT_ID or web:demo (default: the only program)",
        )

    connect = sub.add_parser("connect", help="connect one kind (google, microsoft, exchange)")
    connect.set_defaults(handler=lambda _args, p=connect: _missing_subcommand(p))
    kinds = connect.add_subparsers(title="kinds", metavar="KIND")

    def common(parser: argparse.ArgumentParser, *, domain_required: bool) -> None:
        parser.add_argument(
            "--program-account",
            required=True,
            metavar="EMAIL",
            help="the program's own mailbox: checked on connecting; meetings come from it",
        )
        parser.add_argument(
            "--domain",
            action="append",
            metavar="DOMAIN",
            required=domain_required,
            help="a domain whose people are covered (repeat for more)"
            + ("" if domain_required else "; default: the tenant's verified domains"),
        )
        parser.add_argument(
            "--name", help="how people are told whose calendars these are (default: the domain)"
        )
        program_option(parser)
        parser.set_defaults(handler=handler("org connect", "org_connect"))

    google = kinds.add_parser(
        "google",
        help="Google Workspace: a service account with domain-wide delegation",
        description="Google Workspace: a service account with domain-wide delegation for "
        "https://www.googleapis.com/auth/calendar.events.owned.readonly (and, with --write, "
        "calendar.events, used only as the program account).",
    )
    google.add_argument("--service-account-file", type=Path, required=True, metavar="KEY.json")
    google.add_argument(
        "--write", action="store_true", help="also create booked meetings as the program account"
    )
    common(google, domain_required=True)
    google.set_defaults(kind="google")

    microsoft = kinds.add_parser(
        "microsoft",
        help="Microsoft 365: an app registration with an application permission",
        description="Microsoft 365 / Exchange Online, app-only: an app registration granted "
        "Calendars.ReadBasic (or Calendars.Read) as an application permission, scoped with "
        "RBAC for Applications. Give a client secret (- reads it from standard input) or a "
        "certificate (PEM with its private key, or the key in --certificate-key).",
    )
    microsoft.add_argument("--tenant", required=True, metavar="TENANT_ID")
    microsoft.add_argument("--client-id", required=True, metavar="APP_ID")
    microsoft.add_argument("--client-secret", metavar="SECRET")
    microsoft.add_argument("--certificate", type=Path, metavar="CERT.pem")
    microsoft.add_argument("--certificate-key", type=Path, metavar="KEY.pem")
    microsoft.add_argument(
        "--write",
        action="store_true",
        help="also create booked meetings as the program account (Calendars.ReadWrite)",
    )
    common(microsoft, domain_required=False)
    microsoft.set_defaults(kind="microsoft")

    exchange = kinds.add_parser(
        "exchange",
        help="Exchange Server on-premises through EWS",
        description="Exchange Server on-premises: an account allowed to read free/busy, "
        "through EWS GetUserAvailability at the address given (no autodiscover).",
    )
    exchange.add_argument("--ews-url", required=True, metavar="URL")
    exchange.add_argument("--username", required=True, metavar="DOMAIN\\USER")
    exchange.add_argument(
        "--password", required=True, help="the password (- reads it from standard input)"
    )
    exchange.add_argument("--auth", choices=("basic", "ntlm"), default="ntlm")
    common(exchange, domain_required=True)
    exchange.set_defaults(kind="exchange")

    status = sub.add_parser("status", help="each kind: connected since, last read, people covered")
    program_option(status)
    status.set_defaults(handler=handler("org status", "org_status"))

    disconnect = sub.add_parser(
        "disconnect", help="disconnect one kind and delete its stored secret"
    )
    disconnect.add_argument("provider", choices=[p.value for p in OrgProvider], metavar="KIND")
    program_option(disconnect)
    disconnect.set_defaults(handler=handler("org disconnect", "org_disconnect"))


def _storage_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def group(name: str, summary: str) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        parser = commands.add_parser(name, help=summary, description=summary.capitalize() + ".")
        parser.set_defaults(handler=lambda _args, p=parser: _missing_subcommand(p))
        return parser.add_subparsers(title="commands", metavar="COMMAND")

    def program_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--program",
            help="slack:TEAM_ID, teams:TENANT_ID or web:demo (default: the only program)",
        )

    db = group("db", "manage the database schema")
    upgrade = db.add_parser("upgrade", help="apply schema migrations up to this version's")
    upgrade.set_defaults(handler=_storage_handler("db upgrade", "db_upgrade"))
    status = db.add_parser("status", help="show whether the schema is current")
    status.set_defaults(handler=_storage_handler("db status", "db_status"))

    keys = group("keys", "manage the keys that encrypt calendar tokens at rest")
    generate = keys.add_parser("generate", help="print a new encryption key")
    generate.set_defaults(handler=_keys_generate)
    rotate = keys.add_parser(
        "rotate",
        help="re-encrypt every stored secret under the first key of PAIRTIME_ENCRYPTION_KEYS",
        description="Re-encrypt every stored secret under the first key of "
        "PAIRTIME_ENCRYPTION_KEYS, in batches; safe to interrupt and run again.",
    )
    rotate.add_argument("--batch-size", type=int, default=200, help="rows per transaction")
    rotate.set_defaults(handler=_storage_handler("keys rotate", "keys_rotate"))

    def track_option(parser: argparse.ArgumentParser, summary: str) -> None:
        parser.add_argument("--track", metavar="NAME", help=summary)

    def roster(
        parsers: argparse._SubParsersAction[argparse.ArgumentParser],
        noun: str,
        *,
        imports: str,
        description: str,
        lists: str,
    ) -> None:
        """The ``import`` and ``list`` commands of pairs or circles."""
        importing = parsers.add_parser("import", help=imports, description=description)
        importing.add_argument("file", type=Path, metavar="FILE.csv")
        program_option(importing)
        track_option(importing, "the track new pairs or circles join (default: the first track)")
        importing.add_argument(
            "--partial",
            action="store_true",
            help="import the good lines even when some are bad (default: all or nothing)",
        )
        importing.set_defaults(handler=_storage_handler(f"{noun} import", f"{noun}_import"))
        listing = parsers.add_parser("list", help=lists)
        program_option(listing)
        track_option(listing, f"only this track's {noun}")
        listing.set_defaults(handler=_storage_handler(f"{noun} list", f"{noun}_list"))

    pairs = group("pairs", "manage mentoring pairs")
    roster(
        pairs,
        "pairs",
        imports="import mentor,mentee pairs from a CSV file",
        description="Import pairs from a CSV file with two columns, mentor and mentee, each "
        "an email address or a chat user id. Every line is checked first; when any is bad, "
        "each bad line is named and nothing is imported (unless --partial). Good files are "
        "imported in one transaction.",
        lists="list the program's pairs and their tracks",
    )
    for action, summary in (("remove", "unpair two people"), ("move", "move a pair to a track")):
        changing = pairs.add_parser(action, help=summary)
        changing.add_argument("mentor", metavar="MENTOR")
        changing.add_argument("mentee", metavar="MENTEE")
        program_option(changing)
        if action == "move":
            changing.add_argument("--track", metavar="NAME", required=True, help="the new track")
        changing.set_defaults(handler=_storage_handler(f"pairs {action}", f"pairs_{action}"))

    circles = group("circles", "manage mentoring circles and the channels they meet in")
    roster(
        circles,
        "circles",
        imports="import circle,member[,channel] rows from a CSV file",
        description="Import circles from a CSV file with the columns circle and member (an "
        "email address or a chat user id) and optionally channel (a Slack or Teams channel's "
        "id or link): a poll asked for in that channel invites the circle. A circle is made "
        "by its first row; running the file again changes nothing. Every line is checked "
        "first; when any is bad, nothing is imported (unless --partial).",
        lists="list the program's circles and their members",
    )
    linking = circles.add_parser(
        "link",
        help="set the channel a circle meets in (leave it out to unlink)",
        description="Set the chat channel a circle meets in, by id or link; without CHANNEL "
        "the circle no longer has one. A channel belongs to one circle at most.",
    )
    linking.add_argument("circle", metavar="NAME")
    linking.add_argument("channel", metavar="CHANNEL", nargs="?")
    program_option(linking)
    linking.set_defaults(handler=_storage_handler("circles link", "circles_link"))
    removing = circles.add_parser(
        "remove", help="forget a circle (its members stay in the program)"
    )
    removing.add_argument("circle", metavar="NAME")
    program_option(removing)
    removing.set_defaults(handler=_storage_handler("circles remove", "circles_remove"))
    moving = circles.add_parser("move", help="move a circle to a track")
    moving.add_argument("circle", metavar="NAME")
    moving.add_argument("--track", metavar="NAME", required=True, help="the new track")
    program_option(moving)
    moving.set_defaults(handler=_storage_handler("circles move", "circles_move"))

    tracks = group("tracks", "manage a program's tracks (each with its pairs, circles, rules)")
    listing = tracks.add_parser("list", help="list the tracks and the rules each sets")
    program_option(listing)
    listing.set_defaults(handler=_storage_handler("tracks list", "tracks_list"))
    for action, summary in (
        ("create", "create a track"),
        ("rename", "rename a track"),
        ("archive", "archive a track (its pairs and circles stay)"),
        ("restore", "make an archived track active again"),
    ):
        changing = tracks.add_parser(action, help=summary)
        changing.add_argument("name", metavar="NAME")
        if action == "rename":
            changing.add_argument("new_name", metavar="NEW_NAME")
        program_option(changing)
        changing.set_defaults(
            action=action, handler=_storage_handler(f"tracks {action}", "tracks_change")
        )

    admins = group("admins", "manage program admins")
    for action, summary in (("grant", "make someone an admin"), ("revoke", "remove an admin")):
        change = admins.add_parser(action, help=summary)
        change.add_argument("person", metavar="EMAIL_OR_USER_ID")
        program_option(change)
        track_option(change, "of this track only (default: of the whole program)")
        change.set_defaults(
            action=action, handler=_storage_handler(f"admins {action}", "admins_change")
        )
    admins_list = admins.add_parser("list", help="list the program's admins")
    program_option(admins_list)
    admins_list.set_defaults(handler=_storage_handler("admins list", "admins_list"))

    people = group("people", "export or forget what Pairtime holds about a person")
    exporting = people.add_parser(
        "export",
        help="write one JSON document of everything held about a person",
        description="Write one JSON document with everything Pairtime holds about PERSON "
        "(an email address or a chat user id): profile, chat accounts, pairs and circles, "
        "meetings, votes, connection details without secrets. For a subject access request.",
    )
    exporting.add_argument("person", metavar="PERSON")
    program_option(exporting)
    exporting.add_argument(
        "--output", type=Path, metavar="FILE", help="write here (default: standard output)"
    )
    exporting.set_defaults(
        handler=_storage_handler("people export", "people_export", module="bot.people_admin")
    )
    forgetting = people.add_parser(
        "forget",
        help="remove a person and everything that names them",
        description="Forget PERSON (an email address or a chat user id): revoke and delete "
        "their calendar connection, cancel their coming meetings (the others are sent "
        "cancellations), remove them from pairs and circles, and delete their profile and "
        "chat accounts. Votes and meetings they took part in stay as anonymous numbers. "
        "Prints what was removed; safe to repeat.",
    )
    forgetting.add_argument("person", metavar="PERSON")
    program_option(forgetting)
    forgetting.set_defaults(
        handler=_storage_handler("people forget", "people_forget", module="bot.people_admin")
    )

    demo = group("demo", "manage the playground's demo program")
    reset = demo.add_parser(
        "reset",
        help="restore the playground's demo program and its calendars",
        description="Delete the web:demo program's data (people known only there, their "
        "connections, offers, meetings, polls) and its calendars, then seed both again. "
        "Run it in the folder you run `pairtime serve` from.",
    )
    reset.set_defaults(handler=_demo_reset)

    program = group("program", "show or change a program's scheduling rules")
    show = program.add_parser("show", help="show the program's rules (or a track's)")
    program_option(show)
    track_option(show, "show this track's rules, marking those it sets itself")
    show.set_defaults(handler=_storage_handler("program show", "program_show"))
    change = program.add_parser(
        "set",
        help="change the program's rules (only the options given)",
        description="Change a program's scheduling rules, or with --track the rules one "
        "track sets over the program's; options left out keep their value.",
    )
    program_option(change)
    track_option(change, "change this track's own rules")
    change.add_argument(
        "--inherit",
        metavar="RULE",
        action="append",
        help="with --track: let this rule (e.g. earliest, all-day-events) follow the program "
        "again; repeat for several",
    )
    change.add_argument("--earliest", metavar="HH:MM", help="earliest start of a meeting")
    change.add_argument("--latest", metavar="HH:MM", help="latest end of a meeting")
    change.add_argument("--weekends", choices=("yes", "no"), help="offer weekend times")
    change.add_argument("--granularity", type=int, metavar="MIN", help="minutes between starts")
    change.add_argument("--notice", type=int, metavar="MIN", help="minimum notice in minutes")
    change.add_argument(
        "--buffer", type=int, metavar="MIN", help="minutes kept free around busy times"
    )
    change.add_argument("--tentative", choices=("busy", "free"), help="how tentative events count")
    change.add_argument(
        "--all-day-events",
        choices=("busy", "as_marked"),
        help="all-day events marked free: busy (the default) or as their calendar marks them",
    )
    change.add_argument("--duration", type=int, metavar="MIN", help="default meeting length")
    change.add_argument(
        "--providers", metavar="LIST", help="allowed calendar services: google,microsoft,icloud"
    )
    change.add_argument("--timezone", metavar="ZONE", help="zone assumed when a profile has none")
    change.add_argument(
        "--confirmation",
        choices=("auto", "partner"),
        help="partner (the default): the other person of a pair accepts a proposed time; "
        "auto: a chosen time is booked at once",
    )
    change.add_argument(
        "--reminder-minutes",
        type=int,
        metavar="MIN",
        help="one direct message this long before each meeting (default 15; 0: none)",
    )
    change.add_argument(
        "--retention-days",
        type=int,
        metavar="DAYS",
        help="offers and meetings older than this are deleted, their counts kept "
        "(default 400; 90 to 3650)",
    )
    change.add_argument(
        "--location",
        metavar="PLACE",
        help="where meetings happen: none, ask (the booker adds a link or a room), or the "
        "program's one link or room (a Zoom or Meet URL, 'Room 4B')",
    )
    change.add_argument(
        "--video",
        choices=("none", "teams", "meet"),
        help="an online meeting on the events the program account creates (an organisation "
        "connection made with --write): a Teams meeting or a Google Meet",
    )
    change.add_argument(
        "--availability-visible-to",
        choices=("partners", "program"),
        help="partners (the default): people find times only with their own mentors, mentees "
        "and circles (admins with anyone); program: with anyone in the program",
    )
    change.set_defaults(handler=_storage_handler("program set", "program_set"))


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_BAD_INPUT


def _settings_or_none() -> Settings | None:
    from bot.settings import ConfigError, load_settings

    try:
        return load_settings(os.environ)
    except ConfigError as error:
        for problem in error.problems:
            print(f"pairtime: configuration error: {problem}", file=sys.stderr)
        return None


def _run(command: str, work: Coroutine[Any, Any, int]) -> int:
    """Run an async command; start-up and database problems become one clear line."""
    import asyncio

    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from bot.bootstrap import StartupError

    try:
        return asyncio.run(work)
    except StartupError as error:
        print(f"pairtime {command}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except (DBAPIError, OSError) as error:
        cause = getattr(error, "orig", None) or error
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        print(f"pairtime {command}: cannot use the database: {reason}", file=sys.stderr)
        return EXIT_CONFIG
    except SQLAlchemyError as error:
        print(f"pairtime {command}: database error: {type(error).__name__}", file=sys.stderr)
        return EXIT_CONFIG


def _storage_handler(command: str, name: str, *, module: str = "bot.admin") -> Handler:
    def handle(args: argparse.Namespace) -> int:
        import importlib

        settings = _settings_or_none()
        if settings is None:
            return EXIT_CONFIG
        work: Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]] = getattr(
            importlib.import_module(module), name
        )
        return _run(command, work(settings, args))

    return handle


def _demo_reset(_args: argparse.Namespace) -> int:
    from bot.demo import reset_demo

    settings = _settings_or_none()
    if settings is None:
        return EXIT_CONFIG

    async def work() -> int:
        print(await reset_demo(settings, Path.cwd() / ".pairtime"))
        return 0

    return _run("demo reset", work())


def _manifests(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from adapters.slack.manifest import write_manifest as write_slack
    from adapters.teams.manifest import write_manifest as write_teams

    base_url = str(args.base_url).rstrip("/")
    address = urlsplit(base_url)
    if address.scheme != "https" or not address.netloc:
        print("pairtime manifests: --base-url must be an https URL", file=sys.stderr)
        return EXIT_BAD_INPUT
    app_id = args.teams_app_id or os.environ.get("MICROSOFT_APP_ID")
    try:
        written = write_slack(base_url, args.out)
        if app_id:
            written += write_teams(base_url, args.out / "teams", app_id=app_id)
    except (OSError, ValueError) as error:
        print(f"pairtime manifests: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for path in written:
        print(path)
    if not app_id:
        print(
            "pairtime manifests: the Teams package was skipped: pass --teams-app-id or set "
            "MICROSOFT_APP_ID to the Azure Bot's app id",
            file=sys.stderr,
        )
    return 0


def _keys_generate(_args: argparse.Namespace) -> int:
    from storage.crypto import generate_key

    print(generate_key())
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        sockets = _listen(args.host, args.port)
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        where = f"{args.host}:{args.port}"
        print(f"pairtime serve: cannot listen on {where}: {reason}", file=sys.stderr)
        return EXIT_CONFIG
    # No cyclic garbage collection while starting: the collector would walk the hundreds of
    # thousands of objects that importing the libraries makes, over and over, for about a
    # tenth of a start's CPU, and they live as long as the process. Turned on again once the
    # server listens (see _serve_async), with those objects frozen out of its reach.
    gc.disable()
    try:
        from bot.logs import configure_logging

        settings = _settings_or_none()
        if settings is None:
            return EXIT_CONFIG
        configure_logging(settings.log_format)
        return _run("serve", _serve_async(settings, args, sockets))
    finally:
        for listening in sockets:  # the server closed them already, unless it never ran
            listening.close()


def _listen(host: str, port: int) -> list[socket.socket]:
    """The server's listening sockets, opened before anything heavy is imported.

    A connection made while the process starts (a load balancer's health check, the
    first request) waits in the backlog and is answered once the application is ready,
    instead of being refused. One socket per address ``host`` resolves to, as asyncio's
    ``create_server`` binds them.
    """
    opened: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            try:
                listening = socket.socket(family, kind, proto)
            except OSError:
                continue  # a family this machine cannot open (IPv6 off): asyncio skips it too
            opened.append(listening)
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listening.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listening.bind(address)
            listening.listen(LISTEN_BACKLOG)
    except OSError:
        for listening in opened:
            listening.close()
        raise
    if not opened:
        raise OSError(f"no address of {host!r} can be listened on")
    return opened


async def _serve_async(
    settings: Settings, args: argparse.Namespace, sockets: Sequence[socket.socket]
) -> int:
    from bot.bootstrap import open_storage, prepare_database
    from bot.server import build_app, serve

    storage = open_storage(settings)
    try:
        done = await prepare_database(
            storage.database, migrate_if_behind=args.migrate, vault=storage.vault
        )
        if done != "current":
            logging.getLogger("pairtime").info("Database schema %s.", done)

        def announce(address: str) -> None:
            gc.freeze()  # what start-up made stays: no collection need ever walk it again
            gc.enable()
            print(f"Pairtime is listening on {address} (Ctrl+C stops it)", flush=True)

        await serve(build_app(settings, storage), sockets, announce=announce)
    finally:
        await storage.close()
    return 0


def _slots(args: argparse.Namespace) -> int:
    from core.availability import slot_table
    from core.errors import InvalidInput
    from core.slots_json import MAX_INPUT_BYTES, encode_slots, parse_slot_request

    try:
        if args.input is None:
            stdin = getattr(sys.stdin, "buffer", None)  # a caller's text stream has none
            data = (stdin or sys.stdin).read(MAX_INPUT_BYTES + 1)
        else:
            with args.input.open("rb") as file:
                data = file.read(MAX_INPUT_BYTES + 1)
    except OSError as error:
        print(f"pairtime slots: cannot read {args.input}: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        request = parse_slot_request(data, now=datetime.now(UTC))
    except InvalidInput as error:
        print(f"pairtime slots: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    output = encode_slots(slot_table(request), pretty=args.pretty)
    # One write: a year of slots is megabytes.
    stdout = getattr(sys.stdout, "buffer", None)
    if stdout is None:
        sys.stdout.write(output.decode())
    else:
        sys.stdout.flush()
        stdout.write(output)
        stdout.flush()
    return 0


def _parse(args: argparse.Namespace) -> int:
    from core.commands import command_json
    from core.errors import InvalidInput
    from core.parsing import parse
    from core.time import parse_instant, zone_named

    try:
        zone = zone_named(args.tz, field="--tz")
        now = datetime.now(UTC) if args.now is None else parse_instant(args.now, field="--now")
    except InvalidInput as error:
        print(f"pairtime parse: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    command = parse(" ".join(args.text), zone, now)
    json.dump(command_json(command, zone), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
