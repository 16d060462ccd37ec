"""What the load benchmarks share: the machine they ran on, `pairtime serve` in a process of
its own, its CPU and SQL counts, percentiles, and the fake Slack and Google in another process.

Three processes, as in production, so that none of them measures the others' work: the
server; the fakes (Slack's Web API and response URLs, Google Calendar answering after a
delay), which record when each answer reached them; and the bench itself, which only sends.
Times are ``time.monotonic()``, one clock for every process of the machine (Linux's
CLOCK_MONOTONIC), so an arrival recorded by the fakes is compared with a send time here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import secrets
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the fakes live in tests/, which is not an installed package

SLACK_SECRET = "bench-signing-secret-0123456789abcdef"  # noqa: S105 - the fake Slack app's
GOOGLE_CLIENT_ID = "bench.apps.googleusercontent.com"
GOOGLE_CLIENT_SECRET = "bench-google-secret"  # noqa: S105 - the fake's own
EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events.owned.readonly"
PUBLIC = "http://127.0.0.1:3978"  # the servers' PAIRTIME_BASE_URL: links point there


# ---------------------------------------------------------------------- figures


def machine() -> dict[str, Any]:
    """Printed beside every figure: the figures mean little without it."""
    one, five, fifteen = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(one, 1), round(five, 1), round(fifteen, 1)],
    }


def report(before: dict[str, Any], benchmark: str | None = None, **figures: Any) -> None:
    """Print ``figures`` as JSON, after the machine as it was ``before`` and its load after."""
    named = {"benchmark": benchmark} if benchmark else {}
    machine_then = before | {"load_average_after": machine()["load_average"]}
    print(json.dumps({**named, "machine": machine_then, **figures}, indent=2))


def database(postgres: bool) -> str:
    return "PostgreSQL" if postgres else "SQLite"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean in milliseconds."""
    if not seconds:
        return {}
    ms = [s * 1000 for s in seconds]
    return {
        "p50": round(percentile(ms, 0.50), 1),
        "p95": round(percentile(ms, 0.95), 1),
        "p99": round(percentile(ms, 0.99), 1),
        "max": round(max(ms), 1),
        "mean": round(statistics.fmean(ms), 1),
    }


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------- the server


def pairtime() -> list[str]:
    script = Path(sys.executable).with_name("pairtime")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any Pairtime, chat or calendar setting, plus these."""
    keep = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PAIRTIME_", "SLACK_", "MICROSOFT_", "GOOGLE_"))
    }
    return keep | {"PAIRTIME_ENV": "development", "PAIRTIME_PLAYGROUND": "0", **settings}


def upgrade_database(folder: Path, environment: dict[str, str]) -> None:
    done = subprocess.run(  # noqa: S603 - our own console script
        [*pairtime(), "db", "upgrade"],
        env=environment,
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"pairtime db upgrade failed: {done.stderr.strip()}")


class Server:
    """`pairtime serve --port 0` in ``folder`` (its log in ``name``.log, never a pipe that
    could fill up and stall it)."""

    def __init__(
        self, folder: Path, environment: dict[str, str], *, name: str = "serve", port: int = 0
    ) -> None:
        self.log_path = folder / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own console script
            [*pairtime(), "serve", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=environment,
            cwd=folder,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            self.process.communicate()
            raise SystemExit(f"pairtime serve did not start: {self.log_path.read_text()[-3000:]}")
        self.address = line.split("listening on ")[1].split()[0]

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> list[str]:
        """Stop it as a service manager would (SIGTERM); the ERROR lines it logged."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()
                tail = "".join(self.log_path.read_text().splitlines(keepends=True)[-20:])
                print(
                    f"pairtime serve did not stop within 60 s of SIGTERM:\n{tail}", file=sys.stderr
                )
        self._log.close()
        return [line for line in self.log_path.read_text().splitlines() if " ERROR " in line]


async def sql_count(session: aiohttp.ClientSession, address: str) -> dict[str, int]:
    """Statements and commits so far (the server runs with PAIRTIME_COUNT_SQL=1)."""
    async with session.get(f"{address}/debug/sql") as answer:
        answer.raise_for_status()
        counts: dict[str, int] = await answer.json()
        return counts


POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"  # the machine's PostgreSQL, trust auth


