"""Organisation connections: what an admin set up (name, domains, program account, plain
settings), whether it still works, when it last read, and who it does not read.

The table existed unused since 0001; a row kept from then covers its one ``domain``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMNs (no table copy is needed for them on SQLite).
    op.add_column(
        "organization_grants",
        sa.Column("name", sa.String(length=200), nullable=False, server_default=""),
    )
    op.add_column("organization_grants", sa.Column("domains", sa.JSON(), nullable=True))
    op.add_column(
        "organization_grants", sa.Column("program_account", sa.String(length=320), nullable=True)
    )
    op.add_column("organization_grants", sa.Column("settings", sa.JSON(), nullable=True))
    op.add_column(
        "organization_grants",
        sa.Column("status", sa.String(length=20), nullable=False, server_default="connected"),
    )
    op.add_column(
        "organization_grants",
        sa.Column("can_write", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "organization_grants",
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "organization_grants", sa.Column("last_error", sa.String(length=300), nullable=True)
    )
    op.add_column(
        "organization_grants",
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
    )
    grants = sa.table(
        "organization_grants",
        sa.column("id", sa.Integer),
        sa.column("domain", sa.String),
        sa.column("domains", sa.JSON),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(grants.c.id, grants.c.domain)).all():
        connection.execute(
            grants.update()
            .where(grants.c.id == row.id)
            .values(domains=[str(row.domain).strip().lower()])
        )
    op.create_table(
        "organization_exclusions",
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_organization_exclusions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_organization_exclusions_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("program_id", "person_id", name=op.f("pk_organization_exclusions")),
    )
    op.create_index(
        op.f("ix_organization_exclusions_person_id"),
        "organization_exclusions",
        ["person_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_organization_exclusions_person_id"), table_name="organization_exclusions"
    )
    op.drop_table("organization_exclusions")
    with op.batch_alter_table("organization_grants") as table:
        for column in (
            "last_error_at",
            "last_error",
            "last_read_at",
            "can_write",
            "status",
            "settings",
            "program_account",
            "domains",
            "name",
        ):
            table.drop_column(column)
