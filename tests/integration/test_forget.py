"""Forgetting a person, through the wire, on SQLite and on PostgreSQL.

Maria (a mentee) has a meeting booked and accepted with her mentor Alex, a vote in a poll,
a place in a circle and an iCloud calendar connected. Her export holds each of those. She
says "forget me" in Slack and confirms; afterwards nothing in the database names her (the
SQLite file read byte by byte; on PostgreSQL every row of every table as text), the poll's
tally is what it was, Alex is emailed the iTIP cancellation and told in chat, and a second
forget finds nothing to do.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from adapters.mail.config import MailSettings
from bot.settings import load_settings
from core.commands import Provider
from core.people import ProgramId
from storage.database import Database
from tests.adapters.slack.harness import (
    CHANNEL,
    MENTEE,
    MENTOR,
    NOW,
    STRANGER,
    SlackWorld,
    slack_world,
    texts,
)
from tests.fakes import slack_requests as sr
from tests.integration.test_slack_booking import FIND, button, click, click_in_dm
from tests.integration.test_slack_invitations import ALEX, MARIA, itip, slack_with_emails
from tests.integration.test_slack_polls import press
from tests.integration.test_two_apps_postgres import POSTGRES_URL, database_of_its_own
from tests.mail_server import MailServer

PROGRAM = ProgramId(f"slack:{sr.TEAM_ID}")
APPLE_ID = "maria.apple.lopez@icloud.com"
CIRCLE = "Thursday readers"
# Everything that named Maria: her names, email, Slack id and handle, her Apple ID.
NAMING = ("Maria Lopez", MARIA, MENTEE, APPLE_ID, "maria")

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_URL, reason="PAIRTIME_TEST_POSTGRES_URL is not set (.ci/run sets it)"
            ),
        ],
    ),
]


@asynccontextmanager
async def database(backend: str) -> AsyncIterator[str | None]:
    if backend == "sqlite":
        yield None
        return
    async with database_of_its_own() as url:
        yield url


def mail(server: MailServer) -> MailSettings:
    settings = load_settings(
        {"PAIRTIME_SMTP_URL": server.url, "PAIRTIME_MAIL_FROM": "Mentoring <m@example.org>"},
        dotenv_path=None,
    )
    assert settings.mail is not None
    return settings.mail


async def maria_meets_votes_and_connects(world: SlackWorld) -> None:
    """The meeting (booked by Alex, accepted by Maria), a vote, a circle, a connection."""
    await world.open_to_all()  # the poll asks someone who is not Alex's partner too
    url = world.response_url()
    await world.say(sr.slash_command(world.secret, text=FIND, response_url=url))
    await world.drain()
    await click(world, button(world.slack.answered(url), "pt:pick:0"))
    await world.drain()
    await click_in_dm(world, MENTEE, "Accept")
    await world.drain()

    # Each answer is read off its own response_url: a late answer to an earlier click
    # (the worker runs in the background too) may come after it.
    url = world.response_url()
    await world.say(
        sr.slash_command(
            world.secret,
            text=f"poll <@{MENTEE}> and <@{STRANGER}> for an hour next week",
            response_url=url,
        )
    )
    await world.drain()
    draft = world.slack.answered(url)
    field = next(b for b in draft if b["type"] == "actions" and b.get("block_id"))
    url = world.response_url()
    payload = sr.block_actions_payload(
        "pt:time", block_id=field["block_id"], action_type="datetimepicker", response_url=url
    )
    payload["actions"][0]["selected_date_time"] = int(
        datetime(2026, 12, 1, 14, tzinfo=UTC).timestamp()
    )
    await world.say(sr.interactivity(world.secret, payload))
    await world.drain()
    await press(world, button(world.slack.answered(url), "pt:poll:post"))
    await world.drain()
    (posted,) = world.slack.messages_in(CHANNEL)
    await press(world, button(posted.blocks, "pt:poll:yes:1"), user=MENTEE)
    await world.drain()
    await press(world, button(posted.blocks, "pt:poll:yes:1"), user=STRANGER)
    await world.drain()

    storage = world.running.storage
    maria = await storage.people.by_chat_user(PROGRAM, MENTEE)
    assert maria is not None
    await storage.groups.create(PROGRAM, CIRCLE, [maria.id])
    # As the iCloud connect form stores it (the form itself is tested with Radicale).
    await storage.connections.replace(
        maria.id, Provider.ICLOUD, APPLE_ID, {"username": APPLE_ID, "password": "abcd"}, NOW
    )


async def yes_votes(world: SlackWorld) -> int:
    async with world.running.storage.database.reading() as session:
        query = text("SELECT count(*) FROM poll_votes WHERE choice = 'yes'")
        return int((await session.execute(query)).scalar_one())


async def everything_as_text(database: Database, folder: Path) -> str:
    """SQLite: the database file and its write-ahead log, byte by byte. PostgreSQL: every
    row of every table, as text."""
    if database.dialect == "sqlite":
        files = [folder / "pairtime.db", folder / "pairtime.db-wal"]
        return "".join(
            f.read_bytes().decode("utf-8", errors="replace") for f in files if f.exists()
        )
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        rows = []
        for table in tables:
            found = await connection.execute(text(f'SELECT t::text FROM "{table}" t'))
            rows += [row[0] for row in found]
    return "\n".join(rows)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_person_forgotten_leaves_numbers_and_no_trace(tmp_path: Path, backend: str):
    server = await MailServer().start()
    try:
        async with (
            database(backend) as url,
            slack_world(
                tmp_path, fake=slack_with_emails(), mail=mail(server), database_url=url
            ) as world,
        ):
            await maria_meets_votes_and_connects(world)
            storage = world.running.storage
            maria = await storage.people.by_chat_user(PROGRAM, MENTEE)
            assert maria is not None
            tally = await yes_votes(world)
            assert tally == 2

            exported = await storage.personal_data.export(maria.id)
            assert exported["person"]["email"] == MARIA
            assert exported["chat_accounts"][0]["user_id"] == MENTEE
            assert exported["pairs"] == [
                {"program": PROGRAM, "role": "mentee", "partner": "Alex Kim"}
            ]
            assert [c["name"] for c in exported["circles"]] == [CIRCLE]
            assert exported["calendar_connection"]["account"] == APPLE_ID
            assert [m["status"] for m in exported["meetings"]] == ["confirmed"]
            assert [v["choice"] for v in exported["votes"]] == ["yes"]
            assert "abcd" not in json.dumps(exported)  # the app password stays a secret
            stored = await everything_as_text(storage.database, tmp_path)
            assert APPLE_ID not in stored  # sealed, even before anyone is forgotten

            asked = sr.message_im_event("forget me", user=MENTEE)
            await world.say(sr.event_callback(world.secret, asked))
            await world.drain()  # a message is kept by the inbox, then answered
            assert "Forget you?" in world.dm(MENTEE)[-1].text
            # Read off its own response_url. It is sent although the click's own inbox row
            # names Maria and is erased with her: it is emptied, not deleted, while it runs.
            confirm_url = await click_in_dm(world, MENTEE, "Forget me")
            await world.drain()
            assert "Done: I removed" in texts(world.slack.answered(confirm_url))
            await world.drain()
            await world.drain()

            assert await yes_votes(world) == tally
            everything = (await everything_as_text(storage.database, tmp_path)).lower()
            for naming in NAMING:
                assert naming.lower() not in everything, naming
            told = world.dm(MENTOR)[-1]
            assert "left the program" in texts(told.blocks)

            # Safe to repeat: nobody is left to forget.
            assert await storage.personal_data.erase(maria.id) == {}
    finally:
        await server.stop()

    cancellations = [
        r for r in server.received if itip(r.message())[0] == "CANCEL" and ALEX in r.recipients
    ]
    assert len(cancellations) == 1
    _, event = itip(cancellations[0].message())
    assert "maria" not in event.to_ical().decode().lower()
