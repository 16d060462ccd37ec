"""Opening storage from settings, and checking the schema before serving.

Kept apart from ``bot.services`` so that the administrative commands start
without importing the calendar and chat libraries.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import inspect

from bot.settings import Settings
from storage import migrate
from storage.crypto import Vault, development_keys
from storage.database import Database
from storage.store import Storage

log = logging.getLogger(__name__)


class StartupError(Exception):
    """Pairtime cannot start as configured; the message says what to do."""


def encryption_keys(settings: Settings, folder: Path | None = None) -> list[str]:
    """The configured keys, or in development a key kept in a local file (with a warning)."""
    if settings.encryption_keys:
        return [key.reveal() for key in settings.encryption_keys]
    if settings.is_production:  # settings already refuse this; never fall through to a file
        raise StartupError("PAIRTIME_ENCRYPTION_KEYS must be set in production")
    return development_keys(folder or Path.cwd())


def open_storage(settings: Settings, folder: Path | None = None) -> Storage:
    return Storage.open(
        settings.database_url,
        encryption_keys(settings, folder),
        pool_size=settings.database_pool_size,
    )


async def prepare_database(
    database: Database, *, migrate_if_behind: bool, vault: Vault | None = None
) -> str:
    """Make sure the schema is current before serving; returns what was done.

    A database with no tables at all is new: it is created at the current
    schema. One that is behind is upgraded only when asked (``--migrate``);
    otherwise Pairtime refuses to start and says which command to run. One at a
    revision this release does not know is newer: during a rolling upgrade the
    schema moves first, and every migration keeps the previous release working
    (docs/deploy.md), so a process of that release starts on it, with a warning.
    """
    current = await migrate.current_revision(database)
    head = migrate.head_revision()
    if current == head:
        return "current"
    if current is None and not await _has_tables(database):
        await migrate.upgrade(database, vault=vault)
        return "created"
    if current is not None and current not in migrate.known_revisions():
        log.warning(
            "The database schema is at revision %s, newer than this release's %s: serving on "
            "it, as every migration keeps the previous release working.",
            current,
            head,
        )
        return "newer"
    if migrate_if_behind:
        await migrate.upgrade(database, vault=vault)
        return "upgraded"
    raise StartupError(
        f"the database schema is at revision {current or 'none'} but this version of Pairtime "
        f"needs {head}: run `pairtime db upgrade` (back the database up first), or start "
        "with `pairtime serve --migrate`"
    )


async def _has_tables(database: Database) -> bool:
    async with database.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return bool(set(names) - {"alembic_version"})
