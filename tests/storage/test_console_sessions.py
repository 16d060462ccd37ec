"""Console sign-in links and sessions in storage, on SQLite and PostgreSQL: hashed, used
once, idle sessions expire, and the hourly tidy-up forgets both."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.chores import tidy
from core.people import ChatIdentity, Platform, Profile, ProgramId
from storage import models
from storage.repositories.console import LinkProblem, LinkRejected, hashed
from storage.store import Storage

PROGRAM = ProgramId("slack:T1")
NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
IDENTITY = ChatIdentity(Platform.SLACK, "T1", "UANA")


async def test_a_link_is_used_once_even_when_two_try_at_once(storage: Storage):
    await storage.programs.ensure(PROGRAM, "Acme")
    ana = await storage.people.remember(PROGRAM, IDENTITY, Profile("Ana"))
    token = await storage.console.issue_link(PROGRAM, ana.id, IDENTITY, NOW)
    async with storage.database.reading() as session:
        stored = list(await session.scalars(select(models.ConsoleLink.token_hash)))
    assert stored == [hashed(token)]  # never the token itself
    results = await asyncio.gather(
        storage.console.use_link(token, NOW),
        storage.console.use_link(token, NOW),
        return_exceptions=True,
    )
    used = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, LinkRejected)]
    assert len(used) == 1
    assert used[0].identity == IDENTITY
    assert [r.problem for r in refused] == [LinkProblem.USED]
    late = await storage.console.issue_link(PROGRAM, ana.id, IDENTITY, NOW)
    with pytest.raises(LinkRejected) as expired:
        await storage.console.use_link(late, NOW + timedelta(minutes=10))
    assert expired.value.problem is LinkProblem.EXPIRED


async def test_idle_sessions_end_and_the_tidy_up_forgets_them(storage: Storage):
    await storage.programs.ensure(PROGRAM, "Acme")
    ana = await storage.people.remember(PROGRAM, IDENTITY, Profile("Ana"))
    cookie = await storage.console.open_session(PROGRAM, ana.id, NOW)
    idle = await storage.console.open_session(PROGRAM, ana.id, NOW)
    await storage.console.issue_link(PROGRAM, ana.id, IDENTITY, NOW)
    assert await storage.console.session(cookie, NOW + timedelta(hours=7)) is not None
    later = NOW + timedelta(hours=9)
    await tidy(storage, later)
    assert await storage.console.session(idle, later) is None
    assert await storage.console.session(cookie, later) is not None  # used at 7 h
    async with storage.database.reading() as session:
        assert list(await session.scalars(select(models.ConsoleLink.token_hash))) == []
    assert await storage.console.close_all(PROGRAM, ana.id) == 1
