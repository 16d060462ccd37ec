"""A key in ``processed_events`` may be claimed for a while before it is taken for good:
a Teams private message is claimed before it is sent and settled once Teams took it, so
that a process dying while sending it leaves the key to be claimed again once the claim has
run out. NULL (every key so far): taken for good.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
