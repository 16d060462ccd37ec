"""Every Teams activity is a row before Teams gets its answer, held by the process that took
it: completed once it is handled, and handled by whichever process claims it once the lease
of a process that died runs out (seconds, not minutes), without answering again what the
dead process had answered. The clock is the test's: leases run out when it says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.teams import translate
from adapters.teams.turns import INBOX_JOB
from bot.worker import LEASE
from core.jobs import Job, JobStatus, NewJob
from tests.adapters.teams.harness import TeamsUnderTest, teams_app
from tests.fakes import teams_activities as ta

SECOND = timedelta(seconds=1)


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TeamsUnderTest]:
    async with teams_app(tmp_path) as running:
        yield running


def key_of(activity: dict[str, object]) -> str:
    return f"{INBOX_JOB}:{ta.TENANT_ID}:{activity['id']}"


async def test_a_handled_message_completes_its_row(teams: TeamsUnderTest):
    activity = ta.personal_message("help", service_url=teams.service_url)

    status, _ = await teams.post(activity)
    assert status == 202
    kept = await teams.running.storage.jobs.state(key_of(activity))
    assert kept is not None  # a row by the time Teams had its answer

    (reply,) = await teams.sent_to(ta.personal_chat_id(ta.ALEX))
    assert "I find meeting times" in str(reply.adaptive_cards[0])
    handled = await teams.running.storage.jobs.state(key_of(activity))
    assert handled is not None
    assert handled.status is JobStatus.DONE  # handled here: never run again
    assert handled.attempts == 1


async def test_a_message_left_by_a_dead_process_is_answered_once_its_lease_runs_out(
    teams: TeamsUnderTest,
):
    activity = ta.personal_message("help", service_url=teams.service_url)
    incoming = translate.parse_activity(activity)
    storage = teams.running.storage
    now = teams.clock.now()
    # What a process that died right after acknowledging leaves: the activity seen, its row
    # held under its lease, never renewed again.
    assert await storage.events.first_time(translate.dedupe_key(incoming), now)
    job = NewJob(INBOX_JOB, key_of(activity), {"body": activity, "tenant": ta.TENANT_ID})
    assert await storage.jobs.enqueue_claimed(job, now, "dead", LEASE) is not None

    teams.clock.advance(LEASE - SECOND)
    await teams.settle()
    assert teams.connector.sent(ta.personal_chat_id(ta.ALEX)) == []  # its lease still runs

    teams.clock.advance(2 * SECOND)
    (reply,) = await teams.sent_to(ta.personal_chat_id(ta.ALEX))

    assert "I find meeting times" in str(reply.adaptive_cards[0])
    done = await storage.jobs.state(key_of(activity))
    assert done is not None
    assert done.status is JobStatus.DONE


async def test_a_message_answered_by_a_process_that_then_died_is_not_answered_again(
    teams: TeamsUnderTest, monkeypatch: pytest.MonkeyPatch
):
    """The process answered, then died before completing the row: the row runs again
    elsewhere once its lease runs out, and that run sends nothing already sent."""
    worker = teams.running.services.worker
    died: list[Job] = []

    async def dies_before_completing(job: Job) -> None:
        died.append(job)
        monkeypatch.undo()  # the next process completes its rows

    monkeypatch.setattr(worker, "finish", dies_before_completing)
    activity = ta.personal_message("help", service_url=teams.service_url)
    status, _ = await teams.post(activity)
    assert status == 202
    await teams.settle()
    assert len(died) == 1
    assert len(teams.connector.sent(ta.personal_chat_id(ta.ALEX))) == 1

    worker._held.clear()  # a dead process renews nothing
    teams.clock.advance(LEASE + SECOND)
    await teams.settle()

    rerun = await teams.running.storage.jobs.state(key_of(activity))
    assert rerun is not None
    assert rerun.status is JobStatus.DONE
    assert rerun.attempts == 2  # it did run again
    assert len(teams.connector.sent(ta.personal_chat_id(ta.ALEX))) == 1
