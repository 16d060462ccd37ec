"""What Slack is told was received is a row first, processed from there once; an answer that
comes too late for the request's response_url goes to the person's DM; a row run again after
its process died does not answer again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.slack.listeners import INBOX_JOB
from bot.worker import LEASE
from core.jobs import Job, JobStatus, NewJob
from tests.adapters.slack.harness import CHANNEL, MENTOR, NOW, slack_world
from tests.fakes import slack_requests as sr


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


async def test_a_command_answered_by_a_process_that_then_died_is_not_answered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The worker answered, then its process died before completing the row: once the
    lease runs out (the test's clock) the row runs again, and sends nothing it had sent."""
    async with slack_world(tmp_path) as world:
        jobs = world.running.storage.jobs
        assert world.running.services.worker.jobs is jobs
        died: list[Job] = []
        complete_all = jobs.complete_all

        async def dies_before_completing(
            batch: Sequence[Job], worker: str, now: datetime
        ) -> set[int]:
            rows = [job for job in batch if job.kind == INBOX_JOB]
            if rows:
                died.extend(rows)
                monkeypatch.undo()  # the next process completes its rows
            chores = [job for job in batch if job.kind != INBOX_JOB]  # the app's own
            return await complete_all(chores, worker, now) | {job.id for job in rows}

        monkeypatch.setattr(jobs, "complete_all", dies_before_completing)
        trigger = sr.trigger_id()
        request = sr.slash_command(
            world.secret, text="help", user_id=MENTOR, channel_id=CHANNEL,
            response_url=world.response_url(), trigger=trigger,
        )  # fmt: skip
        assert (await world.post(request)).status == 200
        await world.settle()
        assert [job.key for job in died] == [f"{INBOX_JOB}:{trigger}"]
        assert len(world.slack.responses) == 1

        assert world.clock is not None
        world.clock.advance(LEASE + timedelta(seconds=1))
        await world.settle()

        rerun = await jobs.state(f"{INBOX_JOB}:{trigger}")
        assert rerun is not None
        assert rerun.status is JobStatus.DONE
        assert rerun.attempts == 2  # it did run again
        (reply,) = world.slack.responses
        assert "find meeting times" in (reply.text or "")
