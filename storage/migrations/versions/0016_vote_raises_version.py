"""SQLite: every vote written raises its poll's version, by a trigger, so that a vote is
counted in one writing statement with no transaction around it (``SqlPolls.cast``: the
ballot read first, then the vote written only if the poll's version is still the one read).
PostgreSQL raises the version in the statement that takes the poll's row lock, as before.
The release before keeps working on this schema (its own raise and the trigger's make two a
vote: a version only has to grow).

A later migration that rebuilds ``poll_votes`` on SQLite (``batch_alter_table`` copies the
table into a new one) drops these triggers and must create them again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RAISE = "UPDATE polls SET version = version + 1 WHERE ref = NEW.poll_ref;"
TRIGGERS = {
    "poll_votes_raise_version_on_insert": (
        f"CREATE TRIGGER poll_votes_raise_version_on_insert AFTER INSERT ON poll_votes "
        f"BEGIN {RAISE} END"
    ),
    "poll_votes_raise_version_on_update": (
        f"CREATE TRIGGER poll_votes_raise_version_on_update AFTER UPDATE ON poll_votes "
        f"BEGIN {RAISE} END"
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for create in TRIGGERS.values():
        op.execute(create)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
