"""A circle's name is unique in its program, and so is the channel it meets in.

Without this, ``pairtime circles import`` run twice, or two admins at once, could make
two circles of one name, and a channel could belong to two circles (a poll there would
invite either).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 04:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_groups_program_name", "groups", ["program_id", "name"], unique=True)
    op.create_index("ix_groups_program_channel", "groups", ["program_id", "channel"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_groups_program_channel", table_name="groups")
    op.drop_index("ix_groups_program_name", table_name="groups")
