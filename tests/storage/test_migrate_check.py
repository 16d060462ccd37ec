"""The start-up schema check reads the newest revision without Alembic, and agrees with it."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from storage import migrate


def test_the_quick_head_is_alembics_head():
    alembics = ScriptDirectory.from_config(migrate._config()).get_current_head()

    assert migrate._quick_head() == alembics
    assert migrate.head_revision() == alembics
