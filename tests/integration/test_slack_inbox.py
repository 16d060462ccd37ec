"""What Slack is told was received is a row first, processed from there once; an answer that
comes too late for the request's response_url goes to the person's DM; a row run again after
its process died does not answer again."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from adapters.slack.listeners import INBOX_JOB
from core.jobs import JobStatus, NewJob
from tests.adapters.slack.harness import CHANNEL, MENTEE, MENTOR, NOW, SlackWorld, slack_world
from tests.fakes import slack_requests as sr
from tests.integration.test_slack_booking import ask_for_times, button, meetings
from tests.support import kill_jobs


async def test_a_command_is_kept_before_slack_is_answered_and_processed_once(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        trigger = sr.trigger_id()
        request = sr.slash_command(
            world.secret,
            text="help",
            user_id=MENTOR,
            channel_id=CHANNEL,
            response_url=world.response_url(),
            trigger=trigger,
        )
        answer = await world.post(request)
        assert answer.status == 200

        # Slack has its acknowledgement: the request is a row by now, whatever became of it.
        kept = await world.running.storage.jobs.state(f"{INBOX_JOB}:{trigger}")
        assert kept is not None
        assert "token" not in kept.payload["body"]  # Slack's verification token is not kept

        await world.settle()
        done = await world.running.storage.jobs.state(f"{INBOX_JOB}:{trigger}")
        assert done is not None
        assert done.status is JobStatus.DONE
        assert done.attempts == 1
        (reply,) = world.slack.responses
        assert "find meeting times" in (reply.text or "")


async def test_a_request_kept_too_long_ago_answers_in_the_dm(tmp_path: Path):
    """A row whose process died long ago (or a long backlog): its response_url has
    expired, so the answer goes to the person's DM, not to the dead URL."""
    async with slack_world(tmp_path) as world:
        request = sr.slash_command(
            world.secret,
            text="help",
            user_id=MENTOR,
            channel_id=CHANNEL,
            response_url=world.response_url(),
        )
        body = {name: value for name, value in request.data.items() if name != "token"}
        kept_at = NOW - timedelta(minutes=40)
        await world.running.storage.jobs.enqueue(
            NewJob(INBOX_JOB, f"{INBOX_JOB}:late", {"body": body}, due_at=NOW), kept_at
        )

        await world.drain()

        assert world.slack.responses == []
        (dm,) = world.dm(MENTOR)
        assert "find meeting times" in dm.text


async def test_the_partner_is_told_of_a_booking_whose_process_died_right_after_it(
    tmp_path: Path,
):
    """A click on a time books it; the process dies at its first call to Slack after that
    commit (the fake's fault hook kills its running jobs there), before anyone heard of the
    booking. Once the leases run out (the test's clock) the click runs again and finds the
    time booked, so it books nothing more and answers the clicker once; the private
    messages to both, stored with the booking, go out once each."""
    async with slack_world(tmp_path) as world:
        picker = await ask_for_times(world)
        answered = len(world.slack.responses)
        killed: list[int] = []
        world.slack.crash_at(
            "response", "conversations.open", "chat.postMessage",
            crash=lambda: killed.append(kill_jobs()),
        )  # fmt: skip

        pick = button(picker, "pt:pick:1")
        trigger = sr.trigger_id()
        await world.post(
            sr.block_actions(
                world.secret, pick["action_id"], value=pick["value"], user_id=MENTOR,
                channel_id=CHANNEL, response_url=world.response_url(), trigger=trigger,
            )
        )  # fmt: skip
        kept = await world.running.storage.jobs.state(f"{INBOX_JOB}:{trigger}")
        assert kept is not None
        # Slack repeats the clicked message, every block of it, in each click: not kept. The
        # run from the row below reads what is.
        assert set(kept.payload["body"]["message"]) <= {"type", "ts", "user", "bot_id"}
        await world.settle()
        assert killed  # it died, with the click's row under way
        assert killed[0] >= 1
        assert await meetings(world) == 1  # after the booking's commit
        assert world.slack.responses[answered:] == []
        assert world.dm(MENTOR) == world.dm(MENTEE) == []

        world.slack.revive()  # another process, or this one restarted
        assert world.clock is not None
        world.clock.advance(timedelta(minutes=2))  # past the leases, and any first retry
        await world.drain()

        assert await meetings(world) == 1
        (answer,) = world.slack.responses[answered:]
        assert answer.replace_original
        (theirs,) = world.dm(MENTEE)
        assert theirs.text.startswith("Alex Kim proposes a time for Mentoring: Alex Kim and")
        (mine,) = world.dm(MENTOR)
        assert mine.text.startswith("You proposed this time to Maria Lopez.")
        rows = [s for s in await inbox_rows(world) if s[1] == 2]
        assert rows == [("done", 2, None)]  # it ran again, and had nothing to send but its answer


async def inbox_rows(world: SlackWorld) -> list[tuple[str, int, object]]:
    async with world.running.storage.database.reading() as db:
        found = await db.execute(
            text("SELECT status, attempts, progress FROM jobs WHERE kind = :kind"),
            {"kind": INBOX_JOB},
        )
        return [
            (status, attempts, json.loads(progress) if isinstance(progress, str) else progress)
            for status, attempts, progress in found.all()
        ]