@contextlib.asynccontextmanager
async def fresh_postgres(server: str = POSTGRES) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one run (dropped after it); yields its
    SQLAlchemy URL. ``server`` is any database of that server the bench may connect to."""
    import asyncpg  # noqa: PLC0415 - only the PostgreSQL runs need it

    name = f"pairtime_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def postgres_admin(url: str, statement: str) -> None:
    """One statement outside a transaction (``CREATE DATABASE``, ``DROP DATABASE``)."""
    from storage.database import Database  # noqa: PLC0415 - only the PostgreSQL runs need it

    database = Database(url)
    async with database.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql(statement)
    await database.close()


def report_errors(errors: list[str]) -> None:
    if errors:
        print(f"{len(errors)} error(s) logged by pairtime serve, the first:", file=sys.stderr)
        print("\n".join(errors[:5]), file=sys.stderr)


# ---------------------------------------------------------------------- the fakes' process


def busy_events(now: datetime) -> list[tuple[datetime, datetime]]:
    """Three weeks of a working calendar: a daily stand-up and a long block every other day."""
    start = now.replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    events = [(start + timedelta(days=d), start + timedelta(days=d, minutes=30)) for d in range(22)]
    events += [
        (start + timedelta(days=d, hours=4), start + timedelta(days=d, hours=6))
        for d in range(0, 22, 2)
    ]
    return events


def _fakes_main(pipe: Connection, latency: float) -> None:
    asyncio.run(_serve_fakes(pipe, latency))


async def _serve_fakes(pipe: Connection, latency: float) -> None:
    from aiohttp import web  # noqa: PLC0415 - the child imports its own

    from tests.fakes.google import FakeGoogle  # noqa: PLC0415
    from tests.fakes.google_events import GoogleEvent  # noqa: PLC0415
    from tests.fakes.slack import FakeSlack  # noqa: PLC0415

    slack = FakeSlack()
    google = FakeGoogle(
        client_id=GOOGLE_CLIENT_ID,
        client_secret=GOOGLE_CLIENT_SECRET,
        redirect_uris=(f"{PUBLIC}/oauth/google/callback",),
        latency=latency,
    )

    async def setup(request: web.Request) -> web.Response:
        people = (await request.json())["people"]
        events = [GoogleEvent(start=a, end=b) for a, b in busy_events(datetime.now(UTC))]
        tokens = {}
        for person in people:
            slack.add_user(
                person["id"], real_name=person["name"], tz=person["tz"], email=person["email"]
            )
            google.set_events(person["email"], events)
            tokens[person["email"]] = google.issue_access_token(
                person["email"], (EVENTS_SCOPE,), client_id=GOOGLE_CLIENT_ID
            )
        return web.json_response({"tokens": tokens, "expires_in": google.expires_in})

    async def stats(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        answers = [
            [post.response_id, call.at, (post.text or "")[:40]]
            for post, call in zip(slack.responses, slack.calls_to("response"), strict=True)
        ]
        return web.json_response(
            {
                "answers": answers[since:],
                "answered": len(answers),
                "calendar_reads": len(google.calls_to("events")) + len(google.calls_to("freeBusy")),
                "slack_api_calls": len(slack.calls) - len(answers),
            }
        )

    control = web.Application()
    control.router.add_post("/setup", setup)
    control.router.add_get("/stats", stats)
    runners = []
    addresses = []
    for app in (slack.app, google.app, control):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
        await site.start()
        runners.append(runner)
        addresses.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
    pipe.send(addresses)
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # until told to stop
    for runner in runners:
        await runner.cleanup()


@dataclass(frozen=True)
class Fakes:
    slack: str  # base URL: /api/ is the Web API, /response/ID the response URLs
    google: str
    control: str

    def slack_settings(self) -> dict[str, str]:
        """What points `pairtime serve` at the fake Slack (its default workspace)."""
        return {
            "SLACK_SIGNING_SECRET": SLACK_SECRET,
            "SLACK_BOT_TOKEN": "xoxb-1-pairtime-test",
            "SLACK_API_URL": f"{self.slack}/api/",
        }

    def google_settings(self) -> dict[str, str]:
        """What points `pairtime serve` at the fake Google."""
        return {
            "GOOGLE_CLIENT_ID": GOOGLE_CLIENT_ID,
            "GOOGLE_CLIENT_SECRET": GOOGLE_CLIENT_SECRET,
            "GOOGLE_AUTH_URL": f"{self.google}/o/oauth2/v2/auth",
            "GOOGLE_TOKEN_URL": f"{self.google}/token",
            "GOOGLE_REVOKE_URL": f"{self.google}/revoke",
            "GOOGLE_CALENDAR_API_URL": f"{self.google}/calendar/v3",
        }

    def server_environment(self, database_url: str, key: str) -> dict[str, str]:
        """A `pairtime serve` on ``database_url`` with these fakes, counting SQL statements."""
        return clean_environment(
            PAIRTIME_DATABASE_URL=database_url,
            PAIRTIME_ENCRYPTION_KEYS=key,
            PAIRTIME_COUNT_SQL="1",
            **self.slack_settings(),
            **self.google_settings(),
        )

    async def stats(self, session: aiohttp.ClientSession, since: int = 0) -> dict[str, Any]:
        async with session.get(f"{self.control}/stats", params={"since": since}) as answer:
            found: dict[str, Any] = await answer.json()
            return found


@contextlib.contextmanager
def fakes_process(latency: float) -> Iterator[Fakes]:
    """Fake Slack and Google (answering after ``latency`` seconds) in a process of their own."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_fakes_main, args=(theirs, latency), daemon=True)
    child.start()
    try:
        if not ours.poll(120):
            raise SystemExit("the fakes' process did not start")
        slack, google, control = ours.recv()
        yield Fakes(slack, google, control)
    finally:
        with contextlib.suppress(OSError):
            ours.send("stop")
        child.join(30)
        if child.is_alive():
            child.terminate()


