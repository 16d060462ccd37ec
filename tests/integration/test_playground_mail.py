"""The playground's whole loop through HTTP: a booking emails real invitations through the
demo's own SMTP server, the partner's inbox shows them, accepting one puts the meeting in
their CalDAV calendar (read back with caldav's own client and through the product's
reader), a cancellation takes it out, and ``pairtime demo reset`` empties the inboxes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from icalendar import Calendar

from adapters.web.endpoint import WebPlayground
from adapters.web.program import DEMO_PASSWORD
from bot.demo import PEOPLE
from bot.demo_mail import MAIL_FOLDER, DemoDeskService
from bot.server import CHAT_KEY
from bot.settings import load_settings
from core.secret import Secret
from core.time import Interval
from storage.crypto import generate_key
from tests.caldav_server import principal
from tests.integration.test_playground import Page, Shown, person
from tests.mail_server import MailServer
from tests.support import AppUnderTest, running_app

KEYS = [generate_key()]
SAM = next(p for p in PEOPLE if p.user_id == "sam")
MARIA = next(p for p in PEOPLE if p.user_id == "maria")
WAIT = 30  # seconds: a bound for a hang, never a pause (every wait awaits an event)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[AppUnderTest]:
    async with running_app(
        load_settings({}, dotenv_path=None), tmp_path, keys=KEYS, playground=True
    ) as app:
        yield app


@pytest.fixture
async def page(running: AppUnderTest) -> AsyncIterator[Page]:
    async with aiohttp.ClientSession() as http:
        yield Page(http, running.base_url, settle=running.services.worker.drain)


def desk(running: AppUnderTest) -> DemoDeskService:
    endpoint = running.app[CHAT_KEY]["web"]
    assert isinstance(endpoint, WebPlayground)
    found = endpoint.desk
    assert isinstance(found, DemoDeskService)
    return found


async def mail_for(running: AppUnderTest, address: str, count: int) -> None:
    async with asyncio.timeout(WAIT):
        await desk(running).wait_for(address, count)


async def api(page: Page, path: str, **query: str) -> dict[str, Any]:
    async with page.http.get(f"{page.base_url}/playground/api/{path}", params=query) as reply:
        data: dict[str, Any] = await reply.json()
        assert reply.status == 200, data
        return data


async def answer(page: Page, user: str, key: str, choice: str) -> dict[str, Any]:
    body = {"person": user, "id": key, "answer": choice}
    async with page.http.post(f"{page.base_url}/playground/api/mail", json=body) as reply:
        data: dict[str, Any] = await reply.json()
        assert reply.status == 200, data
        return data


def keys(listing: str) -> list[str]:
    return re.findall(r'data-mail="([^"]+)"', listing)


async def book(page: Page) -> Shown:
    """Maria books the first time offered with Sam; Sam's proposal message."""
    await page.say("maria", "find a time with my mentee next week")
    picker = await page.last("maria")
    await page.click("maria", picker, picker.actions()[0])
    return await page.last("sam")


def sams_calendar(url: str) -> list[Calendar]:
    calendars = principal(url, SAM.email, DEMO_PASSWORD).calendars()
    assert isinstance(calendars, list)  # caldav's synchronous client answers at once
    (calendar,) = calendars
    events = calendar.events()
    assert isinstance(events, list)
    return [event.icalendar_instance for event in events]


def pairtime_events(url: str) -> list[Any]:
    return [
        component
        for instance in sams_calendar(url)
        for component in instance.walk("VEVENT")
        if str(component["UID"]).endswith("@pairtime")
    ]


