"""Reminders come once with two Pairtime apps on one PostgreSQL database, and across a
restart.

Two running apps (each its own engine, connection pool and worker, as two ``pairtime
serve`` processes have) share a database of their own and one Slack. A meeting is booked
and accepted through the wire; when its reminders come due, both workers race for them
(claimed ``FOR UPDATE SKIP LOCKED``, under a lease); each person is reminded once. An app
started afterwards over the same database sends nothing more. Apps rather than processes,
so that the clock can be moved instead of waited for.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.crypto import generate_key
from storage.database import Database
from tests.adapters.slack.harness import MENTEE, MENTOR, NOW, SlackWorld, people, slack_world
from tests.fakes.server import running
from tests.fakes.slack import FakeSlack
from tests.integration.test_slack_booking import ask_for_times, button, click, click_in_dm
from tests.memory import FixedClock

POSTGRES_URL = os.environ.get("PAIRTIME_TEST_POSTGRES_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL, reason="PAIRTIME_TEST_POSTGRES_URL is not set (.ci/run sets it)"
    ),
]


async def _admin(statement: str) -> None:
    assert POSTGRES_URL is not None
    database = Database(POSTGRES_URL)
    try:
        async with database.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql(statement)
    finally:
        await database.close()


@asynccontextmanager
async def database_of_its_own() -> AsyncIterator[str]:
    """A new database on the test server, dropped afterwards: nothing else is touched."""
    assert POSTGRES_URL is not None
    name = f"t_reminders_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')


async def settle(*worlds: SlackWorld) -> None:
    """Run what is due in every app until none of them finds more: each worker also polls in
    the background, so work one of them took is awaited by draining it again."""
    for _ in range(3):
        await asyncio.gather(*(world.drain() for world in worlds))


def reminders(world: SlackWorld, user: str) -> list[str]:
    return [m.text for m in world.dm(user) if m.text.startswith("Starting in")]


async def test_two_apps_on_postgresql_remind_each_person_once(tmp_path: Path):
    slack, clock, keys = FakeSlack(), FixedClock(NOW), [generate_key()]
    people(slack)
    async with database_of_its_own() as url, running(slack.app) as base:

        def app(folder: str) -> AbstractAsyncContextManager[SlackWorld]:
            return slack_world(
                tmp_path / folder, fake=slack, slack_base=base, clock=clock, keys=keys,
                database_url=url,
            )  # fmt: skip

        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        async with app("a") as one, app("b") as two:
            await click(one, button(await ask_for_times(one), "pt:pick:0"))
            await settle(one, two)
            await click_in_dm(two, MENTEE, "Accept")
            await settle(one, two)
            async with one.running.storage.database.transaction() as db:
                start = (await db.execute(text("SELECT start FROM meetings"))).scalar_one()
                status = (await db.execute(text("SELECT status FROM meetings"))).scalar_one()
            assert status == "confirmed"
            assert reminders(one, MENTOR) == []

            clock.advance(start - timedelta(minutes=15) - clock.now())
            await settle(one, two)

            for user in (MENTOR, MENTEE):
                (reminder,) = reminders(one, user)
                assert reminder.startswith("Starting in 15 minutes: Mentoring: Alex Kim and Maria")
            async with one.running.storage.database.transaction() as db:
                done = (
                    await db.execute(
                        text(
                            "SELECT count(*) FROM jobs "
                            "WHERE kind = 'meeting.reminder' AND status = 'done'"
                        )
                    )
                ).scalar_one()
            assert done == 2

        (tmp_path / "c").mkdir()
        clock.advance(timedelta(minutes=5))
        async with app("c") as three:
            await settle(three)
            for user in (MENTOR, MENTEE):
                assert len(reminders(three, user)) == 1
