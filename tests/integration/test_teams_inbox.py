"""Every Teams activity is a row before Teams gets its answer, held by the process that took
it: completed once it is handled, and handled by whichever process claims it once the lease
of a process that died runs out (seconds, not minutes), without answering again what the
dead process had sent. The clock is the test's: leases run out when it says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.teams import translate
from adapters.teams.turns import INBOX_JOB, LINKS_SENT
from bot.worker import LEASE
from core.jobs import JobStatus, NewJob
from storage.crypto import generate_key
from tests.adapters.teams import card_reading
from tests.adapters.teams.harness import NOW, Lasting, TeamsUnderTest, teams_app
from tests.fakes import teams_activities as ta
from tests.fakes.botframework import FakeBotFramework, ReceivedActivity
from tests.fakes.server import running
from tests.integration.test_teams_clicks import click, picker_for_alex
from tests.memory import FixedClock
from tests.support import kill_jobs

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


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


@asynccontextmanager
async def two_processes(
    folder: Path,
) -> AsyncIterator[tuple[TeamsUnderTest, TeamsUnderTest]]:
    """Two apps over one database and one connector, as two ``pairtime serve`` processes,
    each on its own clock: the first one's stands still (a process that died, or whose event
    loop stalled, renews no lease past it), the second's moves on past its leases."""
    connector, keys = FakeBotFramework(), [generate_key()]
    async with running(connector.app) as service_url:
        first = Lasting(keys, FixedClock(NOW), connector, service_url)
        second = Lasting(keys, FixedClock(NOW), connector, service_url)
        async with (
            teams_app(folder, authenticated=False, lasting=first) as dying,
            teams_app(folder, authenticated=False, lasting=second) as taking_over,
        ):
            yield dying, taking_over


async def test_a_row_run_again_after_its_process_died_sends_only_what_it_had_not(tmp_path: Path):
    """Asked in a channel to connect, the bot says there that the links went privately, then
    dies while the private message is on its way (Teams never took it): once its lease runs
    out the row runs again in another process, and sends the private message, not the
    channel answer a second time."""
    async with two_processes(tmp_path) as (dying, other):
        await dying.say_hello(ta.ALEX)
        chat = ta.personal_chat_id(ta.ALEX)
        before = len(dying.connector.sent(chat))
        stalled = dying.connector.hold(chat, times=1)  # the dying process's send hangs

        activity = ta.channel_message(
            "connect my calendar", service_url=dying.service_url, mentioned=None
        )
        status, _ = await dying.post(activity)
        assert status == 202
        await dying.connector.wait_for_held(chat)
        assert [texts(m) for m in dying.connector.sent(ta.CHANNEL_ID)] == [LINKS_SENT]
        assert len(dying.connector.sent(chat)) == before

        other.clock.advance(LEASE + SECOND)
        await other.settle()

        assert [texts(m) for m in other.connector.sent(ta.CHANNEL_ID)] == [LINKS_SENT]
        (links,) = other.connector.sent(chat)[before:]
        assert texts(links).startswith("Connect your calendar")
        rerun = await other.running.storage.jobs.state(key_of(activity))
        assert rerun is not None
        assert rerun.status is JobStatus.DONE
        assert rerun.attempts == 2
        stalled.set()  # what the dying process had on its way goes, as a stop ends it


async def test_the_partner_is_told_of_a_booking_whose_process_died_right_after_it(
    teams: TeamsUnderTest,
):
    """A click on a time books it and is answered in Teams' invoke response; the process
    dies at its next call to Teams, the first private message about the booking (the
    fake's fault hook kills its running jobs there). Once the leases run out (the test's
    clock), both people get their message about it, once each: the messages were stored
    with the booking, not left to the click's run."""
    picker, alex, _ = await picker_for_alex(teams)
    alex_chat, maria_chat = ta.personal_chat_id(ta.ALEX), ta.personal_chat_id(ta.MARIA)
    mine_before = len(teams.connector.sent(alex_chat))
    theirs_before = len(teams.connector.sent(maria_chat))
    killed: list[int] = []
    teams.connector.crash_at_next_call(lambda: killed.append(kill_jobs()))

    status, body = await teams.post(click(teams, picker)[0])
    assert status == 200
    assert body["value"]["body"][0]["text"].startswith("Proposed: Mentoring: Alex Kim")
    await teams.settle()
    assert killed  # it died at its next call to Teams, after the booking's commit
    meetings = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert len(meetings) == 1
    assert len(teams.connector.sent(alex_chat)) == mine_before
    assert len(teams.connector.sent(maria_chat)) == theirs_before

    teams.connector.revive()  # another process, or this one restarted
    teams.clock.advance(2 * MINUTE)  # past the leases, and any first retry
    await teams.settle()

    (theirs,) = teams.connector.sent(maria_chat)[theirs_before:]
    assert texts(theirs).startswith("Alex Kim proposes a time for Mentoring: Alex Kim and")
    (mine,) = teams.connector.sent(alex_chat)[mine_before:]
    assert texts(mine).startswith("You proposed this time to Maria Lopez.")
    meetings = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert len(meetings) == 1


def texts(message: ReceivedActivity) -> str:
    return "\n".join(card_reading.texts(message.adaptive_cards[0]))
