"""The admin console's sign-in links and sessions, shared by every process.

Tokens are 256-bit random strings handed to the browser; only their SHA-256 is stored,
so reading the database (or a backup) signs nobody in. A link is used once, within
``LINK_LIFETIME``; a session lives while it is used at least every ``SESSION_IDLE``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, update

from core.people import ChatIdentity, PersonId, Platform, ProgramId
from storage import models
from storage.database import Database
from storage.repositories.sql import affected

LINK_LIFETIME = timedelta(minutes=10)
SESSION_IDLE = timedelta(hours=8)
# A session's last use is written at most this often: a page view is then a read, not a write.
TOUCH_EVERY = timedelta(minutes=1)


def hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LinkProblem(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


class LinkRejected(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class LinkTicket:
    """Whom a used sign-in link was issued to."""

    program: ProgramId
    person: PersonId
    identity: ChatIdentity


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    program: ProgramId
    person: PersonId
    csrf: str = field(repr=False)
    token_hash: str = field(repr=False)


class SqlConsole:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def issue_link(
        self, program: ProgramId, person: PersonId, identity: ChatIdentity, now: datetime
    ) -> str:
        """A new sign-in token for ``person`` speaking as ``identity`` (10 minutes, once)."""
        token = secrets.token_urlsafe(32)
        async with self._db.transaction() as session:
            session.add(
                models.ConsoleLink(
                    token_hash=hashed(token),
                    program_id=program,
                    person_id=person,
                    platform=identity.platform.value,
                    workspace=identity.workspace,
                    user_id=identity.user_id,
                    created_at=now,
                    expires_at=now + LINK_LIFETIME,
                    used_at=None,
                )
            )
        return token

    async def use_link(self, token: str, now: datetime) -> LinkTicket:
        """Use the link, exactly once: of two concurrent uses, in any processes, one wins."""
        key = hashed(token)
        async with self._db.transaction() as session:
            row = await session.get(models.ConsoleLink, key)
            if row is None:
                raise LinkRejected(LinkProblem.UNKNOWN)
            if row.used_at is not None:
                raise LinkRejected(LinkProblem.USED)
            if row.expires_at <= now:
                raise LinkRejected(LinkProblem.EXPIRED)
            result = await session.execute(
                update(models.ConsoleLink)
                .where(models.ConsoleLink.token_hash == key, models.ConsoleLink.used_at.is_(None))
                .values(used_at=now)
            )
            if not affected(result):
                raise LinkRejected(LinkProblem.USED)
            return LinkTicket(
                ProgramId(row.program_id),
                PersonId(row.person_id),
                ChatIdentity(Platform(row.platform), row.workspace, row.user_id),
            )

    async def open_session(self, program: ProgramId, person: PersonId, now: datetime) -> str:
        """A new session; returns the cookie's value (the only copy of it)."""
        token = secrets.token_urlsafe(32)
        async with self._db.transaction() as session:
            session.add(
                models.ConsoleSession(
                    token_hash=hashed(token),
                    program_id=program,
                    person_id=person,
                    csrf=secrets.token_urlsafe(32),
                    created_at=now,
                    last_seen_at=now,
                )
            )
        return token

    async def session(self, token: str, now: datetime) -> ConsoleSession | None:
        """The live session behind a cookie (None: unknown, or idle too long), marked used."""
        key = hashed(token)
        async with self._db.reading() as session:
            row = await session.get(models.ConsoleSession, key)
            if row is None:
                return None
            found = ConsoleSession(
                ProgramId(row.program_id), PersonId(row.person_id), row.csrf, key
            )
            last_seen = row.last_seen_at
        if last_seen + SESSION_IDLE <= now:
            await self.close(token)
            return None
        if now - last_seen >= TOUCH_EVERY:
            async with self._db.transaction() as session:
                await session.execute(
                    update(models.ConsoleSession)
                    .where(models.ConsoleSession.token_hash == key)
                    .values(last_seen_at=now)
                )
        return found

    async def close(self, token: str) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                delete(models.ConsoleSession).where(
                    models.ConsoleSession.token_hash == hashed(token)
                )
            )

    async def close_all(self, program: ProgramId, person: PersonId) -> int:
        """Sign ``person`` out everywhere (they stopped being an admin)."""
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(models.ConsoleSession).where(
                    models.ConsoleSession.program_id == program,
                    models.ConsoleSession.person_id == person,
                )
            )
            return affected(result)

    async def purge(self, now: datetime) -> int:
        """Forget expired links and idle sessions."""
        async with self._db.transaction() as session:
            links = await session.execute(
                delete(models.ConsoleLink).where(models.ConsoleLink.expires_at < now)
            )
            sessions = await session.execute(
                delete(models.ConsoleSession).where(
                    models.ConsoleSession.last_seen_at < now - SESSION_IDLE
                )
            )
            return affected(links) + affected(sessions)
