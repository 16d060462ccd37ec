"""The playground through HTTP: the demo seeds, the page's API talks to the real core.

Each test runs the real app with the playground on (and so the demo: a
Radicale server, calendars written relative to today, the seeded program),
and speaks to it as the page's script does.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from adapters.web.program import DEMO_PASSWORD, PROGRAM
from bot.demo import (
    CIRCLE_CHANNEL,
    PAIRS,
    PEOPLE,
    WRITTEN,
    reset_demo,
    running_caldav,
    write_calendars,
    written_this_week,
)
from bot.settings import load_settings
from core.availability import BusyStatus
from core.calendars import BusyTimes
from core.people import ChatIdentity, Person, Platform, Profile, ProgramId
from core.secret import Secret
from core.time import Interval, local_day
from storage.crypto import generate_key
from storage.store import Storage
from tests.caldav_server import principal
from tests.support import AppUnderTest, running_app

KEYS = [generate_key()]
SLACK = ProgramId("slack:T1")
MARIA = next(p for p in PEOPLE if p.user_id == "maria")


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[AppUnderTest]:
    async with running_app(
        load_settings({}, dotenv_path=None), tmp_path, keys=KEYS, playground=True
    ) as app:
        yield app


@dataclass
class Shown:
    """One message as the page receives it."""

    id: int
    html: str

    @property
    def text(self) -> str:
        """The words a person reads (tags dropped, entities decoded, spaces squeezed)."""
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", self.html)).split())

    def actions(self, label: str | None = None) -> list[str]:
        """The references of the buttons (whose visible label starts with ``label``)."""
        found = re.findall(r'data-action="([^"]+)"[^>]*>(.*?)</(?:button|form)', self.html)
        return [
            html.unescape(reference)
            for reference, inner in found
            if label is None or html.unescape(re.sub(r"<[^>]+>", "", inner)).startswith(label)
        ]

    def links(self) -> list[str]:
        return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', self.html)]


@dataclass
class Page:
    """What the page's script does, over HTTP."""

    http: aiohttp.ClientSession
    base_url: str
    seen: dict[tuple[str, str], dict[int, Shown]] = field(default_factory=dict)
    # After a click, the work it left to the worker (the private messages of a meeting's
    # change, from the outbox): what the page's next poll shows a moment later.
    settle: Callable[[], Awaitable[None]] | None = None

    async def say(self, person: str, text: str, place: str = "dm") -> None:
        body = {"person": person, "in": place, "text": text}
        async with self.http.post(f"{self.base_url}/playground/api/say", json=body) as reply:
            assert reply.status == 200, await reply.text()

    async def click(
        self, person: str, shown: Shown, action: str, place: str = "dm", value: str | None = None
    ) -> None:
        body: dict[str, Any] = {"person": person, "in": place, "message": shown.id}
        body |= {"action": action} | ({"value": value} if value is not None else {})
        async with self.http.post(f"{self.base_url}/playground/api/act", json=body) as reply:
            assert reply.status == 200, await reply.text()
        if self.settle is not None:
            await self.settle()

    async def changes(self, person: str, place: str = "dm", since: int = 0) -> dict[str, Any]:
        query = {"person": person, "in": place, "since": str(since)}
        async with self.http.get(f"{self.base_url}/playground/api/messages", params=query) as r:
            assert r.status == 200, await r.text()
            data: dict[str, Any] = await r.json()
            return data

    async def conversation(self, person: str, place: str = "dm") -> list[Shown]:
        """Everything ``person`` sees in ``place`` now, oldest first."""
        data = await self.changes(person, place)
        return [Shown(m["id"], m["html"]) for m in data["messages"]]

    async def last(self, person: str, place: str = "dm") -> Shown:
        return (await self.conversation(person, place))[-1]


@pytest.fixture
async def page(running: AppUnderTest) -> AsyncIterator[Page]:
    # A cookie jar that accepts 127.0.0.1's cookies, as a browser does (the connect form's).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield Page(http, running.base_url, settle=running.services.worker.drain)


