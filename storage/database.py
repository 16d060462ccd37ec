"""The database connection: SQLite by default, PostgreSQL for several processes.

SQLite gets WAL (readers never block the writer, and ``synchronous=NORMAL``
is safe with it), foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for
every transaction that may write: it takes the write lock when it starts, so
two writers queue on the busy timeout instead of failing with "database is
locked" when one tries to upgrade a read lock (SQLAlchemy's documented recipe
for aiosqlite). Read-only work goes through :meth:`Database.reading`, which
on SQLite uses a second engine in autocommit mode: each statement reads its
own snapshot and takes no lock beyond it, as every statement does under
PostgreSQL's default READ COMMITTED, and no BEGIN, COMMIT or ROLLBACK costs a
round trip to aiosqlite's thread.

The small reads and lone writes every request makes (:meth:`Database.rows`,
:meth:`Database.write`) go further on a SQLite file: they run on the event loop itself,
through synchronous engines on the same file (sqlite3: no aiosqlite thread, no greenlet).
An indexed statement on a few rows takes SQLite tens of microseconds; handing it to
aiosqlite's thread and back, with SQLAlchemy's async pool checkout around it, cost about
170 µs of CPU more. Nothing there waits on a lock: a WAL reader never waits for a writer,
and a write that finds the write lock taken (a transaction of this process or another)
fails at once without having changed anything, and then goes through the writer's queue.
The statements every search runs are :class:`storage.prepared.Prepared`: compiled once,
they run on a sqlite3 connection kept for them, without SQLAlchemy's per-statement work.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Executable, PoolProxiedConnection, Row, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.prepared import Form, Prepared

SQLITE_BUSY_TIMEOUT_MS = 15_000
POOL_RECYCLE_SECONDS = 300  # PostgreSQL: a pooled connection older than this is opened anew
_ALONE = "pairtime_alone"  # an execution option: one statement, no BEGIN IMMEDIATE (SQLite)


class Database:
    """One engine and its sessions. Built in ``bot.bootstrap``, never at import time."""

    def __init__(
        self, url: str, *, pool_size: int = 10, connect_args: dict[str, Any] | None = None
    ) -> None:
        parsed = make_url(url)
        self.url = url
        self.connect_args = connect_args or {}
        self.dialect = parsed.get_backend_name()
        options: dict[str, Any] = {"connect_args": self.connect_args}
        if self.dialect == "postgresql":
            # No pre-ping: asyncpg's costs three round trips (BEGIN, an empty query, ROLLBACK)
            # at every checkout. A connection the server closed (a restart, an administrator)
            # is known closed to asyncpg without asking, and is replaced at checkout
            # (``_replace_if_closed``); one lost while in use fails that work, which SQLAlchemy
            # takes as a disconnect (the pool drops it and every connection opened before it)
            # and the worker retries. One kept past ``POOL_RECYCLE_SECONDS`` is opened anew,
            # before any idle timeout of a firewall or proxy in between can have cut it.
            options |= {
                "pool_size": pool_size,
                "max_overflow": pool_size,
                "pool_recycle": POOL_RECYCLE_SECONDS,
            }
        if self.dialect == "sqlite" and parsed.get_driver_name() == "aiosqlite":
            from storage.sqlite_driver import one_trip_dbapi  # noqa: PLC0415 - SQLite only

            # One trip to aiosqlite's thread per statement (see storage.sqlite_driver).
            options["module"] = one_trip_dbapi()
        if self.dialect == "sqlite":
            # One writer connection: this process's writers queue on the pool, in the event
            # loop, instead of on SQLite's busy handler, which sleeps up to 100 ms a try.
            # Other processes still meet the busy timeout; correctness is the database's.
            # Every session here ends its own transaction (commit or rollback), so the
            # pool's extra ROLLBACK on return is a wasted round trip to aiosqlite's thread.
            options["pool_reset_on_return"] = None
            self.engine: AsyncEngine = create_async_engine(
                url, **options, pool_size=1, max_overflow=0, pool_timeout=60
            )
            _configure_sqlite(self.engine, writes=True)
            # A fixed set of reading connections, none opened and closed per burst: each
            # aiosqlite connection is a thread, a file opened and four PRAGMAs (with the default
            # overflow, a busy server opened one for most requests). A read waits on the pool
            # rather than open more; each takes about a millisecond.
            self.reader: AsyncEngine = create_async_engine(
                url,
                **options,
                pool_size=pool_size,
                max_overflow=0,
                pool_timeout=60,
                isolation_level="AUTOCOMMIT",
                skip_autocommit_rollback=True,
            )
            _configure_sqlite(self.reader, writes=False)
        else:
            self.engine = create_async_engine(url, **options)
            self.reader = self.engine
            if self.dialect == "postgresql":
                event.listen(self.engine.sync_engine, "checkout", _replace_if_closed)
        # The reads of ``rows`` and the writes of ``write`` on the event loop (see the
        # module's docstring): a SQLite file only, since another connection to ``:memory:``
        # would be another database.
        self._inline: Engine | None = None
        self._inline_writer: Engine | None = None
        # Each engine's first connection, kept checked out: a ``Prepared`` statement runs
        # on it directly (see storage.prepared); other statements take the second.
        self._raw: dict[Engine, PoolProxiedConnection] = {}
        self._counts: list[StatementCount] = []
        if self.dialect == "sqlite" and _on_file(parsed):
            self._inline = _inline_engine(parsed, self.connect_args)
            _configure_sqlite_connections(self._inline)
            self._inline_writer = _inline_engine(parsed, self.connect_args)
            _configure_sqlite_connections(self._inline_writer, waits=False)
        # The writer's connections for one statement (``alone``), marked once here rather
        # than per connection (an await and a trip through SQLAlchemy's greenlet each write).
        self._alone = (
            self.engine.execution_options(**{_ALONE: True})
            if self.dialect == "sqlite"
            else self.engine
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.reader, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def alone(self) -> AsyncIterator[AsyncConnection]:
        """A connection for ONE writing statement, committed when the block ends.

        On SQLite no BEGIN IMMEDIATE is sent: a lone INSERT or UPDATE takes the write lock
        as it starts and commits as it ends, which is the same transaction without the
        round trip that opens it. Never run two statements here: each would commit on its
        own. On PostgreSQL it is an ordinary transaction.
        """
        async with self._alone.connect() as connection:
            yield connection
            await connection.commit()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: on SQLite it never waits for, or holds, the write lock.

        Nothing is committed: whatever the session began is rolled back when it closes
        (on SQLite there is nothing to roll back, and no round trip is spent on it).
        """
        async with self._read_sessions() as session:
            yield session

    async def rows(
        self, statement: Executable | Prepared, parameters: Mapping[str, Any] | None = None
    ) -> Sequence[Row[Any]]:
        """The rows of one Core read, as :meth:`reading` would see them, without an ORM
        session: for the reads every request makes, where building objects, an identity
        map and a session's events cost more than the query itself.

        On a SQLite file the read runs on the event loop (see the module's docstring): keep
        it to small, indexed reads; a read of many rows belongs in :meth:`reading`. A
        :class:`Prepared` statement runs there without SQLAlchemy (its rows are named
        tuples, read the same way)."""
        if isinstance(statement, Prepared):
            if self._inline is not None:
                form = statement.form(self._inline.dialect, parameters or {})
                if form is not None:
                    return self._run(self._inline, form, [parameters or {}])[0]
            statement = statement.statement
        if self._inline is not None:
            with self._inline.connect() as inline:
                return inline.execute(statement, parameters).all()
        async with self.reader.connect() as connection:
            result = await connection.execute(statement, parameters)
            return result.all()

    async def write(
        self,
        statement: Executable | Prepared,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> Written:
        """ONE writing statement, committed, as :meth:`alone` would run it; its rows (a
        RETURNING clause) and how many rows it touched.

        On a SQLite file it is first tried on the event loop (see the module's docstring),
        without waiting for the write lock: if a transaction of this process or another
        holds it, the statement, which then changed nothing, goes the usual way and waits
        its turn. Keep it to small writes of a row or a few. Given several sets of
        ``parameters`` (run once each, each committed as it runs, as :meth:`alone` does),
        a refusal part-way runs them all again: only for a statement that may run twice
        (one that sets values).
        """
        if isinstance(statement, Prepared):
            if self._inline_writer is not None:
                written = self._write_prepared(self._inline_writer, statement, parameters)
                if written is not None:
                    return written
            statement = statement.statement
        if self._inline_writer is not None:
            try:
                with self._inline_writer.connect() as inline:
                    result = inline.execute(statement, parameters)
                    return Written(result.all() if result.returns_rows else [], result.rowcount)
            except OperationalError as error:
                if not _busy(error):
                    raise
        async with self.alone() as connection:
            result = await connection.execute(statement, parameters)
            return Written(result.all() if result.returns_rows else [], result.rowcount)

    def _write_prepared(
        self,
        engine: Engine,
        prepared: Prepared,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    ) -> Written | None:
        """``write`` on the event loop without SQLAlchemy; None when SQLite refused it for
        the lock (nothing was changed, or each set of parameters may run again) or when
        SQLAlchemy must run it."""
        sets = (
            [parameters or {}]
            if parameters is None or isinstance(parameters, Mapping)
            else parameters
        )
        forms = {id(form): form for form in (prepared.form(engine.dialect, one) for one in sets)}
        form = next(iter(forms.values()), None)
        if form is None or len(forms) > 1 or (form.row is not None and len(sets) > 1):
            return None  # SQLAlchemy's to run; or sets of several shapes, or rows from each
        try:
            return Written(*self._run(engine, form, sets))
        except OperationalError as error:
            if not _busy(error):
                raise
            return None

    def _run(
        self, engine: Engine, form: Form, sets: Sequence[Mapping[str, Any]]
    ) -> tuple[list[Any], int]:
        """One prepared statement on ``engine``'s kept sqlite3 connection, once per set of
        parameters (several: sqlite3's executemany, one call, each run committed as it
        runs); its rows, and the rows it touched. A sqlite3 error is raised as SQLAlchemy
        would raise it."""
        raw = self._raw.get(engine)
        if raw is None:
            raw = self._raw[engine] = engine.raw_connection()
        connection: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
        for count in self._counts:
            count.statement(None, None, form.sql)
        arguments: Any = None
        try:
            if len(sets) == 1:
                arguments = form.arguments(sets[0])
                cursor = connection.execute(form.sql, arguments)
            else:
                arguments = [form.arguments(one) for one in sets]
                cursor = connection.executemany(form.sql, arguments)
            rows = form.rows(cursor.fetchall()) if form.row is not None else []
        except sqlite3.Error as error:
            raise DBAPIError.instance(form.sql, arguments, error, sqlite3.Error) from error
        return rows, cursor.rowcount

    def count_statements(self) -> StatementCount:
        """Count the SQL statements and commits run from now on, through SQLAlchemy's own
        events (benchmarks: statements per request; ``PAIRTIME_COUNT_SQL``)."""
        count = StatementCount()
        engines = [self.engine] if self.reader is self.engine else [self.engine, self.reader]
        synchronous = [engine.sync_engine for engine in engines]
        synchronous += [engine for engine in (self._inline, self._inline_writer) if engine]
        for engine in synchronous:
            event.listen(engine, "before_cursor_execute", count.statement)
            event.listen(engine, "commit", count.commit)
        self._counts.append(count)
        return count

    async def close(self) -> None:
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()
        for raw in self._raw.values():
            raw.close()
        self._raw.clear()
        for inline in (self._inline, self._inline_writer):
            if inline is not None:
                inline.dispose()

    def __repr__(self) -> str:
        # The URL may hold a password: show the backend only.
        return f"Database({self.dialect})"


@dataclass(frozen=True, slots=True)
class Written:
    """What one writing statement returned (its RETURNING rows) and the rows it touched."""

    rows: Sequence[Row[Any]]
    rowcount: int

    def first(self) -> Row[Any] | None:
        return self.rows[0] if self.rows else None


@dataclass
class StatementCount:
    """SQL statements sent to the database (each BEGIN IMMEDIATE of SQLite's writer is one)
    and transactions committed."""

    statements: int = 0
    commits: int = 0
    # By SQL text (the same string each time a statement runs, its hash kept), shaped only
    # when read: counting adds as little as it can to the CPU a benchmark measures.
    sent: Counter[str] = field(default_factory=Counter)

    @property
    def kinds(self) -> Counter[str]:
        """By shape (``UPDATE jobs SET status``, ``SELECT FROM poll_votes``): which ones a
        request pays for."""
        kinds: Counter[str] = Counter()
        for statement, count in self.sent.items():
            kinds[statement_shape(statement)] += count
        return kinds

    def statement(self, _connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements += 1
        self.sent[statement] += 1

    def commit(self, *_args: Any) -> None:
        self.commits += 1


_FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)


def statement_shape(statement: str) -> str:
    """A statement's verb and table, without its values: ``UPDATE jobs SET claimed_by``."""
    words = statement.split(maxsplit=4)
    verb = words[0].upper() if words else ""
    if verb == "SELECT" and (table := _FROM.search(statement)):
        return f"SELECT FROM {table.group(1)}"
    if verb == "UPDATE":
        return " ".join(words[:4]).split("=")[0]
    if verb in {"INSERT", "DELETE"}:
        return " ".join(words[:3])
    return " ".join(words[:2])


def _replace_if_closed(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """At checkout, a pooled PostgreSQL connection the server has closed is replaced: the
    pool takes DisconnectionError as "open another" (SQLAlchemy's pessimistic disconnect
    handling), and asyncpg knows a closed connection without a round trip."""
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this connection")


def _on_file(url: URL) -> bool:
    """Whether a SQLite URL names a file that another connection opens too."""
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in database
    return not in_memory and url.query.get("mode") != "memory"


def _inline_engine(url: URL, connect_args: dict[str, Any]) -> Engine:
    """A synchronous engine on the SQLite file ``url`` names, in autocommit mode."""
    return create_engine(
        url.set(drivername="sqlite+pysqlite"),
        connect_args=connect_args,
        # A statement here never yields, so two never run at once: one connection kept for
        # ``Prepared`` statements (``Database._run``), one for the others.
        pool_size=2,
        max_overflow=0,
        pool_reset_on_return=None,
        isolation_level="AUTOCOMMIT",
        skip_autocommit_rollback=True,
    )


def _busy(error: OperationalError) -> bool:
    """Whether SQLite refused a statement because another connection holds the lock it needs
    (the statement then did nothing)."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def _configure_sqlite_connections(engine: Engine, *, waits: bool = True) -> None:
    # Without ``waits``, a statement that needs a lock held elsewhere fails at once (SQLITE_BUSY)
    # instead of sleeping on the busy handler (on the event loop, that would stop the process).
    busy_timeout = SQLITE_BUSY_TIMEOUT_MS if waits else 0

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # No BEGIN of pysqlite's own: the writer's BEGIN IMMEDIATE is emitted below,
        # and the readers autocommit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
        cursor.close()


def _configure_sqlite(engine: AsyncEngine, *, writes: bool) -> None:
    _configure_sqlite_connections(engine.sync_engine)

    if not writes:
        return  # the reader runs in autocommit mode: no transaction to begin

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_ALONE):
            return  # one statement, which SQLite runs as a transaction of its own
        connection.exec_driver_sql("BEGIN IMMEDIATE")
