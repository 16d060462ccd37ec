"""The admin console's heaviest pages for a large program: people, pairs and activity.

    .venv/bin/python bench/console.py [--pairs 1000] [--postgres URL]

Runs the real app (``tests.support.running_app``) on a new SQLite database (and PostgreSQL
when ``--postgres`` or ``PAIRTIME_TEST_POSTGRES_URL`` names one: a database of its own,
dropped afterwards), with ``--pairs`` pairs (two people each) in two tracks, a third of
the people with a connected calendar and four meetings a pair over the last twelve weeks.
A program-wide admin signs in and asks each page five times over HTTP.

Printed as JSON: the median and slowest seconds per page, and the page's size. Target: a
page in under 2 s for 1,000 pairs (an admin waits for it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import make_url  # noqa: E402

from bench.support import machine, report  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from core.commands import Provider  # noqa: E402
from core.people import ChatIdentity, Platform, Profile, ProgramId  # noqa: E402
from storage import models  # noqa: E402
from storage.database import Database  # noqa: E402
from tests.console import (  # noqa: E402
    Member,
    browser,
    open_link,
    sign_in_link,
)
from tests.memory import FixedClock  # noqa: E402
from tests.support import AppUnderTest, running_app  # noqa: E402

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
PROGRAM = ProgramId("slack:TBENCH")
PAGES = ("/console/people", "/console/pairs", "/console/activity")
ROUNDS = 5
TARGET_SECONDS = 2.0


async def seed(app: AppUnderTest, pairs: int) -> Member:
    storage = app.storage
    await storage.programs.ensure(PROGRAM, "Bench")
    admin_identity = ChatIdentity(Platform.SLACK, "TBENCH", "UADMIN")
    admin = await storage.people.remember(PROGRAM, admin_identity, Profile("Ada Admin"))
    await storage.programs.grant_admin(PROGRAM, admin.id)
    tracks = [await storage.tracks.create(PROGRAM, f"Track {n}", NOW) for n in (1, 2)]
    meetings: list[dict[str, Any]] = []
    participants: list[dict[str, Any]] = []
    for n in range(pairs):
        mentor = await storage.people.remember(
            PROGRAM,
            ChatIdentity(Platform.SLACK, "TBENCH", f"UM{n}"),
            Profile(f"Mentor {n}", f"m{n}@example.org"),
        )
        mentee = await storage.people.remember(
            PROGRAM,
            ChatIdentity(Platform.SLACK, "TBENCH", f"UE{n}"),
            Profile(f"Mentee {n}", f"e{n}@example.org"),
        )
        await storage.pairings.pair(PROGRAM, mentor.id, mentee.id, tracks[n % 2].id)
        if n % 3 == 0:
            await storage.connections.replace(mentor.id, Provider.GOOGLE, None, {"t": "x"}, NOW)
        for week in range(4):
            ref = uuid.uuid4().hex
            start = NOW - timedelta(weeks=3 * week, hours=n % 24)
            meetings.append(
                {
                    "ref": ref,
                    "program_id": PROGRAM,
                    "organizer_id": mentor.id,
                    "start": start,
                    "end": start + timedelta(hours=1),
                    "title": "Mentoring",
                    "status": "confirmed" if week else "cancelled",
                    "sequence": 0,
                    "created_at": start - timedelta(days=2),
                }
            )
            participants += [
                {"meeting_ref": ref, "person_id": mentor.id, "position": 0},
                {"meeting_ref": ref, "person_id": mentee.id, "position": 1},
            ]
    async with storage.database.transaction() as session:
        await session.execute(models.Meeting.__table__.insert(), meetings)
        await session.execute(models.MeetingParticipant.__table__.insert(), participants)
    return Member(admin, admin_identity, PROGRAM)


async def measure(database_url: str | None, folder: Path, pairs: int) -> dict[str, Any]:
    settings = load_settings({}, dotenv_path=None)
    if database_url:
        from dataclasses import replace  # noqa: PLC0415

        settings = replace(settings, database_url=database_url)
    async with running_app(settings, folder, clock=FixedClock(NOW)) as app:
        started = time.perf_counter()
        admin = await seed(app, pairs)
        seeded = time.perf_counter() - started
        found: dict[str, Any] = {"seeding_seconds": round(seeded, 1)}
        async with browser() as session:
            await open_link(session, await sign_in_link(app, admin))
            for path in PAGES:
                times, size = [], 0
                for _ in range(ROUNDS):
                    began = time.perf_counter()
                    async with session.get(app.base_url + path) as answer:
                        body = await answer.read()
                        assert answer.status == 200, path
                    times.append(time.perf_counter() - began)
                    size = len(body)
                found[path] = {
                    "median_seconds": round(statistics.median(times), 3),
                    "slowest_seconds": round(max(times), 3),
                    "bytes": size,
                }
        return found


async def postgres(url: str, folder: Path, pairs: int) -> dict[str, Any]:
    name = f"bench_console_{uuid.uuid4().hex[:8]}"
    admin = Database(url)
    engine = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        own = make_url(url).set(database=name).render_as_string(hide_password=False)
        return await measure(own, folder, pairs)
    finally:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("PAIRTIME_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    before = machine()
    figures: dict[str, Any] = {"pairs": args.pairs, "target_seconds": TARGET_SECONDS}
    with tempfile.TemporaryDirectory() as folder:
        figures["sqlite"] = await measure(None, Path(folder), args.pairs)
    if args.postgres:
        with tempfile.TemporaryDirectory() as folder:
            figures["postgresql"] = await postgres(args.postgres, Path(folder), args.pairs)
    report(before, "console", **figures)


if __name__ == "__main__":
    asyncio.run(main())