async def test_an_invitation_arrives_is_accepted_into_the_calendar_and_a_decline_takes_it_out(
    running: AppUnderTest, page: Page
):
    proposal = await book(page)
    await mail_for(running, SAM.email, 1)
    await mail_for(running, MARIA.email, 1)
    caldav_url = running.services.settings.calendars.caldav_url

    inbox = await api(page, "inbox", person="sam")
    assert inbox["unread"] == 1
    shown = Shown(0, inbox["html"])
    assert "Invitation: Mentoring: Maria Lopez and Sam Carter" in shown.text
    # The subject as a mail client shows it, though folding put its time in an encoded word.
    assert re.search(r"Sam Carter @ \w{3} \d+ \w{3} \d{4}, \d\d:\d\d", inbox["html"])
    assert "Pairtime demo <pairtime@pairtime-demo.example>" in shown.text
    (key,) = keys(inbox["html"])

    opened = Shown(0, (await api(page, "mail", person="sam", id=key))["html"])
    assert "METHOD:REQUEST" in opened.text
    assert "Organiser Pairtime demo <pairtime@pairtime-demo.example>" in opened.text
    assert "Maria Lopez <maria.lopez@pairtime-demo.example>: not answered yet" in opened.text
    assert "Times in America/New_York" in opened.text
    assert "Proposed." in opened.text
    assert "Not in your calendar yet." in opened.text
    start = re.search(r'<p class="when"><time datetime="([^"]+)"', opened.html)
    assert start is not None
    when = datetime.fromisoformat(start.group(1))
    assert when.utcoffset() in (timedelta(hours=-5), timedelta(hours=-4))  # New York's
    assert "Hello Sam Carter" in opened.text  # the plain-text part
    assert (await api(page, "inbox", person="sam"))["unread"] == 0  # opened is read
    assert pairtime_events(caldav_url) == []

    accepted = await answer(page, "sam", key, "accept")
    assert accepted["said"] == "Accepted: the meeting is in your calendar."
    assert "In your calendar (you accepted)." in Shown(0, accepted["html"]).text
    (event,) = pairtime_events(caldav_url)
    assert event.decoded("DTSTART") == when
    assert all("METHOD" not in instance for instance in sams_calendar(caldav_url))
    sam_line = next(a for a in event["ATTENDEE"] if SAM.email in str(a))
    assert sam_line.params["PARTSTAT"] == "ACCEPTED"

    week = Shown(0, (await api(page, "calendar", person="sam", week="next"))["html"])
    assert "Mentoring: Maria Lopez and Sam Carter Pairtime meeting." in week.text
    assert "Daily scrum Busy for Pairtime" in week.text  # the weekly series
    assert "All day Customer workshop" in week.text  # next week's all-day event

    # The product's own reader sees it in Sam's calendar (it is busy there too).
    sam = await person(running, "sam")
    reader = running.services.reader
    reader.forget(sam.id)
    window = Interval(when - timedelta(minutes=1), when + timedelta(minutes=1))
    busy = (await reader.busy_times([sam.id], window))[sam.id]
    assert any(b.start <= when < b.end for b in getattr(busy, "intervals", ()))

    # Sam declines the proposal in chat: Pairtime emails a CANCEL, and his mail client
    # takes the meeting out of his calendar as it arrives.
    await page.click("sam", proposal, proposal.actions("Decline")[0])
    await mail_for(running, SAM.email, 2)
    assert pairtime_events(caldav_url) == []
    newest, first = keys((await api(page, "inbox", person="sam"))["html"])
    assert first == key
    cancelled = Shown(0, (await api(page, "mail", person="sam", id=newest))["html"])
    assert "METHOD:CANCEL" in cancelled.text
    assert "Not in your calendar" in cancelled.text
    assert 'data-answer="accept"' not in cancelled.html
    stale = Shown(0, (await api(page, "mail", person="sam", id=key))["html"])
    assert "This invitation is out of date" in stale.text
    assert 'data-answer="accept"' not in stale.html


