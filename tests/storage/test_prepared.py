"""Prepared statements (``storage.prepared``): run on the raw sqlite3 connection, they send
the SQL SQLAlchemy sends and give back the rows, the values and the errors it gives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from core.jobs import NewJob
from storage import migrate
from storage.crypto import Vault, generate_key
from storage.database import Database
from storage.models import UTCDateTime
from storage.prepared import Prepared
from storage.store import Storage
from tests.storage.test_repositories import NOW, SLACK, offer

METADATA = MetaData()
NOTES = Table(
    "notes",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("author", String(40), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=True),
    Column("body", JSON, nullable=True),
    Column("done", Boolean, nullable=False),
    Column("tag", String(20), unique=True),
)
T0 = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
NOTE = {"author": "ann", "revision": 0, "at": T0, "body": {"a": [1]}, "done": False, "tag": None}

READ = Prepared(
    select(
        literal(7).label("seven"),
        func.lower(NOTES.c.author).label("lower"),
        NOTES.c.id,
        NOTES.c.at,
        NOTES.c.body,
        NOTES.c.done,
    )
    .where(
        NOTES.c.author.in_(bindparam("authors", expanding=True)),
        NOTES.c.author.in_(["ann", "bob", "cy"]),  # a list held by the statement
        NOTES.c.at >= bindparam("since"),
    )
    .order_by(NOTES.c.id)
)
ADD = Prepared(insert(NOTES).returning(NOTES.c.id, NOTES.c.at))  # columns from the parameters
FINISH = Prepared(
    update(NOTES)
    .where(
        tuple_(NOTES.c.id, NOTES.c.revision).in_(bindparam("notes", expanding=True)),
        NOTES.c.done.is_(False),
    )
    .values(done=True, at=bindparam("now"), revision=NOTES.c.revision + 1)
    .returning(NOTES.c.id)
)
RENAME = Prepared(update(NOTES).where(NOTES.c.id == bindparam("note")).values(tag=bindparam("tag")))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'prepared.db'}")
    async with db.engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    yield db
    await db.close()


def sent_by_sqlalchemy(
    database: Database, prepared: Prepared, parameters: dict[str, Any]
) -> tuple[str, list[Any], list[tuple[Any, ...]]]:
    """What SQLAlchemy sends for ``prepared`` and the rows it gives, then rolled back."""
    engine = create_engine(database.url.replace("+aiosqlite", "+pysqlite"))
    sent: list[tuple[str, Any]] = []
    event.listen(engine, "before_cursor_execute", lambda *a: sent.append((a[2], a[3])))
    try:
        with engine.connect() as connection:
            result = connection.execute(prepared.statement, parameters)
            rows = [tuple(row) for row in result.all()] if result.returns_rows else []
            connection.rollback()
    finally:
        engine.dispose()
    (sql, arguments), *_ = sent
    return sql, list(arguments), rows


def as_sent(database: Database, prepared: Prepared, parameters: dict[str, Any]) -> Any:
    form = prepared.form(database._inline.dialect, parameters)  # type: ignore[union-attr]
    assert form is not None  # run without SQLAlchemy
    return form.sql, form.arguments(parameters)


async def add_notes(database: Database, count: int) -> list[int]:
    ids = []
    for index in range(count):
        row = {
            **NOTE,
            "author": ["ann", "bob", "cy"][index % 3],
            "at": T0 + timedelta(hours=index),
        }
        written = await database.write(ADD, row)
        ids.append(written.rows[0].id)
    return ids


async def test_a_read_sends_what_sqlalchemy_sends_and_reads_the_same_rows(database: Database):
    await add_notes(database, 6)
    for authors in (["ann"], ["ann", "bob"], ["ann", "bob", "cy"]):
        parameters = {"authors": authors, "since": T0 + timedelta(hours=1)}
        sql, arguments, expected = sent_by_sqlalchemy(database, READ, parameters)
        assert as_sent(database, READ, parameters) == (sql, arguments)
        rows = await database.rows(READ, parameters)
        assert [tuple(row) for row in rows] == expected
        assert rows, "a comparison of nothing"
    (first, *_) = await database.rows(READ, {"authors": ["bob"], "since": T0})
    assert first._fields == ("seven", "lower", "id", "at", "body", "done")
    assert (first.seven, first.lower, first.at, first.body, first.done) == (
        7, "bob", T0 + timedelta(hours=1), {"a": [1]}, False
    )  # fmt: skip
    assert first.at.tzinfo is UTC  # the column type's own conversion ran


async def test_writes_send_what_sqlalchemy_sends_and_return_the_same(database: Database):
    ids = await add_notes(database, 3)
    row = {**NOTE, "author": "eve", "tag": "x"}
    assert as_sent(database, ADD, row) == sent_by_sqlalchemy(database, ADD, row)[:2]
    later = T0 + timedelta(days=1)
    finish = {"notes": [(ids[0], 0), (ids[2], 0), (ids[1], 5)], "now": later}
    assert as_sent(database, FINISH, finish) == sent_by_sqlalchemy(database, FINISH, finish)[:2]
    finished = await database.write(FINISH, finish)
    assert (sorted(row.id for row in finished.rows), finished.rowcount) == ([ids[0], ids[2]], 2)
    again = await database.write(FINISH, finish)
    assert (again.rows, again.rowcount) == ([], 0)
    rows = await database.rows(READ, {"authors": ["ann", "bob", "cy"], "since": T0})
    assert [(row.id, row.done, row.at) for row in rows] == [
        (ids[0], True, later), (ids[1], False, T0 + timedelta(hours=1)), (ids[2], True, later)
    ]  # fmt: skip


async def test_several_sets_of_parameters_run_once_each(database: Database):
    ids = await add_notes(database, 2)
    renamed = await database.write(
        RENAME, [{"note": ids[0], "tag": "a"}, {"note": ids[1], "tag": "b"}]
    )
    assert renamed.rowcount == 2
    async with database.reading() as session:
        tags = (await session.execute(text("SELECT tag FROM notes ORDER BY id"))).scalars().all()
    assert tags == ["a", "b"]


async def test_errors_are_sqlalchemys_and_a_missing_value_is_refused(database: Database):
    await database.write(ADD, {**NOTE, "tag": "same"})
    with pytest.raises(IntegrityError):
        await database.write(ADD, {**NOTE, "tag": "same"})
    with pytest.raises(KeyError, match="since"):
        await database.rows(READ, {"authors": ["ann"]})


async def test_what_it_cannot_run_exactly_sqlalchemy_runs(database: Database):
    await add_notes(database, 1)
    assert READ.form(database._inline.dialect, {"authors": [], "since": T0}) is None  # type: ignore[union-attr]
    assert await database.rows(READ, {"authors": [], "since": T0}) == []
    with_default = Table(
        "d", MetaData(), Column("id", Integer, primary_key=True), Column("n", Integer, default=3)
    )
    assert Prepared(insert(with_default)).form(database._inline.dialect, {"id": 1}) is None  # type: ignore[union-attr]


async def test_a_write_refused_for_the_lock_waits_its_turn(database: Database):
    async with database.transaction() as session:
        await session.execute(text("INSERT INTO notes (author, revision, done) VALUES ('t', 0, 0)"))
        later = asyncio.ensure_future(database.write(ADD, {**NOTE, "tag": "queued"}))
        await asyncio.sleep(0.05)
        assert not later.done()  # refused on the event loop, queued for the writer
    assert (await later).rowcount == 1
    rows = await database.rows(READ, {"authors": ["ann", "t"], "since": T0})
    assert len(rows) == 1  # the transaction's row has no time; the queued one does


async def test_statements_are_counted(database: Database):
    count = database.count_statements()
    await add_notes(database, 2)
    await database.rows(READ, {"authors": ["ann"], "since": T0})
    assert count.statements == 3
    assert count.kinds["SELECT FROM notes"] == 1


async def test_the_statements_of_a_search_and_its_inbox_row_bypass_sqlalchemy(tmp_path: Path):
    """What a search with its busy times cached runs (see docs/slack.md), through the
    repositories with the parameters they pass: none is left to SQLAlchemy."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'pairtime.db'}")
    await migrate.upgrade(database)
    storage = Storage.over(database, Vault([generate_key()]))
    stored, ana, ben = await offer(storage)  # writes the offer
    by_sqlalchemy: list[str] = []
    engines = [database.engine.sync_engine, database.reader.sync_engine]
    engines += [database._inline, database._inline_writer]  # type: ignore[list-item]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", lambda *a: by_sqlalchemy.append(a[2]))
    count = database.count_statements()
    try:
        await storage.offers.add(replace(stored, ref="offer-2"))
        await storage.pairings.acquaintances(SLACK, ana.id)
        await storage.connections.summaries([ana.id, ben.id])
        await storage.connections.load([ana.id, ben.id])
        await storage.connections.synced({ana.id: 1, ben.id: 0}, NOW)
        await storage.meetings.busy([ana.id, ben.id], stored.window)
        await storage.meetings.busy([ana.id, ben.id], stored.window, excluding="m1")
        job = await storage.jobs.enqueue_claimed(
            NewJob("slack.command", "slack:1", {"text": "find"}), NOW, "w", timedelta(minutes=1)
        )
        assert job is not None
        assert await storage.jobs.complete_all([job], "w", NOW) == {job.id}
    finally:
        await database.close()
    assert by_sqlalchemy == []
    assert count.statements == 9
