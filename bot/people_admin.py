"""``pairtime people export|forget``: a subject access request, and the right to erasure.

Thin: they find the person as the other admin commands do (an email address or a chat
user id, in a program), then call storage's export or core's forget, and print what came
of it. Forgetting cancels coming meetings through the same use case as "forget me" in
chat; the cancellations are queued as jobs, sent by ``pairtime serve``'s worker.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.admin import EXIT_BAD_INPUT, EXIT_OK, _ready, _storage, admin_ports, fail
from bot.services import build_services, http_session
from bot.settings import Settings
from core.admin.roster import choose_program, find
from core.errors import NotFound, RosterError
from core.people import Person
from storage.repositories.personal_data import document
from storage.store import Storage


async def _person(storage: Storage, args: argparse.Namespace, command: str) -> Person | int:
    """The person the command names, or the exit code after saying why not (the schema
    behind, nobody by that name, a bad reference)."""
    if not await _ready(storage, command):
        return EXIT_BAD_INPUT
    ports = admin_ports(storage)
    try:
        program = await choose_program(ports, args.program)
        return await find(ports, program, args.person)
    except NotFound as missing:
        if command == "people forget":  # forgetting twice is fine: nothing is left
            print(f"Nothing to forget: {missing}.")
            return EXIT_OK
        return fail(command, str(missing))
    except RosterError as error:
        return fail(command, str(error))


async def people_export(settings: Settings, args: argparse.Namespace) -> int:
    async with _storage(settings) as storage:
        person = await _person(storage, args, "people export")
        if isinstance(person, int):
            return person
        text = document(await storage.personal_data.export(person.id))
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    path: Path = args.output
    try:
        await asyncio.to_thread(path.write_text, text, encoding="utf-8")
    except OSError as error:
        return fail("people export", f"cannot write {path}: {error.strerror}")
    print(f"Wrote everything Pairtime holds about {person.name} to {path}.")
    return EXIT_OK


async def people_forget(settings: Settings, args: argparse.Namespace) -> int:
    async with _storage(settings) as storage:
        person = await _person(storage, args, "people forget")
        if isinstance(person, int):
            return person
        async with http_session(settings) as http:
            services = build_services(settings, storage, http)
            try:
                done = await services.scheduler.forget(person)
            finally:
                await services.close()
    print(f"Forgot {person.name}:")
    if done.cancelled or done.left:
        print(
            f"  coming meetings: {done.cancelled} cancelled for everyone, {done.left} left "
            "(a circle's); the cancellations go out with pairtime serve's worker"
        )
    for kind, count in sorted(done.removed.items()):
        print(f"  {kind}: {count}")
    return EXIT_OK