async def person(running: AppUnderTest, user_id: str) -> Person:
    found = await running.storage.people.by_chat_user(PROGRAM, user_id)
    assert found is not None
    return found


def next_week(zone: ZoneInfo) -> list[date]:
    today = datetime.now(zone).date()
    monday = today + timedelta(days=7 - today.weekday())
    return [monday + timedelta(days=n) for n in range(5)]


# ---------------------------------------------------------------- the demo


async def test_the_demo_program_is_seeded_once_with_real_current_calendars(running: AppUnderTest):
    storage = running.storage
    listed = await storage.people.list_program(PROGRAM)
    assert sorted(user for _, user in listed) == sorted(p.user_id for p in PEOPLE)
    zones = {p.timezone for p, _ in listed}
    assert {"Europe/London", "America/New_York", "Asia/Kolkata"} <= zones
    pairs = await storage.pairings.all(PROGRAM)
    assert len(pairs) == len(PAIRS)
    circle = await storage.groups.by_channel(PROGRAM, CIRCLE_CHANNEL)
    assert circle is not None
    assert len(circle.members) == 3
    connections = await storage.connections.summaries([p.id for p, _ in listed])
    connected = {user for p, user in listed if p.id in connections}
    assert connected == {p.user_id for p in PEOPLE if p.connected}
    assert "priya" not in connected

    # Maria's calendar, read through the real reader: her week of meetings, an all-day
    # out-of-office day next Friday, all relative to today in London.
    maria = await person(running, "maria")
    london = ZoneInfo("Europe/London")
    days = next_week(london)
    window = Interval(local_day(days[0], london).start, local_day(days[-1], london).end)
    result = (await running.services.reader.busy_times([maria.id], window))[maria.id]
    assert isinstance(result, BusyTimes)
    out_of_office = [b for b in result.intervals if b.status is BusyStatus.OOF]
    assert [(b.start, b.end) for b in out_of_office] == [
        (local_day(days[4], london).start, local_day(days[4], london).end)
    ]
    standups = [
        b.start.astimezone(london).date()
        for b in result.intervals
        if b.start.astimezone(london).time() == time(9, 30)
    ]
    assert standups == days  # a weekly RRULE on every workday, this week as any other

    # Jonas's conference is all day and marked free: the program's rule decides.
    jonas = await person(running, "jonas")
    berlin = ZoneInfo("Europe/Berlin")
    days = next_week(berlin)
    window = Interval(local_day(days[0], berlin).start, local_day(days[-1], berlin).end)
    result = (await running.services.reader.busy_times([jonas.id], window))[jonas.id]
    assert isinstance(result, BusyTimes)
    conference = local_day(days[1], berlin)
    assert [(b.start, b.end) for b in result.intervals if b.status is BusyStatus.ALL_DAY] == [
        (conference.start, conference.end)
    ]


async def test_the_page_lists_the_people_in_their_zones_and_how_to_connect(
    running: AppUnderTest, page: Page
):
    async with page.http.get(f"{running.base_url}/") as reply:
        assert reply.status == 200
        assert reply.content_type == "text/html"
        assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
        text = html.unescape(await reply.text())
    for demo in PEOPLE:
        assert f'<option value="{demo.user_id}"' in text
    assert "Priya Nair \u2014 Asia/Kolkata (UTC+05:30)" in text
    assert '<label for="person">Act as</label>' in text
    assert "priya.nair@pairtime-demo.example" in text  # the one left to connect
    assert DEMO_PASSWORD in text
    assert 'aria-live="polite"' in text
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css")):
        async with page.http.get(f"{running.base_url}/playground/static/{name}") as static:
            assert static.status == 200
            assert kind in static.content_type
    async with page.http.get(f"{running.base_url}/playground/static/../endpoint.py") as other:
        assert other.status == 404


