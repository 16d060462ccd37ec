"""Re-sealing every stored secret under the first key: ``pairtime keys rotate``.

Each batch commits on its own and values already under the first key are
skipped, so an interrupted rotation is finished by running it again.
Values that no configured key opens are counted and reported by row id, and
left untouched: they may belong to a key that is missing from the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Column, MetaData, Table, select, update

from storage import models
from storage.crypto import SecretUnavailable, Vault
from storage.database import Database

# (table, primary key column, sealed columns)
SEALED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("calendar_connections", "id", ("secret", "account")),
    ("connect_states", "state", ("secret",)),
    ("organization_grants", "id", ("secret",)),
    (
        "slack_installations",
        "id",
        ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    ),
    ("slack_bots", "id", ("bot_token", "bot_refresh_token")),
)


@dataclass
class RotationReport:
    resealed: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, list[str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not any(self.unreadable.values())


async def rotate(
    database: Database,
    vault: Vault,
    *,
    batch_size: int = 200,
    progress: Callable[[str, int], None] | None = None,
) -> RotationReport:
    report = RotationReport()
    for table_name, key_name, columns in SEALED:
        table = await _reflect(database, table_name)
        key: Column[object] = table.c[key_name]
        last: object = None
        while True:
            async with database.transaction() as session:
                query = select(key, *(table.c[c] for c in columns)).order_by(key).limit(batch_size)
                if last is not None:
                    query = query.where(key > last)
                rows = (await session.execute(query)).all()
                for row in rows:  # counted by row: a row's sealed values go together
                    changes = {}
                    unreadable = False
                    for column, value in zip(columns, row[1:], strict=True):
                        if value is None or vault.is_current(value):
                            continue
                        try:
                            changes[column] = vault.reseal(value)
                        except SecretUnavailable:
                            unreadable = True
                    if unreadable:
                        report.unreadable.setdefault(table_name, []).append(str(row[0]))
                    if changes:
                        await session.execute(update(table).where(key == row[0]).values(**changes))
                        report.resealed[table_name] = report.resealed.get(table_name, 0) + 1
                    elif not unreadable and any(value is not None for value in row[1:]):
                        report.current[table_name] = report.current.get(table_name, 0) + 1
            if progress is not None:
                progress(table_name, report.resealed.get(table_name, 0))
            if len(rows) < batch_size:
                break
            last = rows[-1][0]
    return report


async def _reflect(database: Database, name: str) -> Table:
    tables = models.Base.metadata.tables
    if name in tables:
        return tables[name]
    # slack_sdk's tables are not mapped here: read their shape from the database.
    async with database.engine.connect() as connection:
        return await connection.run_sync(lambda sync: Table(name, MetaData(), autoload_with=sync))
