"""Votes decided by the clicks as sent: a version on each poll, each ballot's clicks kept.

A poll's ``version`` rises with every counted click and every change of state, so a card
rendered from an older state can be told apart and dropped. A vote row keeps the recent
clicks behind it (``ballot``), so a click handled late or twice still counts as it was
sent; a withdrawn vote stays as a row without a choice, its clicks kept. Existing votes
keep their choice, as if set by one click at their ``updated_at``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("polls", sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    # poll_votes is referenced by no table, so SQLite's copy-and-rename cascades nowhere.
    with op.batch_alter_table("poll_votes") as batch:
        batch.alter_column("choice", existing_type=sa.String(length=20), nullable=True)
        batch.add_column(sa.Column("ballot", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM poll_votes WHERE choice IS NULL")
    with op.batch_alter_table("poll_votes") as batch:
        batch.drop_column("ballot")
        batch.alter_column("choice", existing_type=sa.String(length=20), nullable=False)
    op.drop_column("polls", "version")
