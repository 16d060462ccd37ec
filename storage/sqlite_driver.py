"""aiosqlite for SQLAlchemy in one trip to its thread per statement, not four.

aiosqlite runs every sqlite3 call in a thread of its own, and SQLAlchemy's adapter makes
four calls per statement (open a cursor, execute, fetch the rows, close the cursor): four
hand-offs between the event loop and that thread, each a queue put, a wake-up, a future
and a self-pipe write. Here one function does all four in the thread and hands back the
rows with the description, row count and last row id. SQLAlchemy reads those from the
adapted cursor as before; nothing else changes (server-side cursors keep the original).

Given to ``create_async_engine`` as its DBAPI ``module`` (a documented parameter), so the
dialect, the URL and everything built on them stay aiosqlite's.

The same trip brings back whether the connection is inside a transaction, so a COMMIT or
ROLLBACK with nothing to end (a lone write in autocommit mode, ``Database.alone``) costs no
trip at all: sqlite3 itself would do nothing then.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

# description, rows, rowcount, lastrowid, and whether a transaction is open after it
Outcome = tuple[Any, list[Any], int, int | None, bool]


def _execute(connection: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    """In aiosqlite's thread: the whole statement, its rows read at once."""
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


def _execute_many(connection: sqlite3.Connection, operation: str, rows: Sequence[Any]) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, rows)
        described = cursor.description
        return described, [], cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


class _Finished:
    """What SQLAlchemy reads from a DBAPI cursor after a statement, kept after it closed."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(
        self, description: Any = None, rowcount: int = -1, lastrowid: int | None = None
    ) -> None:
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.arraysize = 1

    async def close(self) -> None:
        """Closed in the thread already."""


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No cursor opened here (a trip of its own): each statement opens and closes one.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection  # noqa: SLF001 - as the base class
        self._cursor = _Finished()  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:  # noqa: SLF001 - as the base class
            await self._finish(_execute, operation, parameters)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:  # noqa: SLF001 - as the base class
            await self._finish(_execute_many, operation, seq_of_parameters)

    async def _finish(self, run: Any, operation: Any, parameters: Any) -> None:
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        connection = driver._conn  # noqa: SLF001 - sqlite3's, only touched in the thread below
        # aiosqlite's own way of running a function in its thread (its public methods are
        # built on it).
        in_thread = driver._execute  # noqa: SLF001
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        adapted.open_transaction = True  # until told otherwise (a statement may fail)
        description, rows, rowcount, lastrowid, open_transaction = await in_thread(  # type: ignore[no-untyped-call]
            run, connection, operation, parameters
        )
        adapted.open_transaction = open_transaction
        self._cursor = _Finished(description, rowcount, lastrowid)  # type: ignore[assignment]
        self._rows = collections.deque(rows)

    async def _async_soft_close(self) -> None:
        """Nothing to close: the description stays readable on ``_Finished``."""

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("open_transaction",)
    _cursor_cls = OneTripCursor  # type: ignore[assignment] # a subclass of the base's

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        # Whether sqlite3 may be inside a transaction: True unless the last statement, run
        # by a OneTripCursor, said it is not (so a server-side cursor, or a failure, keeps
        # every COMMIT and ROLLBACK as it was).
        self.open_transaction = True

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            self.open_transaction = True
        return super().cursor(server_side)

    def commit(self) -> None:
        if self.open_transaction:
            super().commit()
            self.open_transaction = False

    def rollback(self) -> None:
        if self.open_transaction:
            super().rollback()
            self.open_transaction = False


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite's DBAPI as SQLAlchemy adapts it, with connections that use ``OneTripCursor``."""

    def connect(self, *args: Any, **kwargs: Any) -> OneTripConnection:
        adapted = super().connect(*args, **kwargs)
        return OneTripConnection(self, adapted._connection)  # noqa: SLF001 - rewrapped


def one_trip_dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
