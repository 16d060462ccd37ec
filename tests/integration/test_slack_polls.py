"""A group poll in Slack: a private draft, a time added with a date-time field, the poll posted
in the channel for everyone, and votes updating that one message."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from core.people import ChatIdentity, Platform, Profile, ProgramId
from tests.adapters.slack.harness import (
    CHANNEL,
    MENTEE,
    MENTOR,
    NO_ZONE,
    STRANGER,
    SlackWorld,
    buttons,
    people,
    slack_world,
    texts,
)
from tests.fakes import slack_requests as sr
from tests.fakes.slack import FakeSlack

POLL = f"poll <@{MENTEE}> and <@{STRANGER}> for an hour next week"


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    return next(b for b in buttons(blocks) if b["action_id"] == action_id)


async def press(world: SlackWorld, element: dict[str, Any], *, user: str = MENTOR) -> None:
    await world.say(
        sr.block_actions(
            world.secret,
            element["action_id"],
            value=element["value"],
            user_id=user,
            response_url=world.response_url(),
        )
    )


async def test_a_poll_is_drafted_privately_posted_for_everyone_and_updated_by_votes(
    tmp_path: Path,
):
    async with slack_world(tmp_path) as world:
        await world.open_to_all()  # Sam is nobody's partner
        await world.say(
            sr.slash_command(world.secret, text=POLL, response_url=world.response_url())
        )
        draft = world.slack.responses[-1]
        assert draft.response_type == "ephemeral"
        assert "draft, only you see it" in texts(draft.body["blocks"])
        field = next(
            b for b in draft.body["blocks"] if b["type"] == "actions" and b.get("block_id")
        )

        # The organiser adds Tuesday 14:00 UTC (09:00 in New York) with the date-time field.
        added = datetime(2026, 12, 1, 14, tzinfo=UTC)
        payload = sr.block_actions_payload(
            "pt:time",
            block_id=field["block_id"],
            action_type="datetimepicker",
            response_url=world.response_url(),
        )
        payload["actions"][0]["selected_date_time"] = int(added.timestamp())
        await world.say(sr.interactivity(world.secret, payload))
        edited = world.slack.responses[-1]
        assert edited.replace_original
        assert f"<!date^{int(added.timestamp())}^" in texts(edited.body["blocks"])

        await press(world, button(edited.body["blocks"], "pt:poll:post"))
        assert (world.slack.responses[-1].text or "").startswith("Your poll is posted")
        (posted,) = world.slack.messages_in(CHANNEL)
        assert "1 hour" in texts(posted.blocks)
        async with world.running.storage.database.transaction() as db:
            where = (await db.execute(text("SELECT message FROM polls"))).scalar_one()
        stored = where if isinstance(where, dict) else json.loads(where)
        assert stored == {"channel": CHANNEL, "ts": posted.ts}  # where votes will update it

        await press(world, button(posted.blocks, "pt:poll:yes:1"), user=MENTEE)

        assert world.slack.count("chat.update") == 1
        (poll_message,) = world.slack.messages_in(CHANNEL)
        assert len(poll_message.edits) == 1
        assert "1 yes" in texts(poll_message.blocks)


async def test_a_poll_asked_for_in_a_dm_is_posted_in_the_circles_channel(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        storage = world.running.storage
        program = ProgramId("slack:T0PAIRTIME")
        await storage.programs.ensure(program, "Pairtime Test")
        members = [
            await storage.people.remember(
                program, ChatIdentity(Platform.SLACK, "T0PAIRTIME", user), Profile(name)
            )
            for user, name in ((MENTOR, "Alex Kim"), (MENTEE, "Maria Lopez"), (STRANGER, "Sam"))
        ]
        await storage.groups.create(program, "Circle", [m.id for m in members], channel=CHANNEL)

        await world.say(
            sr.event_callback(
                world.secret, sr.message_im_event("poll my circle for an hour next week")
            )
        )
        (draft,) = world.dm(MENTOR)
        await press(world, button(draft.blocks, "pt:poll:post"))

        (posted,) = world.slack.messages_in(CHANNEL)
        assert posted.text == "Circle"
        assert "A meeting of 1 hour, proposed by Alex Kim. 3 invited" in texts(posted.blocks)
        assert len(world.dm(MENTOR)) == 1  # the draft only: the poll is for everyone


# ---------------------------------------------------------------------- a channel, no circle

ANYONE_HERE = "poll for an hour next week"
PAIRTIME_USER, GONE = "U0PAIRBOT", "U0GONE"


def channel_with_apps() -> FakeSlack:
    """The harness's people, and in the channel also Pairtime itself, another app and a
    deactivated account, as conversations.members lists them."""
    slack = FakeSlack()
    people(slack)
    slack.add_user(PAIRTIME_USER, name="pairtime", real_name="Pairtime", is_bot=True)
    slack.add_user(GONE, name="gone", real_name="Gone Person")
    slack.users[GONE].deleted = True
    slack.channels[CHANNEL]["members"] += [PAIRTIME_USER, "U0ROBOT", GONE]
    return slack


async def ask_here(world: SlackWorld) -> str:
    """The organiser asks in the channel with /pairtime; the (ephemeral) answer's text."""
    await world.say(
        sr.slash_command(world.secret, text=ANYONE_HERE, response_url=world.response_url())
    )
    answer = world.slack.responses[-1]
    assert answer.response_type == "ephemeral"
    return texts(answer.body.get("blocks") or []) + (answer.text or "")


