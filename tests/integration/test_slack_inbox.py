"""What Slack is told was received is a row first, processed from there once; an answer that
comes too late for the request's response_url goes to the person's DM; a row run again after
its process died does not answer again."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.slack.listeners import INBOX_JOB
from adapters.slack.transport import SlackTransport
from bot.worker import LEASE
from core.jobs import JobStatus, NewJob
from tests.adapters.slack.harness import CHANNEL, MENTOR, NOW, SlackWorld, slack_world
from tests.fakes import slack_requests as sr
from tests.integration.test_slack_booking import ask_for_times, button, meetings


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


class Crash(BaseException):
    """The process dying where it is raised: nothing after it runs, nothing catches it."""


async def test_a_row_run_again_after_its_process_died_does_not_answer_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A click on a time: the picker is replaced, then the process dies before the private
    messages leave. Once the row's lease runs out (the test's clock) it runs again: the
    picker's answer is not sent a second time, and the click books one meeting.

    The private messages that had not left do not go out either: core books a click once,
    and its second run's outcome holds none (a gap only an outbox of effects, stored with
    the booking, closes)."""
    async with slack_world(tmp_path) as world:
        picker = await ask_for_times(world)
        answered = len(world.slack.responses)

        async def dies(*_: object) -> None:
            raise Crash

        monkeypatch.setattr(SlackTransport, "direct", dies)
        pick = button(picker, "pt:pick:1")
        await world.post(
            sr.block_actions(
                world.secret, pick["action_id"], value=pick["value"], user_id=MENTOR,
                channel_id=CHANNEL, response_url=world.response_url(),
            )
        )  # fmt: skip
        with contextlib.suppress(Crash):
            await world.settle()
        replaced = world.slack.responses[answered:]
        assert [r.replace_original for r in replaced] == [True]
        assert world.dm(MENTOR) == []

        monkeypatch.undo()
        assert world.clock is not None
        world.clock.advance(LEASE + timedelta(seconds=1))
        await world.settle()

        rows = [s for s in await inbox_rows(world) if s[1] == 2]
        assert rows == [("done", 2, {"sent": ["answer"]})]  # it ran again, and knew
        assert world.slack.responses[answered:] == replaced  # not answered again
        assert await meetings(world) == 1


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
