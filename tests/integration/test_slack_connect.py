"""Connecting a calendar from Slack, end to end: the link button in a DM, the iCloud form
(against a real CalDAV server), the confirmation DM, then times that respect the calendar,
App Home's status, and disconnecting from App Home."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from tests.adapters.slack.harness import (
    CHANNEL,
    MENTEE,
    MENTOR,
    SlackWorld,
    buttons,
    slack_world,
    texts,
)
from tests.caldav_server import add_calendar, radicale_server
from tests.fakes import slack_requests as sr

APPLE_ID = "alex@icloud.example"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
PUBLIC = "http://127.0.0.1:3978"  # PAIRTIME_BASE_URL's default: what links point at
# Busy on Thursday 26 November, 14:00 to 15:00 UTC (09:00 to 10:00 in New York).
MEETING = """BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:m@t\r
DTSTAMP:20261101T000000Z\r\nSUMMARY:Private thing\r\nDTSTART:20261126T140000Z\r
DTEND:20261126T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"""


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    with radicale_server(tmp_path, {APPLE_ID: APP_PASSWORD}) as server:
        add_calendar(server.url, APPLE_ID, APP_PASSWORD, "Home", [MEETING])
        async with slack_world(tmp_path, caldav_url=server.url) as running:
            yield running


def link_of(blocks: list[dict[str, Any]]) -> str:
    (link,) = [b for b in buttons(blocks) if "url" in b]
    assert link["text"]["text"] == "Connect iCloud"
    assert link["action_id"].startswith("pt:link:")
    return str(link["url"])


async def connect_in_browser(world: SlackWorld, url: str) -> str:
    """Open the link as a browser would, fill in the form; returns the final page's text."""
    assert url.startswith(f"{PUBLIC}/connect/icloud?state=")
    address = world.running.base_url + url.removeprefix(PUBLIC)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(address) as page:
            assert page.status == 200
            form = await page.text()
        found = re.search(r'name="state" value="([^"]+)"', form)
        assert found is not None
        async with browser.post(
            f"{world.running.base_url}/connect/icloud",
            data={"state": found.group(1), "apple_id": APPLE_ID, "password": APP_PASSWORD},
        ) as done:
            assert done.status == 200
            return html.unescape(await done.text())


async def test_connect_from_a_dm_then_times_respect_the_calendar(world: SlackWorld):
    await world.say(
        sr.event_callback(world.secret, sr.message_im_event("connect my icloud calendar"))
    )
    (prompt,) = world.dm(MENTOR)

    page = await connect_in_browser(world, link_of(prompt.blocks))

    assert "Your iCloud calendar is connected" in page
    confirmation = world.dm(MENTOR)[-1]
    assert confirmation.text.startswith("Your iCloud calendar (a•••@icloud.example) is connected.")
    async with world.running.storage.database.transaction() as db:
        secret = (await db.execute(text("SELECT secret FROM calendar_connections"))).scalar_one()
    assert APP_PASSWORD not in secret

    await world.say(
        sr.slash_command(
            world.secret,
            text=f"find an hour with <@{MENTEE}> on thursday morning",
            response_url=world.response_url(),
        )
    )
    picker = world.slack.responses[-1].body["blocks"]
    shown = texts(picker)
    assert "Alex Kim" not in shown  # the requester is "you"
    assert "You haven't connected a calendar" not in shown
    assert "Maria Lopez hasn't connected a calendar" in shown
    starts = re.findall(r"<!date\^(\d+)\^\{time\}\|(\d\d:\d\d)> \u2013", shown)
    assert starts  # times in New York
    busy, free = datetime(2026, 11, 26, 14, tzinfo=UTC), datetime(2026, 11, 26, 15, tzinfo=UTC)
    assert (str(int(busy.timestamp())), "09:00") not in starts  # busy in the calendar
    assert (str(int(free.timestamp())), "10:00") in starts  # free again when it ends
    assert ("1795698000", "08:00") in starts  # and before it


async def test_a_slash_command_sends_the_links_privately(world: SlackWorld):
    await world.say(
        sr.slash_command(
            world.secret, text="connect my calendar", response_url=world.response_url()
        )
    )

    (answer,) = world.slack.responses
    assert answer.text == "I've sent you a private message with the links to connect your calendar."
    assert answer.response_type == "ephemeral"
    (prompt,) = world.dm(MENTOR)
    assert link_of(prompt.blocks).startswith(f"{PUBLIC}/connect/icloud?state=")
    assert world.slack.messages_in(CHANNEL) == []


async def test_app_home_shows_the_connection_and_disconnects_it(world: SlackWorld):
    await world.say(sr.event_callback(world.secret, sr.message_im_event("connect my calendar")))
    await connect_in_browser(world, link_of(world.dm(MENTOR)[0].blocks))

    await world.say(sr.event_callback(world.secret, sr.app_home_opened_event(user=MENTOR)))
    home = world.slack.home_views[MENTOR]
    assert "Your iCloud calendar (a•••@icloud.example) is connected." in texts(home["blocks"])
    disconnect = next(b for b in buttons(home["blocks"]) if b["action_id"] == "pt:disconnect")
    assert disconnect["confirm"]["confirm"]["text"] == "Disconnect"

    await world.say(
        sr.block_actions(
            world.secret, disconnect["action_id"], value=disconnect["value"], view=home
        )
    )

    assert world.dm(MENTOR)[-1].text.startswith("Your iCloud calendar is disconnected")
    refreshed = world.slack.home_views[MENTOR]
    assert "Your calendar is not connected." in texts(refreshed["blocks"])
    async with world.running.storage.database.transaction() as db:
        rows = (await db.execute(text("SELECT count(*) FROM calendar_connections"))).scalar_one()
    assert rows == 0
