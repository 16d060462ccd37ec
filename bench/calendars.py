"""Benchmark: busy times for 10 people on three providers, each answering after 300 ms.

    python bench/calendars.py [--repeat N]

Four people on Google, three on Microsoft 365, three on iCloud (CalDAV). The
real reader and provider clients run against the local fakes of Google and
Microsoft and a real Radicale server, each delayed by 300 ms per request.
People are connected through the same code the connect routes use. Prints
JSON: a fresh read (cache bypassed) should take about the slowest provider,
not the sum; a warm read comes from the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import caldav

# Run from a checkout (the fakes live in tests/, which is not installed). This script's own
# folder leaves the path: bench/profile.py would stand in for the standard library's
# profile module, which radicale's cProfile import needs.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from adapters.calendars.caldav import CalDavCalendars  # noqa: E402 - after the path is set
from adapters.calendars.config import CalendarSettings  # noqa: E402 - after the path is set
from adapters.calendars.google import GoogleCalendars  # noqa: E402 - after the path is set
from adapters.calendars.microsoft import MicrosoftCalendars  # noqa: E402 - after the path is set
from adapters.calendars.reader import CalendarReader  # noqa: E402 - after the path is set
from bench.support import machine, report  # noqa: E402 - after the path is set
from bot.services import SystemClock  # noqa: E402 - after the path is set
from core.calendars import BusyTimes  # noqa: E402 - after the path is set
from core.commands import Provider  # noqa: E402 - after the path is set
from core.people import ChatIdentity, PersonId, Platform, Profile, ProgramId  # noqa: E402 - after the path is set
from core.secret import Secret  # noqa: E402 - after the path is set
from core.time import Interval  # noqa: E402 - after the path is set
from storage import migrate  # noqa: E402 - after the path is set
from storage.crypto import generate_key  # noqa: E402 - after the path is set
from storage.store import Storage  # noqa: E402 - after the path is set
from tests.caldav_server import radicale_server  # noqa: E402 - after the path is set
from tests.fakes.google import FakeGoogle  # noqa: E402 - after the path is set
from tests.fakes.google_events import GoogleEvent  # noqa: E402 - after the path is set
from tests.fakes.microsoft import FakeEvent, FakeMicrosoft, parse_form_post  # noqa: E402 - after the path is set
from tests.fakes.server import TestCertificate, running  # noqa: E402 - after the path is set

LATENCY = 0.3
REDIRECT = "http://127.0.0.1:3978/oauth/{}/callback"
PROGRAM = ProgramId("slack:TBENCH")
START = datetime(2026, 11, 30, tzinfo=UTC)
WINDOW = Interval(START, START + timedelta(days=14))


def slow(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """A WSGI app answering every request after LATENCY seconds."""

    def delayed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        time.sleep(LATENCY)
        return app(environ, start_response)

    return delayed


async def connect_google(
    google: GoogleCalendars, http: aiohttp.ClientSession
) -> tuple[str, dict[str, Any]]:
    redirect = REDIRECT.format("google")
    url, kept = await google.authorization_url("bench-state", redirect)
    async with http.get(url, allow_redirects=False) as consent:
        query = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["Location"]).query).items()}
    connected = await google.finish(query, kept, redirect)
    return connected.account or "", connected.secret


async def connect_microsoft(
    microsoft: MicrosoftCalendars, http: aiohttp.ClientSession
) -> tuple[str, dict[str, Any]]:
    redirect = REDIRECT.format("microsoft")
    url, kept = await microsoft.authorization_url("bench-state", redirect)
    async with http.get(url) as page:
        _, fields = parse_form_post(await page.text())
    connected = await microsoft.finish(fields, kept, redirect)
    return connected.account or "", connected.secret


async def timed(work: Callable[[], Any], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        await work()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


async def run(repeat: int, folder: Path) -> dict[str, Any]:
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the Google fake speaks plain http
    tls = TestCertificate.create(folder)
    google_fake = FakeGoogle(redirect_uris=(REDIRECT.format("google"),))
    microsoft_fake = FakeMicrosoft(redirect_uris=(REDIRECT.format("microsoft"),))
    icloud_users = {f"icloud{i}@example.com": f"app-password-{i}" for i in range(3)}
    storage = Storage.open(f"sqlite+aiosqlite:///{folder / 'bench.db'}", [generate_key()])
    await migrate.upgrade(storage.database)
    (folder / "caldav").mkdir()
    with radicale_server(folder / "caldav", icloud_users) as server:
        for user, password in icloud_users.items():
            principal = caldav.DAVClient(server.url, username=user, password=password).principal()
            principal.make_calendar(name="Home")
        server.wrap(slow)  # from now on, every CalDAV request takes 300 ms
        async with (
            running(google_fake.app) as google_base,
            running(microsoft_fake.app, tls=tls) as microsoft_base,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls.client_context())) as http,
        ):
            settings = CalendarSettings(
                google_client_id=google_fake.client_id,
                google_client_secret=Secret(google_fake.client_secret),
                google_auth_url=f"{google_base}/o/oauth2/v2/auth",
                google_token_url=f"{google_base}/token",
                google_revoke_url=f"{google_base}/revoke",
                google_api_url=f"{google_base}/calendar/v3",
                microsoft_client_id=microsoft_fake.client_id,
                microsoft_client_secret=Secret(microsoft_fake.client_secret),
                microsoft_authority_url=microsoft_base,
                microsoft_graph_url=f"{microsoft_base}/v1.0",
                caldav_url=server.url,
                ca_bundle=str(tls.ca_path),
            )
            google = GoogleCalendars(settings, http)
            microsoft = MicrosoftCalendars(settings, http)
            icloud = CalDavCalendars(server.url)
            await storage.programs.ensure(PROGRAM, "Bench")
            people: list[PersonId] = []

            async def person(
                name: str, provider: Provider, account: str, secret: dict[str, Any]
            ) -> None:
                identity = ChatIdentity(Platform.SLACK, "TBENCH", name)
                found = await storage.people.remember(
                    PROGRAM, identity, Profile(name, timezone="Europe/London")
                )
                await storage.connections.replace(
                    found.id, provider, account, secret, datetime.now(UTC)
                )
                people.append(found.id)

            for index in range(4):
                google_fake.next_account = f"google{index}@example.com"
                google_fake.set_events(
                    google_fake.next_account,
                    [
                        GoogleEvent(
                            START + timedelta(hours=index + 9), START + timedelta(hours=index + 10)
                        )
                    ],
                )
                await person(f"g{index}", Provider.GOOGLE, *(await connect_google(google, http)))
            for index in range(3):
                account = f"mentor{index}@contoso.com"
                microsoft_fake.add_account(account, kind="work")
                microsoft_fake.next_account = account
                microsoft_fake.set_events(
                    account,
                    [
                        FakeEvent(
                            START + timedelta(hours=index + 9), START + timedelta(hours=index + 10)
                        )
                    ],
                )
                await person(
                    f"m{index}", Provider.MICROSOFT, *(await connect_microsoft(microsoft, http))
                )
            for user, password in icloud_users.items():
                # verify() would take three slow round trips; the stored secret is the same.
                secret = {"username": user, "password": password}
                await person(user, Provider.ICLOUD, user, secret)

            google_fake.latency = LATENCY
            microsoft_fake.latency = LATENCY
            reader = CalendarReader(
                storage.connections,
                {Provider.GOOGLE: google, Provider.MICROSOFT: microsoft, Provider.ICLOUD: icloud},
                SystemClock(),
                timeout_seconds=5,
            )
            first = time.perf_counter()
            results = await reader.busy_times(people, WINDOW, fresh=True)
            first_read = time.perf_counter() - first
            read_all = sum(isinstance(r, BusyTimes) for r in results.values())
            fresh = await timed(lambda: reader.busy_times(people, WINDOW, fresh=True), repeat)
            warm = await timed(lambda: reader.busy_times(people, WINDOW), repeat * 20)
            await microsoft.close()
    await storage.close()
    return {
        "people": len(people),
        "providers": {"google": 4, "microsoft": 3, "icloud": 3},
        "latency_per_request_ms": LATENCY * 1000,
        "calendars_read": read_all,
        "first_read_ms": round(first_read * 1000, 1),
        "fresh_read_median_ms": round(fresh * 1000, 1),
        "fresh_read_target_ms": 400,
        "warm_cache_median_ms": round(warm * 1000, 3),
        "warm_cache_target_ms": 5,
        "note": "first read includes looking up iCloud calendars and Entra's metadata once",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh reads to time (median)")
    args = parser.parse_args()
    before = machine()
    with tempfile.TemporaryDirectory(prefix="pairtime-bench-") as folder:
        figures = asyncio.run(run(args.repeat, Path(folder)))
    report(before, "calendars", **figures)


if __name__ == "__main__":
    main()
