"""Asking Pairtime in Slack, through the running app: a slash command, a mention, a DM.

Requests are signed as Slack signs them and sent over HTTP to `/slack/events`; what the
bot sends back is read from the fake Slack Web API it talks to.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.adapters.slack.harness import (
    CHANNEL,
    MENTEE,
    MENTOR,
    NO_ZONE,
    buttons,
    slack_world,
    texts,
)
from tests.fakes import slack_requests as sr

FIND = f"find a time with <@{MENTEE}|maria> next week"


def picks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in buttons(blocks) if b["action_id"].startswith("pt:pick:")]


async def test_a_slash_command_acknowledges_at_once_and_answers_privately(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        slack_answers = world.slack.hold("users.info", "response")
        answer = await world.post(
            sr.slash_command(world.secret, text=FIND, response_url=world.response_url())
        )
        # Acknowledged while the work still waits on Slack: the ack never waits for it.
        assert (answer.status, answer.text) == (200, "")
        assert world.slack.responses == []
        slack_answers.set()
        await world.settle()

        (reply,) = world.slack.responses
        assert reply.response_type == "ephemeral"
        assert not reply.replace_original
        assert reply.text is not None
        assert reply.text.startswith("Times for you and Maria Lopez")
        assert len(picks(reply.body["blocks"])) == 8
        assert "A meeting of 30 minutes." in texts(reply.body["blocks"])
        # Both people were looked up in Slack: the speaker and the person mentioned.
        looked_up = {call.args["user"] for call in world.slack.calls_to("users.info")}
        assert looked_up == {MENTOR, MENTEE}
        assert world.slack.messages == []


async def test_the_picker_shows_times_in_the_requesters_zone(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await world.say(
            sr.slash_command(world.secret, text=FIND, response_url=world.response_url())
        )

        first = picks(world.slack.responses[0].body["blocks"])[0]
        row = next(
            b for b in world.slack.responses[0].body["blocks"] if b.get("accessory") == first
        )
        # Alex is in New York: the first time is 08:00 there (13:00 UTC), Monday of next week.
        assert row["text"]["text"].startswith("<!date^1796043600^{time}|08:00>")


async def test_a_mention_answers_only_the_requester_in_the_thread(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        event = sr.app_mention_event(FIND, thread_ts="1764064700.000050")
        answer = await world.say(sr.event_callback(world.secret, event))

        assert answer.status == 200
        (ephemeral,) = world.slack.ephemeral
        assert (ephemeral["channel"], ephemeral["user"]) == (CHANNEL, MENTOR)
        assert ephemeral["text"].startswith("Times for you and Maria Lopez")
        assert len(picks(ephemeral["blocks"])) == 8
        (call,) = world.slack.calls_to("chat.postEphemeral")
        assert call.args["thread_ts"] == "1764064700.000050"
        assert world.slack.messages == []


async def test_a_direct_message_is_answered_in_the_direct_message(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await world.say(sr.event_callback(world.secret, sr.message_im_event(FIND)))

        (message,) = world.dm(MENTOR)
        assert message.text.startswith("Times for you and Maria Lopez")
        assert len(picks(message.blocks)) == 8
        assert world.slack.ephemeral == []


async def test_a_slash_command_in_the_bots_dm_posts_there(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        dm = world.slack.dm_channel(MENTOR)
        await world.say(
            sr.slash_command(
                world.secret,
                text="help",
                channel_id=dm,
                channel_name="directmessage",
                response_url=world.response_url(),
            )
        )

        (message,) = world.dm(MENTOR)
        assert "find a time with my mentee next week" in texts(message.blocks)
        assert world.slack.responses == []


async def test_help_and_anything_not_understood_answer_with_examples(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        for words in ("help", "", "what is the meaning of life"):
            await world.say(
                sr.slash_command(world.secret, text=words, response_url=world.response_url())
            )

        answers = [texts(reply.body["blocks"]) for reply in world.slack.responses]
        assert len(answers) == 3
        assert all("find a time with my mentee next week" in answer for answer in answers)
        assert "I didn't catch what you'd like to do." in answers[2]
        assert all("Traceback" not in answer for answer in answers)


async def test_without_a_slack_time_zone_the_assumed_zone_is_named(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await world.open_to_all()  # Noor is not Maria's partner
        await world.say(
            sr.slash_command(
                world.secret, text=FIND, user_id=NO_ZONE, response_url=world.response_url()
            )
        )

        (reply,) = world.slack.responses
        assert "Times are shown in UTC, because your chat profile has no time zone." in texts(
            reply.body["blocks"]
        )


async def test_a_mention_of_someone_slack_does_not_know_is_explained(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await world.say(
            sr.slash_command(
                world.secret, text="find a time with <@U0GHOST>", response_url=world.response_url()
            )
        )

        (reply,) = world.slack.responses
        assert "I don't know the person you mentioned yet" in (reply.text or "")


async def test_a_resent_event_gets_no_second_answer(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        event = sr.message_im_event(FIND)
        first = sr.event_callback(world.secret, event, event_id_="Ev0RESENT")
        again = sr.event_callback(world.secret, event, event_id_="Ev0RESENT", retry_num=1)
        answers = await asyncio.gather(world.post(first), world.post(again))
        later = await world.post(
            sr.event_callback(world.secret, event, event_id_="Ev0RESENT", retry_num=2)
        )
        await world.settle()

        assert [a.status for a in (*answers, later)] == [200, 200, 200]
        assert len(world.dm(MENTOR)) == 1
        async with world.running.storage.database.transaction() as db:
            offers = (await db.execute(text("SELECT count(*) FROM slot_offers"))).scalar_one()
            kept = await db.execute(text("SELECT key FROM jobs WHERE kind = 'slack.inbox'"))
            seen = (await db.execute(text("SELECT count(*) FROM processed_events"))).scalar_one()
        assert offers == 1
        assert kept.scalars().all() == ["slack.inbox:Ev0RESENT"]  # one row, whoever kept it
        assert seen == 0  # the inbox's row is the record: no second one


async def test_a_bad_signature_is_refused_with_401_and_nothing_is_done(tmp_path: Path):
    async with slack_world(tmp_path, paired=False) as world:
        forged = sr.slash_command("not-the-signing-secret", text=FIND)
        tampered = sr.event_callback(world.secret, sr.message_im_event(FIND))
        tampered = sr.SlackRequest(
            tampered.body.replace("find a time", "find a TIME"), tampered.headers, tampered.data
        )

        answers = [await world.post(forged), await world.post(tampered)]
        await world.settle()

        assert [a.status for a in answers] == [401, 401]
        assert world.slack.calls == []
        async with world.running.storage.database.transaction() as db:
            people = (await db.execute(text("SELECT count(*) FROM people"))).scalar_one()
            events = (await db.execute(text("SELECT count(*) FROM processed_events"))).scalar_one()
        assert (people, events) == (0, 0)


async def test_a_request_older_than_five_minutes_is_refused(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        stale = int(time.time()) - 6 * 60
        answers = [
            await world.post(sr.slash_command(world.secret, text=FIND, timestamp=stale)),
            await world.post(
                sr.event_callback(world.secret, sr.message_im_event(FIND), timestamp=stale)
            ),
        ]
        await world.settle()

        assert [a.status for a in answers] == [401, 401]
        assert world.slack.calls == []


async def test_only_posts_reach_slacks_endpoint(tmp_path: Path):
    (tmp_path / "again").mkdir()
    async with (
        slack_world(tmp_path) as world,
        world.session.get(world.running.base_url + "/slack/events") as reply,
    ):
        assert reply.status == 405
    async with (
        slack_world(tmp_path / "again") as world,
        world.session.get(world.running.base_url + "/slack/install") as reply,
    ):
        assert reply.status == 404  # one workspace, by bot token: nothing to install


async def test_url_verification_answers_the_challenge(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        answer = await world.post(sr.url_verification(world.secret, challenge="abc123"))

        assert answer.status == 200
        assert "abc123" in answer.text


async def test_a_failure_is_apologised_for_and_logged_by_code_without_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    async with slack_world(tmp_path) as world:
        # The answer fails, and so does its second way (the DM): the apology comes third.
        world.slack.fail("chat.postMessage", "not_in_channel", times=2)

        with caplog.at_level(logging.INFO, logger="adapters.slack"):
            await world.say(sr.event_callback(world.secret, sr.message_im_event(FIND)))

        (apology,) = world.dm(MENTOR)
        assert apology.text == "Something went wrong on my side; please try again in a moment."
        assert "Slack refused a call: not_in_channel" in caplog.text
        assert world.slack.bot_token not in caplog.text
        assert "find a time" not in caplog.text
