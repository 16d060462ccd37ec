"""Two Pairtime apps on one PostgreSQL database: reminders and the nudge of an unanswered
proposal come once (and not again after a restart), and twenty clicks of a pair spread over
both make one meeting. Last, two real ``pairtime serve`` processes remind once.

Two running apps (each its own engine, connection pool and worker, as two ``pairtime
serve`` processes have) share a database of their own and one Slack. A meeting is booked
and accepted through the wire; when its reminders come due, both workers race for them
(claimed ``FOR UPDATE SKIP LOCKED``, under a lease); each person is reminded once. An app
started afterwards over the same database sends nothing more. Apps rather than processes,
so that the clock can be moved instead of waited for; the last test runs real processes on
the real clock, its reminders due once both have started.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.bootstrap import prepare_database
from core.meetings import Meeting
from core.people import ChatIdentity, Platform, Profile, ProgramId
from core.program import ProgramSettings
from core.scheduling import announce
from storage.crypto import generate_key
from storage.database import Database
from storage.store import Storage
from tests.adapters.slack.harness import (
    CHANNEL,
    MENTEE,
    MENTOR,
    NOW,
    SECRET,
    SlackWorld,
    buttons,
    people,
    slack_world,
)
from tests.fakes import slack_requests as sr
from tests.fakes.server import running
from tests.fakes.slack import FakeSlack
from tests.integration.test_slack_booking import (
    FIND,
    button,
    click,
    click_in_dm,
    meetings,
    picked,
)
from tests.memory import FixedClock
from tests.support import POSTGRES_POOL_SIZE, start_serve

POSTGRES_URL = os.environ.get("PAIRTIME_TEST_POSTGRES_URL")
PROGRAM = ProgramId("slack:T0PAIRTIME")

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


@asynccontextmanager
async def two_apps(
    tmp_path: Path, slack: FakeSlack
) -> AsyncIterator[tuple[SlackWorld, SlackWorld]]:
    """Two apps on a new PostgreSQL database of their own, with one clock and one key, both
    talking to ``slack`` (the mentor, mentee and stranger known to it)."""
    clock, keys = FixedClock(NOW), [generate_key()]
    people(slack)
    async with database_of_its_own() as url, running(slack.app) as base:

        def app(folder: str) -> AbstractAsyncContextManager[SlackWorld]:
            (tmp_path / folder).mkdir()
            return slack_world(
                tmp_path / folder, fake=slack, slack_base=base, clock=clock, keys=keys,
                database_url=url,
            )  # fmt: skip

        async with app("a") as one, app("b") as two:
            yield one, two


async def times_for_alex(one: SlackWorld, two: SlackWorld) -> list[dict[str, Any]]:
    """Alex's picker, asked of ``one`` (and answered by either app)."""
    url = one.response_url()
    await one.post(sr.slash_command(one.secret, text=FIND, response_url=url))
    await settle(one, two)
    return one.slack.answered(url)


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
            await click(one, button(await times_for_alex(one, two), "pt:pick:0"))
            await settle(one, two)
            # Unanswered for a day: Maria is nudged once, whichever app claims it.
            clock.advance(timedelta(hours=24, minutes=1))
            await settle(one, two)
            clock.advance(timedelta(hours=1))
            await settle(one, two)
            nudges = [m.text for m in one.dm(MENTEE) if m.text.startswith("Reminder: Alex Kim")]
            assert len(nudges) == 1
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


