"""Organisation connections with their sealed secrets, and the people they do not read.

A connection's secret (a service-account key file, a client secret or certificate
key, an EWS password) is sealed JSON; it leaves this module only inside
:class:`StoredOrganisation`, whose ``repr`` hides it. Who is covered is decided
here in one place for the reader, the status message and ``pairtime org status``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, select, update

from core.calendars import ConnectionStatus
from core.jobs import NewJob
from core.organisation import (
    OrganisationConnection,
    OrganisationSetup,
    OrgProvider,
    OrgStatus,
)
from core.people import Person, PersonId, ProgramId
from storage import models
from storage.crypto import SecretUnavailable, Vault
from storage.database import Database
from storage.repositories.jobs import SqlJobs
from storage.repositories.sql import affected, insert

log = logging.getLogger(__name__)

OPTED_OUT = "opted_out"
OUT_OF_REACH = "out_of_reach"
# A mailbox found outside a grant's reach is tried again after this long: an admin may
# have widened the scope meanwhile.
OUT_OF_REACH_FOR = timedelta(days=1)
REVOKED_JOB = "organisation.revoked"
WRITE_REFUSED_JOB = "organisation.write_refused"
# Settings that name an account which came with the credential: sealed inside the secret
# (as "identifiers"), never stored in plain text, and merged back when the secret opens.
IDENTIFYING_SETTINGS = ("client_email", "username")


@dataclass(frozen=True, slots=True)
class StoredOrganisation:
    """A connection as the calendar adapters need it: plain settings and the opened secret."""

    id: int
    summary: OrganisationConnection
    settings: dict[str, str]
    secret: dict[str, Any] = field(repr=False)


class SqlOrganisations:
    def __init__(self, database: Database, vault: Vault, jobs: SqlJobs) -> None:
        self._db = database
        self._vault = vault
        self._jobs = jobs

    # ---------------------------------------------------------------- admins

    async def of_program(self, program: ProgramId) -> list[OrganisationConnection]:
        async with self._db.reading() as session:
            rows = await session.scalars(
                select(models.OrganizationGrant)
                .where(models.OrganizationGrant.program_id == program)
                .order_by(models.OrganizationGrant.id)
            )
            return [_summary(row) for row in rows]

    async def save(
        self, program: ProgramId, setup: OrganisationSetup, by: PersonId | None, now: datetime
    ) -> OrganisationConnection:
        async with self._db.transaction() as session:
            await session.execute(
                delete(models.OrganizationGrant).where(
                    models.OrganizationGrant.program_id == program,
                    models.OrganizationGrant.provider == setup.provider.value,
                )
            )
            row = models.OrganizationGrant(
                program_id=program,
                provider=setup.provider.value,
                domain=setup.domains[0],
                domains=list(setup.domains),
                secret=self._vault.seal(_with_identifiers(setup)),
                granted_by=by,
                created_at=now,
                name=setup.name,
                program_account=setup.program_account,
                settings={
                    name: value
                    for name, value in setup.settings.items()
                    if name not in IDENTIFYING_SETTINGS
                },
                status=OrgStatus.CONNECTED.value,
                can_write=setup.write,
            )
            session.add(row)
            # Whoever the earlier connection found out of its reach may be in this one's.
            await session.execute(
                delete(models.OrganizationExclusion).where(
                    models.OrganizationExclusion.program_id == program,
                    models.OrganizationExclusion.reason == OUT_OF_REACH,
                )
            )
            await session.flush()
            return _summary(row)

    async def remove(
        self, program: ProgramId, provider: OrgProvider
    ) -> OrganisationConnection | None:
        async with self._db.transaction() as session:
            row = await session.scalar(_grant(program, provider))
            if row is None:
                return None
            summary = _summary(row)
            await session.delete(row)
            return summary

    async def people_covered(self, program: ProgramId, provider: OrgProvider) -> int:
        connections = [c for c in await self.of_program(program) if c.provider is provider]
        if not connections or connections[0].status is not OrgStatus.CONNECTED:
            return 0
        async with self._db.reading() as session:
            people = (
                await session.execute(
                    select(models.Person.id, models.Person.email)
                    .join(models.ChatIdentity, models.ChatIdentity.person_id == models.Person.id)
                    .where(models.ChatIdentity.program_id == program)
                    .distinct()
                )
            ).all()
            personal = set(
                await session.scalars(
                    select(models.CalendarConnection.person_id).where(
                        models.CalendarConnection.person_id.in_([p.id for p in people]),
                        models.CalendarConnection.status == ConnectionStatus.CONNECTED.value,
                    )
                )
            )
            excluded = await self._excluded(session, [program])
        return sum(
            1
            for person in people
            if connections[0].covers(person.email)
            and person.id not in personal
            and (program, person.id) not in excluded
        )

    # ---------------------------------------------------------------- participants

    async def covering(self, program: ProgramId, person: Person) -> OrganisationConnection | None:
        async with self._db.reading() as session:
            excluded = await self._excluded(session, [program], [person.id])
        if (program, person.id) in excluded:
            return None
        return next(
            (
                c
                for c in await self.of_program(program)
                if c.status is OrgStatus.CONNECTED and c.covers(person.email)
            ),
            None,
        )

    async def opt_out(self, program: ProgramId, person: PersonId, now: datetime) -> bool:
        statement = (
            insert(self._db, models.OrganizationExclusion)
            .values(program_id=program, person_id=person, reason=OPTED_OUT, since=now)
            .on_conflict_do_update(
                index_elements=["program_id", "person_id"],
                set_={"reason": OPTED_OUT, "since": now},
                where=models.OrganizationExclusion.reason != OPTED_OUT,
            )
        )
        async with self._db.transaction() as session:
            return bool(affected(await session.execute(statement)))

    async def opt_in(self, program: ProgramId, person: PersonId) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(models.OrganizationExclusion).where(
                    models.OrganizationExclusion.program_id == program,
                    models.OrganizationExclusion.person_id == person,
                    models.OrganizationExclusion.reason == OPTED_OUT,
                )
            )
            return bool(affected(result))

    async def opted_out(self, program: ProgramId, person: PersonId) -> bool:
        async with self._db.reading() as session:
            reason = await session.scalar(
                select(models.OrganizationExclusion.reason).where(
                    models.OrganizationExclusion.program_id == program,
                    models.OrganizationExclusion.person_id == person,
                )
            )
            return reason == OPTED_OUT

    # ---------------------------------------------------------------- the reader

    async def covering_many(
        self, people: Sequence[PersonId], now: datetime
    ) -> dict[PersonId, OrganisationConnection]:
        """For each of ``people`` whom an organisation connection reads, that connection
        (the first of their programs' that covers their address)."""
        if not people:
            return {}
        async with self._db.reading() as session:
            found = (
                await session.execute(
                    select(models.Person.id, models.Person.email, models.ChatIdentity.program_id)
                    .join(models.ChatIdentity, models.ChatIdentity.person_id == models.Person.id)
                    .where(models.Person.id.in_(list(people)), models.Person.email.is_not(None))
                    .order_by(models.ChatIdentity.id)
                )
            ).all()
            programs = sorted({row.program_id for row in found})
            if not programs:
                return {}
            rows = await session.scalars(
                select(models.OrganizationGrant)
                .where(
                    models.OrganizationGrant.program_id.in_(programs),
                    models.OrganizationGrant.status == OrgStatus.CONNECTED.value,
                )
                .order_by(models.OrganizationGrant.id)
            )
            grants: dict[str, list[OrganisationConnection]] = {}
            for grant in rows:
                grants.setdefault(grant.program_id, []).append(_summary(grant))
            if not grants:  # most programs have none: no opt-outs to read either
                return {}
            excluded = await self._excluded(session, programs, list(people), now=now)
        covered: dict[PersonId, OrganisationConnection] = {}
        for row in found:
            person = PersonId(row.id)
            if person in covered or (row.program_id, row.id) in excluded:
                continue
            for connection in grants.get(row.program_id, ()):
                if connection.covers(row.email):
                    covered[person] = connection
                    break
        return covered

    async def load(self, program: ProgramId, provider: OrgProvider) -> StoredOrganisation | None:
        """The connection with its secret opened; None when it is gone, or when no key
        opens its secret (logged, and marked, once)."""
        async with self._db.transaction() as session:
            row = await session.scalar(_grant(program, provider))
            if row is None:
                return None
            try:
                secret = json.loads(self._vault.open(row.secret))
            except SecretUnavailable:
                if row.status == OrgStatus.CONNECTED.value:
                    log.error(  # noqa: TRY400 - the cause is known; a traceback adds nothing
                        "the %s organisation connection of %s cannot be decrypted with the "
                        "configured PAIRTIME_ENCRYPTION_KEYS; restore the key or connect again",
                        row.provider,
                        row.program_id,
                    )
                    row.status = OrgStatus.KEY_MISSING.value
                return None
            if row.status == OrgStatus.KEY_MISSING.value:
                row.status = OrgStatus.CONNECTED.value
            settings = {**(row.settings or {}), **secret.pop("identifiers", {})}
            return StoredOrganisation(row.id, _summary(row), settings, secret)

    async def read(self, connection: OrganisationConnection, now: datetime) -> None:
        """A read through ``connection`` succeeded (for ``pairtime org status``)."""
        await self._update(connection, last_read_at=now)

    async def failed(self, connection: OrganisationConnection, error: str, now: datetime) -> None:
        """A read through ``connection`` failed for a reason that may pass (a timeout)."""
        await self._update(connection, last_error=error[:300], last_error_at=now)

    async def out_of_reach(self, program: ProgramId, person: PersonId, now: datetime) -> None:
        """The provider said this mailbox is outside the grant's reach (RBAC scope)."""
        statement = (
            insert(self._db, models.OrganizationExclusion)
            .values(program_id=program, person_id=person, reason=OUT_OF_REACH, since=now)
            .on_conflict_do_update(
                index_elements=["program_id", "person_id"],
                set_={"since": now},
                where=models.OrganizationExclusion.reason == OUT_OF_REACH,
            )
        )
        async with self._db.transaction() as session:
            await session.execute(statement)

    async def revoked(self, connection: OrganisationConnection, error: str, now: datetime) -> bool:
        """Mark the connection revoked; True only for the call that did, which also enqueues
        the one message to the program's admins (in the same transaction)."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(models.OrganizationGrant)
                .where(
                    *_this_grant(connection),
                    models.OrganizationGrant.status == OrgStatus.CONNECTED.value,
                )
                .values(status=OrgStatus.REVOKED.value, last_error=error[:300], last_error_at=now)
            )
            if not affected(result):
                return False
            key = (
                f"{REVOKED_JOB}:{connection.program}:{connection.provider.value}:"
                f"{int(connection.connected_at.timestamp())}"
            )
            payload = {"program": connection.program, "provider": connection.provider.value}
            await self._jobs.stage(session, [NewJob(REVOKED_JOB, key, payload)], now)
            return True

    async def write_refused(
        self, connection: OrganisationConnection, error: str, now: datetime
    ) -> bool:
        """The provider refused the program account's events for good (the write grant was
        never given or was taken back): the connection stops writing, reads go on. True
        only for the call that changed it, which also enqueues the one message to the
        program's admins (in the same transaction)."""
        async with self._db.transaction() as session:
            result = await session.execute(
                update(models.OrganizationGrant)
                .where(
                    *_this_grant(connection),
                    models.OrganizationGrant.can_write.is_(True),
                )
                .values(can_write=False, last_error=error[:300], last_error_at=now)
            )
            if not affected(result):
                return False
            key = (
                f"{WRITE_REFUSED_JOB}:{connection.program}:{connection.provider.value}:"
                f"{int(connection.connected_at.timestamp())}"
            )
            payload = {
                "program": connection.program,
                "provider": connection.provider.value,
                "reason": error[:300],
            }
            await self._jobs.stage(session, [NewJob(WRITE_REFUSED_JOB, key, payload)], now)
            return True

    async def _update(self, connection: OrganisationConnection, **values: Any) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(models.OrganizationGrant)
                .where(
                    *_this_grant(connection),
                )
                .values(**values)
            )

    async def _excluded(
        self,
        session: Any,
        programs: Iterable[str],
        people: Sequence[str] | None = None,
        *,
        now: datetime | None = None,
    ) -> set[tuple[str, str]]:
        """(program, person) pairs not read: opted out, or found out of reach lately
        (any time, when ``now`` is not given: what status and counts report)."""
        query = select(models.OrganizationExclusion).where(
            models.OrganizationExclusion.program_id.in_(list(programs))
        )
        if people is not None:
            query = query.where(models.OrganizationExclusion.person_id.in_(list(people)))
        rows = await session.scalars(query)
        return {
            (row.program_id, row.person_id)
            for row in rows
            if row.reason == OPTED_OUT or now is None or row.since > now - OUT_OF_REACH_FOR
        }


