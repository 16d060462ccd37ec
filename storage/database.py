"""The database connection: SQLite by default, PostgreSQL for several processes.

SQLite gets WAL (readers never block the writer), foreign keys, a busy
timeout, and ``BEGIN IMMEDIATE`` for every transaction: a transaction takes
the write lock when it starts, so two writers queue on the busy timeout
instead of failing with "database is locked" when one tries to upgrade a
read lock (SQLAlchemy's documented recipe for aiosqlite).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 15_000


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
            options |= {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
        await self.engine.dispose()

    def __repr__(self) -> str:
        # The URL may hold a password: show the backend only.
        return f"Database({self.dialect})"


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
