"""The one-trip aiosqlite driver: a COMMIT or ROLLBACK with nothing to end costs no trip to
aiosqlite's thread, and everything that began a transaction still ends it."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text

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
