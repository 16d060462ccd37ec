"""PAIRTIME_COUNT_SQL=1 serves how many SQL statements the server ran: what the benchmarks
divide by requests. Off (404) unless asked, and never in production (tests/unit/test_settings)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from aiohttp import ClientSession

from bot.settings import load_settings
from tests.support import running_app


async def test_the_statement_count_grows_with_the_statements_a_request_runs(tmp_path: Path):
    settings = replace(load_settings({}, dotenv_path=None), count_sql=True)
    async with running_app(settings, tmp_path) as running, ClientSession() as session:
        async with session.get(f"{running.base_url}/debug/sql") as before:
            counted = await before.json()
        # An unknown connect link is looked up in the database before it is refused.
        async with session.get(f"{running.base_url}/connect/icloud?state=unknown") as page:
            assert page.status >= 400
        async with session.get(f"{running.base_url}/debug/sql") as after:
            now = await after.json()

    assert set(counted) == {"statements", "commits", "kinds"}
    assert now["statements"] > counted["statements"]


async def test_nothing_is_counted_or_served_unless_asked(tmp_path: Path):
    async with (
        running_app(load_settings({}, dotenv_path=None), tmp_path) as running,
        ClientSession() as session,
        session.get(f"{running.base_url}/debug/sql") as reply,
    ):
        assert reply.status == 404
