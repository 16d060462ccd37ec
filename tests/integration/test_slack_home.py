"""The App Home tab through the running app: status, meetings, partners, help, admin rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.people import ChatIdentity, Person, Platform, Profile, ProgramId
from tests.adapters.slack.harness import (
    MENTEE,
    MENTOR,
    SlackWorld,
    buttons,
    slack_world,
    texts,
)
from tests.fakes import slack_requests as sr

PROGRAM = ProgramId("slack:T0PAIRTIME")


async def person(world: SlackWorld, user_id: str, name: str) -> Person:
    storage = world.running.storage
    await storage.programs.ensure(PROGRAM, "Pairtime Test")
    identity = ChatIdentity(Platform.SLACK, "T0PAIRTIME", user_id)
    return await storage.people.remember(PROGRAM, identity, Profile(name))


async def pair(world: SlackWorld) -> tuple[Person, Person]:
    mentor = await person(world, MENTOR, "Alex Kim")
    mentee = await person(world, MENTEE, "Maria Lopez")
    await world.running.storage.pairings.pair(PROGRAM, mentor.id, mentee.id)
    return mentor, mentee


async def open_home(world: SlackWorld, user: str = MENTOR) -> dict[str, Any]:
    await world.say(sr.event_callback(world.secret, sr.app_home_opened_event(user=user)))
    return world.slack.home_views[user]


async def test_home_shows_status_partners_and_help(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await pair(world)

        home = await open_home(world)

        assert home["type"] == "home"
        shown = texts(home["blocks"])
        assert "Your calendar is not connected." in shown
        assert "You have no upcoming meetings booked through Pairtime." in shown
        assert "*Maria Lopez* · your mentee" in shown
        assert "find a time with my mentee next week" in shown
        assert "Program rules" not in shown
        ids = {b["action_id"]: b for b in buttons(home["blocks"])}
        assert ids["pt:home:connect"]["text"]["text"] == "Connect a calendar"
        assert ids["pt:home:find:0"]["value"] == MENTEE


async def test_admins_also_see_the_program_rules(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        mentor, _ = await pair(world)
        await world.running.storage.programs.grant_admin(PROGRAM, mentor.id)

        shown = texts((await open_home(world))["blocks"])

        assert "Program rules" in shown
        assert "08:00 to 18:00, in each person's own time zone" in shown
        assert "You see these rules because you are an admin" in shown
        assert "Program rules" not in texts((await open_home(world, MENTEE))["blocks"])


async def test_home_lists_meetings_with_what_each_may_do_and_its_buttons_work(tmp_path: Path):
    """The home is "my meetings": each with Accept / Decline or Move / Cancel; a click there
    answers in the DM (cancelling asks first) and the home is drawn again."""
    async with slack_world(tmp_path) as world:
        await pair(world)
        await world.say(
            sr.slash_command(
                world.secret, text="find a time with my mentee next week",
                response_url=world.response_url(),
            )
        )  # fmt: skip
        pick = next(
            b
            for b in buttons(world.slack.responses[-1].body["blocks"])
            if b["action_id"] == "pt:pick:0"
        )
        await world.say(sr.block_actions(world.secret, pick["action_id"], value=pick["value"]))

        theirs = await open_home(world, MENTEE)
        shown = texts(theirs["blocks"])
        assert "*Mentoring: Alex Kim and Maria Lopez* · with Alex Kim" in shown
        assert "{date_short_pretty} {time}|Mon 30 Nov 14:00>" in shown  # 08:00 New York
        assert "Alex Kim proposes this time." in shown
        assert "*Alex Kim* · your mentor" in shown
        assert labels(theirs) >= {"Accept", "Decline", "Other times"}

        mine = await open_home(world, MENTOR)
        assert "Waiting for Maria Lopez." in texts(mine["blocks"])
        assert labels(mine) >= {"Move", "Cancel meeting"}
        cancel = next(b for b in buttons(mine["blocks"]) if b["text"]["text"] == "Cancel meeting")
        await world.say(
            sr.block_actions(
                world.secret, cancel["action_id"], value=cancel["value"], view=mine,
                user_id=MENTOR,
            )
        )  # fmt: skip
        asked = world.dm(MENTOR)[-1]
        assert asked.text.startswith("Cancel Mentoring: Alex Kim and Maria Lopez on Mon 30 Nov")
        assert "Move" in labels(world.slack.home_views[MENTOR])  # nothing changed yet
        sure = next(b for b in buttons(asked.blocks) if b["text"]["text"] == "Cancel meeting")
        await world.say(
            sr.block_actions(
                world.secret, sure["action_id"], value=sure["value"], user_id=MENTOR,
                channel_id=world.slack.dm_channel(MENTOR), response_url=world.response_url(),
            )
        )  # fmt: skip

        assert "You have no upcoming meetings booked through Pairtime." in texts(
            (await open_home(world, MENTEE))["blocks"]
        )
        assert "You have no upcoming meetings booked through Pairtime." in texts(
            (await open_home(world, MENTOR))["blocks"]
        )


def labels(view: dict[str, Any]) -> set[str]:
    return {b["text"]["text"] for b in buttons(view["blocks"])}


async def test_the_connect_button_sends_links_by_direct_message(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        home = await open_home(world)
        connect = next(b for b in buttons(home["blocks"]) if b["action_id"] == "pt:home:connect")

        await world.say(
            sr.block_actions(world.secret, connect["action_id"], view=home, user_id=MENTOR)
        )

        (message,) = world.dm(MENTOR)
        (link,) = buttons(message.blocks)
        assert link["text"]["text"] == "Connect iCloud"
        assert link["url"].startswith("http://127.0.0.1:3978/connect/icloud?state=")
        assert "I only read free/busy times" in message.text
        assert world.slack.count("views.publish") == 2  # opened, then refreshed after the click


async def test_other_tabs_publish_nothing(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await world.say(
            sr.event_callback(world.secret, sr.app_home_opened_event(user=MENTOR, tab="messages"))
        )

        assert world.slack.home_views == {}
