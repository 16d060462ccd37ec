"""Durable work: what is to be done later, or again, whichever process does it.

A job is a row in the database, not a task in memory: the inbox of chat interactions,
chat messages and card updates to send, emails, reminders and deadlines all wait there
until a process's worker claims them. Each has a ``kind`` (which handler runs it) and a
``key`` that names it once: enqueueing the same key twice keeps one job, so a retried
request or two processes doing the same thing schedule one piece of work.

Keys are chosen by the use case and say what the work is about, e.g.
``poll.close:{poll}`` or ``email:{meeting}:{sequence}:{address}``. Payloads are JSON
objects (no secrets: they are stored as they are).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# A JSON object; a job's payload and its progress.
Json = Mapping[str, Any]


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting to be due, claimed, or being retried
    DONE = "done"
    FAILED = "failed"  # given up after its last attempt
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class NewJob:
    """Work to enqueue. ``due_at`` None means now; ``version`` orders replacements of one
    key (see :meth:`core.ports.Jobs.enqueue`)."""

    kind: str
    key: str
    payload: Json = field(default_factory=dict)
    due_at: datetime | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed job, as its handler sees it.

    ``attempts`` counts this one (1 the first time). ``revision`` changes each time the
    job is replaced, so a worker can tell that it ran an outdated payload. ``progress`` is
    what earlier attempts recorded as done (see :meth:`storage.repositories.jobs.SqlJobs.mark`),
    so that an attempt after a crash does not do it again.
    """

    id: int
    kind: str
    key: str
    payload: Json
    due_at: datetime
    attempts: int
    revision: int
    created_at: datetime
    progress: Json | None = None


@dataclass(frozen=True, slots=True)
class JobState:
    """A stored job as anyone may look at it (tests, the admin console)."""

    kind: str
    key: str
    status: JobStatus
    payload: Json
    due_at: datetime
    attempts: int
    version: int
    done_at: datetime | None
    last_error: str | None
