"""Storage tests run on SQLite, and again on PostgreSQL when PAIRTIME_TEST_POSTGRES_URL is set.

On PostgreSQL each test gets a schema of its own in the configured database,
so tests never see each other's rows and nothing outside that schema is touched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import migrate
from storage.crypto import Vault, generate_key
from storage.database import Database
from storage.store import Storage

POSTGRES_URL = os.environ.get("PAIRTIME_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_URL,
                reason="PAIRTIME_TEST_POSTGRES_URL is not set (.ci/run sets it)",
            ),
        ],
    ),
]


async def make_database(backend: str, folder: Path) -> tuple[Database, str | None]:
    """An empty database on ``backend``; for PostgreSQL also the schema to drop afterwards."""
    if backend == "sqlite":
        return Database(f"sqlite+aiosqlite:///{folder / 'pairtime.db'}"), None
    assert POSTGRES_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as connection:
        await connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    await admin.close()
    database = Database(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    return database, schema


async def drop_schema(schema: str) -> None:
    assert POSTGRES_URL is not None
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as connection:
        await connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    await admin.close()


@pytest.fixture(params=BACKENDS)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database, schema = await make_database(request.param, tmp_path)
    yield database
    await database.close()
    if schema:
        await drop_schema(schema)


@pytest.fixture
async def database(empty_database: Database) -> Database:
    await migrate.upgrade(empty_database)
    return empty_database


@pytest.fixture
def vault() -> Vault:
    return Vault([generate_key()])


@pytest.fixture
def storage(database: Database, vault: Vault) -> Storage:
    return Storage.over(database, vault)