async def test_a_poll_in_a_channel_without_a_circle_invites_its_people(tmp_path: Path):
    async with slack_world(tmp_path, fake=channel_with_apps()) as world:
        draft = await ask_here(world)
        assert "Meeting with Alex Kim* (draft, only you see it)" in draft
        invited = draft.split("A meeting of 1 hour with ", 1)[1].split(";", 1)[0]
        assert sorted(invited.replace(" and ", ", ").split(", ")) == [
            "Alex Kim",
            "Maria Lopez",
            "Noor Haddad",
            "Sam Stone",
        ]
        for nobody in ("Pairtime", "Robot", "Gone Person"):
            assert nobody not in draft
        (listed,) = world.slack.calls_to("conversations.members")
        assert listed.args["channel"] == CHANNEL

        await press(world, button(world.slack.responses[-1].body["blocks"], "pt:poll:post"))
        (posted,) = world.slack.messages_in(CHANNEL)
        assert "proposed by Alex Kim. 4 invited" in texts(posted.blocks)
        await press(world, button(posted.blocks, "pt:poll:yes:1"), user=NO_ZONE)
        assert (world.slack.responses[-1].text or "").startswith("You voted “yes”")


async def test_a_channel_too_large_for_a_poll_gets_a_friendly_answer(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        members = world.slack.channels[CHANNEL]["members"]
        # 55 people: each looked up, then too many for core (50, the organiser included)
        for n in range(51):
            world.slack.add_user(f"U1{n:04d}", name=f"member{n}", real_name=f"Member {n}")
            members.append(f"U1{n:04d}")
        said = await ask_here(world)
        assert "This channel has 55 members, and a poll can invite at most 50 people" in said
        assert "ask your program admin to link a circle to this channel" in said

        # 1,014 ids: two pages, counted, and nobody looked up
        members += [f"U2{n:04d}" for n in range(959)]
        looked_up = world.slack.count("users.info")
        said = await ask_here(world)
        assert "This channel has 1,014 members" in said
        pages = world.slack.calls_to("conversations.members")[1:]
        assert [bool(p.args.get("cursor")) for p in pages] == [False, True]
        assert world.slack.count("users.info") == looked_up
        async with world.running.storage.database.reading() as db:
            assert (await db.execute(text("SELECT count(*) FROM polls"))).scalar_one() == 0


@pytest.mark.parametrize("error", ["missing_scope", "not_in_channel", "channel_not_found"])
async def test_a_channel_slack_will_not_list_leaves_the_question_whom_to_invite(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, error: str
):
    caplog.set_level(logging.INFO)
    async with slack_world(tmp_path) as world:
        world.slack.fail("conversations.members", error, needed="channels:read")
        said = await ask_here(world)
        assert "Who should I invite?" in said
        assert world.slack.count("users.info") == 1  # the organiser only
    (line,) = [r.getMessage() for r in caplog.records if "conversations.members" in r.getMessage()]
    assert line == f"conversations.members failed in T0PAIRTIME: {error}"
    assert world.slack.bot_token not in caplog.text
