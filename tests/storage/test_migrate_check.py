"""The start-up schema check reads the newest revision without Alembic, and agrees with it."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.bootstrap import StartupError, prepare_database
from storage import migrate
from storage.database import Database


def test_the_quick_head_is_alembics_head():
    alembics = ScriptDirectory.from_config(migrate._config()).get_current_head()

    assert migrate._quick_head() == alembics
    assert migrate.head_revision() == alembics


async def test_a_schema_newer_than_this_release_is_served_on_and_an_older_one_refused(
    database: Database,
):
    async with database.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'from-later'"))
    assert await prepare_database(database, migrate_if_behind=False) == "newer"

    oldest = min(migrate.known_revisions())
    async with database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE alembic_version SET version_num = :old"), {"old": oldest}
        )
    with pytest.raises(StartupError, match="run `pairtime db upgrade`"):
        await prepare_database(database, migrate_if_behind=False)


def test_every_revision_is_known_quickly_as_alembic_knows_it():
    script = ScriptDirectory.from_config(migrate._config())
    assert migrate.known_revisions() == {r.revision for r in script.walk_revisions()}
