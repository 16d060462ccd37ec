"""Every Teams activity is a row before Teams gets its answer, held by the process that took
it: completed once it is handled, and handled by whichever process claims it once the lease
of a process that died runs out (seconds, not minutes), without answering again what the
dead process had sent. The clock is the test's: leases run out when it says so."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.teams import translate
from adapters.teams.transport import TeamsTransport
from adapters.teams.turns import INBOX_JOB, LINKS_SENT
from bot.worker import LEASE
from core.jobs import JobStatus, NewJob
from tests.adapters.teams import card_reading
from tests.adapters.teams.harness import TeamsUnderTest, teams_app
from tests.fakes import teams_activities as ta
from tests.fakes.botframework import ReceivedActivity

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


class Crash(BaseException):
    """The process dying where it is raised: nothing after it runs, nothing catches it."""


async def test_a_row_run_again_after_its_process_died_sends_only_what_it_had_not(
    teams: TeamsUnderTest, monkeypatch: pytest.MonkeyPatch
):
    """Asked in a channel to connect, the bot says there that the links went privately, then
    dies before the private message leaves: once its lease runs out the row runs again, and
    sends the private message, not the channel answer a second time."""
    await teams.say_hello(ta.ALEX)
    chat = ta.personal_chat_id(ta.ALEX)
    before = len(teams.connector.sent(chat))

    async def dies(*_: object) -> None:
        raise Crash

    monkeypatch.setattr(TeamsTransport, "direct", dies)
    activity = ta.channel_message(
        "connect my calendar", service_url=teams.service_url, mentioned=None
    )
    status, _ = await teams.post(activity)
    assert status == 202
    with contextlib.suppress(Crash):
        await teams.settle()
    assert [texts(m) for m in teams.connector.sent(ta.CHANNEL_ID)] == [LINKS_SENT]
    assert len(teams.connector.sent(chat)) == before

    monkeypatch.undo()
    teams.running.services.worker._held.clear()  # a dead process renews nothing
    teams.clock.advance(LEASE + SECOND)
    await teams.settle()

    assert [texts(m) for m in teams.connector.sent(ta.CHANNEL_ID)] == [LINKS_SENT]
    (links,) = teams.connector.sent(chat)[before:]
    assert texts(links).startswith("Connect your calendar")
    rerun = await teams.running.storage.jobs.state(key_of(activity))
    assert rerun is not None
    assert rerun.status is JobStatus.DONE
    assert rerun.attempts == 2


def texts(message: ReceivedActivity) -> str:
    return "\n".join(card_reading.texts(message.adaptive_cards[0]))
