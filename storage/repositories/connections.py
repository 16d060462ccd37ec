"""Calendar connections with their sealed secrets, and the one-time states of connect links.

Secrets are dictionaries (OAuth tokens, an msal token cache, iCloud
credentials) sealed as JSON. They leave this module only inside
:class:`StoredConnection` and :class:`ConnectTicket`, whose ``repr`` hides them.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update

from core.calendars import CalendarConnection, ConnectionStatus
from core.commands import Provider
from core.people import ChatIdentity, PersonId, Platform
from core.privacy import masked
from storage import models
from storage.crypto import SecretUnavailable, Vault
from storage.database import Database
from storage.prepared import Prepared
from storage.repositories.sql import affected

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class StoredConnection:
    summary: CalendarConnection
    secret: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Loaded:
    """Connections opened, those just found unopenable (marked, their owners to be told), and
    those still unopenable (their owners were told)."""

    opened: dict[PersonId, StoredConnection]
    unopenable: dict[PersonId, Provider]
    still_unopenable: dict[PersonId, Provider]
    zones: dict[PersonId, str | None] = field(default_factory=dict)  # IANA, as people's


_CONNECTIONS = cast("Table", models.CalendarConnection.__table__)
# What a summary shows, in Core and without the sealed secret: every search reads it.
_SUMMARIES = select(
    *(
        _CONNECTIONS.c[name]
        for name in (
            "person_id",
            "provider",
            "account_hint",
            "status",
            "connected_at",
            "last_sync",
            "misses_free_events",
            "away_days",
        )
    )
)

_PEOPLE = cast("Table", models.Person.__table__)
# A connection whole (its secret to open) and its owner's time zone (the reader asks in it).
_LOAD = Prepared(
    select(_CONNECTIONS, _PEOPLE.c.timezone)
    .outerjoin_from(_CONNECTIONS, _PEOPLE, _PEOPLE.c.id == _CONNECTIONS.c.person_id)
    .where(_CONNECTIONS.c.person_id.in_(bindparam("people", expanding=True)))
)
_SYNCED = Prepared(
    update(_CONNECTIONS)
    .where(_CONNECTIONS.c.person_id == bindparam("person"))
    .values(last_sync=bindparam("now"), away_days=bindparam("away"))
)
# Built once with its cache key, as _LOAD: building a statement costs more than running it.
_SUMMARIES_OF = Prepared(
    _SUMMARIES.where(_CONNECTIONS.c.person_id.in_(bindparam("people", expanding=True)))
)


class SqlConnections:
    def __init__(self, database: Database, vault: Vault) -> None:
        self._db = database
        self._vault = vault

    async def get(self, person: PersonId) -> CalendarConnection | None:
        rows = await self._db.rows(_SUMMARIES.where(_CONNECTIONS.c.person_id == person))
        return _summary(rows[0]) if rows else None

    async def summaries(self, people: Sequence[PersonId]) -> dict[PersonId, CalendarConnection]:
        """The connections of ``people``, without opening any secret."""
        rows = await self._db.rows(_SUMMARIES_OF, {"people": list(people)})
        return {PersonId(row.person_id): _summary(row) for row in rows}

    async def load(self, people: Sequence[PersonId]) -> Loaded:
        """The connections of ``people`` with their secrets opened, and their owners' time
        zones (``Loaded.zones``).

        A secret that no configured key opens (a lost or wrong key) is logged
        with the connection and person it belongs to, never its content; the
        connection is marked ``KEY_MISSING`` and left out, so everyone else's
        calendars keep working. Once the key is back, such a connection opens
        again and is marked connected.

        One Core read, without a transaction: every calendar read starts here, and the
        status changes above are rare. Each is one conditional UPDATE, so that of two
        processes finding the same lost key only one reports it (``unopenable``).
        """
        rows = await self._db.rows(_LOAD, {"people": list(people)})
        loaded = Loaded({}, {}, {})
        for row in rows:
            person = PersonId(row.person_id)
            loaded.zones[person] = row.timezone
            try:
                secret = json.loads(self._vault.open(row.secret))
            except SecretUnavailable:
                if row.status == ConnectionStatus.KEY_MISSING.value or not await self._mark(
                    row.id, ConnectionStatus.KEY_MISSING
                ):
                    loaded.still_unopenable[person] = Provider(row.provider)
                else:
                    log.error(  # noqa: TRY400 - the cause is known; a traceback adds nothing
                        "calendar connection %s (person %s, %s) cannot be decrypted with the "
                        "configured PAIRTIME_ENCRYPTION_KEYS; it is left out until the key is "
                        "restored or its owner connects again",
                        row.id,
                        row.person_id,
                        row.provider,
                    )
                    loaded.unopenable[person] = Provider(row.provider)
                continue
            summary = _summary(row)
            if row.status == ConnectionStatus.KEY_MISSING.value:
                if await self._mark(row.id, ConnectionStatus.CONNECTED, was=row.status):
                    log.info(
                        "calendar connection %s (person %s) opens again: its key is back",
                        row.id,
                        row.person_id,
                    )
                summary = dataclass_replace(summary, status=ConnectionStatus.CONNECTED)
            loaded.opened[person] = StoredConnection(summary, secret)
        return loaded

    async def _mark(
        self, connection: int, status: ConnectionStatus, *, was: str | None = None
    ) -> bool:
        """Set a connection's status; False when it had it already (``was``: only from that
        status), as when another process marked it first."""
        condition = (
            _CONNECTIONS.c.status == was if was is not None else _CONNECTIONS.c.status != status
        )
        async with self._db.alone() as session:
            result = await session.execute(
                update(_CONNECTIONS)
                .where(_CONNECTIONS.c.id == connection, condition)
                .values(status=status.value)
            )
            return bool(affected(result))

    async def replace(
        self,
        person: PersonId,
        provider: Provider,
        account: str | None,
        secret: dict[str, Any],
        now: datetime,
    ) -> CalendarConnection:
        """Connect ``person``'s calendar, deleting any previous one in the same transaction."""
        async with self._db.transaction() as session:
            await session.execute(
                delete(models.CalendarConnection).where(
                    models.CalendarConnection.person_id == person
                )
            )
            row = models.CalendarConnection(
                person_id=person,
                provider=provider.value,
                account=None if account is None else self._vault.seal(account),
                account_hint=None if account is None else masked(account),
                status=ConnectionStatus.CONNECTED.value,
                secret=self._vault.seal(json.dumps(secret)),
                connected_at=now,
                last_sync=None,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            return _summary(row)

    async def update_secret(
        self, person: PersonId, provider: Provider, secret: dict[str, Any], now: datetime
    ) -> None:
        """Store refreshed tokens, unless the person has since connected another calendar."""
        async with self._db.transaction() as session:
            await session.execute(
                update(models.CalendarConnection)
                .where(
                    models.CalendarConnection.person_id == person,
                    models.CalendarConnection.provider == provider.value,
                )
                .values(secret=self._vault.seal(json.dumps(secret)), updated_at=now)
            )

    async def synced(self, away: Mapping[PersonId, int], now: datetime) -> None:
        """Calendars just read, each with how many of the next days it found taken."""
        if not away:
            return
        # One statement built once, run for every person (executemany): one round trip, and
        # no transaction around it (each row is a fact of its own; on SQLite each commits as
        # it is written, with no BEGIN IMMEDIATE to wait for first). Setting values, it may
        # run twice for a person (``Database.write``).
        await self._db.write(
            _SYNCED,
            [{"person": person, "away": days, "now": now} for person, days in away.items()],
        )

    async def to_ask_to_reconnect(self, limit: int) -> list[CalendarConnection]:
        async with self._db.reading() as session:
            rows = await session.scalars(
                select(models.CalendarConnection)
                .where(
                    models.CalendarConnection.misses_free_events.is_(True),
                    models.CalendarConnection.reconnect_asked_at.is_(None),
                    models.CalendarConnection.status == ConnectionStatus.CONNECTED.value,
                )
                .order_by(models.CalendarConnection.id)
                .limit(limit)
            )
            return [_summary(row) for row in rows]

    async def asked_to_reconnect(self, person: PersonId, now: datetime) -> bool:
        """Note the request; True only for the call that noted it (several processes tick)."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(models.CalendarConnection)
                .where(
                    models.CalendarConnection.person_id == person,
                    models.CalendarConnection.misses_free_events.is_(True),
                    models.CalendarConnection.reconnect_asked_at.is_(None),
                )
                .values(reconnect_asked_at=now)
            )
            return bool(affected(result))

    async def needs_reconnect(self, person: PersonId, provider: Provider) -> bool:
        """Mark the connection as needing a reconnect; True only for the call that changed it.

        So that a revoked grant produces one message to its owner, not one per request.
        """
        async with self._db.transaction() as session:
            result = await session.execute(
                update(models.CalendarConnection)
                .where(
                    models.CalendarConnection.person_id == person,
                    models.CalendarConnection.provider == provider.value,
                    models.CalendarConnection.status == ConnectionStatus.CONNECTED.value,
                )
                .values(status=ConnectionStatus.NEEDS_RECONNECT.value)
            )
            return bool(affected(result))

    async def remove(self, person: PersonId) -> StoredConnection | None:
        """Delete the person's connection; returns it (secret opened if possible) for revocation."""
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(models.CalendarConnection).where(
                    models.CalendarConnection.person_id == person
                )
            )
            if row is None:
                return None
            try:
                secret = json.loads(self._vault.open(row.secret))
            except SecretUnavailable:
                secret = {}
            stored = StoredConnection(_summary(row), secret)
            await session.delete(row)
            return stored


