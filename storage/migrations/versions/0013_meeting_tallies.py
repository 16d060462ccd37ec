"""Meeting tallies: what retention deletes is still counted, as numbers per week.

Each program keeps offers and meetings for ``retention_days`` (a program setting, 400 by
default); the hourly tidy-up deletes older ones and adds each deleted meeting to this
table, per program, week (its Monday, UTC) and the status it ended in.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_tallies",
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_meeting_tallies_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("program_id", "week", "status", name=op.f("pk_meeting_tallies")),
    )


def downgrade() -> None:
    op.drop_table("meeting_tallies")
