"""Benchmark: 100 covered people read through each kind of organisation connection.

    python bench/organisation.py [--people N] [--latency SECONDS]

The real reader and organisation clients run against the local fakes (Google's token
endpoint and Calendar API, Microsoft's identity platform and Graph over TLS, an EWS
endpoint over TLS through exchangelib), every request delayed by ``--latency``. Prints
JSON per provider: requests made, the most in flight at once (the bound is 10), and the
seconds a fresh read took without a time limit; and, as chat requests meet it, how many
were read within the reader's 5 seconds on a first and on a second request. Google and
Google reads one mailbox per request, so its time is about people / 10 * latency
(plus a token per person, kept for its hour); Microsoft sends JSON batches of 20
mailboxes (a batch's parts are not counted apart); Exchange asks for up to 100
mailboxes per request. Requests cut off at the deadline are not logged by the fakes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

# The fakes live in tests/, which is not installed: run from a checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.calendars.config import CalendarSettings
from adapters.calendars.google import EVENTS
from adapters.calendars.reader import CalendarReader
from bench.support import machine, report
from bot.services import SystemClock, organisation_reader
from bot.settings import load_settings
from core.admin import organisation
from core.calendars import BusyTimes
from core.organisation import OrganisationSetup, OrgProvider
from core.people import ChatIdentity, PersonId, Platform, Profile, ProgramId
from core.secret import Secret
from core.time import Interval
from storage import migrate
from storage.crypto import generate_key
from storage.store import Storage
from tests.fakes.ews import EwsEvent, FakeExchange
from tests.fakes.google import FakeGoogle
from tests.fakes.google_events import GoogleEvent
from tests.fakes.graph_batch import BATCH_PART
from tests.fakes.microsoft import FakeEvent, FakeMicrosoft
from tests.fakes.server import TestCertificate, running

START = datetime(2026, 11, 30, tzinfo=UTC)
WINDOW = Interval(START, START + timedelta(days=14))
TARGET_IN_FLIGHT = 10


class InFlight:
    """An aiohttp middleware counting requests being answered at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.total = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.headers.get(BATCH_PART):  # a part of a Graph batch, counted in it
            return await handler(request)
        self.now += 1
        self.total += 1
        self.most = max(self.most, self.now)
        try:
            return await handler(request)
        finally:
            self.now -= 1


def counted(app: web.Application, counter: InFlight, latency: float) -> web.Application:
    @web.middleware
    async def slow(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.headers.get(BATCH_PART):
            await asyncio.sleep(latency)
        return await handler(request)

    app.middlewares.extend([counter.middleware, slow])
    return app


async def people(storage: Storage, program: ProgramId, domain: str, count: int) -> list[PersonId]:
    await storage.programs.ensure(program, "Bench")
    found = []
    for index in range(count):
        identity = ChatIdentity(Platform.SLACK, program.split(":")[1], f"U{index:04d}")
        person = await storage.people.remember(
            program, identity, Profile(f"P{index}", email=f"p{index}@{domain}", timezone="UTC")
        )
        found.append(person.id)
    return found


async def measure(
    provider: OrgProvider, count: int, latency: float, folder: Path
) -> dict[str, Any]:
    tls = TestCertificate.create(folder)
    counter = InFlight()
    program = ProgramId(f"slack:T{provider.value.upper()}")
    event = (START + timedelta(hours=9), START + timedelta(hours=10))
    if provider is OrgProvider.GOOGLE:
        google = FakeGoogle()
        for index in range(count):
            google.set_events(f"p{index}@example.org", [GoogleEvent(*event)])
        google.set_events("mentoring@example.org", [])
        app, use_tls = google.app, False
    elif provider is OrgProvider.MICROSOFT:
        microsoft = FakeMicrosoft(application_permissions=frozenset({"Calendars.ReadBasic"}))
        for index in range(count):
            microsoft.set_events(f"p{index}@example.org", [FakeEvent(*event)])
        microsoft.add_account("mentoring@example.org")
        app, use_tls = microsoft.app, True
    else:
        exchange = FakeExchange()
        for index in range(count):
            exchange.set_events(f"p{index}@example.org", [EwsEvent(*event)])
        exchange.set_events("mentoring@example.org", [])
        app, use_tls = exchange.app, True
    storage = Storage.open(f"sqlite+aiosqlite:///{folder / 'bench.db'}", [generate_key()])
    await migrate.upgrade(storage.database)
    async with running(counted(app, counter, latency), tls=tls if use_tls else None) as base:
        calendars = CalendarSettings(
            google_token_url=f"{base}/token",
            google_api_url=f"{base}/calendar/v3",
            microsoft_authority_url=base,
            microsoft_graph_url=f"{base}/v1.0",
            ca_bundle=str(tls.ca_path),
            timeout_seconds=30,
        )
        settings = replace(load_settings({}, dotenv_path=None), calendars=calendars)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=tls.client_context(), limit=100)
        ) as http:
            reader = organisation_reader(settings, storage, http, SystemClock())
            if provider is OrgProvider.GOOGLE:
                info = google.service_account_info(base, delegated_scopes=[EVENTS])
                plain, secret = {}, {"key": info}
            elif provider is OrgProvider.MICROSOFT:
                plain = {"tenant": microsoft.tenant_id, "client_id": microsoft.client_id}
                secret = {"client_secret": microsoft.client_secret}
            else:
                plain = {
                    "ews_url": f"{base}/EWS/Exchange.asmx",
                    "username": exchange.username,
                    "auth": "basic",
                }
                secret = {"password": exchange.password}
            await storage.programs.ensure(program, "Bench")
            await organisation.connect(
                storage.organisations,
                reader,
                SystemClock(),
                program,
                OrganisationSetup(
                    provider, "Bench", "mentoring@example.org", ("example.org",), plain,
                    Secret(json.dumps(secret)),
                ),
            )  # fmt: skip
            who = await people(storage, program, "example.org", count)

            def calendars(timeout: float) -> CalendarReader:
                return CalendarReader(
                    storage.connections,
                    {},
                    SystemClock(),
                    timeout_seconds=timeout,
                    organisations=reader,
                )

            # As a chat request would: within the reader's 5 seconds, cold, then once more
            # (those read the first time come from the cache, tokens are kept).
            bounded = calendars(5)
            within = []
            for _ in range(2):
                answer = await bounded.busy_times(who, WINDOW)
                within.append(sum(isinstance(r, BusyTimes) for r in answer.values()))
            calendar = calendars(30)
            before = counter.total
            counter.most = 0
            started = time.perf_counter()
            found = await calendar.busy_times(who, WINDOW, fresh=True)
            seconds = time.perf_counter() - started
            await reader.close()
    await storage.close()
    read = sum(isinstance(r, BusyTimes) and len(r.intervals) == 1 for r in found.values())
    return {
        "people": count,
        "read": read,
        "requests": counter.total - before,
        "most_in_flight": counter.most,
        "target_most_in_flight": TARGET_IN_FLIGHT,
        "seconds": round(seconds, 3),
        "read_within_5_seconds": {"first_request": within[0], "second_request": within[1]},
    }


async def main() -> None:
    # The fakes' server logs each request whose client gave up at the deadline: expected here.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    before = machine()
    results: dict[str, Any] = {"latency_seconds": args.latency}
    for provider in OrgProvider:
        with tempfile.TemporaryDirectory() as folder:
            results[provider.value] = await measure(
                provider, args.people, args.latency, Path(folder)
            )
    report(before, "organisation", **results)


if __name__ == "__main__":
    asyncio.run(main())
