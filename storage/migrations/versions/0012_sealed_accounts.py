"""Accounts that came with a credential are sealed: the calendar connection's address and
an organisation connection's service-account address or EWS user name.

``calendar_connections.account`` becomes the sealed address, beside ``account_hint``, its
masked form (``m•••@icloud.com``) that statuses show. An organisation connection's
``client_email`` and ``username`` settings move into its sealed secret, under
``identifiers``. Sealing needs the encryption keys, which ``pairtime db upgrade`` and
``pairtime serve --migrate`` hand over; without them the migration refuses to run on a
database that holds an address to seal, rather than leave it in plain text. A value that
the keys do not open is left as it is and logged by row id: it is already sealed, or
belongs to a missing key (``pairtime keys rotate`` reports those too).

Downgrading opens the addresses again (it needs the keys as well).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 15:30:00
"""

import json
import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

IDENTIFYING_SETTINGS = ("client_email", "username")
FERNET_PREFIX = "gAAAAA"  # every Fernet token starts with version 0x80 and a timestamp
MASK = "•••"

connections = sa.table(
    "calendar_connections",
    sa.column("id", sa.Integer),
    sa.column("account", sa.Text),
    sa.column("account_hint", sa.String),
)
grants = sa.table(
    "organization_grants",
    sa.column("id", sa.Integer),
    sa.column("secret", sa.Text),
    sa.column("settings", sa.JSON),
)


def _masked(identifier: str) -> str:
    """As core.privacy.masked, frozen here as this revision knew it."""
    local, at, domain = identifier.strip().rpartition("@")
    if not at:
        local, domain = identifier.strip(), ""
    return f"{local[:1]}{MASK}{at}{domain}" if local else MASK


def _vault(needed: bool) -> Any:
    vault = context.config.attributes.get("vault")
    if vault is None and needed:
        raise RuntimeError(
            "this upgrade seals stored account addresses and needs the encryption keys: run "
            "`pairtime db upgrade` (or `pairtime serve --migrate`) with "
            "PAIRTIME_ENCRYPTION_KEYS set"
        )
    return vault


def upgrade() -> None:
    with op.batch_alter_table("calendar_connections") as batch:
        batch.alter_column("account", type_=sa.Text(), existing_type=sa.String(length=320))
        batch.add_column(sa.Column("account_hint", sa.String(length=320), nullable=True))
    bind = op.get_bind()
    plain = bind.execute(
        sa.select(connections.c.id, connections.c.account).where(connections.c.account.is_not(None))
    ).all()
    rows = bind.execute(sa.select(grants.c.id, grants.c.secret, grants.c.settings)).all()
    identifying = [
        row for row in rows if any(name in (row.settings or {}) for name in IDENTIFYING_SETTINGS)
    ]
    vault = _vault(needed=bool(plain or identifying))
    for sealing in plain:
        if sealing.account.startswith(FERNET_PREFIX):
            continue
        bind.execute(
            connections.update()
            .where(connections.c.id == sealing.id)
            .values(account=vault.seal(sealing.account), account_hint=_masked(sealing.account))
        )
    for row in identifying:
        try:
            secret = json.loads(vault.open(row.secret))
        except Exception:  # noqa: BLE001 - a missing key: leave the row, say which
            log.warning("organisation connection %s: its secret does not open; left", row.id)
            continue
        settings = dict(row.settings)
        identifiers = {
            name: settings.pop(name) for name in IDENTIFYING_SETTINGS if name in settings
        }
        secret["identifiers"] = {**secret.get("identifiers", {}), **identifiers}
        bind.execute(
            grants.update()
            .where(grants.c.id == row.id)
            .values(secret=vault.seal(json.dumps(secret)), settings=settings)
        )


def downgrade() -> None:
    bind = op.get_bind()
    sealed = bind.execute(
        sa.select(connections.c.id, connections.c.account).where(connections.c.account.is_not(None))
    ).all()
    rows = bind.execute(sa.select(grants.c.id, grants.c.secret, grants.c.settings)).all()
    vault = _vault(needed=bool(sealed or rows))
    for opening in sealed:
        try:
            account = vault.open(opening.account)
        except Exception:  # noqa: BLE001 - the address cannot be recovered
            log.warning("calendar connection %s: its account does not open", opening.id)
            account = None
        bind.execute(
            connections.update().where(connections.c.id == opening.id).values(account=account)
        )
    for row in rows:
        try:
            secret = json.loads(vault.open(row.secret))
        except Exception:  # noqa: BLE001 - as above
            log.warning("organisation connection %s: its secret does not open; left", row.id)
            continue
        identifiers = secret.pop("identifiers", None)
        if not identifiers:
            continue
        bind.execute(
            grants.update()
            .where(grants.c.id == row.id)
            .values(
                secret=vault.seal(json.dumps(secret)),
                settings={**(row.settings or {}), **identifiers},
            )
        )
    with op.batch_alter_table("calendar_connections") as batch:
        batch.drop_column("account_hint")
        batch.alter_column("account", type_=sa.String(length=320), existing_type=sa.Text())
