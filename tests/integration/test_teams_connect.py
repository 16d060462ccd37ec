"""Connecting a calendar from Teams, end to end: the card's link, the iCloud form against a
real CalDAV server, and the confirmation reaching Teams as a proactive message."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import aiohttp

from adapters.calendars.config import CalendarSettings
from core.calendars import ConnectionStatus
from core.commands import Provider
from core.privacy import masked
from tests.adapters.teams import card_reading
from tests.adapters.teams.harness import PROGRAM, teams_app
from tests.caldav_server import add_calendar, radicale_server
from tests.fakes import teams_activities as ta
from tests.support import PROVIDER_TIMEOUT

APPLE_ID = "alex@icloud.example"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
MEETING = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:m@t\r\n"
    "DTSTAMP:20261101T000000Z\r\nSUMMARY:Private thing\r\nDTSTART:20261125T150000Z\r\n"
    "DTEND:20261125T160000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def open_urls(card: dict[str, Any]) -> list[dict[str, Any]]:
    return card_reading.of_type(card, "Action.OpenUrl")


async def test_connect_an_icloud_calendar_from_a_personal_chat(tmp_path: Path):
    with radicale_server(tmp_path, {APPLE_ID: APP_PASSWORD}) as server:
        add_calendar(server.url, APPLE_ID, APP_PASSWORD, "Home", [MEETING])
        calendars = CalendarSettings(caldav_url=server.url, timeout_seconds=PROVIDER_TIMEOUT)
        async with teams_app(tmp_path, calendars=calendars) as teams:
            chat = ta.personal_chat_id(ta.ALEX)
            status, _ = await teams.post(
                ta.personal_message("connect my calendar", service_url=teams.service_url)
            )
            (prompt,) = await teams.sent_to(chat)
            (link,) = open_urls(prompt.adaptive_cards[0])

            assert status == 202
            assert link["title"] == "Connect iCloud"
            path = link["url"].removeprefix("http://127.0.0.1:3978")
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
                async with browser.get(teams.running.base_url + path) as page:
                    assert page.status == 200
                    form = html.unescape(await page.text())
                assert "For Alex Kim (Microsoft Teams)." in form
                state = re.search(r'name="state" value="([^"]+)"', form)
                assert state is not None
                async with browser.post(
                    f"{teams.running.base_url}/connect/icloud",
                    data={"state": state.group(1), "apple_id": APPLE_ID, "password": APP_PASSWORD},
                ) as done:
                    assert done.status == 200
                    assert "Your iCloud calendar is connected" in await done.text()

            (_, confirmation) = await teams.sent_to(chat, 2)
            person = await teams.running.storage.people.by_chat_user(PROGRAM, ta.ALEX.aad_object_id)
            assert person is not None
            connection = await teams.running.storage.connections.get(person.id)
            assert connection is not None
            assert (connection.provider, connection.status) == (
                Provider.ICLOUD,
                ConnectionStatus.CONNECTED,
            )
            # a message Pairtime sent first: a new message in the personal chat, not a reply
            assert confirmation.kind == "send"
            assert confirmation.reply_to_id is None
            (card,) = confirmation.adaptive_cards
            assert card["body"][0]["text"].startswith(
                f"Your iCloud calendar ({masked(APPLE_ID)}) is connected."
            )
            assert APP_PASSWORD not in str(teams.connector.received)

            # and the calendar now counts: "status" says so
            await teams.post(ta.personal_message("status", service_url=teams.service_url))
            (*_, status_reply) = await teams.sent_to(chat, 3)
            assert status_reply.adaptive_cards[0]["body"][0]["text"] == (
                f"Your iCloud calendar ({masked(APPLE_ID)}) is connected."
            )


async def test_asking_to_connect_in_a_channel_answers_privately(tmp_path: Path):
    async with teams_app(tmp_path) as teams:
        status, _ = await teams.post(
            ta.channel_message("connect my calendar", service_url=teams.service_url, mentioned=None)
        )
        (public,) = await teams.sent_to(ta.CHANNEL_ID)
        (private,) = await teams.sent_to(ta.personal_chat_id(ta.ALEX))

        assert status == 202
        assert not open_urls(public.adaptive_cards[0])
        assert "private message" in public.adaptive_cards[0]["body"][0]["text"]
        assert [a["title"] for a in open_urls(private.adaptive_cards[0])] == ["Connect iCloud"]
        assert private.kind == "send"
