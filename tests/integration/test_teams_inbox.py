"""Every Teams activity is a row before Teams gets its answer: dropped once it is handled, and
handled by whichever process claims it when the process that took it died first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.teams import translate
from adapters.teams.turns import ABANDONED_AFTER, INBOX_JOB
from core.jobs import JobStatus, NewJob
from tests.adapters.teams.harness import TeamsUnderTest, teams_app
from tests.fakes import teams_activities as ta


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TeamsUnderTest]:
    async with teams_app(tmp_path) as running:
        yield running


def key_of(activity: dict[str, object]) -> str:
    return f"{INBOX_JOB}:{ta.TENANT_ID}:{activity['id']}"


async def test_a_handled_message_drops_its_row(teams: TeamsUnderTest):
    activity = ta.personal_message("help", service_url=teams.service_url)

    status, _ = await teams.post(activity)
    assert status == 202
    kept = await teams.running.storage.jobs.state(key_of(activity))
    assert kept is not None  # a row by the time Teams had its answer

    (reply,) = await teams.sent_to(ta.personal_chat_id(ta.ALEX))
    assert "I find meeting times" in str(reply.adaptive_cards[0])
    handled = await teams.running.storage.jobs.state(key_of(activity))
    assert handled is not None
    assert handled.status is JobStatus.CANCELLED  # handled here: never run again


async def test_a_message_left_by_a_dead_process_is_answered_by_another(teams: TeamsUnderTest):
    activity = ta.personal_message("help", service_url=teams.service_url)
    incoming = translate.parse_activity(activity)
    storage = teams.running.storage
    now = teams.clock.now()
    # What a process that died right after acknowledging leaves: the activity seen, its row.
    assert await storage.events.first_time(translate.dedupe_key(incoming), now)
    await storage.jobs.enqueue(
        NewJob(
            INBOX_JOB,
            key_of(activity),
            {"body": activity, "tenant": ta.TENANT_ID},
            due_at=now + ABANDONED_AFTER,
        ),
        now,
    )
    await teams.settle()
    assert teams.connector.sent(ta.personal_chat_id(ta.ALEX)) == []  # not before its time

    teams.clock.advance(ABANDONED_AFTER + timedelta(seconds=1))
    (reply,) = await teams.sent_to(ta.personal_chat_id(ta.ALEX))

    assert "I find meeting times" in str(reply.adaptive_cards[0])
    done = await storage.jobs.state(key_of(activity))
    assert done is not None
    assert done.status is JobStatus.DONE