# ---------------------------------------------------------------- booking


async def test_asking_and_clicking_books_the_meeting_on_both_sides(
    running: AppUnderTest, page: Page
):
    await page.say("maria", "find a time with my mentee next week")
    said, picker = await page.conversation("maria")
    assert said.text.endswith("find a time with my mentee next week")
    assert "Times for you and Sam Carter" in picker.text
    assert "Times in Europe/London" in picker.text
    slots = picker.actions("")
    assert slots
    first = re.search(r'<button type="button" class="button slot"[^>]*>.*?</button>', picker.html)
    assert first is not None
    start = re.search(r'<time datetime="([^"]+)"', first.group(0))
    assert start is not None
    when = datetime.fromisoformat(start.group(1))
    assert when.utcoffset() == ZoneInfo("Europe/London").utcoffset(when.replace(tzinfo=None))

    await page.click("maria", picker, slots[0])
    mine = await page.conversation("maria")
    replaced = next(m for m in mine if m.id == picker.id)
    assert replaced.text.startswith("Pairtime")
    assert "Proposed: Mentoring: Maria Lopez and Sam Carter, waiting for Sam Carter" in (
        replaced.text
    )
    assert replaced.actions() == []  # the picker is gone
    assert "You proposed this time to Sam Carter." in mine[-1].text

    (theirs,) = await page.conversation("sam")
    assert "Maria Lopez proposes a time for Mentoring: Maria Lopez and Sam Carter." in (theirs.text)
    assert "Times in America/New_York" in theirs.text
    assert f'datetime="{when.astimezone(ZoneInfo("America/New_York")).isoformat()[:16]}' in (
        theirs.html
    )
    (download,) = [link for link in theirs.links() if link.startswith("/invitations/")]
    async with page.http.get(running.base_url + download) as ics:
        assert ics.status == 200
        assert ics.content_type == "text/calendar"
        body = await ics.text()
    assert "BEGIN:VCALENDAR" in body
    assert "Maria Lopez" in body

    sam = await person(running, "sam")
    (meeting,) = await running.storage.meetings.upcoming(sam.id, datetime.now(UTC))
    assert meeting.start == when

    # Sam accepts on his side; Maria is told; both see it in "my meetings".
    (accept,) = theirs.actions("Accept")
    await page.click("sam", theirs, accept)
    (accepted,) = await page.conversation("sam")
    assert "You accepted Mentoring: Maria Lopez and Sam Carter." in accepted.text
    assert "Maria Lopez" in (await page.last("maria")).text
    assert "Sam Carter accepted Mentoring" in (await page.last("maria")).text
    await page.say("sam", "my meetings")
    listing = await page.last("sam")
    assert "Your upcoming meetings" in listing.text
    assert "Mentoring: Maria Lopez and Sam Carter" in listing.text
    assert "Confirmed." in listing.text
    assert listing.actions("Move")
    assert listing.actions("Cancel meeting")


async def test_hostile_text_is_escaped_and_forged_clicks_change_nothing(
    running: AppUnderTest, page: Page
):
    await page.say("sam", '<img src=x onerror="alert(1)"> find a time with <b>my mentor</b>')
    said, answer = await page.conversation("sam")
    assert "<img" not in said.html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in said.html
    await page.click("sam", answer, "forged.reference")
    assert "That button has expired" in (await page.last("sam")).text

    # Maria's picker cannot be clicked from Priya's side: she has none, and the offer isn't hers.
    await page.say("maria", "find a time with my mentee next week")
    picker = await page.last("maria")
    await page.click("priya", picker, picker.actions()[0])
    assert "Only the people in this meeting can choose its time." in (await page.last("priya")).text
    assert (await page.last("maria")).id == picker.id  # untouched
    maria = await person(running, "maria")
    assert await running.storage.meetings.upcoming(maria.id, datetime.now(UTC)) == []

    async with page.http.post(
        f"{running.base_url}/playground/api/say", data={"person": "maria", "text": "hi"}
    ) as form:
        assert form.status == 415  # only JSON: a form on another site cannot post here
    async with page.http.get(
        f"{running.base_url}/playground/api/messages", params={"person": "nobody"}
    ) as unknown:
        assert unknown.status == 404


