"""A stopped `pairtime serve` stops listening first, then finishes what it acknowledged.

What several processes behind a load balancer rely on at each deploy (docs/deploy.md): on
SIGTERM no new connection is taken, and a slash command acknowledged just before still gets
its answer before the process exits.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import aiohttp
import pytest
from aiohttp import web

from storage.crypto import generate_key
from tests.fakes import slack_requests as sr
from tests.fakes.server import running
from tests.fakes.slack import FakeSlack
from tests.support import start_serve

SECRET = "shutdown-test-signing-secret"  # the fake Slack app's


async def line_saying(stream: IO[str] | None, words: str) -> list[str]:
    """Read ``stream`` (a process's text pipe) up to the line holding ``words``."""
    assert stream is not None
    seen: list[str] = []
    while True:
        line = await asyncio.to_thread(stream.readline)
        if not line:
            raise AssertionError(f"no line saying {words!r}:\n{''.join(seen)}")
        seen.append(line)
        if words in line:
            return seen


async def test_sigterm_stops_listening_then_finishes_the_acknowledged_command(tmp_path: Path):
    slack = FakeSlack()
    slack.add_user(sr.USER_ID, real_name="Maria Mentor", tz="Europe/London")
    asked, answer = asyncio.Event(), asyncio.Event()

    @web.middleware
    async def hold_the_profile_lookup(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # The command's work after its acknowledgement starts by looking the speaker up:
        # held here until the server has been told to stop.
        if request.path == "/api/users.info":
            asked.set()
            await answer.wait()
        return await handler(request)

    app = slack.app
    app.middlewares.append(hold_the_profile_lookup)
    async with running(app) as slack_url:
        server = start_serve(
            env={
                "PAIRTIME_ENV": "development",
                "PAIRTIME_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pairtime.db'}",
                "PAIRTIME_ENCRYPTION_KEYS": generate_key(),
                "PAIRTIME_PLAYGROUND": "0",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_API_URL": f"{slack_url}/api/",
                "SLACK_CLIENT_ID": "",
                "MICROSOFT_APP_ID": "",
            },
            cwd=tmp_path,
        )
        process = server.process
        try:
            command = sr.slash_command(
                SECRET, text="find 30 minutes tomorrow", response_url=f"{slack_url}/response/1"
            )
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{server.address}/slack/events", data=command.body, headers=command.headers
                ) as ack,
            ):
                assert ack.status == 200
            await asyncio.wait_for(asked.wait(), 60)

            process.send_signal(signal.SIGTERM)
            await line_saying(process.stderr, "Stopped listening")
            assert process.poll() is None  # still finishing the command
            with pytest.raises(aiohttp.ClientConnectionError):
                async with aiohttp.ClientSession() as session:
                    await session.get(f"{server.address}/healthz")

            answer.set()
            rest = "".join(await line_saying(process.stderr, "Stopped\n"))
            assert await asyncio.to_thread(process.wait, 60) == 0
        finally:
            if process.poll() is None:
                process.kill()
            answer.set()
            await asyncio.to_thread(process.communicate)

    assert [r.response_id for r in slack.responses] == ["1"]
    assert "unfinished" not in rest
