"""The "Find a time" shortcut: a modal, Slack's inline field errors, then the same picker."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tests.adapters.slack.harness import MENTEE, MENTOR, SlackWorld, buttons, slack_world
from tests.fakes import slack_requests as sr


def values(**changes: Any) -> dict[str, dict[str, Any]]:
    form: dict[str, dict[str, Any]] = {
        "people": {"users": {"type": "multi_users_select", "selected_users": [MENTEE]}},
        "duration": {"minutes": {"type": "static_select", "selected_option": {"value": "60"}}},
        "from": {"date": {"type": "datepicker", "selected_date": "2026-11-26"}},
        "until": {"date": {"type": "datepicker", "selected_date": "2026-11-27"}},
        "time_of_day": {"part": {"type": "static_select", "selected_option": {"value": "morning"}}},
    }
    form.update(changes)
    return form


async def open_modal(world: SlackWorld) -> dict[str, Any]:
    trigger = world.slack.issue_trigger_id()
    await world.say(sr.global_shortcut(world.secret, "pt_find_time", trigger=trigger))
    (call,) = world.slack.calls_to("views.open")
    assert call.args["trigger_id"] == trigger
    (view,) = world.slack.views.values()
    return view


async def test_the_shortcut_opens_the_form_in_the_persons_zone(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        world.slack.strict_triggers = True

        view = await open_modal(world)

        assert view["callback_id"] == "pt_find_time"
        assert view["title"]["text"] == "Find a time"
        blocks = {b.get("block_id"): b for b in view["blocks"]}
        # 10:00 UTC is 05:00 on Wednesday in New York: the form starts today there.
        assert blocks["from"]["element"]["initial_date"] == "2026-11-25"
        assert json.loads(view["private_metadata"]) == {"tz": "America/New_York"}


async def test_a_field_error_is_answered_inline_and_nothing_is_done(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        metadata = json.dumps({"tz": "America/New_York"})
        wrong = values(
            until={"date": {"type": "datepicker", "selected_date": "2026-11-24"}},
            people={"users": {"type": "multi_users_select", "selected_users": [MENTOR]}},
        )

        answer = await world.say(
            sr.view_submission(
                world.secret, "pt_find_time", values=wrong, private_metadata=metadata
            )
        )

        assert answer.status == 200
        assert json.loads(answer.text) == {
            "response_action": "errors",
            "errors": {
                "people": "Choose at least one person other than yourself.",
                "until": "That day has passed. Choose today or a later day.",
            },
        }
        # Only bolt's one check of the bot token: nothing was looked up, posted or opened.
        assert [call.method for call in world.slack.calls] == ["auth.test"]
        async with world.running.storage.database.transaction() as db:
            offers = (await db.execute(text("SELECT count(*) FROM slot_offers"))).scalar_one()
        assert offers == 0


async def test_a_valid_form_closes_and_the_picker_arrives_by_direct_message(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        metadata = json.dumps({"tz": "America/New_York"})

        answer = await world.say(
            sr.view_submission(
                world.secret, "pt_find_time", values=values(), private_metadata=metadata
            )
        )

        assert (answer.status, answer.text) == (200, "")
        (message,) = world.dm(MENTOR)
        assert message.text.startswith("Times for you and Maria Lopez")
        picks = [b for b in buttons(message.blocks) if b["action_id"].startswith("pt:pick:")]
        assert picks
        starts = []
        for block in message.blocks:
            if block.get("accessory") in picks:
                stamp = int(block["text"]["text"].split("^")[1])
                starts.append(datetime.fromtimestamp(stamp, UTC))
        # Mornings in New York (08:00 to 12:00, UTC-5), Thursday and Friday, an hour long;
        # Maria's 18:00 in Madrid ends them at 17:00 UTC.
        assert len(starts) == len(picks)
        assert {s.day for s in starts} == {26, 27}
        assert all(13 <= s.hour <= 16 for s in starts)
        assert "A meeting of 1 hour." in json.dumps(message.blocks)


async def test_find_a_time_on_app_home_opens_the_form_with_the_partner(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        home = {"id": "V0HOME", "type": "home", "blocks": []}

        await world.say(sr.block_actions(world.secret, "pt:home:find:0", value=MENTEE, view=home))

        (view,) = world.slack.views.values()
        people = next(b for b in view["blocks"] if b.get("block_id") == "people")
        assert people["element"]["initial_users"] == [MENTEE]
