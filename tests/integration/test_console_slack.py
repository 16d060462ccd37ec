"""Signing in to the admin console from Slack, through the running app and FakeSlack: the
App Home's "Open the admin console" and "admin" in a DM answer an admin with a link that
signs them in; anyone else is told they are not an admin."""

from __future__ import annotations

from pathlib import Path

from core.commands import Provider
from core.people import ChatIdentity, Platform, Profile, ProgramId
from tests.adapters.slack.harness import (
    MENTEE,
    MENTOR,
    NOW,
    SlackWorld,
    buttons,
    slack_world,
    texts,
)
from tests.console import browser, local, open_link
from tests.fakes import slack_requests as sr

PROGRAM = ProgramId("slack:T0PAIRTIME")


async def admin(world: SlackWorld) -> None:
    storage = world.running.storage
    await storage.programs.ensure(PROGRAM, "Pairtime Test")
    identity = ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTOR)
    person = await storage.people.remember(PROGRAM, identity, Profile("Alex Kim"))
    await storage.programs.grant_admin(PROGRAM, person.id)


async def test_the_app_home_button_sends_an_admin_a_link_that_signs_them_in(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await admin(world)
        await world.say(sr.event_callback(world.secret, sr.app_home_opened_event(user=MENTOR)))
        home = world.slack.home_views[MENTOR]
        assert "Admin console" in texts(home["blocks"])
        console = next(b for b in buttons(home["blocks"]) if b["action_id"] == "pt:home:console")
        assert console["text"]["text"] == "Open the admin console"

        await world.say(
            sr.block_actions(world.secret, console["action_id"], view=home, user_id=MENTOR)
        )

        (message,) = world.dm(MENTOR)
        (link,) = buttons(message.blocks)
        assert link["text"]["text"] == "Open the admin console"
        assert "/console/sign-in?token=" in link["url"]
        async with browser() as session:
            answer = await open_link(session, local(world.running, link["url"]))
            assert answer.status == 200
            assert "Alex Kim" in await answer.text()

        await world.say(sr.event_callback(world.secret, sr.app_home_opened_event(user=MENTEE)))
        assert "pt:home:console" not in texts(world.slack.home_views[MENTEE]["blocks"])


async def test_admin_said_in_a_dm_answers_admins_only(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await admin(world)
        for user in (MENTOR, MENTEE):
            await world.say(
                sr.event_callback(
                    world.secret,
                    sr.message_im_event(
                        text="admin", user=user, channel=world.slack.dm_channel(user)
                    ),
                )
            )
        mine = world.dm(MENTOR)[-1]
        assert "/console/sign-in?token=" in buttons(mine.blocks)[0]["url"]
        theirs = world.dm(MENTEE)[-1]
        assert "not an admin" in theirs.text
        assert not buttons(theirs.blocks or [])


async def test_status_of_someone_is_for_admins_and_shows_no_calendar_content(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await admin(world)
        storage = world.running.storage
        maria = await storage.people.remember(
            PROGRAM, ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTEE), Profile("Maria Lopez")
        )
        await storage.connections.replace(
            maria.id, Provider.GOOGLE, "maria@gmail.example", {"token": "t0ps3cret"}, NOW
        )
        await storage.connections.synced({maria.id: 0}, NOW)
        asked = f"status of <@{MENTEE}>"
        for user in (MENTOR, MENTEE):
            await world.say(
                sr.event_callback(
                    world.secret,
                    sr.message_im_event(
                        text=asked, user=user, channel=world.slack.dm_channel(user)
                    ),
                )
            )
        answer = world.dm(MENTOR)[-1].text
        assert answer.startswith("Maria Lopez: connected with Google; last read Wed 25 Nov")
        assert "t0ps3cret" not in answer
        assert "maria@gmail.example" not in answer
        assert "Only the program's admins" in world.dm(MENTEE)[-1].text
