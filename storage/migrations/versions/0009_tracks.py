"""Tracks: a program's parts, each with its pairs, circles, rules and admins; an audit log.

Every existing program gets one track, "Main", holding all its pairs and circles and
overriding no rule, so searches find exactly the times they found before. Pairs and
circles gain their track as a plain column (plain ALTER TABLEs, never a batch copy: on
SQLite, dropping the old copy of ``groups`` would fire group_members' ON DELETE CASCADE).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:00:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TRACK = "Main"


def upgrade() -> None:
    op.create_table(
        "tracks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_tracks_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
    )
    op.create_index("ix_tracks_program_name", "tracks", ["program_id", "name"], unique=True)
    op.create_table(
        "track_admins",
        sa.Column("track_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["tracks.id"],
            name=op.f("fk_track_admins_track_id_tracks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_track_admins_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("track_id", "person_id", name=op.f("pk_track_admins")),
    )
    op.create_index(op.f("ix_track_admins_person_id"), "track_admins", ["person_id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("track_id", sa.String(length=40), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_audit_log_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_program_at", "audit_log", ["program_id", "at"], unique=False)
    op.create_index(op.f("ix_audit_log_track_id"), "audit_log", ["track_id"], unique=False)
    for table in ("pairings", "groups"):
        op.add_column(table, sa.Column("track_id", sa.String(length=40), nullable=True))
        op.create_index(op.f(f"ix_{table}_track_id"), table, ["track_id"], unique=False)

    # One "Main" track per program, holding everything it has.
    bind = op.get_bind()
    programs = [row[0] for row in bind.execute(sa.text("SELECT id FROM programs"))]
    tracks = sa.table(
        "tracks",
        sa.column("id", sa.String),
        sa.column("program_id", sa.String),
        sa.column("name", sa.String),
        sa.column("rules", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    for program in programs:
        track = uuid.uuid4().hex
        bind.execute(
            tracks.insert().values(
                id=track, program_id=program, name=DEFAULT_TRACK, rules={}, created_at=now
            )
        )
        for table in ("pairings", "groups"):
            bind.execute(
                sa.text(f"UPDATE {table} SET track_id = :track WHERE program_id = :program"),  # noqa: S608 - fixed table names
                {"track": track, "program": program},
            )


def downgrade() -> None:
    for table in ("groups", "pairings"):
        op.drop_index(op.f(f"ix_{table}_track_id"), table_name=table)
        op.drop_column(table, "track_id")
    op.drop_index(op.f("ix_audit_log_track_id"), table_name="audit_log")
    op.drop_index("ix_audit_log_program_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_track_admins_person_id"), table_name="track_admins")
    op.drop_table("track_admins")
    op.drop_index("ix_tracks_program_name", table_name="tracks")
    op.drop_table("tracks")
