"""Connecting an iCloud calendar through the running app, against a real CalDAV server."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from adapters.calendars.config import CalendarSettings
from bot.settings import load_settings
from core.calendars import BusyTimes, ConnectionStatus
from core.commands import Provider
from core.people import ChatIdentity, Person, Platform, Profile, ProgramId
from core.privacy import masked
from core.program import ProgramSettings
from core.time import Interval
from core.views import ConnectionStatusView, Notice
from tests.caldav_server import add_calendar, radicale_server
from tests.memory import FixedClock, RecordingMessenger
from tests.support import PROVIDER_TIMEOUT, AppUnderTest, running_app

APPLE_ID = "ana@icloud.example"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
MALLORY_ID = "mallory@icloud.example"
MALLORY_PASSWORD = "wxyz-wxyz-wxyz-wxyz"
PROGRAM = ProgramId("slack:T1")
IDENTITY = ChatIdentity(Platform.SLACK, "T1", "UANA")
NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
PUBLIC = "http://127.0.0.1:3978"
MEETING = """BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:m@t\r
DTSTAMP:20261101T000000Z\r\nSUMMARY:Private thing\r\nDTSTART:20261126T140000Z\r
DTEND:20261126T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"""


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[AppUnderTest, RecordingMessenger, FixedClock]]:
    with radicale_server(
        tmp_path, {APPLE_ID: APP_PASSWORD, MALLORY_ID: MALLORY_PASSWORD}
    ) as server:
        add_calendar(server.url, APPLE_ID, APP_PASSWORD, "Home", [MEETING])
        settings = replace(
            load_settings({}, dotenv_path=None),
            calendars=CalendarSettings(caldav_url=server.url, timeout_seconds=PROVIDER_TIMEOUT),
        )
        clock = FixedClock(NOW)
        async with running_app(settings, tmp_path, clock=clock) as running:
            messenger = RecordingMessenger()
            running.services.messengers.register(Platform.SLACK, messenger)
            yield running, messenger, clock


async def ana(running: AppUnderTest) -> Person:
    await running.storage.programs.ensure(PROGRAM, "Program")
    return await running.storage.people.remember(PROGRAM, IDENTITY, Profile("Ana Lima"))


def browser() -> aiohttp.ClientSession:
    # A cookie jar that accepts cookies from 127.0.0.1, as a browser does for any host.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def read(response: aiohttp.ClientResponse) -> str:
    """A page's text as a person reads it (entities decoded)."""
    return html.unescape(await response.text())


