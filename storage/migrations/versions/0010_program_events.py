"""Program events: the provider's event each meeting became on the program account's calendar.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "program_events",
        sa.Column("meeting_ref", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=1024), nullable=False),
        sa.Column("join_url", sa.String(length=2000), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_ref"],
            ["meetings.ref"],
            name=op.f("fk_program_events_meeting_ref_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_ref", name=op.f("pk_program_events")),
    )


def downgrade() -> None:
    op.drop_table("program_events")
