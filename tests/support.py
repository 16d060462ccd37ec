"""Helpers shared by tests: running the `pairtime` command as a user would."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import web

from adapters.teams.timing import TeamsTiming
from bot import cli
from bot.bootstrap import prepare_database
from bot.server import SERVICES_KEY, build_app
from bot.services import Services
from bot.settings import DEFAULT_DATABASE_URL, Settings
from core.people import ProgramId
from core.ports import Clock
from core.program import Visibility
from storage.crypto import generate_key
from storage.database import Database
from storage.store import Storage
from tests.fakes.server import running

ROOT = Path(__file__).resolve().parents[1]
# How long a calendar read may take in tests not about slow providers: the fakes answer at
# once, so only a machine loaded far past its cores (the suite beside `stress`) comes near it.
PROVIDER_TIMEOUT = 60
# Connections an app under test keeps to PostgreSQL (PAIRTIME_DATABASE_POOL_SIZE; at most
# twice as many at a peak): the suite's tests share one server and its max_connections
# (100 by default) with every xdist worker, so each app takes few (see tests/conftest.py).
POSTGRES_POOL_SIZE = 4


def pairtime_command() -> list[str]:
    """The installed ``pairtime`` console script, as a user would run it."""
    script = Path(sys.executable).with_name("pairtime")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def run_pairtime(
    args: Sequence[str],
    *,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*pairtime_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
        check=False,
    )


def run_cli(
    args: Sequence[str],
    *,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``pairtime ARGS`` in this process, answering as :func:`run_pairtime` does.

    ``bot.cli.main`` runs with ``env`` over this process's environment, in ``cwd``, reading
    ``stdin`` and with its output captured; all of it is put back afterwards. A process costs
    a second of imports (several on a busy machine), so only what a process alone shows (the
    console script, exit statuses, ``pairtime serve`` starting and stopping) uses
    :func:`run_pairtime` or :func:`start_serve`.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", "80")  # argparse wraps help as for a pipe, whatever the terminal
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        if cwd is not None:
            patch.chdir(cwd)
        patch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        with redirect_stdout(stdout), redirect_stderr(stderr):
            try:
                status = cli.main(list(args))
            except SystemExit as exit_:  # argparse's usage errors and --help
                status = _exit_status(exit_)
    return subprocess.CompletedProcess(
        [*pairtime_command(), *args], status, stdout.getvalue(), stderr.getvalue()
    )


def _exit_status(exit_: SystemExit) -> int:
    """The status the interpreter would exit with (a message is printed and means 1)."""
    if exit_.code is None or isinstance(exit_.code, int):
        return exit_.code or 0
    print(exit_.code, file=sys.stderr)
    return 1


class RunningProcess:
    """A ``pairtime serve`` process on a free port, stopped with SIGTERM like a service."""

    def __init__(self, process: subprocess.Popen[str], address: str) -> None:
        self.process = process
        self.address = address

    def stop(self) -> str:
        """Stop the process and return what it wrote on standard error."""
        self.process.terminate()
        _, stderr = self.process.communicate(timeout=30)
        return stderr


def start_serve(
    args: Sequence[str] = (), *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> RunningProcess:
    """Start ``pairtime serve --port 0`` and wait for the address it announces."""
    process = subprocess.Popen(
        [*pairtime_command(), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        _, stderr = process.communicate(timeout=30)
        raise AssertionError(f"pairtime serve did not start: {line!r}\n{stderr}")
    return RunningProcess(process, line.split("listening on ")[1].split()[0])


@dataclass
class AppUnderTest:
    base_url: str
    storage: Storage
    app: web.Application

    @property
    def services(self) -> Services:
        return self.app[SERVICES_KEY]


@asynccontextmanager
async def running_app(
    settings: Settings,
    folder: Path,
    *,
    keys: Sequence[str] | None = None,
    clock: Clock | None = None,
    playground: bool = False,
    teams_timing: TeamsTiming | None = None,
) -> AsyncIterator[AppUnderTest]:
    """The real aiohttp app on a free port over a fresh database in ``folder``.

    The playground (and its demo) runs only when a test asks for it.
    """
    settings = replace(settings, playground=playground)
    storage = Storage.open(
        settings.database_url
        if settings.database_url != DEFAULT_DATABASE_URL
        else f"sqlite+aiosqlite:///{folder / 'pairtime.db'}",
        keys or [generate_key()],
        pool_size=settings.database_pool_size,
    )
    try:
        await prepare_database(storage.database, migrate_if_behind=False)
        app = build_app(
            settings,
            storage,
            clock=clock,
            folder=folder / ".pairtime",
            teams_timing=teams_timing,
        )
        async with running(app) as base_url:
            yield AppUnderTest(base_url, storage, app)
    finally:
        await storage.close()


def validators() -> Path | None:
    """The offline validators of ../shared (set up by .ci/run), or None in a plain clone."""
    configured = os.environ.get("PAIRTIME_VALIDATORS")
    candidate = (
        Path(configured)
        if configured
        else ROOT.parent / "shared" / "tools" / "validators" / "validate"
    )
    return candidate if candidate.exists() else None


def validate(kind: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """Run ``validate KIND FILE...`` (blockkit, card, slack-manifest, teams-manifest).

    Callers skip first when :func:`validators` is None: a user's clone has no ../shared.
    """
    tool = validators()
    assert tool is not None, "skip when validators() is None"
    return subprocess.run(
        [str(tool), kind, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


async def open_to_all(storage: Storage, program: ProgramId) -> None:
    """Let anyone in ``program`` find times with anyone (``availability_visible_to:
    program``), for tests of strangers meeting; the default is partners only."""
    await storage.programs.ensure(program, "Pairtime Test")
    settings = await storage.programs.settings(program)
    await storage.programs.save_settings(
        program, replace(settings, availability_visible_to=Visibility.PROGRAM)
    )


def kill_jobs() -> int:
    """What dies with a ``pairtime serve`` process: the jobs its worker is running (the tasks
    ``bot.worker`` names ``pairtime-job-…``), cancelled where they are; how many. Their rows
    stay claimed until their leases run out, as a dead process's do: nothing is handed back,
    nothing after the point of death runs. (A fake server's fault hook calls it, so that a
    test kills the process at a call it makes, not by replacing Pairtime's functions.)"""
    doomed = [t for t in asyncio.all_tasks() if t.get_name().startswith("pairtime-job-")]
    for task in doomed:
        task.cancel()
    return len(doomed)


@asynccontextmanager
async def meetings_refused(database: Database) -> AsyncIterator[None]:
    """A fault in the database itself: while inside, every new meeting row is refused (a
    trigger raises), whoever writes it and in whichever transaction, so a test sees what a
    failed booking write leaves behind without replacing any of Pairtime's functions."""
    refuse = "RAISE EXCEPTION 'meeting refused by the test'"
    setup: tuple[str, ...] = (
        (
            "CREATE OR REPLACE FUNCTION refuse_meeting() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {refuse}; END $$"
        ),
        (
            "CREATE TRIGGER refuse_meeting BEFORE INSERT ON meetings "
            "FOR EACH ROW EXECUTE FUNCTION refuse_meeting()"
        ),
    )
    teardown = "DROP TRIGGER refuse_meeting ON meetings"
    if database.dialect == "sqlite":
        setup = (
            (
                "CREATE TRIGGER refuse_meeting BEFORE INSERT ON meetings "
                "BEGIN SELECT RAISE(ABORT, 'meeting refused by the test'); END"
            ),
        )
        teardown = "DROP TRIGGER refuse_meeting"
    async with database.engine.begin() as connection:
        for statement in setup:
            await connection.exec_driver_sql(statement)
    try:
        yield
    finally:
        async with database.engine.begin() as connection:
            await connection.exec_driver_sql(teardown)