def state_of(page: str) -> str:
    found = re.search(r'name="state" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def test_connect_check_and_disconnect_an_icloud_calendar(app):
    running, messenger, _ = app
    person = await ana(running)
    link = await running.services.links.link(IDENTITY, person.id, Provider.ICLOUD)
    assert link.startswith("http://127.0.0.1:3978/connect/icloud?state=")
    path = link.removeprefix("http://127.0.0.1:3978")

    async with browser() as session:
        async with session.get(running.base_url + path) as page:
            assert page.status == 200
            html = await page.text()
        assert "Connect your iCloud calendar" in html
        assert "For Ana Lima (Slack)." in html
        assert "Never enter your Apple ID password here" in html
        form = {"state": state_of(html), "apple_id": APPLE_ID}

        async with session.post(
            f"{running.base_url}/connect/icloud", data={**form, "password": "wrong"}
        ) as refused:
            assert refused.status == 400
            assert "iCloud did not accept that Apple ID" in await read(refused)
        assert await running.storage.connections.get(person.id) is None

        async with session.post(
            f"{running.base_url}/connect/icloud", data={**form, "password": APP_PASSWORD}
        ) as done:
            assert done.status == 200
            page_text = await done.text()
        assert "Your iCloud calendar is connected" in page_text
        assert APP_PASSWORD not in page_text

        async with session.post(
            f"{running.base_url}/connect/icloud", data={**form, "password": APP_PASSWORD}
        ) as again:
            assert again.status == 410
            assert "This link was already used" in await read(again)

    summary = await running.storage.connections.get(person.id)
    assert summary is not None
    assert (summary.provider, summary.account, summary.status) == (
        Provider.ICLOUD,
        masked(APPLE_ID),  # sealed at rest; statuses show it masked
        ConnectionStatus.CONNECTED,
    )
    async with running.storage.database.transaction() as db:
        stored = (await db.execute(text("SELECT secret FROM calendar_connections"))).scalar_one()
    assert APP_PASSWORD not in stored
    assert APPLE_ID not in stored

    ((program, outcome),) = messenger.deliveries
    assert program == PROGRAM
    (message,) = outcome.direct
    assert message.person == person.id
    assert isinstance(message.view, Notice)
    assert message.view.text.startswith("Your iCloud calendar (a•••@icloud.example) is connected.")

    week = Interval(NOW, NOW + timedelta(days=7))
    busy = await running.services.reader.busy_times([person.id], week)
    result = busy[person.id]
    assert isinstance(result, BusyTimes)
    assert [(b.start.hour, b.end.hour) for b in result.intervals] == [(14, 15)]

    ctx = await running.services.scheduler.context(PROGRAM, person, IDENTITY)
    status = (await running.services.scheduler.status(ctx)).reply
    assert isinstance(status, ConnectionStatusView)
    assert status.text == "Your iCloud calendar (a•••@icloud.example) is connected."
    removed = await running.services.scheduler.disconnect(ctx)
    assert isinstance(removed.reply, Notice)
    assert await running.storage.connections.get(person.id) is None
    async with running.storage.database.transaction() as db:
        rows = (await db.execute(text("SELECT count(*) FROM calendar_connections"))).scalar_one()
    assert rows == 0


async def test_bad_links_show_a_clear_page_and_change_nothing(app):
    running, messenger, clock = app
    person = await ana(running)
    async with browser() as session:
        async with session.get(f"{running.base_url}/connect/icloud?state=made-up") as unknown:
            assert unknown.status == 400
            assert "This link isn't valid" in await read(unknown)
        async with session.get(f"{running.base_url}/connect/outlook?state=x") as no_service:
            assert no_service.status == 404
        async with session.get(f"{running.base_url}/connect/google?state=x") as not_set_up:
            assert not_set_up.status == 404
            assert "isn't set up to connect Google calendars" in await read(not_set_up)

        link = await running.services.links.link(IDENTITY, person.id, Provider.ICLOUD)
        clock.advance(timedelta(minutes=16))
        async with session.get(
            running.base_url + link.removeprefix("http://127.0.0.1:3978")
        ) as old:
            assert old.status == 410
            assert "This link has expired" in await read(old)
        clock.advance(-timedelta(minutes=16))

        await running.storage.programs.save_settings(
            PROGRAM, ProgramSettings(allowed_providers=frozenset({Provider.GOOGLE}))
        )
        link = await running.services.links.link(IDENTITY, person.id, Provider.ICLOUD)
        async with session.get(
            running.base_url + link.removeprefix("http://127.0.0.1:3978")
        ) as refused:
            assert refused.status == 403
            assert "doesn't use iCloud calendars" in await read(refused)
    assert await running.storage.connections.get(person.id) is None
    assert messenger.deliveries == []


async def test_a_leaked_link_belongs_to_the_browser_that_opened_it_first(app):
    """Ana opens her link; Mallory, who saw it, opens it too and sends her own Apple ID. Her
    calendar must not become Ana's, and Ana must still be able to finish."""
    running, messenger, _ = app
    person = await ana(running)
    link = await running.services.links.link(IDENTITY, person.id, Provider.ICLOUD)
    address = running.base_url + link.removeprefix("http://127.0.0.1:3978")
    async with browser() as owner, browser() as mallory:
        async with owner.get(address) as page:
            state = state_of(await page.text())
        async with mallory.get(address) as elsewhere:
            assert elsewhere.status == 403
            shown = await read(elsewhere)
        assert "This link was opened in another browser" in shown
        assert 'name="password"' not in shown
        forged = {"state": state, "apple_id": MALLORY_ID, "password": MALLORY_PASSWORD}
        async with mallory.post(f"{running.base_url}/connect/icloud", data=forged) as refused:
            assert refused.status == 403
        assert await running.storage.connections.get(person.id) is None

        mine = {"state": state, "apple_id": APPLE_ID, "password": APP_PASSWORD}
        async with owner.post(f"{running.base_url}/connect/icloud", data=mine) as done:
            assert done.status == 200
    summary = await running.storage.connections.get(person.id)
    assert summary is not None
    assert summary.account == masked(APPLE_ID)
    assert len(messenger.deliveries) == 1


async def test_two_links_open_in_one_browser_both_connect(app):
    """A shared computer, or the playground: each link keeps its own cookie."""
    running, _, _ = app
    first = await ana(running)
    ben_identity = ChatIdentity(Platform.SLACK, "T1", "UBEN")
    ben = await running.storage.people.remember(PROGRAM, ben_identity, Profile("Ben Okafor"))
    links = [
        await running.services.links.link(IDENTITY, first.id, Provider.ICLOUD),
        await running.services.links.link(ben_identity, ben.id, Provider.ICLOUD),
    ]
    async with browser() as session:
        states = []
        for link in links:
            async with session.get(running.base_url + link.removeprefix(PUBLIC)) as page:
                states.append(state_of(await page.text()))
        for state in states:
            form = {"state": state, "apple_id": APPLE_ID, "password": APP_PASSWORD}
            async with session.post(f"{running.base_url}/connect/icloud", data=form) as done:
                assert done.status == 200
    assert await running.storage.connections.get(first.id) is not None
    assert await running.storage.connections.get(ben.id) is not None
