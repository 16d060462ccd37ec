"""The ``pairtime`` command line.

Each command imports what it needs when it runs, so ``pairtime parse`` and
``pairtime slots`` start fast and ``--help`` never touches a database.
Errors are one clear line on standard error and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

EXIT_BAD_INPUT = 2
EXIT_CONFIG = 78  # EX_CONFIG from sysexits.h

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
        description="Run the bot's web server (Slack, Teams, calendar connections, /healthz).",
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
    return parser


def _serve(args: argparse.Namespace) -> int:
    import asyncio

    from bot.server import build_app, serve
    from bot.settings import ConfigError, load_settings

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings(os.environ)
    except ConfigError as error:
        for problem in error.problems:
            print(f"pairtime: configuration error: {problem}", file=sys.stderr)
        return EXIT_CONFIG

    def announce(address: str) -> None:
        print(f"Pairtime is listening on {address} (Ctrl+C stops it)", flush=True)

    asyncio.run(serve(build_app(settings), args.host, args.port, announce=announce))
    return 0


def _slots(args: argparse.Namespace) -> int:
    from core.availability import find_slots
    from core.errors import InvalidInput
    from core.slots_json import encode_slots, parse_slot_request

    try:
        text = args.input.read_text(encoding="utf-8") if args.input else sys.stdin.read()
    except OSError as error:
        print(f"pairtime slots: cannot read {args.input}: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        request = parse_slot_request(text, now=datetime.now(UTC))
    except InvalidInput as error:
        print(f"pairtime slots: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    json.dump(encode_slots(find_slots(request)), sys.stdout, indent=2)
    sys.stdout.write("\n")
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