# ---------------------------------------------------------------- polls


async def test_a_poll_is_posted_into_the_channel_and_updated_in_place(
    running: AppUnderTest, page: Page
):
    await page.say("beatriz", "poll my circle", place="circle")
    _, draft = await page.conversation("beatriz", "circle")
    assert "Draft poll: Leadership Circle" in draft.text
    assert "Only visible to you" in draft.text
    assert all("Draft poll" not in m.text for m in await page.conversation("maria", "circle"))

    await page.click("beatriz", draft, draft.actions("Post poll")[0], place="circle")
    (shown,) = [m for m in await page.conversation("maria", "circle") if "A poll by" in m.text]
    assert "A poll by Beatriz Costa" in shown.text
    assert "Times in Europe/London" in shown.text  # each reader sees their own zone
    jonas_view = [m for m in await page.conversation("jonas", "circle") if "A poll by" in m.text]
    assert "Times in Europe/Berlin" in jonas_view[0].text
    seq = (await page.changes("maria", "circle"))["seq"]

    await page.click("maria", shown, shown.actions("Yes")[0], place="circle")
    await page.click("jonas", shown, shown.actions("Yes")[0], place="circle")
    changed = (await page.changes("beatriz", "circle", since=seq))["messages"]
    (updated,) = [Shown(m["id"], m["html"]) for m in changed if m["id"] == shown.id]
    assert "2 yes, 0 if need be" in updated.text
    thanks = [m for m in await page.conversation("maria", "circle") if "You voted" in m.text]
    assert len(thanks) == 1  # Maria's own answer, not Jonas's
    assert "Only visible to you" in thanks[0].text

    await page.click("beatriz", updated, updated.actions("Close and book")[0], place="circle")
    closed = next(m for m in await page.conversation("maria", "circle") if m.id == shown.id)
    assert "Winner" in closed.text
    assert "The most popular time was booked." in closed.text
    assert any(
        "is closed: the meeting is booked" in m.text for m in await page.conversation("jonas")
    )


async def test_a_poll_asked_for_privately_is_posted_in_the_circles_channel(
    running: AppUnderTest, page: Page
):
    await page.say("beatriz", "poll my circle for an hour next week")
    draft = next(m for m in await page.conversation("beatriz") if "Draft poll" in m.text)
    await page.click("beatriz", draft, draft.actions("Post poll")[0])
    assert any(
        "A poll by Beatriz Costa" in m.text for m in await page.conversation("maria", "circle")
    )
    assert not any("A poll by" in m.text for m in await page.conversation("beatriz"))


# ---------------------------------------------------------------- calendars


async def test_connect_with_the_demo_sign_in_then_disconnect(running: AppUnderTest, page: Page):
    priya = await person(running, "priya")
    await page.say("priya", "connect my calendar")
    prompt = await page.last("priya")
    (link,) = [url for url in prompt.links() if url.startswith("/connect/icloud?state=")]
    async with page.http.get(running.base_url + link) as form_page:
        assert form_page.status == 200
        form = await form_page.text()
    assert "For Priya Nair (Pairtime)." in form
    state = re.search(r'name="state" value="([^"]+)"', form)
    assert state is not None
    fields = {
        "state": html.unescape(state.group(1)),
        "apple_id": "priya.nair@pairtime-demo.example",
    }
    async with page.http.post(
        f"{running.base_url}/connect/icloud", data={**fields, "password": "wrong-one"}
    ) as refused:
        assert refused.status == 400
    async with page.http.post(
        f"{running.base_url}/connect/icloud", data={**fields, "password": DEMO_PASSWORD}
    ) as done:
        assert done.status == 200
        assert "Your iCloud calendar is connected" in await done.text()

    told = await page.last("priya")
    assert "Your iCloud calendar (p•••@pairtime-demo.example) is connected." in told.text
    kolkata = ZoneInfo("Asia/Kolkata")
    days = next_week(kolkata)
    window = Interval(local_day(days[0], kolkata).start, local_day(days[-1], kolkata).end)
    busy = (await running.services.reader.busy_times([priya.id], window))[priya.id]
    assert isinstance(busy, BusyTimes)
    assert any(b.status is BusyStatus.OOF for b in busy.intervals)  # her day off

    await page.say("priya", "status")
    status = await page.last("priya")
    assert "is connected" in status.text
    await page.click("priya", status, status.actions("Disconnect")[0])
    assert "Your iCloud calendar is disconnected" in (await page.last("priya")).text
    assert await running.storage.connections.get(priya.id) is None