class StateProblem(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    WRONG_PROVIDER = "wrong_provider"


class StateRejected(Exception):
    def __init__(self, problem: StateProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ConnectTicket:
    state: str
    person: PersonId
    identity: ChatIdentity
    provider: Provider
    expires_at: datetime
    secret: dict[str, Any] = field(repr=False)
    # The hash of the cookie of the browser that opened the link first (None: not yet opened).
    browser: str | None = field(default=None, repr=False)


class SqlConnectStates:
    """Single-use, expiring, identity-bound tickets from a connect link to its callback."""

    def __init__(self, database: Database, vault: Vault) -> None:
        self._db = database
        self._vault = vault

    async def issue(
        self,
        identity: ChatIdentity,
        person: PersonId,
        providers: Sequence[Provider],
        now: datetime,
    ) -> list[str]:
        """One state per provider, in order, made in one transaction."""
        states = [secrets.token_urlsafe(32) for _ in providers]
        async with self._db.transaction() as session:
            session.add_all(
                models.ConnectState(
                    state=state,
                    person_id=person,
                    platform=identity.platform.value,
                    workspace=identity.workspace,
                    user_id=identity.user_id,
                    provider=provider.value,
                    secret=None,
                    created_at=now,
                    expires_at=now + STATE_LIFETIME,
                    used_at=None,
                )
                for state, provider in zip(states, providers, strict=True)
            )
        return states

    async def peek(self, state: str, provider: Provider, now: datetime) -> ConnectTicket:
        """The ticket, still unused (opening a link twice is fine; finishing twice is not)."""
        async with self._db.reading() as session:
            row = await session.get(models.ConnectState, state)
            return self._check(row, provider, now)

    async def claim(self, state: str, browser: str) -> bool:
        """Bind the link to ``browser`` (a hash of its cookie) unless a browser has it already.

        True only for the first caller, in whichever process: the first browser to open a
        link owns it, and someone it leaked to later cannot take it over.
        """
        async with self._db.transaction() as session:
            result = await session.execute(
                update(models.ConnectState)
                .where(
                    models.ConnectState.state == state,
                    models.ConnectState.browser.is_(None),
                    models.ConnectState.used_at.is_(None),
                )
                .values(browser=browser)
            )
            return bool(affected(result))

    async def attach(self, state: str, secret: dict[str, Any]) -> None:
        """Keep what the callback needs (a PKCE verifier, a nonce), sealed."""
        async with self._db.transaction() as session:
            await session.execute(
                update(models.ConnectState)
                .where(models.ConnectState.state == state)
                .values(secret=self._vault.seal(json.dumps(secret)))
            )

    async def consume(self, state: str, provider: Provider, now: datetime) -> ConnectTicket:
        """Use the ticket, exactly once: of two concurrent callbacks, one wins."""
        async with self._db.transaction() as session:
            row = await session.get(models.ConnectState, state)
            ticket = self._check(row, provider, now)
            result = await session.execute(
                update(models.ConnectState)
                .where(models.ConnectState.state == state, models.ConnectState.used_at.is_(None))
                .values(used_at=now)
            )
            if not affected(result):
                raise StateRejected(StateProblem.USED)
            return ticket

    async def purge(self, before: datetime) -> int:
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(models.ConnectState).where(models.ConnectState.expires_at < before)
            )
            return affected(result)

    def _check(
        self, row: models.ConnectState | None, provider: Provider, now: datetime
    ) -> ConnectTicket:
        if row is None:
            raise StateRejected(StateProblem.UNKNOWN)
        if row.used_at is not None:
            raise StateRejected(StateProblem.USED)
        if row.expires_at <= now:
            raise StateRejected(StateProblem.EXPIRED)
        if row.provider != provider.value:
            raise StateRejected(StateProblem.WRONG_PROVIDER)
        secret: dict[str, Any] = {}
        if row.secret is not None:
            try:
                secret = json.loads(self._vault.open(row.secret))
            except SecretUnavailable:
                raise StateRejected(StateProblem.EXPIRED) from None
        return ConnectTicket(
            state=row.state,
            person=PersonId(row.person_id),
            identity=ChatIdentity(Platform(row.platform), row.workspace, row.user_id),
            provider=Provider(row.provider),
            expires_at=row.expires_at,
            secret=secret,
            browser=row.browser,
        )


def _summary(row: Any) -> CalendarConnection:
    """From an ORM row, or a Core row of ``_SUMMARIES``."""
    return CalendarConnection(
        person=PersonId(row.person_id),
        provider=Provider(row.provider),
        account=row.account_hint,
        status=ConnectionStatus(row.status),
        connected_at=row.connected_at,
        last_sync=row.last_sync,
        misses_free_events=row.misses_free_events,
        away_days=row.away_days,
    )
