"""A connect link belongs to the first browser that opens it.

Before, the browser's cookie was kept inside the link's sealed secret and each
opening replaced it: the last browser to open a link won it. The column holds a
hash of the first browser's cookie, set once with a conditional update, so a
second browser (someone the link leaked to) is told it was opened elsewhere.
Links issued before this migration have no browser yet: the next to open them
claims them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("connect_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("browser", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connect_states", schema=None) as batch_op:
        batch_op.drop_column("browser")
