"""The one-trip aiosqlite driver: a COMMIT or ROLLBACK with nothing to end costs no trip to
aiosqlite's thread, and everything that began a transaction still ends it. The small reads
and writes that run on the event loop (``Database.rows``, ``Database.write``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.database import Database


@pytest.fixture
async def database(tmp_path: Path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with db.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield db
    await db.close()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function run in an aiosqlite thread."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self, function, *args, **kwargs):
        seen.append(getattr(function, "__name__", type(function).__name__))
        return await original(self, function, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def body_of(database: Database) -> list[str]:
    rows = await database.rows(text("SELECT body FROM notes ORDER BY id"))
    return [row.body for row in rows]


async def test_a_lone_write_is_one_trip_and_is_committed(database: Database, trips: list[str]):
    async with database.alone() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('lone')"))
    assert trips == ["_execute"]  # no COMMIT: the write committed as it ran
    assert await body_of(database) == ["lone"]


async def write_then_fail(database: Database, *statements: str) -> None:
    async with database.transaction() as session:
        for statement in statements:
            await session.execute(text(statement))
        raise RuntimeError("given up")


async def test_a_transaction_still_commits_and_rolls_back(database: Database, trips: list[str]):
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
    assert trips[-1] == "commit"
    with pytest.raises(RuntimeError, match="given up"):
        await write_then_fail(database, "INSERT INTO notes (body) VALUES ('dropped')")
    assert trips[-1] == "rollback"
    assert await body_of(database) == ["kept"]


async def test_a_failed_statement_leaves_the_next_rollback_to_run(database: Database):
    failing = ("INSERT INTO notes (body) VALUES ('half')", "INSERT INTO missing (body) VALUES (1)")
    with pytest.raises(Exception, match="no such table"):
        await write_then_fail(database, *failing)
    assert await body_of(database) == []
    async with database.alone() as connection:  # the writer is usable again
        await connection.execute(text("INSERT INTO notes (body) VALUES ('after')"))
    assert await body_of(database) == ["after"]


async def test_a_small_read_runs_on_the_event_loop_and_sees_every_commit(
    database: Database, trips: list[str]
):
    assert await body_of(database) == []
    async with database.alone() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('first')"))
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('second')"))
    trips.clear()
    assert await body_of(database) == ["first", "second"]
    assert trips == []  # read by sqlite3 on the event loop: no trip to aiosqlite's thread


async def test_a_read_waits_for_no_writer(database: Database):
    """WAL: a transaction holding the write lock does not hold up a read on the event loop,
    which sees what was committed before it."""
    async with database.alone() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('committed')"))
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('uncommitted')"))
        assert await body_of(database) == ["committed"]
    assert await body_of(database) == ["committed", "uncommitted"]


async def test_a_small_write_runs_on_the_event_loop_and_is_committed(
    database: Database, trips: list[str]
):
    written = await database.write(
        text("INSERT INTO notes (body) VALUES (:body) RETURNING id"), {"body": "inline"}
    )
    assert trips == []  # no trip to aiosqlite's thread
    assert written.rowcount == 1
    row = written.first()
    assert row is not None
    assert row.id == 1
    touched = await database.write(text("UPDATE notes SET body = 'changed'"))
    assert (touched.rows, touched.rowcount) == ([], 1)
    assert await body_of(database) == ["changed"]


async def test_a_write_waits_its_turn_behind_a_transaction(database: Database, trips: list[str]):
    """While a transaction holds the write lock, a write is refused at once on the event loop
    (never stopping it) and goes through the writer's queue instead: after the transaction."""
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('first')"))
        later = asyncio.ensure_future(
            database.write(text("INSERT INTO notes (body) VALUES ('second')"))
        )
        await asyncio.sleep(0.05)
        assert not later.done()  # queued for the writer, which the transaction holds
        assert await body_of(database) == []  # nothing committed yet
    assert (await later).rowcount == 1
    assert trips[-1] == "_execute"  # it went through aiosqlite's thread after all
    assert await body_of(database) == ["first", "second"]


async def test_a_write_that_fails_otherwise_fails_once(database: Database):
    await database.write(text("CREATE UNIQUE INDEX one_body ON notes (body)"))
    await database.write(text("INSERT INTO notes (body) VALUES ('same')"))
    with pytest.raises(IntegrityError):
        await database.write(text("INSERT INTO notes (body) VALUES ('same')"))
    assert await body_of(database) == ["same"]


async def test_a_write_runs_once_for_each_set_of_parameters(database: Database, trips: list[str]):
    written = await database.write(
        text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "one"}, {"body": "two"}]
    )
    assert (written.rowcount, trips) == (2, [])
    assert await body_of(database) == ["one", "two"]