async def test_a_restart_keeps_the_demo_and_follows_the_new_calendar_server(tmp_path: Path):
    settings = load_settings({}, dotenv_path=None)
    async with running_app(settings, tmp_path, keys=KEYS, playground=True) as first:
        maria = await person(first, "maria")
        await first.storage.pairings.unpair(PROGRAM, maria.id, (await person(first, "sam")).id)
        caldav = first.services.settings.calendars.caldav_url
        week = Interval(datetime.now(UTC), datetime.now(UTC) + timedelta(days=7))
        assert isinstance(
            (await first.services.reader.busy_times([maria.id], week))[maria.id], BusyTimes
        )
    async with running_app(settings, tmp_path, keys=KEYS, playground=True) as second:
        assert second.services.settings.calendars.caldav_url != caldav
        listed = await second.storage.people.list_program(PROGRAM)
        assert len(listed) == len(PEOPLE)  # not seeded twice
        assert len(await second.storage.pairings.all(PROGRAM)) == len(PAIRS) - 1  # kept as left
        result = (await second.services.reader.busy_times([maria.id], week))[maria.id]
        assert isinstance(result, BusyTimes)  # her stored calendar address followed the port


async def test_calendars_written_this_week_by_these_definitions_are_not_written_again(
    tmp_path: Path,
):
    """A start writes the demo calendars only when they were last written for another week,
    or by other definitions of the people: otherwise it would write the same events."""
    folder = tmp_path / "demo-caldav"
    async with running_caldav(folder) as url:
        assert not written_this_week(folder)
        await write_calendars(url, marker=folder)
    assert written_this_week(folder)
    written = json.loads((folder / WRITTEN).read_text())
    assert set(written["weeks"]) == {p.email for p in PEOPLE}
    for changed in (
        {**written, "people": "another release's people"},
        {**written, "weeks": {**written["weeks"], MARIA.email: "2020-01-06"}},
    ):
        (folder / WRITTEN).write_text(json.dumps(changed))
        assert not written_this_week(folder)


# ---------------------------------------------------------------- pairtime demo reset