async def test_accepting_in_chat_updates_the_calendar_and_decline_in_the_inbox_leaves_it(
    running: AppUnderTest, page: Page
):
    proposal = await book(page)
    await mail_for(running, SAM.email, 1)
    await mail_for(running, MARIA.email, 1)
    caldav_url = running.services.settings.calendars.caldav_url
    (key,) = keys((await api(page, "inbox", person="maria"))["html"])
    declined = await answer(page, "maria", key, "decline")
    assert declined["said"] == "Declined: your calendar is left as it was."
    assert "You declined" in Shown(0, declined["html"]).text

    (key,) = keys((await api(page, "inbox", person="sam"))["html"])
    await answer(page, "sam", key, "accept")
    (event,) = pairtime_events(caldav_url)
    assert str(event["STATUS"]) == "TENTATIVE"  # proposed, not answered in chat yet

    # Accepting in chat confirms it: the new REQUEST (a higher SEQUENCE) updates the event
    # already in Sam's calendar, and keeps his answer.
    await page.click("sam", proposal, proposal.actions("Accept")[0])
    await mail_for(running, SAM.email, 2)
    (event,) = pairtime_events(caldav_url)
    assert str(event["STATUS"]) == "CONFIRMED"
    sam_line = next(a for a in event["ATTENDEE"] if SAM.email in str(a))
    assert sam_line.params["PARTSTAT"] == "ACCEPTED"


async def test_bad_requests_get_friendly_answers(running: AppUnderTest, page: Page):
    for path, query, status in (
        ("inbox", {"person": "nobody"}, 404),
        ("mail", {"person": "sam", "id": "../../etc/passwd"}, 404),
        ("calendar", {"person": "sam", "week": "last"}, 400),
    ):
        async with page.http.get(f"{page.base_url}/playground/api/{path}", params=query) as r:
            assert r.status == status
            assert "error" in await r.json()
    body = {"person": "sam", "id": "x", "answer": "maybe"}
    async with page.http.post(f"{page.base_url}/playground/api/mail", json=body) as r:
        assert r.status == 400
    body["answer"] = "accept"
    async with page.http.post(f"{page.base_url}/playground/api/mail", json=body) as r:
        assert r.status == 404
        assert (await r.json())["error"] == "There is no such email in this inbox."


async def test_an_operators_smtp_server_is_kept_and_the_inbox_says_so(tmp_path: Path):
    server = await MailServer().start()
    settings = load_settings(
        {"PAIRTIME_SMTP_URL": server.url, "PAIRTIME_MAIL_FROM": "Mentoring <m@example.org>"},
        dotenv_path=None,
    )
    try:
        async with (
            running_app(settings, tmp_path, keys=KEYS, playground=True) as app,
            aiohttp.ClientSession() as http,
        ):
            assert app.services.settings.mail == settings.mail
            page = Page(http, app.base_url, settle=app.services.worker.drain)
            await book(page)
            async with asyncio.timeout(WAIT):
                await server.wait_for(2)  # Maria's and Sam's, on the operator's server
            inbox = await api(page, "inbox", person="sam")
            assert "PAIRTIME_SMTP_URL" in inbox["html"]
            assert keys(inbox["html"]) == []
            assert not (tmp_path / ".pairtime" / MAIL_FOLDER / SAM.email).exists()
    finally:
        await server.stop()


async def test_reset_empties_the_inboxes(tmp_path: Path):
    settings = replace(
        load_settings({}, dotenv_path=None),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'pairtime.db'}",
        encryption_keys=(Secret(KEYS[0]),),
    )
    async with (
        running_app(settings, tmp_path, keys=KEYS, playground=True) as app,
        aiohttp.ClientSession() as http,
    ):
        await book(Page(http, app.base_url, settle=app.services.worker.drain))
        await mail_for(app, SAM.email, 1)
    inbox = tmp_path / ".pairtime" / MAIL_FOLDER / SAM.email
    assert list((inbox / "new").iterdir())
    from bot.demo import reset_demo  # noqa: PLC0415 - next to its use

    said = await reset_demo(settings, tmp_path / ".pairtime")
    assert said.endswith("emptied their inboxes.")
    assert not inbox.exists()