def _with_identifiers(setup: OrganisationSetup) -> str:
    """The secret's JSON with the identifying settings moved into it."""
    secret = json.loads(setup.secret.reveal())
    identifiers = {
        name: value for name, value in setup.settings.items() if name in IDENTIFYING_SETTINGS
    }
    if identifiers:
        secret["identifiers"] = identifiers
    return json.dumps(secret)


def _summary(row: models.OrganizationGrant) -> OrganisationConnection:
    return OrganisationConnection(
        program=ProgramId(row.program_id),
        provider=OrgProvider(row.provider),
        name=row.name or row.domain,
        domains=tuple(row.domains or [row.domain]),
        program_account=row.program_account or "",
        status=OrgStatus(row.status),
        connected_at=row.created_at,
        can_write=row.can_write,
        last_read_at=row.last_read_at,
        last_error=row.last_error,
    )


def _grant(program: ProgramId, provider: OrgProvider) -> Select[models.OrganizationGrant]:
    """The program's grant from ``provider``: at most one."""
    return select(models.OrganizationGrant).where(
        models.OrganizationGrant.program_id == program,
        models.OrganizationGrant.provider == provider.value,
    )


def _this_grant(connection: OrganisationConnection) -> tuple[ColumnElement[bool], ...]:
    """The grant row of ``connection``, and not a later one made after a reconnect."""
    return (
        models.OrganizationGrant.program_id == connection.program,
        models.OrganizationGrant.provider == connection.provider.value,
        models.OrganizationGrant.created_at == connection.connected_at,
    )
