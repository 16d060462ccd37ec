"""``pairtime org``: connecting the organisation's calendars once, for the whole program.

Thin: these read the command line and files into a
:class:`~core.organisation.OrganisationSetup`, call the use cases of
``core.scheduling.organisation`` with storage and the calendar adapters, and print what
they answer. Secrets are read from files or standard input (``-``), travel masked, are
stored encrypted, and are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from adapters.calendars.organisation.google_workspace import key_info
from adapters.calendars.organisation.reading import OrganisationReader
from bot.admin import EXIT_BAD_INPUT, EXIT_OK, _ready, _storage, admin_ports, fail
from bot.services import SystemClock, http_session, organisation_reader
from bot.settings import Settings
from core.admin import organisation
from core.admin.organisation import OrganisationCard, since
from core.admin.roster import choose_program
from core.errors import RosterError
from core.organisation import OrganisationRefused, OrganisationSetup, OrgProvider, OrgStatus
from core.people import ProgramId
from core.secret import Secret
from storage.store import Storage


@asynccontextmanager
async def _authority(settings: Settings, storage: Storage) -> AsyncIterator[OrganisationReader]:
    async with http_session(settings) as http:
        reader = organisation_reader(settings, storage, http, SystemClock())
        try:
            yield reader
        finally:
            await reader.close()


async def _program(storage: Storage, command: str, args: argparse.Namespace) -> ProgramId | int:
    """The program the command is about; or, when there is none, the exit status (said)."""
    if not await _ready(storage, command):
        return EXIT_BAD_INPUT
    try:
        return await choose_program(admin_ports(storage), args.program)
    except RosterError as error:
        return fail(command, str(error))


async def org_connect(settings: Settings, args: argparse.Namespace) -> int:
    command = f"org connect {args.kind}"
    try:
        setup = await asyncio.to_thread(setup_from, args)
    except OrganisationRefused as error:
        return fail(command, str(error))
    async with _storage(settings) as storage:
        program = await _program(storage, command, args)
        if isinstance(program, int):
            return program
        async with _authority(settings, storage) as authority:
            consent = authority.consent_url(setup)
            if consent:
                print(f"A tenant admin grants the app its permissions once, here: {consent}")
            try:
                card = await organisation.connect(
                    storage.organisations, authority, SystemClock(), program, setup
                )
            except OrganisationRefused as error:
                return fail(command, str(error))
    connection = card.connection
    assert connection is not None
    print(
        f"Connected {connection.described} for {program}: it reads "
        f"{', '.join(connection.domains)}; {card.people_covered} people covered now."
    )
    if connection.can_write:
        print(f"Booked meetings are created on {connection.program_account}'s calendar.")
    else:
        print(
            f"{connection.program_account} checks the connection; meetings keep going out as "
            "email invitations (no write grant)."
        )
    return EXIT_OK


async def org_status(settings: Settings, args: argparse.Namespace) -> int:
    async with _storage(settings) as storage:
        program = await _program(storage, "org status", args)
        if isinstance(program, int):
            return program
        for card in await organisation.cards(storage.organisations, program):
            print(describe(card))
    return EXIT_OK


async def org_disconnect(settings: Settings, args: argparse.Namespace) -> int:
    command = "org disconnect"
    provider = OrgProvider(args.provider)
    async with _storage(settings) as storage:
        program = await _program(storage, command, args)
        if isinstance(program, int):
            return program
        async with _authority(settings, storage) as authority:
            removed = await organisation.disconnect(
                storage.organisations, authority, program, provider
            )
    if removed is None:
        print(f"{program} has no {provider.label} connection; nothing was removed.")
        return EXIT_OK
    print(
        f"Disconnected {removed.described} from {program} and deleted its stored secret. "
        f"{_withdraw_hint(provider)}"
    )
    return EXIT_OK


def describe(card: OrganisationCard) -> str:
    label = card.provider.label
    connection = card.connection
    if connection is None:
        return f"{label}: not connected (`pairtime org connect {card.provider.value} --help`)"
    state = {
        OrgStatus.CONNECTED: "connected",
        OrgStatus.REVOKED: "STOPPED WORKING (connect it again)",
        OrgStatus.KEY_MISSING: "UNREADABLE (its encryption key is missing)",
    }[connection.status]
    parts = [
        f"{label}: {state} since {since(connection.connected_at)} as {connection.name}",
        f"domains {', '.join(connection.domains)}",
        f"program account {connection.program_account}"
        + (" (creates meetings)" if connection.can_write else ""),
        f"last successful read {since(connection.last_read_at)}",
        f"{card.people_covered} people covered",
        f"last error: {connection.last_error or 'none'}",
    ]
    return "; ".join(parts)


def _withdraw_hint(provider: OrgProvider) -> str:
    match provider:
        case OrgProvider.GOOGLE:
            return (
                "To withdraw the access itself, delete the service account's key in the Cloud "
                "console and its client id under Domain-wide delegation in the Admin console."
            )
        case OrgProvider.MICROSOFT:
            return (
                "To withdraw the access itself, delete the app's client secret or certificate "
                "(or the app) in the Entra admin center."
            )
        case OrgProvider.EXCHANGE:
            return "To withdraw the access itself, disable the account or change its password."


# -------------------------------------------------------------------- reading the command line


def setup_from(args: argparse.Namespace) -> OrganisationSetup:
    """The setup the command line describes; OrganisationRefused names a bad option."""
    provider = OrgProvider(args.kind)
    domains = tuple(args.domain or ())
    settings: dict[str, str]
    secret: dict[str, Any]
    match provider:
        case OrgProvider.GOOGLE:
            info = key_info(_read(args.service_account_file, "--service-account-file"))
            settings = {
                "client_email": info["client_email"],
                "client_id": str(info.get("client_id", "")),
            }
            secret = {"key": info}
            if not domains:
                raise OrganisationRefused("--domain is needed: whose addresses it covers")
        case OrgProvider.MICROSOFT:
            settings = {"tenant": args.tenant, "client_id": args.client_id}
            if bool(args.client_secret) == bool(args.certificate):
                raise OrganisationRefused("give either --client-secret or --certificate")
            if args.client_secret:
                secret = {"client_secret": _secret_value(args.client_secret, "--client-secret")}
            else:
                certificate, key = _certificate(args.certificate, args.certificate_key)
                settings["certificate"] = certificate
                secret = {"private_key": key}
        case OrgProvider.EXCHANGE:
            if not str(args.ews_url).startswith("https://"):
                raise OrganisationRefused("--ews-url must be an https:// address")
            settings = {"ews_url": args.ews_url, "username": args.username, "auth": args.auth}
            secret = {"password": _secret_value(args.password, "--password")}
            if not domains:
                raise OrganisationRefused("--domain is needed: whose addresses it covers")
    return OrganisationSetup(
        provider=provider,
        name=args.name or "",
        program_account=args.program_account,
        domains=domains,
        settings=settings,
        secret=Secret(json.dumps(secret)),
        write=bool(getattr(args, "write", False)),
    )


def _read(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise OrganisationRefused(f"{option}: cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise OrganisationRefused(f"{option}: {path} is not a text file") from None


def _secret_value(value: str, option: str) -> str:
    """``value``, or one line of standard input for ``-`` (keeps it out of process lists)."""
    if value != "-":
        return value
    line = sys.stdin.readline().strip()
    if not line:
        raise OrganisationRefused(f"{option} -: nothing was given on standard input")
    return line


def _certificate(path: Path, key_path: Path | None) -> tuple[str, str]:
    """The certificate's PEM and its private key's PEM (from one file, or two)."""
    text = _read(path, "--certificate")
    key_text = _read(key_path, "--certificate-key") if key_path else text
    certificate = _pem_block(text, "CERTIFICATE")
    key = _pem_block(key_text, "PRIVATE KEY")
    if certificate is None:
        raise OrganisationRefused(f"--certificate: {path} holds no PEM certificate")
    if key is None:
        raise OrganisationRefused(
            "--certificate: no PEM private key found (give it in the same file or with "
            "--certificate-key)"
        )
    return certificate, key


def _pem_block(text: str, kind: str) -> str | None:
    """The first PEM block whose label ends with ``kind`` ("PRIVATE KEY" also finds "RSA
    PRIVATE KEY")."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("-----BEGIN ") and line.rstrip("-").endswith(kind):
            label = line.removeprefix("-----BEGIN ").rstrip("-")
            end = f"-----END {label}-----"
            if end in lines[index:]:
                return "\n".join(lines[index : lines.index(end, index) + 1]) + "\n"
    return None
