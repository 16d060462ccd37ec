"""Schema migrations with Alembic, run on our own async engine.

``pairtime db upgrade`` applies them; ``pairtime serve`` checks that the
database is at the newest revision before it starts (or upgrades it with
``--migrate``).

The check runs at every start, so it does without Alembic (whose import costs
more CPU than the rest of a start): the newest revision is read off the
migration files' ``revision`` and ``down_revision`` lines, and the database's
from its ``alembic_version`` table. Alembic is imported only to migrate, or
when the files are shaped in a way the quick reading does not know.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from storage.database import Database

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

    from storage.crypto import Vault

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r'^revision(?:: str)? = "([^"]+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(
    r'^down_revision(?:: str \| None)? = (?:"([^"]+)"|(None))$', re.MULTILINE
)


def _config(connection: Connection | None = None, vault: Vault | None = None) -> Config:
    from alembic.config import Config  # noqa: PLC0415 - see the module's docstring

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    if vault is not None:  # migrations that seal stored values need the keys
        config.attributes["vault"] = vault
    return config


def head_revision() -> str | None:
    """The newest revision of the migration files."""
    quick = _quick_head()
    if quick is not None:
        return quick
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - see the module's docstring

    return ScriptDirectory.from_config(_config()).get_current_head()


def known_revisions() -> frozenset[str]:
    """Every revision this release's migration files hold."""
    parents = _quick_parents()
    if parents is not None:
        return frozenset(parents)
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - see the module's docstring

    script = ScriptDirectory.from_config(_config())
    return frozenset(revision.revision for revision in script.walk_revisions())


def _quick_head() -> str | None:
    """The head of a linear chain of plain revision files; None when unsure (Alembic decides)."""
    parents = _quick_parents()
    if parents is None:
        return None
    heads = set(parents) - set(parents.values())
    return heads.pop() if len(heads) == 1 else None


def _quick_parents() -> dict[str, str | None] | None:
    """Each revision's parent, read off the files' plain lines; None when one is not plain."""
    parents: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revisions = _REVISION.findall(source)
        downs = _DOWN_REVISION.findall(source)
        if len(revisions) != 1 or len(downs) != 1:
            return None
        down, none = downs[0]
        parents[revisions[0]] = None if none else down
    return parents


def _stored_revision(connection: Connection) -> str | None:
    """What ``alembic_version`` holds (Alembic's own table), without Alembic."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) > 1:  # several heads: Alembic reports that in its own words
        from alembic.runtime.migration import MigrationContext  # noqa: PLC0415 - as above

        return MigrationContext.configure(connection).get_current_revision()
    return rows[0] if rows else None


async def current_revision(database: Database) -> str | None:
    async with database.engine.connect() as connection:
        return await connection.run_sync(_stored_revision)


async def is_current(database: Database) -> bool:
    return await current_revision(database) == head_revision()


async def upgrade(
    database: Database, revision: str = "head", *, vault: Vault | None = None
) -> None:
    """Apply the migrations up to ``revision``. ``vault`` seals what a migration moves
    into sealed columns (0012: accounts); without it such a migration refuses to run on a
    database that holds rows to seal, and says so."""
    from alembic import command  # noqa: PLC0415 - see the module's docstring

    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(_config(sync, vault), revision))


async def downgrade(
    database: Database, revision: str = "base", *, vault: Vault | None = None
) -> None:
    from alembic import command  # noqa: PLC0415 - see the module's docstring

    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(_config(sync, vault), revision))
