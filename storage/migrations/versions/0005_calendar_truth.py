"""What Pairtime knows about each calendar beyond its secret: whether its grant misses
events marked free, when its owner was asked to reconnect, and how much of the next two
weeks the last read found taken by all-day or out-of-office events.

Every Google connection made before this revision holds only ``calendar.freebusy``,
which hides events marked free (Google's all-day events by default): each is marked,
so that its owner is asked, once, to reconnect.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_connections") as table:
        table.add_column(
            sa.Column("misses_free_events", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("reconnect_asked_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("away_days", sa.Integer(), nullable=True))
    connections = sa.table(
        "calendar_connections",
        sa.column("provider", sa.String),
        sa.column("misses_free_events", sa.Boolean),
    )
    op.execute(
        connections.update()
        .where(connections.c.provider == "google")
        .values(misses_free_events=sa.true())
    )


def downgrade() -> None:
    with op.batch_alter_table("calendar_connections") as table:
        table.drop_column("away_days")
        table.drop_column("reconnect_asked_at")
        table.drop_column("misses_free_events")
