"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase

from storage.database import Database


def insert(database: Database, table: type[DeclarativeBase]) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing`` / ``on_conflict_do_update`` here.

    Both PostgreSQL and SQLite speak ``ON CONFLICT``; SQLAlchemy exposes it per dialect.
    """
    if database.dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def affected(result: Any) -> int:
    """Rows an INSERT, UPDATE or DELETE touched (``CursorResult.rowcount``)."""
    return int(result.rowcount)
