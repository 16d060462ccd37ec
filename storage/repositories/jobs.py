"""Durable work in SQL: core's Jobs port, and the claims a worker makes (``bot.worker``).

Claiming is one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING``: on PostgreSQL the
inner SELECT takes its rows ``FOR UPDATE SKIP LOCKED``, so two processes claiming at once
get different rows without waiting for each other; SQLite runs each writing transaction
alone (``BEGIN IMMEDIATE``), so there the statement is enough. Either way a claim is a
lease (``claimed_until``) that its worker extends while the job runs: a process that dies
leaves its jobs to be claimed again once the lease expires.

Every later change (complete, retry, give up, release) is conditional on the claim still
being the caller's, so a worker whose lease was taken over changes nothing.

Each of these is one Core statement on a connection of its own (``Database.alone``): on
SQLite it is its own transaction, with no BEGIN IMMEDIATE round trip, and no ORM session
is built for it; every request pays for its inbox row's writes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, delete, event, select, tuple_, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from core.jobs import Job, JobState, JobStatus, Json, NewJob
from storage import models
from storage.database import Database
from storage.prepared import Prepared
from storage.repositories.sql import affected, insert

# Told when jobs were stored: the earliest one's due time, or None for "due now".
Listener = Callable[[datetime | None], None]
LAST_ERROR_LENGTH = 300


class SqlJobs:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._listeners: list[Listener] = []

    # ------------------------------------------------------------------ enqueueing (core's port)

    def listen(self, listener: Listener) -> None:
        """Call ``listener`` with the earliest due time of the jobs each enqueue stored, once
        it is committed (how this process's worker wakes at once)."""
        self._listeners.append(listener)

    async def enqueue(self, job: NewJob, now: datetime, *, replace: bool = False) -> bool:
        inserts = _inserts(self._db.dialect)
        statement = inserts.replace if replace else inserts.new
        async with self._db.alone() as connection:
            result = await connection.execute(statement, _row(job, now))
            stored = bool(affected(result))
        if stored:
            self._notify(job.due_at or now)
        return stored

    async def enqueue_claimed(
        self, new: NewJob, now: datetime, worker: str, lease: timedelta
    ) -> Job | None:
        """Store ``new`` already leased to ``worker`` (its first attempt under way), in one
        statement; None when its key exists. The worker that stores a request runs it
        itself, with no claim; if that worker dies, the lease expires and another claims it.
        """
        statement = _inserts(self._db.dialect).claimed
        claimed = {"claimed_by": worker, "claimed_until": now + lease, "attempts": 1}
        row = (await self._db.write(statement, _row(new, now) | claimed)).first()
        if row is None:
            return None
        return Job(
            id=row.id,
            kind=new.kind,
            key=new.key,
            payload=new.payload,
            due_at=row.due_at,
            attempts=1,
            revision=0,
            created_at=row.created_at,
            progress=None,
        )

    async def replace_claimed(
        self, new: NewJob, now: datetime, worker: str, lease: timedelta
    ) -> Replaced | None:
        """:meth:`enqueue` with ``replace``, leasing the job to ``worker`` in the same
        statement unless another worker's lease on it is still running; None when the job
        kept holds a higher version (``new`` is dropped). Who holds the lease afterwards is
        in :attr:`Replaced.mine`: ``worker`` runs the new revision itself (a card's newest
        render sent by the process that drew it, with no claim), and a worker still
        running an older revision finds it replaced when it completes (see
        :meth:`complete`), as before. Nothing is woken: the job is the caller's or is held."""
        statement = _inserts(self._db.dialect).replace_claimed
        claimed = {"claimed_by": worker, "claimed_until": now + lease, "attempts": 1}
        async with self._db.alone() as connection:
            row = (await connection.execute(statement, _row(new, now) | claimed)).first()
        if row is None:
            return None
        job = Job(
            id=row.id,
            kind=new.kind,
            key=new.key,
            payload=new.payload,
            due_at=row.due_at,
            attempts=max(row.attempts, 1),
            revision=row.revision,
            created_at=row.created_at,
            progress=None,
        )
        return Replaced(job, mine=row.claimed_by == worker)

    async def enqueue_all(self, jobs: Sequence[NewJob], now: datetime) -> int:
        if not jobs:
            return 0
        async with self._db.transaction() as session:
            return await self.stage(session, jobs, now)

    async def stage(self, session: AsyncSession, jobs: Sequence[NewJob], now: datetime) -> int:
        """Enqueue ``jobs`` inside another repository's transaction (a transactional outbox:
        the work is kept exactly when the change that asks for it is); the worker is woken
        once that transaction commits. Returns how many keys were new."""
        if not jobs:
            return 0
        statement = self._insert(jobs, now).on_conflict_do_nothing(index_elements=["key"])
        stored = affected(await session.execute(statement))
        if stored:
            earliest = min(job.due_at or now for job in jobs)
            event.listen(
                session.sync_session,
                "after_commit",
                lambda _session: self._notify(earliest),
                once=True,
            )
        return stored

    async def cancel(self, key: str, now: datetime) -> bool:
        async with self._db.alone() as connection:
            result = await connection.execute(
                update(models.Job)
                .where(models.Job.key == key, models.Job.status == JobStatus.PENDING.value)
                .values(status=JobStatus.CANCELLED.value, done_at=now)
            )
            return bool(affected(result))

    async def state(self, key: str) -> JobState | None:
        async with self._db.reading() as session:
            row = await session.scalar(select(models.Job).where(models.Job.key == key))
            if row is None:
                return None
            return JobState(
                kind=row.kind,
                key=row.key,
                status=JobStatus(row.status),
                payload=row.payload,
                due_at=row.due_at,
                attempts=row.attempts,
                version=row.version,
                done_at=row.done_at,
                last_error=row.last_error,
            )

    # ------------------------------------------------------------------ claiming (the worker's)

    async def claim(
        self,
        kinds: Sequence[str],
        worker: str,
        now: datetime,
        *,
        limit: int,
        lease: timedelta,
    ) -> list[Job]:
        """Up to ``limit`` due jobs of ``kinds``, earliest first, leased to ``worker``.

        Due means pending, ``due_at`` passed, and not under another live lease: a job whose
        worker died is claimed again here once its lease has expired.
        """
        if not kinds or limit <= 0:
            return []
        parameters = {
            "now": now,
            "kinds": list(kinds),
            "limit": limit,
            "worker": worker,
            "until": now + lease,
        }
        async with self._db.alone() as connection:
            rows = (await connection.execute(_claim(), parameters)).all()
        claimed = [
            Job(
                id=row.id,
                kind=row.kind,
                key=row.key,
                payload=row.payload,
                due_at=row.due_at,
                attempts=row.attempts,
                revision=row.revision,
                created_at=row.created_at,
                progress=row.progress,
            )
            for row in rows
        ]
        return sorted(claimed, key=lambda j: (j.due_at, j.id))

    async def extend(self, ids: Sequence[int], worker: str, until: datetime) -> set[int]:
        """Renew the lease of the jobs ``worker`` is still running; the ids it still held
        (a job missing was taken over by another worker after its lease ran out)."""
        if not ids:
            return set()
        async with self._db.alone() as connection:
            result = await connection.execute(
                update(models.Job)
                .where(models.Job.id.in_(list(ids)), models.Job.claimed_by == worker)
                .values(claimed_until=until)
                .returning(models.Job.id)
            )
            return set(result.scalars())

    async def complete(self, job: Job, worker: str, now: datetime) -> bool:
        """Done, unless the claim is lost or the job was replaced while it ran (then False:
        the caller releases it, and the new payload runs)."""
        async with self._db.alone() as connection:
            result = await connection.execute(
                update(models.Job)
                .where(
                    *_held(job.id, worker),
                    models.Job.revision == job.revision,
                )
                .values(
                    status=JobStatus.DONE.value, done_at=now, claimed_by=None, claimed_until=None
                )
            )
            return bool(affected(result))

    async def complete_all(self, jobs: Sequence[Job], worker: str, now: datetime) -> set[int]:
        """:meth:`complete` for many jobs in one statement; the ids of those completed."""
        if not jobs:
            return set()
        parameters = {"jobs": [(j.id, j.revision) for j in jobs], "worker": worker, "now": now}
        return {row.id for row in (await self._db.write(_COMPLETE_ALL, parameters)).rows}

    async def retry(self, job: Job, worker: str, due_at: datetime, error: str) -> bool:
        """Run again at ``due_at``; a job replaced meanwhile runs its new payload at once."""
        replaced = models.Job.revision != job.revision
        return await self._let_go(
            job,
            worker,
            due_at=case((replaced, models.Job.due_at), else_=due_at),
            last_error=case((replaced, None), else_=_error(error)),
        )

    async def give_up(self, job: Job, worker: str, now: datetime, error: str) -> bool:
        """Failed for good, unless the job was replaced while it ran: then only its lease
        is handed back, and the new payload runs at once with attempts of its own (the
        newer card may well go where the older one could not)."""
        replaced = models.Job.revision != job.revision
        return await self._let_go(
            job,
            worker,
            status=case((replaced, JobStatus.PENDING.value), else_=JobStatus.FAILED.value),
            done_at=case((replaced, None), else_=now),
            last_error=case((replaced, None), else_=_error(error)),
        )

    async def _let_go(self, job: Job, worker: str, **values: Any) -> bool:
        """End ``worker``'s lease on ``job`` with ``values`` set; False when it was lost."""
        async with self._db.alone() as connection:
            result = await connection.execute(
                update(models.Job)
                .where(*_held(job.id, worker))
                .values(claimed_by=None, claimed_until=None, **values)
            )
            return bool(affected(result))

    async def release(self, ids: Sequence[int], worker: str) -> int:
        """Hand unfinished jobs back (shutdown, or a replaced job): due again at once, and
        the attempt that did not finish is not counted."""
        if not ids:
            return 0
        job = models.Job
        async with self._db.alone() as connection:
            result = await connection.execute(
                update(job)
                .where(job.id.in_(list(ids)), job.claimed_by == worker)
                .values(
                    claimed_by=None,
                    claimed_until=None,
                    attempts=case((job.attempts > 0, job.attempts - 1), else_=0),
                )
            )
        self._notify(None)
        return affected(result)

    async def mark(self, session: AsyncSession, job: Job, worker: str, progress: Json) -> bool:
        """Record ``progress`` on a job inside the caller's transaction, once: False when an
        earlier attempt recorded it already (or the claim is lost), and then the caller must
        not do again what ``progress`` stands for. How an effect that is not idempotent by
        itself (a vote's toggle) happens once per job."""
        result = await session.execute(
            update(models.Job)
            .where(*_held(job.id, worker), models.Job.progress.is_(None))
            .values(progress=dict(progress))
        )
        return bool(affected(result))

    async def record(self, job: Job, worker: str, progress: Json) -> bool:
        """Store ``progress`` as the job's, replacing what was there, while ``worker`` holds
        it (False when the claim is lost). The next attempt sees it as ``Job.progress``: how
        a job run again after its process died knows what it had done already."""
        statement = update(models.Job).where(*_held(job.id, worker)).values(progress=dict(progress))
        return bool(affected(await self._db.write(statement)))

    async def purge(self, before: datetime) -> int:
        """Forget jobs that ended before ``before`` (their keys may then be used again)."""
        async with self._db.alone() as connection:
            result = await connection.execute(
                delete(models.Job).where(
                    models.Job.status != JobStatus.PENDING.value, models.Job.done_at < before
                )
            )
            return affected(result)

    # ------------------------------------------------------------------ helpers

    def _insert(self, jobs: Sequence[NewJob], now: datetime) -> Any:
        return insert(self._db, models.Job).values([_row(job, now) for job in jobs])

    def _notify(self, due: datetime | None) -> None:
        for listener in self._listeners:
            listener(due)


@dataclass(frozen=True, slots=True)
class Replaced:
    """A job as :meth:`SqlJobs.replace_claimed` stored it, and whether the caller holds it."""

    job: Job
    mine: bool


@dataclass(frozen=True)
class _Inserts:
    """A job's INSERTs, built once per dialect; the row goes as parameters (a statement
    holding its values, a JSON payload among them, has no cache key: it was compiled on
    every request, and building it cost as much again)."""

    new: Any  # unless the key is taken
    claimed: Prepared  # the same, returning what the worker holding it needs
    replace: Any  # over the key's job, unless that one holds a higher version
    replace_claimed: Any  # the same, leased to the caller unless another lease still runs


def _complete_all() -> Prepared:
    """:meth:`SqlJobs.complete_all`'s UPDATE, built once: every request completes its row."""
    job = cast("Table", models.Job.__table__).c
    return Prepared(
        update(cast("Table", models.Job.__table__))
        .where(
            tuple_(job.id, job.revision).in_(bindparam("jobs", expanding=True)),
            job.claimed_by == bindparam("worker"),
            job.status == JobStatus.PENDING.value,
        )
        .values(
            status=JobStatus.DONE.value,
            done_at=bindparam("now"),
            claimed_by=None,
            claimed_until=None,
        )
        .returning(job.id)
    )


_COMPLETE_ALL = _complete_all()


@functools.cache
def _claim() -> Any:
    """The claim (see :meth:`SqlJobs.claim`), built once: the worker claims after every
    batch, and building it (its list of kinds, its cache key) cost more than running it."""
    job = cast("Table", models.Job.__table__).c
    now: Any = bindparam("now")
    due = (
        select(job.id)
        .where(
            job.status == JobStatus.PENDING.value,
            job.due_at <= now,
            job.kind.in_(bindparam("kinds", expanding=True)),
            (job.claimed_until.is_(None)) | (job.claimed_until <= now),
        )
        .order_by(job.due_at, job.id)
        .limit(bindparam("limit"))
        # PostgreSQL: rows another transaction is claiming are skipped, not waited for.
        # SQLite renders no FOR UPDATE; its writers take turns.
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(cast("Table", models.Job.__table__))
        .where(job.id.in_(due))
        .values(
            claimed_by=bindparam("worker"),
            claimed_until=bindparam("until"),
            attempts=job.attempts + 1,
        )
        .returning(
            job.id,
            job.kind,
            job.key,
            job.payload,
            job.due_at,
            job.attempts,
            job.revision,
            job.created_at,
            job.progress,
        )
    )


@functools.cache
def _inserts(dialect: str) -> _Inserts:
    table = cast("Table", models.Job.__table__)
    insert: Any = sqlite.insert
    if dialect == "postgresql":  # its dialect only for PostgreSQL: SQLite servers start sooner
        from sqlalchemy.dialects.postgresql import insert  # noqa: PLC0415
    new = insert(table).on_conflict_do_nothing(index_elements=["key"])
    upsert = insert(table)
    excluded = upsert.excluded
    replaced = {
        "kind": excluded.kind,
        "payload": excluded.payload,
        "due_at": excluded.due_at,
        "version": excluded.version,
        "status": JobStatus.PENDING.value,
        "attempts": 0,
        "revision": table.c.revision + 1,
        "progress": None,
        "last_error": None,
        "done_at": None,
    }
    # The row as proposed carries the caller's lease (``excluded``); it takes the stored row
    # when no lease runs there (none, or one whose worker died: ``created_at`` is now).
    c = table.c
    free = c.claimed_until.is_(None) | (c.claimed_until <= excluded.created_at)
    return _Inserts(
        new=new,
        claimed=Prepared(new.returning(c.id, c.due_at, c.created_at)),
        replace=upsert.on_conflict_do_update(
            index_elements=["key"], set_=replaced, where=c.version <= excluded.version
        ),
        replace_claimed=upsert.on_conflict_do_update(
            index_elements=["key"],
            set_=replaced
            | {
                "claimed_by": case((free, excluded.claimed_by), else_=c.claimed_by),
                "claimed_until": case((free, excluded.claimed_until), else_=c.claimed_until),
                "attempts": case(
                    (free | (c.claimed_by == excluded.claimed_by), excluded.attempts), else_=0
                ),
            },
            where=c.version <= excluded.version,
        ).returning(c.id, c.due_at, c.created_at, c.revision, c.claimed_by, c.attempts),
    )


def _row(job: NewJob, now: datetime) -> dict[str, Any]:
    """A new job's row, pending."""
    return {
        "kind": job.kind,
        "key": job.key,
        "payload": dict(job.payload),
        "status": JobStatus.PENDING.value,
        "due_at": job.due_at or now,
        "attempts": 0,
        "revision": 0,
        "version": job.version,
        "created_at": now,
        "claimed_by": None,
        "claimed_until": None,
    }


def _held(job_id: int, worker: str) -> tuple[ColumnElement[bool], ...]:
    """The job is still pending and claimed by ``worker``."""
    return (
        models.Job.id == job_id,
        models.Job.claimed_by == worker,
        models.Job.status == JobStatus.PENDING.value,
    )


def _error(error: str) -> str:
    return error[:LAST_ERROR_LENGTH]
