"""Slot offers keep what their requester ruled out ("not Monday", "no mornings"), so that
fresh times offered when a picked one was taken keep it out too. NULL: nothing was.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slot_offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ruled_out", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slot_offers", schema=None) as batch_op:
        batch_op.drop_column("ruled_out")