async def test_twenty_clicks_of_a_pair_on_two_apps_make_one_meeting(tmp_path: Path):
    """Both people asked for times with each other; each clicks the same time ten times,
    half the clicks reaching one app and half the other: one meeting, one proposal."""
    slack = FakeSlack()
    async with two_apps(tmp_path, slack) as (one, two):
        # Either app's worker may answer a request the other received: each answer is
        # awaited on both and read off its own response_url.
        his = button(await times_for_alex(one, two), "pt:pick:0")
        asked = two.response_url()
        await two.post(
            sr.slash_command(
                two.secret, text=f"find a time with <@{MENTOR}|alex> next week",
                user_id=MENTEE, response_url=asked,
            )
        )  # fmt: skip
        await settle(one, two)
        hers = next(
            b
            for b in buttons(slack.answered(asked))
            if b["action_id"].startswith("pt:pick:") and picked(two, b) == picked(one, his)
        )
        clicks = [
            (world, sr.block_actions(
                world.secret, element["action_id"], value=element["value"], user_id=user,
                channel_id=CHANNEL, response_url=world.response_url(),
            ))
            for _ in range(5)
            for element, user in ((his, MENTOR), (hers, MENTEE))
            for world in (one, two)
        ]  # fmt: skip
        answers = await asyncio.gather(*(world.post(each) for world, each in clicks))
        assert {a.status for a in answers} == {200}
        await settle(one, two)

        assert await meetings(one) == 1
        proposals = [
            m for user in (MENTOR, MENTEE) for m in one.dm(user) if "proposes a time" in m.text
        ]
        assert len(proposals) == 1


async def test_two_pairtime_serve_processes_remind_each_person_once(tmp_path: Path):
    """The real thing: two ``pairtime serve`` processes on one PostgreSQL database, with a
    meeting's reminders coming due (on the real clock) once both are up. Each person gets
    one reminder, whichever process claimed it.

    The meeting is booked once both answer, its reminders due at once: each process finds
    them at its next look for work another process enqueued (``bot.worker.POLL_SECONDS``),
    and both may look in the same instant. No wait for a time to come."""
    slack, keys = FakeSlack(), [generate_key()]
    people(slack)
    async with database_of_its_own() as url, running(slack.app) as base:
        storage = Storage.open(url, keys, pool_size=POSTGRES_POOL_SIZE)
        try:
            await prepare_database(storage.database, migrate_if_behind=False)
            await storage.programs.ensure(PROGRAM, "Pairtime Test")
            alex, maria = [
                await storage.people.remember(
                    PROGRAM, ChatIdentity(Platform.SLACK, slack.team_id, user), Profile(name)
                )
                for user, name in ((MENTOR, "Alex Kim"), (MENTEE, "Maria Lopez"))
            ]
            env = {
                "PAIRTIME_ENV": "development",
                "PAIRTIME_PLAYGROUND": "0",
                "PAIRTIME_DATABASE_URL": url,
                "PAIRTIME_DATABASE_POOL_SIZE": str(POSTGRES_POOL_SIZE),
                "PAIRTIME_ENCRYPTION_KEYS": keys[0],
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_API_URL": f"{base}/api/",
            }
            servers = await asyncio.gather(
                *(asyncio.to_thread(start_serve, env=env, cwd=tmp_path) for _ in range(2))
            )
            try:
                now = datetime.now(UTC)
                start = now + timedelta(minutes=15)  # the reminders are due now
                meeting = Meeting(
                    ref="m-two-processes",
                    program=PROGRAM,
                    organizer=alex.id,
                    participants=(alex.id, maria.id),
                    start=start,
                    end=start + timedelta(minutes=30),
                    title="Mentoring: Alex Kim and Maria Lopez",
                    created_at=now,
                )
                due = announce.reminder_jobs(meeting, ProgramSettings(), now)
                assert {job.due_at for job in due} == {now}
                await storage.meetings.book(meeting, due)
                for user in (MENTOR, MENTEE):
                    await asyncio.wait_for(slack.wait_for_messages(slack.dm_channel(user), 1), 180)
            finally:
                logs = await asyncio.gather(*(asyncio.to_thread(s.stop) for s in servers))
        finally:
            await storage.close()
        assert all(s.process.returncode == 0 for s in servers), logs
    for user in (MENTOR, MENTEE):
        said = [m.text for m in slack.messages_in(slack.dm_channel(user))]
        assert len(said) == 1, said
        assert said[0].startswith("Starting in ")  # 15 minutes, or less on a slow machine
        assert "minutes: Mentoring: Alex Kim and Maria Lopez" in said[0]
