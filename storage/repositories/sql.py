"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import DeclarativeBase

from storage.database import Database


def insert(database: Database, table: type[DeclarativeBase]) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing`` / ``on_conflict_do_update`` here.

    Both PostgreSQL and SQLite speak ``ON CONFLICT``; SQLAlchemy exposes it per dialect.
    """
    if database.dialect == "postgresql":
        return _postgresql().insert(table)
    return sqlite.insert(table)


@cache
def _postgresql() -> ModuleType:
    """SQLAlchemy's PostgreSQL dialect, imported by the first PostgreSQL insert (its engine
    has loaded it by then): a server on SQLite starts without it, 40 ms of CPU sooner."""
    from sqlalchemy.dialects import postgresql  # noqa: PLC0415 - see the docstring

    return postgresql


def affected(result: Any) -> int:
    """Rows an INSERT, UPDATE or DELETE touched (``CursorResult.rowcount``)."""
    return int(result.rowcount)
