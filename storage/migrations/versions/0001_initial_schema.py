"""Initial schema, with slack_sdk's installation and OAuth state tables.

slack_sdk's tables follow its SQLAlchemy stores (slack_installations,
slack_bots, slack_oauth_states) but with token columns wide enough for the
Fernet-sealed tokens Pairtime stores there instead of plaintext.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 02:01:43.764805
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _cascade(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    """``table.column`` refers to ``referred.id``, and goes with it; named as the models'
    naming convention names it."""
    return sa.ForeignKeyConstraint(
        [column],
        [f"{referred}.id"],
        name=op.f(f"fk_{table}_{column}_{referred}"),
        ondelete="CASCADE",
    )


def _indexes(table: str, *columns: str) -> None:
    """A plain index on each of ``columns``, named as the models' convention names it."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def _drop(table: str, *indexed: str) -> None:
    """Drop the indexes :func:`_indexes` made on ``indexed``, then ``table``."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in indexed:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
    op.drop_table(table)


def _slack_bot_columns() -> list[sa.Column[object]]:
    """The workspace and bot token columns slack_sdk's installations and bots share."""
    return [
        sa.Column("team_id", sa.String(32)),
        sa.Column("team_name", sa.String(200)),
        sa.Column("bot_token", sa.Text()),
        sa.Column("bot_id", sa.String(32)),
        sa.Column("bot_user_id", sa.String(32)),
        sa.Column("bot_scopes", sa.String(1000)),
        sa.Column("bot_refresh_token", sa.Text()),
        sa.Column("bot_token_expires_at", sa.DateTime()),
    ]


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    _indexes("people", "email")

    op.create_table(
        "processed_events",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_processed_events")),
    )
    _indexes("processed_events", "received_at")

    op.create_table(
        "programs",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
    )
    op.create_table(
        "calendar_connections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("account", sa.String(length=320), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sync", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _cascade("calendar_connections", "person_id", "people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_connections")),
        sa.UniqueConstraint("person_id", name=op.f("uq_calendar_connections_person_id")),
    )
    op.create_table(
        "chat_identities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("workspace", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=True),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        _cascade("chat_identities", "person_id", "people"),
        _cascade("chat_identities", "program_id", "programs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_identities")),
        sa.UniqueConstraint(
            "program_id", "user_id", name=op.f("uq_chat_identities_program_id_user_id")
        ),
    )
    _indexes("chat_identities", "person_id")

    op.create_table(
        "connect_states",
        sa.Column("state", sa.String(length=100), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("workspace", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        _cascade("connect_states", "person_id", "people"),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_connect_states")),
    )
    _indexes("connect_states", "expires_at")

    op.create_table(
        "conversation_references",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _cascade("conversation_references", "program_id", "programs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_references")),
        sa.UniqueConstraint(
            "program_id", "user_id", name=op.f("uq_conversation_references_program_id_user_id")
        ),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=True),
        _cascade("groups", "program_id", "programs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
    )
    op.create_table(
        "meetings",
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("offer_ref", sa.String(length=40), nullable=True),
        sa.Column("poll_ref", sa.String(length=40), nullable=True),
        sa.Column("organizer_id", sa.String(length=40), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _cascade("meetings", "organizer_id", "people"),
        _cascade("meetings", "program_id", "programs"),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_meetings")),
        sa.UniqueConstraint("offer_ref", name=op.f("uq_meetings_offer_ref")),
        sa.UniqueConstraint("poll_ref", name=op.f("uq_meetings_poll_ref")),
    )
    op.create_table(
        "organization_grants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("domain", sa.String(length=200), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["people.id"],
            name=op.f("fk_organization_grants_granted_by_people"),
            ondelete="SET NULL",
        ),
        _cascade("organization_grants", "program_id", "programs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization_grants")),
        sa.UniqueConstraint(
            "program_id", "provider", name=op.f("uq_organization_grants_program_id_provider")
        ),
    )
    op.create_table(
        "pairings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("mentor_id", sa.String(length=40), nullable=False),
        sa.Column("mentee_id", sa.String(length=40), nullable=False),
        _cascade("pairings", "mentee_id", "people"),
        _cascade("pairings", "mentor_id", "people"),
        _cascade("pairings", "program_id", "programs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairings")),
        sa.UniqueConstraint(
            "program_id",
            "mentor_id",
            "mentee_id",
            name=op.f("uq_pairings_program_id_mentor_id_mentee_id"),
        ),
    )
    _indexes("pairings", "mentee_id", "mentor_id")

    op.create_table(
        "polls",
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("organizer_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected", sa.Integer(), nullable=False),
        sa.Column("message", sa.JSON(), nullable=True),
        sa.Column("busy_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("meeting_ref", sa.String(length=40), nullable=True),
        _cascade("polls", "organizer_id", "people"),
        _cascade("polls", "program_id", "programs"),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_polls")),
    )
    _indexes("polls", "deadline", "status")

    op.create_table(
        "program_admins",
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        _cascade("program_admins", "person_id", "people"),
        _cascade("program_admins", "program_id", "programs"),
        sa.PrimaryKeyConstraint("program_id", "person_id", name=op.f("pk_program_admins")),
    )
    op.create_table(
        "slot_offers",
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("program_id", sa.String(length=100), nullable=False),
        sa.Column("requester_id", sa.String(length=40), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_of_day", sa.JSON(), nullable=True),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("shown", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _cascade("slot_offers", "program_id", "programs"),
        _cascade("slot_offers", "requester_id", "people"),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_slot_offers")),
    )
    _indexes("slot_offers", "created_at")

    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        _cascade("group_members", "group_id", "groups"),
        _cascade("group_members", "person_id", "people"),
        sa.PrimaryKeyConstraint("group_id", "person_id", name=op.f("pk_group_members")),
    )
    _indexes("group_members", "person_id")

    op.create_table(
        "meeting_participants",
        sa.Column("meeting_ref", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_ref"],
            ["meetings.ref"],
            name=op.f("fk_meeting_participants_meeting_ref_meetings"),
            ondelete="CASCADE",
        ),
        _cascade("meeting_participants", "person_id", "people"),
        sa.PrimaryKeyConstraint("meeting_ref", "person_id", name=op.f("pk_meeting_participants")),
    )
    _indexes("meeting_participants", "person_id")

    op.create_table(
        "poll_invitees",
        sa.Column("poll_ref", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("nudged_at", sa.DateTime(timezone=True), nullable=True),
        _cascade("poll_invitees", "person_id", "people"),
        sa.ForeignKeyConstraint(
            ["poll_ref"],
            ["polls.ref"],
            name=op.f("fk_poll_invitees_poll_ref_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poll_ref", "person_id", name=op.f("pk_poll_invitees")),
    )
    op.create_table(
        "poll_options",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("poll_ref", sa.String(length=40), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("busy_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_ref"],
            ["polls.ref"],
            name=op.f("fk_poll_options_poll_ref_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_options")),
        sa.UniqueConstraint("poll_ref", "start", name=op.f("uq_poll_options_poll_ref_start")),
    )
    op.create_table(
        "poll_votes",
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=40), nullable=False),
        sa.Column("poll_ref", sa.String(length=40), nullable=False),
        sa.Column("choice", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _cascade("poll_votes", "option_id", "poll_options"),
        _cascade("poll_votes", "person_id", "people"),
        sa.ForeignKeyConstraint(
            ["poll_ref"],
            ["polls.ref"],
            name=op.f("fk_poll_votes_poll_ref_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("option_id", "person_id", name=op.f("pk_poll_votes")),
    )
    _indexes("poll_votes", "poll_ref")

    # slack_sdk's SQLAlchemy installation and OAuth state stores; tokens are sealed.
    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("enterprise_name", sa.String(200)),
        sa.Column("enterprise_url", sa.String(200)),
        *_slack_bot_columns(),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("user_token", sa.Text()),
        sa.Column("user_scopes", sa.String(1000)),
        sa.Column("user_refresh_token", sa.Text()),
        sa.Column("user_token_expires_at", sa.DateTime()),
        sa.Column("incoming_webhook_url", sa.Text()),
        sa.Column("incoming_webhook_channel", sa.String(200)),
        sa.Column("incoming_webhook_channel_id", sa.String(200)),
        sa.Column("incoming_webhook_configuration_url", sa.String(200)),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("token_type", sa.String(32)),
        sa.Column("installed_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )
    op.create_table(
        "slack_bots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("enterprise_id", sa.String(32)),
        sa.Column("enterprise_name", sa.String(200)),
        *_slack_bot_columns(),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("installed_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"]
    )
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("state", sa.String(200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("slack_oauth_states")
    op.drop_index("slack_bots_idx", table_name="slack_bots")
    op.drop_table("slack_bots")
    op.drop_index("slack_installations_idx", table_name="slack_installations")
    op.drop_table("slack_installations")
    _drop("poll_votes", "poll_ref")
    op.drop_table("poll_options")
    op.drop_table("poll_invitees")
    _drop("meeting_participants", "person_id")
    _drop("group_members", "person_id")
    _drop("slot_offers", "created_at")
    op.drop_table("program_admins")
    _drop("polls", "status", "deadline")
    _drop("pairings", "mentor_id", "mentee_id")
    op.drop_table("organization_grants")
    op.drop_table("meetings")
    op.drop_table("groups")
    op.drop_table("conversation_references")
    _drop("connect_states", "expires_at")
    _drop("chat_identities", "person_id")
    op.drop_table("calendar_connections")
    op.drop_table("programs")
    _drop("processed_events", "received_at")
    _drop("people", "email")
