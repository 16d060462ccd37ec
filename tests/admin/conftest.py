"""Admin use cases run against storage itself, on SQLite and on PostgreSQL: their imports
are transactions, and their lookups are storage's own queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.admin import admin_ports
from core.admin import AdminPorts
from core.admin.access import Scope, command_line
from core.people import ProgramId
from storage.store import Storage
from tests.memory import FixedClock
from tests.storage.conftest import database, empty_database, storage, vault

__all__ = ["database", "empty_database", "storage", "vault"]  # fixtures, used by name

PROGRAM = ProgramId("slack:T1")
NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def ports(storage: Storage, clock: FixedClock) -> AdminPorts:
    await storage.programs.ensure(PROGRAM, "Acme mentoring")
    return admin_ports(storage, clock)


@pytest.fixture
def scope() -> Scope:
    return command_line(PROGRAM)
