"""Meetings have a life: proposed, confirmed, declined, cancelled; moves keep the meeting.

Existing meetings were booked without asking anyone: they become ``confirmed``, keeping
their reference (the invitation's UID) and sequence. A meeting remembers who chose its
time (the other person of a pair answers), where it happens, and which circle members
declined for themselves; an offer remembers the meeting that picking from it moves.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLEs, never a batch copy of ``meetings``: on SQLite, dropping the old
    # copy would fire meeting_participants' ON DELETE CASCADE and empty it. (So the
    # proposer, always one of the participants, has no foreign key of its own.)
    op.add_column("meetings", sa.Column("proposer_id", sa.String(length=40), nullable=True))
    op.add_column("meetings", sa.Column("location", sa.String(length=500), nullable=True))
    op.execute("UPDATE meetings SET status = 'confirmed' WHERE status = 'booked'")
    op.add_column(
        "meeting_participants",
        sa.Column("declined", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("slot_offers", sa.Column("meeting_ref", sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column("slot_offers", "meeting_ref")
    op.drop_column("meeting_participants", "declined")
    # The old schema knew booked and cancelled only.
    op.execute("UPDATE meetings SET status = 'booked' WHERE status IN ('proposed', 'confirmed')")
    op.execute("UPDATE meetings SET status = 'cancelled' WHERE status = 'declined'")
    op.drop_column("meetings", "location")
    op.drop_column("meetings", "proposer_id")