async def test_reset_restores_the_demo_and_keeps_what_other_programs_need(tmp_path: Path):
    settings = replace(
        load_settings({}, dotenv_path=None),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'pairtime.db'}",
        encryption_keys=(Secret(KEYS[0]),),
    )
    folder = tmp_path / ".pairtime"
    async with (
        running_app(settings, tmp_path, keys=KEYS, playground=True) as used,
        aiohttp.ClientSession() as http,
    ):
        storage = used.storage
        page = Page(http, used.base_url, settle=used.services.worker.drain)
        await page.say("maria", "find a time with my mentee next week")
        picker = await page.last("maria")
        await page.click("maria", picker, picker.actions()[0])
        maria, sam = await person(used, "maria"), await person(used, "sam")
        assert len(await storage.meetings.upcoming(sam.id, datetime.now(UTC))) == 1
        await storage.connections.remove(maria.id)
        extra = await storage.people.remember(
            PROGRAM, ChatIdentity(Platform.WEB, "demo", "zed"), Profile("Zed Only Here")
        )
        # Sam is also known in a Slack workspace (same email): he must outlive the reset.
        await storage.programs.ensure(SLACK, "Elsewhere")
        await storage.people.remember(
            SLACK, ChatIdentity(Platform.SLACK, "T1", "USAM"), Profile("Sam", sam.email)
        )
        stray = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:stray\r\n"
        stray += "DTSTAMP:20261101T000000Z\r\nDTSTART:20261201T100000Z\r\n"
        stray += "DTEND:20261201T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        caldav_url = used.services.settings.calendars.caldav_url
        async with http.put(
            f"{caldav_url}{MARIA.email}/home/stray.ics",
            data=stray,
            headers={
                "Authorization": aiohttp.encode_basic_auth(MARIA.email, DEMO_PASSWORD),
                "Content-Type": "text/calendar",
            },
        ) as put:
            assert put.status in (200, 201)

    said = await reset_demo(settings, folder)
    # Maria, Jonas, Priya, Beatriz and Zed were known only there; Sam is also on Slack.
    assert said == (
        "Reset the demo program: deleted its data (5 people known only there), then seeded "
        "5 people, 2 pairs, 1 circle, 4 calendar connections, and their calendars; emptied "
        "their inboxes."
    )

    storage = Storage.open(settings.database_url, KEYS)
    try:
        listed = await storage.people.list_program(PROGRAM)
        assert sorted(user for _, user in listed) == sorted(p.user_id for p in PEOPLE)
        assert await storage.people.get(extra.id) is None
        assert await storage.people.by_chat_user(SLACK, "USAM") is not None
        assert await storage.meetings.upcoming(sam.id, datetime.now(UTC)) == []
        new_maria = next(p for p, user in listed if user == "maria")
        assert await storage.connections.get(new_maria.id) is not None
        assert await storage.groups.by_channel(PROGRAM, CIRCLE_CHANNEL) is not None
    finally:
        await storage.close()

    async with running_caldav(folder / "demo-caldav") as url:
        calendars = principal(url, MARIA.email, DEMO_PASSWORD).calendars()
        assert isinstance(calendars, list)  # caldav's synchronous client answers at once
        (calendar,) = calendars
        events = calendar.events()
        assert isinstance(events, list)
        uids = sorted(str(event.icalendar_component["UID"]) for event in events)
    assert uids == sorted(f"{item.uid}-maria@pairtime-demo.example" for item in MARIA.events)


async def test_people_are_found_by_name_and_only_partners_are_offered(
    running: AppUnderTest, page: Page
):
    """Issue 19's new user, in the playground: a name, a full name or an e-mail address finds
    Maria's mentee; a stranger is refused (issue 14), and one name missing keeps the others."""
    for said in (
        "when can I meet sam?",
        "find a time with Sam Carter next week",
        "find a time with sam.carter@pairtime-demo.example",
    ):
        await page.say("maria", said)
        answer = (await page.last("maria")).text
        assert "Sam Carter" in answer, said
        assert "Who would you like to meet" not in answer
    await page.say("maria", "meet Jonas next week")  # they share the Leadership Circle
    assert "Times for you and Jonas Weber" in (await page.last("maria")).text

    # Sam is no admin (Maria is the demo's): Priya, Jonas's mentee, is no partner of his.
    await page.say("sam", "find a time with Priya next week")
    refused = await page.last("sam")
    assert "You can only find times with your mentoring partners" in refused.text
    assert "Times for" not in refused.text

    await page.say("maria", "find a time with my mentee and Bob next week")
    missing = await page.last("maria")
    assert "I couldn't find anyone called “Bob” in this program." in missing.text
    (carry_on,) = missing.actions("Times with you and Sam Carter")
    await page.click("maria", missing, carry_on)
    assert any(
        "Times for you and Sam Carter" in shown.text for shown in await page.conversation("maria")
    )
