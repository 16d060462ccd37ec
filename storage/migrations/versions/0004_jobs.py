"""Durable work: one ``jobs`` table for the chat inbox, the outbox and everything due later.

Open polls with a deadline get their close and reminder as jobs, so a deadline set
before this upgrade still closes its poll.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NUDGE_AT_MOST = timedelta(hours=24)  # as core.scheduling.polls decided it at this revision


def upgrade() -> None:
    jobs = op.create_table(
        "jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_jobs_key")),
    )
    op.create_index("ix_jobs_status_due_at", "jobs", ["status", "due_at"], unique=False)
    op.create_index(op.f("ix_jobs_done_at"), "jobs", ["done_at"], unique=False)
    _schedule_open_polls(jobs)


def downgrade() -> None:
    op.drop_index(op.f("ix_jobs_done_at"), table_name="jobs")
    op.drop_index("ix_jobs_status_due_at", table_name="jobs")
    op.drop_table("jobs")


def _schedule_open_polls(jobs: sa.Table) -> None:
    """The close and the reminder of every open poll with a deadline, as the clock did them."""
    bind = op.get_bind()
    polls = sa.table(
        "polls",
        sa.column("ref", sa.String),
        sa.column("status", sa.String),
        sa.column("deadline", sa.DateTime(timezone=True)),
        sa.column("posted_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    rows = bind.execute(
        sa.select(polls.c.ref, polls.c.deadline, polls.c.posted_at).where(
            polls.c.status == "open", polls.c.deadline.is_not(None)
        )
    ).all()
    scheduled = []
    for ref, deadline, posted_at in rows:
        deadline_utc = _utc(deadline)
        scheduled.append(_job("poll.close", ref, deadline_utc, now))
        if posted_at is not None:
            lead = min(NUDGE_AT_MOST, (deadline_utc - _utc(posted_at)) / 2)
            scheduled.append(_job("poll.nudge", ref, deadline_utc - lead, now))
    if scheduled:
        op.bulk_insert(jobs, scheduled)


def _job(kind: str, ref: str, due: datetime, now: datetime) -> dict[str, object]:
    return {
        "kind": kind,
        "key": f"{kind}:{ref}",
        "payload": {"poll": ref},
        "status": "pending",
        "due_at": _stored(due),
        "attempts": 0,
        "revision": 0,
        "version": 0,
        "created_at": _stored(now),
    }


def _utc(value: datetime) -> datetime:
    # SQLite gives the naive UTC values Pairtime stored; PostgreSQL aware ones.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stored(value: datetime) -> datetime:
    return value.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else value
