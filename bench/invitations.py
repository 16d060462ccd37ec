"""Benchmark: invitation emails from the durable outbox to an SMTP server with STARTTLS + AUTH.

    python bench/invitations.py [--meetings N] [--postgres URL]

N meetings of a pair are each staged as two ``email`` jobs (what a booking enqueues), then
one worker (the real ``Worker`` over the real jobs table, with the meeting jobs' retry and
timeout) sends them with the real ``SmtpMailer``: one connection per message, STARTTLS, then
AUTH. The SMTP server (aiosmtpd, as in the tests) runs in a process of its own, so that its
work is not counted here. Prints JSON: emails per second, and the time from the worker's
start to each message's arrival. A closed poll of fifty, or a morning of bookings, is a
burst of this kind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# The mail server and the certificate live in tests/, which is not installed: run from a checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.mail.config import MailSettings, Security
from adapters.mail.smtp import SmtpMailer
from bench.support import machine, postgres_admin, summary
from bot.meeting_jobs import EMAIL_RETRY, SMTP_TIMEOUT
from bot.services import SystemClock
from bot.worker import Worker
from core.invitations import InvitationEmail, Mailbox, emails
from core.jobs import Job, NewJob
from core.meetings import Meeting
from core.people import Person, PersonId, ProgramId
from core.program import ProgramSettings
from core.secret import Secret
from storage import migrate
from storage.database import Database
from storage.repositories.jobs import SqlJobs
from tests.fakes.server import TestCertificate
from tests.mail_server import MailServer

SENDER = Mailbox("Mentoring Program", "mentoring@example.org")


def serve(certificate: TestCertificate, pipe: Connection) -> None:
    """The SMTP server's process: says its port, then the arrival times of ``count`` messages."""

    async def run() -> None:
        server = await MailServer("starttls", certificate=certificate).start()
        pipe.send((server.port, server.user, server.password))
        count = pipe.recv()
        arrivals: list[float] = []
        while len(arrivals) < count:
            await server.wait_for(len(arrivals) + 1)
            arrivals += [time.monotonic()] * (len(server.received) - len(arrivals))
        pipe.send(arrivals)
        await server.stop()

    asyncio.run(run())


def outbox(meetings: int, now: datetime) -> list[NewJob]:
    """Two invitations a meeting, as a booking stages them."""
    jobs = []
    for index in range(meetings):
        ana = Person(PersonId(f"a{index}"), f"Ana {index}", f"ana{index}@example.org", "UTC")
        ben = Person(PersonId(f"b{index}"), f"Ben {index}", f"ben{index}@example.org", "UTC")
        meeting = Meeting(
            ref=f"m{index}",
            program=ProgramId("bench:program"),
            organizer=ana.id,
            participants=(ana.id, ben.id),
            start=now + timedelta(days=1, minutes=30 * index),
            end=now + timedelta(days=1, minutes=30 * index + 30),
            title=f"Mentoring: Ana {index} and Ben {index}",
            created_at=now,
        )
        messages = emails(
            meeting,
            [ana, ben],
            ProgramSettings(),
            sender=SENDER,
            stamp=now,
            zone=lambda _: ZoneInfo("UTC"),
        )
        jobs += [NewJob("email", each.key(), each.to_json(), due_at=now) for each in messages]
    return jobs


async def measure(url: str, meetings: int, mail: MailSettings, pipe: Connection) -> dict[str, Any]:
    database = Database(url)
    await migrate.upgrade(database)
    jobs = SqlJobs(database)
    clock = SystemClock()
    mailer = SmtpMailer(mail, clock)
    staged = outbox(meetings, clock.now())
    for job in staged:
        await jobs.enqueue(job, clock.now())
    failures: list[str] = []

    async def send(job: Job) -> None:
        await mailer.send(InvitationEmail.from_json(job.payload))

    async def gave_up(_job: Job, reason: str) -> None:
        failures.append(reason)

    worker = Worker(jobs, clock)
    worker.handle("email", send, retry=EMAIL_RETRY, give_up=gave_up, timeout=SMTP_TIMEOUT)
    pipe.send(len(staged))
    started = time.monotonic()
    await worker.drain()
    drained = time.monotonic() - started
    arrivals = await asyncio.to_thread(pipe.recv)
    await worker.close()
    await database.close()
    return {
        "emails": len(staged),
        "failed": len(failures),
        "worker_concurrency": worker.concurrency,
        "seconds": round(drained, 3),
        "emails_per_second": round(len(staged) / drained, 1),
        "arrival_after_start_ms": summary([a - started for a in arrivals]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=100)
    parser.add_argument("--postgres", help="a PostgreSQL URL: a database of its own is made")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pairtime-bench-mail-"))
    certificate = TestCertificate.create(folder)
    results: dict[str, Any] = {"machine": machine(), "meetings": args.meetings}
    backends = [("sqlite", f"sqlite+aiosqlite:///{folder / 'bench.db'}")]
    if args.postgres:
        backends.append(("postgresql", args.postgres))
    for backend, url in backends:
        ours, theirs = multiprocessing.Pipe()
        server = multiprocessing.Process(target=serve, args=(certificate, theirs), daemon=True)
        server.start()
        port, user, password = ours.recv()
        mail = MailSettings(
            host="127.0.0.1",
            port=port,
            security=Security.STARTTLS,
            sender=SENDER,
            username=user,
            password=Secret(password),
            ca_bundle=str(certificate.ca_path),
        )
        if backend == "postgresql":
            results[backend] = asyncio.run(_on_postgres(url, args.meetings, mail, ours))
        else:
            results[backend] = asyncio.run(measure(url, args.meetings, mail, ours))
        server.join(timeout=30)
    print(json.dumps(results, indent=2))


async def _on_postgres(url: str, meetings: int, mail: MailSettings, pipe: Connection) -> Any:
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - only with --postgres

    name = f"bench_mail_{uuid.uuid4().hex[:10]}"
    await postgres_admin(url, f'CREATE DATABASE "{name}"')
    try:
        own = make_url(url).set(database=name).render_as_string(hide_password=False)
        return await measure(own, meetings, mail, pipe)
    finally:
        await postgres_admin(url, f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