# ---------------------------------------------------------------------- the program


@dataclass(frozen=True)
class Pair:
    mentor: str  # chat user ids
    mentee: str


@dataclass(frozen=True)
class Member:
    user: str  # the chat user id Pairtime keys the person by (Slack id, Teams AAD object id)
    name: str
    zone: str
    email: str


ZONES = ("Europe/London", "Europe/Madrid", "America/New_York")


def slack_pairs(count: int) -> list[Pair]:
    return [Pair(f"U0MENTOR{n:05d}", f"U0MENTEE{n:05d}") for n in range(count)]


def slack_members(pairs: list[Pair]) -> list[Member]:
    users = [user for pair in pairs for user in (pair.mentor, pair.mentee)]
    return [
        Member(user, f"Person {user[-8:]}", ZONES[n % 3], f"{user.lower()}@bench.example")
        for n, user in enumerate(users)
    ]


async def seed_program(
    database_url: str,
    key: str,
    fakes: Fakes,
    *,
    program: str,
    members: list[Member],
    pairs: list[Pair],
    open_to_all: bool = False,
) -> None:
    """Everyone known in ``program`` ("slack:T…", "teams:tenant"), paired and connected to
    (fake) Google with a three-week calendar, as if they had connected through the consent
    pages: the rows are written by Pairtime's own repositories."""
    from core.commands import Provider  # noqa: PLC0415 - the server's code, for setting up
    from core.people import ChatIdentity, Platform, Profile, ProgramId  # noqa: PLC0415
    from core.program import Visibility  # noqa: PLC0415
    from storage.store import Storage  # noqa: PLC0415

    people = [{"id": m.user, "name": m.name, "tz": m.zone, "email": m.email} for m in members]
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fakes.control}/setup", json={"people": people}) as answer,
    ):
        issued = await answer.json()
    tokens, expires_in = issued["tokens"], issued["expires_in"]
    now = datetime.now(UTC)
    expiry = (now + timedelta(seconds=expires_in - 60)).isoformat()
    platform, workspace = program.split(":", 1)
    storage = Storage.open(database_url, [key])
    try:
        await storage.programs.ensure(ProgramId(program), "Pairtime Bench")
        if open_to_all:  # partners only is the default: a poll of colleagues needs this
            settings = await storage.programs.settings(ProgramId(program))
            await storage.programs.save_settings(
                ProgramId(program), replace(settings, availability_visible_to=Visibility.PROGRAM)
            )
        ids = {}
        for member in members:
            known = await storage.people.remember(
                ProgramId(program),
                ChatIdentity(Platform(platform), workspace, member.user),
                Profile(member.name, member.email, member.zone),
            )
            ids[member.user] = known.id
            secret = {
                "token": tokens[member.email],
                "refresh_token": "1//bench-not-used",
                "expiry": expiry,
                "scopes": [EVENTS_SCOPE],
            }
            await storage.connections.replace(known.id, Provider.GOOGLE, member.email, secret, now)
        for pair in pairs:
            await storage.pairings.pair(ProgramId(program), ids[pair.mentor], ids[pair.mentee])
    finally:
        await storage.close()
