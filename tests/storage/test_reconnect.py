"""PostgreSQL going away: the pool's connections closed by the server (as a restart closes
them) are replaced at their next checkout, without a request failing for it, and a
connection lost while in use fails only the work that held it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.database import Database
from tests.storage.conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL, reason="PAIRTIME_TEST_POSTGRES_URL is not set (.ci/run sets it)"
    ),
]

PID = text("SELECT pg_backend_pid()")


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    assert POSTGRES_URL is not None
    database = Database(POSTGRES_URL, pool_size=3)
    yield database
    await database.close()


async def pooled_pids(database: Database, count: int) -> set[int]:
    """Open ``count`` pooled connections at once (each held until all are), their server pids."""
    everyone = asyncio.Barrier(count)

    async def one() -> int:
        async with database.engine.connect() as connection:
            pid = (await connection.execute(PID)).scalar_one()
            await everyone.wait()
            return int(pid)

    return set(await asyncio.gather(*(one() for _ in range(count))))


async def terminate(pids: set[int]) -> None:
    """End these server processes, as a restart of PostgreSQL ends every session (each
    waited for, up to 10 s: PostgreSQL 14's timeout argument), from a pool of its own."""
    assert POSTGRES_URL is not None
    admin = Database(POSTGRES_URL)
    try:
        ended = await admin.rows(
            text(
                "SELECT bool_and(pg_terminate_backend(pid, 10000))"
                " FROM unnest(CAST(:pids AS int[])) pid"
            ),
            {"pids": sorted(pids)},
        )
    finally:
        await admin.close()
    assert ended[0][0]
    await asyncio.sleep(0)  # this loop reads the closed sockets' end


async def test_connections_the_server_closed_are_replaced_at_checkout(database: Database) -> None:
    before = await pooled_pids(database, 3)
    assert len(before) == 3
    await terminate(before)

    # Every use of the pool after the restart works: reads, one-statement writes, transactions.
    after = await pooled_pids(database, 3)
    assert not after & before
    assert (await database.rows(text("SELECT 1")))[0][0] == 1
    async with database.transaction() as session:
        assert (await session.execute(text("SELECT 2"))).scalar_one() == 2
    async with database.alone() as connection:
        assert (await connection.execute(text("SELECT 3"))).scalar_one() == 3


async def test_a_connection_lost_in_use_fails_that_work_only(database: Database) -> None:
    async with database.engine.connect() as connection:
        pid = int((await connection.execute(PID)).scalar_one())
        await terminate({pid})
        with pytest.raises(DBAPIError) as lost:
            await connection.execute(text("SELECT 1"))
        assert lost.value.connection_invalidated

    # The pool dropped it: the next work gets a new connection.
    assert pid not in await pooled_pids(database, 1)
    assert (await database.rows(text("SELECT 1")))[0][0] == 1
