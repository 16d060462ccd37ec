"""A group poll in Slack: a private draft, a time added with a date-time field, the poll posted
in the channel for everyone, and votes updating that one message."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from core.people import ChatIdentity, Platform, ProgramId
from storage.repositories.people import ChatProfile
from tests.adapters.slack.harness import (
    CHANNEL,
    MENTEE,
    MENTOR,
    STRANGER,
    SlackWorld,
    buttons,
    slack_world,
    texts,
)
from tests.fakes import slack_requests as sr

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
                program, ChatIdentity(Platform.SLACK, "T0PAIRTIME", user), ChatProfile(name)
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
