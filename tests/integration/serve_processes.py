"""`pairtime serve` processes against a Slack fake in this process, on a database of their
own: for the kill -9 test and ``bench/poll_load.py --slack``."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiohttp

from storage.crypto import generate_key
from tests.fakes import slack_requests as sr
from tests.fakes.slack import FakeSlack, SlackMessage
from tests.integration import slack_votes as sv
from tests.support import POSTGRES_POOL_SIZE, pairtime_command, run_pairtime

SECRET = "serve-processes-signing-secret-0123"


@asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    """A new PostgreSQL database on the server of ``server_url`` (a SQLAlchemy asyncpg URL),
    dropped afterwards; yields its URL (the serve processes connect by URL)."""
    import asyncpg  # type: ignore[import-untyped]  # noqa: PLC0415 - only with PostgreSQL

    plain = server_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    name = f"pairtime_votes_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(plain)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        admin = await asyncpg.connect(plain)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def environment(database_url: str, slack: FakeSlack, slack_base: str) -> dict[str, str]:
    """This process's environment without Pairtime's or any platform's settings, plus what
    points a server at ``database_url`` and the fake Slack."""
    keep = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PAIRTIME_", "SLACK_", "MICROSOFT_", "GOOGLE_"))
    }
    return keep | {
        "PAIRTIME_ENV": "development",
        "PAIRTIME_PLAYGROUND": "0",
        "PAIRTIME_DATABASE_URL": database_url,
        "PAIRTIME_DATABASE_POOL_SIZE": str(POSTGRES_POOL_SIZE),
        "PAIRTIME_ENCRYPTION_KEYS": generate_key(),
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": f"{slack_base}/api/",
    }


def prepare(folder: Path, env: dict[str, str]) -> None:
    """Migrate the database, and let anyone in the fake's workspace poll anyone (the
    default is partners only)."""
    program = f"slack:{sr.TEAM_ID}"  # the fake's default workspace
    for args in (
        ["db", "upgrade"],
        ["program", "set", "--program", program, "--availability-visible-to", "program"],
    ):
        done = run_pairtime(args, env=env, cwd=folder)
        if done.returncode != 0:
            raise AssertionError(f"pairtime {' '.join(args)} failed: {done.stderr[-2000:]}")


class Serve:
    """`pairtime serve` on a free port, its log in a file (a pipe could fill and stall it)."""

    def __init__(self, folder: Path, env: dict[str, str], name: str) -> None:
        self.log = folder / f"{name}.log"
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [*pairtime_command(), "serve", "--port", "0"],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=env,
                cwd=folder,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            self.process.communicate(timeout=30)
            raise AssertionError(f"pairtime serve did not start: {self.log.read_text()[-2000:]}")
        self.address = line.split("listening on ")[1].split()[0]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no drain, no hand-back; whatever it held is left as it was."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.communicate(timeout=30)  # reaped, its pipe closed

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
            try:
                self.process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()


@contextmanager
def serving(folder: Path, env: dict[str, str], names: list[str]) -> Iterator[list[Serve]]:
    servers: list[Serve] = []
    try:
        for name in names:
            servers.append(Serve(folder, env, name))  # noqa: PERF401 - each stopped if the next fails
        yield servers
    finally:
        for server in servers:
            server.stop()


async def post_poll(
    session: aiohttp.ClientSession,
    address: str,
    slack: FakeSlack,
    slack_base: str,
    people: list[str],
) -> SlackMessage:
    """The organiser asks for a poll in the channel and posts the draft; the posted card."""
    await sv.http_post(
        session,
        address,
        sr.slash_command(
            SECRET,
            text=sv.poll_text(people),
            user_id=sv.ORGANISER,
            channel_id=sv.CHANNEL,
            response_url=slack.response_url(slack_base),
        ),
    )

    async def drafted() -> bool:
        return bool(slack.responses)

    await sv.until(drafted, within=120, what="the poll's draft")
    post = next(
        e
        for b in slack.responses[-1].body["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "pt:poll:post"
    )
    await sv.http_post(
        session,
        address,
        sr.block_actions(
            SECRET,
            post["action_id"],
            value=post["value"],
            user_id=sv.ORGANISER,
            channel_id=sv.CHANNEL,
            response_url=slack.response_url(slack_base),
        ),
    )

    async def posted() -> bool:
        return bool(slack.messages_in(sv.CHANNEL))

    await sv.until(posted, within=120, what="the poll posted in the channel")
    (message,) = slack.messages_in(sv.CHANNEL)
    return message
