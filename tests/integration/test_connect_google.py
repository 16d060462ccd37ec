"""Google Calendar through the running app: consent with PKCE, tokens sealed, events read.

The fake speaks Google's OAuth and Calendar API on the wire; google-auth-oauthlib,
google-auth and aiohttp run their real code against it.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import text

from adapters.calendars.config import CalendarSettings
from bot.settings import load_settings
from core.availability import BusyInterval, BusyStatus
from core.calendars import BusyTimes, ConnectionStatus, NeedsReconnect, Unreadable
from core.commands import Provider
from core.people import ChatIdentity, Person, Platform, Profile, ProgramId
from core.privacy import masked
from core.secret import Secret
from core.time import Interval, local_day
from core.views import ConnectionStatusView, ConnectPrompt, Notice, SlotPicker
from storage.crypto import Vault, generate_key
from tests.fakes.google import EVENTS_OWNED_READONLY_SCOPE, FREEBUSY_SCOPE, FakeGoogle
from tests.fakes.google_events import GoogleEvent
from tests.fakes.server import running
from tests.memory import RecordingMessenger
from tests.support import PROVIDER_TIMEOUT, AppUnderTest, running_app

PUBLIC = "http://127.0.0.1:3978"  # PAIRTIME_BASE_URL in these tests; requests go to the test port
PROGRAM = ProgramId("slack:T1")
ACCOUNT = "ana@example.com"
WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
MEETING = (datetime(2026, 12, 1, 14, tzinfo=UTC), datetime(2026, 12, 1, 15, tzinfo=UTC))


@dataclass
class World:
    running: AppUnderTest
    google: FakeGoogle
    messenger: RecordingMessenger

    async def person(self, user: str, name: str) -> tuple[Person, ChatIdentity]:
        identity = ChatIdentity(Platform.SLACK, "T1", user)
        await self.running.storage.programs.ensure(PROGRAM, "Program")
        return await self.running.storage.people.remember(
            PROGRAM, identity, Profile(name)
        ), identity

    def local(self, url: str) -> str:
        """A public URL as the test reaches it (the app listens on a free port)."""
        return url.replace(PUBLIC, self.running.base_url)


@pytest.fixture
def read_timeout() -> float:
    """How long Google may take to answer a read: more than a loaded machine needs, except
    in a test about a slow Google, which sets its own (``parametrize("read_timeout", ...)``)."""
    return PROVIDER_TIMEOUT


@pytest.fixture
async def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_timeout: float
) -> AsyncIterator[World]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake speaks plain http
    google = FakeGoogle(
        client_id="pairtime.apps.googleusercontent.com",
        client_secret="google-client-secret",
        redirect_uris=(f"{PUBLIC}/oauth/google/callback",),
        next_account=ACCOUNT,
    )
    async with running(google.app) as base:
        settings = replace(
            load_settings({}, dotenv_path=None),
            calendars=CalendarSettings(
                google_client_id=google.client_id,
                google_client_secret=Secret(google.client_secret),
                google_auth_url=f"{base}/o/oauth2/v2/auth",
                google_token_url=f"{base}/token",
                google_revoke_url=f"{base}/revoke",
                google_api_url=f"{base}/calendar/v3",
                timeout_seconds=read_timeout,
            ),
        )
        async with running_app(settings, tmp_path) as app:
            messenger = RecordingMessenger()
            app.services.messengers.register(Platform.SLACK, messenger)
            yield World(app, google, messenger)


def browser() -> aiohttp.ClientSession:
    # A cookie jar that accepts cookies from 127.0.0.1, as a browser does for any host.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def to_google(
    world: World, browser: aiohttp.ClientSession, person: Person, identity: ChatIdentity
) -> str:
    """Open a new connect link and Continue: the address of Google's consent screen."""
    link = await world.running.services.links.link(identity, person.id, Provider.GOOGLE)
    async with browser.get(world.local(link)) as page:
        shown = html.unescape(await page.text())
    assert f"for {person.name} (Slack)" in shown
    assert "Google will ask you to let Pairtime see your calendar's events" in shown
    assert "never their titles, descriptions, places or guests" in shown
    action = re.search(r'action="([^"]+)"', shown)
    state = re.search(r'name="state" value="([^"]+)"', shown)
    assert action is not None
    assert state is not None
    start = f"{world.running.base_url}{action.group(1)}?state={state.group(1)}"
    async with browser.get(start, allow_redirects=False) as to_google:
        assert to_google.status == 302
        return to_google.headers["Location"]


async def back_from_google(
    world: World, browser: aiohttp.ClientSession, authorize: str
) -> tuple[int, str]:
    """Google's consent, then its redirect back to Pairtime; the last page."""
    async with browser.get(authorize, allow_redirects=False) as from_google:
        back = from_google.headers["Location"]
    assert back.startswith(f"{PUBLIC}/oauth/google/callback?")
    async with browser.get(world.local(back)) as done:
        return done.status, html.unescape(await done.text())


async def consent(world: World, person: Person, identity: ChatIdentity) -> str:
    """Follow a connect link as a browser would, through Google's consent; returns the last page."""
    async with browser() as session:
        authorize = await to_google(world, session, person, identity)
        asked = parse_qs(urlsplit(authorize).query)
        assert asked["code_challenge_method"] == ["S256"]
        assert asked["access_type"] == ["offline"]
        assert EVENTS_OWNED_READONLY_SCOPE in asked["scope"][0].split()
        assert FREEBUSY_SCOPE not in asked["scope"][0].split()
        assert "https://www.googleapis.com/auth/calendar" not in asked["scope"][0].split()
        _, page = await back_from_google(world, session, authorize)
        return page


async def test_connect_read_refresh_and_disconnect_a_google_calendar(world: World):
    ana, identity = await world.person("UANA", "Ana Lima")
    page = await consent(world, ana, identity)
    assert "Your Google calendar is connected" in page
    assert masked(ACCOUNT) in page
    assert ACCOUNT not in page  # shown masked, even to its owner

    summary = await world.running.storage.connections.get(ana.id)
    assert summary is not None
    assert (summary.provider, summary.account) == (Provider.GOOGLE, masked(ACCOUNT))
    async with world.running.storage.database.transaction() as db:
        sealed = (await db.execute(text("SELECT secret FROM calendar_connections"))).scalar_one()
    refresh_token = (
        (await world.running.storage.connections.load([ana.id]))
        .opened[ana.id]
        .secret["refresh_token"]
    )
    assert refresh_token
    assert refresh_token not in sealed
    ((_, outcome),) = world.messenger.deliveries
    assert isinstance(outcome.direct[0].view, Notice)
    assert outcome.direct[0].view.text.startswith(
        f"Your Google calendar ({masked(ACCOUNT)}) is connected."
    )

    world.google.set_events(ACCOUNT, [GoogleEvent(*MEETING)])
    reader = world.running.services.reader
    busy = (await reader.busy_times([ana.id], WEEK))[ana.id]
    assert isinstance(busy, BusyTimes)
    assert [(b.start, b.end) for b in busy.intervals] == [MEETING]

    # An expired access token is refreshed with google-auth and the new one stored.
    world.google.expire_access_tokens()
    tokens_before = len(world.google.calls_to("token"))
    busy = (await reader.busy_times([ana.id], WEEK, fresh=True))[ana.id]
    assert isinstance(busy, BusyTimes)
    assert len(world.google.calls_to("token")) == tokens_before + 1
    renewed = (await world.running.storage.connections.load([ana.id])).opened[ana.id].secret
    assert renewed["refresh_token"] == refresh_token

    # Rate limits are retried within the timeout.
    world.google.fail_next(403, times=2, reason="userRateLimitExceeded", on="events")
    busy = (await reader.busy_times([ana.id], WEEK, fresh=True))[ana.id]
    assert isinstance(busy, BusyTimes)

    ctx = await world.running.services.scheduler.context(PROGRAM, ana, identity)
    await world.running.services.scheduler.disconnect(ctx)
    assert await world.running.storage.connections.get(ana.id) is None
    (revocation,) = world.google.calls_to("revoke")
    assert revocation.form["token"] == refresh_token


async def test_someone_elses_consent_finished_in_this_browser_connects_nothing(world: World):
    """Login CSRF: Mallory starts her own link and sends Google's consent address to Ana,
    whose browser finishes it. Ana's calendar must not become Mallory's."""
    mallory, identity = await world.person("UMAL", "Mallory")
    async with browser() as attacker, browser() as victim:
        authorize = await to_google(world, attacker, mallory, identity)
        status, page = await back_from_google(world, victim, authorize)
    assert status == 403
    assert "This sign-in didn't start in this browser" in page
    assert await world.running.storage.connections.get(mallory.id) is None
    assert world.google.calls_to("token") == []  # Ana's code was never exchanged
    assert world.messenger.deliveries == []


async def test_two_links_open_in_one_browser_both_connect(world: World):
    ana, ana_identity = await world.person("UANA", "Ana Lima")
    ben, ben_identity = await world.person("UBEN", "Ben Okafor")
    async with browser() as session:
        first = await to_google(world, session, ana, ana_identity)
        second = await to_google(world, session, ben, ben_identity)
        assert len(session.cookie_jar) == 2  # one cookie per link, Lax: Google returns by GET
        assert {cookie["samesite"] for cookie in session.cookie_jar} == {"Lax"}
        for authorize in (first, second):
            status, page = await back_from_google(world, session, authorize)
            assert (status, "Your Google calendar is connected" in page) == (200, True)
    assert await world.running.storage.connections.get(ana.id) is not None
    assert await world.running.storage.connections.get(ben.id) is not None


async def test_a_revoked_grant_marks_the_connection_and_is_told_once(world: World):
    ana, identity = await world.person("UANA", "Ana Lima")
    await consent(world, ana, identity)
    world.google.revoke_all(ACCOUNT)
    reader = world.running.services.reader
    first = (await reader.busy_times([ana.id], WEEK))[ana.id]
    assert first == NeedsReconnect(Provider.GOOGLE, tell=True)
    second = (await reader.busy_times([ana.id], WEEK, fresh=True))[ana.id]
    assert second == NeedsReconnect(Provider.GOOGLE, tell=False)
    summary = await world.running.storage.connections.get(ana.id)
    assert summary is not None
    assert summary.status is ConnectionStatus.NEEDS_RECONNECT


async def test_declined_consent_shows_a_page_and_stores_nothing(world: World):
    ben, identity = await world.person("UBEN", "Ben Okafor")
    world.google.deny_next_consent()
    page = await consent(world, ben, identity)
    assert "You declined to give Pairtime access to your Google calendar." in page
    assert await world.running.storage.connections.get(ben.id) is None
    assert world.messenger.deliveries == []


async def test_unticking_the_calendar_scope_counts_as_declining(world: World):
    ben, identity = await world.person("UBEN", "Ben Okafor")
    world.google.grant_only_next(["openid", "https://www.googleapis.com/auth/userinfo.email"])
    page = await consent(world, ben, identity)
    assert "permission to see when you're busy was not granted" not in page  # not a raw error
    assert "Your calendar was not connected" in page
    assert await world.running.storage.connections.get(ben.id) is None


@pytest.mark.parametrize("read_timeout", [2])  # this test's own deadline, past in 2 s
async def test_a_slow_google_costs_only_its_own_people(world: World):
    ana, identity = await world.person("UANA", "Ana Lima")
    await consent(world, ana, identity)
    world.google.delay_next(3, on="events")  # past the 2 s timeout, which falls due first
    reader = world.running.services.reader
    result = (await reader.busy_times([ana.id], WEEK, fresh=True))[ana.id]
    assert result == Unreadable("Google did not answer in time")  # not the answer at 3 s


KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+05:30: whole days begin at 18:30 UTC


def kolkata(day: int, hour: float) -> datetime:
    return datetime(2026, 12, day, tzinfo=KOLKATA) + timedelta(hours=hour)


async def test_events_are_read_with_only_what_decides_busy_or_free(world: World):
    ana, identity = await world.person("UANA", "Ana Lima")
    await consent(world, ana, identity)
    world.google.events_page_size = 3  # five pages for the thirteen listed
    world.google.set_events(
        ACCOUNT,
        [
            GoogleEvent(kolkata(1, 10), kolkata(1, 11), summary="Private: 1:1 with Sam"),
            GoogleEvent(date(2026, 12, 2), date(2026, 12, 3), transparency="transparent"),
            GoogleEvent(date(2026, 12, 4), date(2026, 12, 5)),  # all day, marked busy
            GoogleEvent(kolkata(3, 9), kolkata(3, 17), event_type="outOfOffice"),
            GoogleEvent(kolkata(1, 14), kolkata(1, 15), response="declined"),
            GoogleEvent(kolkata(1, 15), kolkata(1, 16), response="tentative"),
            GoogleEvent(kolkata(1, 16), kolkata(1, 17), status="cancelled"),
            GoogleEvent(kolkata(1, 17), kolkata(1, 18), transparency="transparent"),
            GoogleEvent(
                date(2026, 12, 1),
                date(2026, 12, 2),
                event_type="workingLocation",
                transparency="transparent",
            ),
            GoogleEvent(
                date(2026, 12, 3),
                date(2026, 12, 4),
                event_type="birthday",
                transparency="transparent",
            ),
            GoogleEvent(
                datetime(2026, 11, 30, 9, 30),  # the calendar's wall clock: 04:00 UTC
                datetime(2026, 11, 30, 10),
                recurrence=("RRULE:FREQ=DAILY;COUNT=3",),
            ),
            # Begins before the window and ends inside it.
            GoogleEvent(
                datetime(2026, 11, 29, 22, tzinfo=UTC), datetime(2026, 11, 30, 1, tzinfo=UTC)
            ),
        ],
        time_zone="Asia/Kolkata",
    )
    busy = (await world.running.services.reader.busy_times([ana.id], WEEK))[ana.id]
    assert isinstance(busy, BusyTimes)

    def day(d: int, status: BusyStatus) -> BusyInterval:
        span = local_day(date(2026, 12, d), KOLKATA)
        return BusyInterval(span.start, span.end, status)

    def at(start: datetime, minutes: int, status: BusyStatus = BusyStatus.BUSY) -> BusyInterval:
        return BusyInterval(start.astimezone(UTC), start + timedelta(minutes=minutes), status)

    assert sorted(busy.intervals, key=lambda b: (b.start, b.end)) == [
        at(datetime(2026, 11, 29, 22, tzinfo=UTC), 180),
        at(datetime(2026, 11, 30, 4, tzinfo=UTC), 30),  # the series, 09:30 in Kolkata
        at(datetime(2026, 12, 1, 4, tzinfo=UTC), 30),
        at(kolkata(1, 10), 60),
        at(kolkata(1, 15), 60, BusyStatus.TENTATIVE),
        day(2, BusyStatus.ALL_DAY),
        at(datetime(2026, 12, 2, 4, tzinfo=UTC), 30),
        at(kolkata(3, 9), 8 * 60, BusyStatus.OOF),
        day(4, BusyStatus.BUSY),
    ]
    listed = world.google.calls_to("events")
    assert len(listed) == 5
    asked = listed[0].query
    assert asked["fields"] == (
        "nextPageToken,timeZone,"
        "items(start,end,status,transparency,eventType,attendees(self,responseStatus))"
    )
    assert (asked["singleEvents"], asked["showDeleted"], asked["maxAttendees"]) == (
        "true", "false", "1"
    )  # fmt: skip
    assert (asked["timeMin"], asked["timeMax"]) == ("2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z")
    assert listed[1].query["pageToken"]
    assert listed[0].path == "/calendar/v3/calendars/primary/events"
    assert not world.google.calls_to("freeBusy")


async def test_a_connection_made_for_free_busy_keeps_reading_free_busy(world: World):
    """Connections made before Pairtime read events hold calendar.freebusy only: they keep
    working, through freeBusy, which leaves out events marked free."""
    ana, _ = await world.person("UANA", "Ana Lima")
    token = world.google.issue_access_token(ACCOUNT, [FREEBUSY_SCOPE])
    secret = {
        "token": token,
        "refresh_token": "1//0g-earlier-refresh-token",
        "expiry": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "scopes": ["openid", "https://www.googleapis.com/auth/userinfo.email", FREEBUSY_SCOPE],
    }
    await world.running.storage.connections.replace(
        ana.id, Provider.GOOGLE, ACCOUNT, secret, datetime.now(UTC)
    )
    world.google.set_events(
        ACCOUNT,
        [
            GoogleEvent(*MEETING),
            GoogleEvent(date(2026, 12, 2), date(2026, 12, 3), transparency="transparent"),
        ],
    )
    busy = (await world.running.services.reader.busy_times([ana.id], WEEK))[ana.id]
    assert isinstance(busy, BusyTimes)
    assert [(b.start, b.end) for b in busy.intervals] == [MEETING]
    assert len(world.google.calls_to("freeBusy")) == 1
    assert not world.google.calls_to("events")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><body>502 Bad Gateway</body></html>", "text/html"),
        ('{"items": [{"start": {"dateTime": "2026-12-01T10:00:00Z"}', "application/json"),
        ('{"items": "none today"}', "application/json"),
        ('{"items": [{"start": {"dateTime": "tomorrow"}, "end": {}}]}', "application/json"),
        ("[]", "application/json"),
    ],
)
async def test_a_malformed_answer_costs_only_its_own_calendar(
    world: World, caplog: pytest.LogCaptureFixture, body: str, content_type: str
):
    ana, ana_identity = await world.person("UANA", "Ana Lima")
    await consent(world, ana, ana_identity)
    world.google.next_account = "ben@example.com"
    ben, ben_identity = await world.person("UBEN", "Ben Okafor")
    await consent(world, ben, ben_identity)
    world.google.set_events("ben@example.com", [GoogleEvent(*MEETING)])
    world.google.set_events(ACCOUNT, [GoogleEvent(*MEETING)])
    world.google.answer_next(body, on="events", content_type=content_type)

    with caplog.at_level(logging.WARNING, logger="adapters.calendars.reader"):
        results = await world.running.services.reader.busy_times([ana.id, ben.id], WEEK)

    unreadable = [p for p, r in results.items() if isinstance(r, Unreadable)]
    readable = [p for p, r in results.items() if isinstance(r, BusyTimes)]
    assert len(unreadable) == 1
    assert len(readable) == 1
    assert results[unreadable[0]] == Unreadable("Google sent an answer I couldn't read")
    (record,) = caplog.records
    assert record.getMessage().startswith(f"Google calendar of person {unreadable[0]}")
    assert record.getMessage().endswith("(HTTP status 200)")
    assert record.exc_info is None  # no traceback
    assert "502 Bad Gateway" not in record.getMessage()


async def test_a_missing_key_is_told_as_a_missing_key_and_restoring_it_is_enough(world: World):
    """A row no configured key opens is not a revoked grant: its owner is told the server
    can't read it and an admin must restore the key, which is then all it takes."""
    ana, ana_identity = await world.person("UANA", "Ana Lima")
    ben, ben_identity = await world.person("UBEN", "Ben Okafor")
    await consent(world, ana, ana_identity)
    await world.running.storage.pairings.pair(PROGRAM, ben.id, ana.id)
    database = world.running.storage.database
    async with database.transaction() as db:
        kept = (await db.execute(text("SELECT secret FROM calendar_connections"))).scalar_one()
        foreign = Vault([generate_key()]).seal('{"refresh_token": "x"}')  # the key is lost
        await db.execute(text("UPDATE calendar_connections SET secret = :s"), {"s": foreign})
    scheduler = world.running.services.scheduler
    ctx = await scheduler.context(PROGRAM, ben, ben_identity)

    outcome = await scheduler.handle_text(ctx, "find a time with my mentee next week")
    (told,) = outcome.direct
    assert told.person == ana.id
    assert isinstance(told.view, ConnectPrompt)
    assert "this Pairtime server can no longer read the access you gave it" in told.view.text
    assert "A Pairtime admin must restore that key" in told.view.text
    assert "revoked" not in told.view.text
    assert isinstance(outcome.reply, SlotPicker)
    assert "Ana Lima's calendar can't be read by this server just now" in " ".join(
        outcome.reply.notes
    )
    again = await scheduler.handle_text(ctx, "find a time with my mentee next week")
    assert again.direct == ()  # told once
    status = (await scheduler.status(await scheduler.context(PROGRAM, ana, ana_identity))).reply
    assert isinstance(status, ConnectionStatusView)
    assert status.text.startswith("Your Google calendar (a•••@example.com) can't be read: this")
    assert status.needs_reconnect

    async with database.transaction() as db:  # the admin restores the key
        await db.execute(text("UPDATE calendar_connections SET secret = :s"), {"s": kept})
    world.google.set_busy(ACCOUNT, [MEETING])
    busy = await world.running.services.reader.busy_times([ana.id], WEEK, fresh=True)
    assert isinstance(busy[ana.id], BusyTimes)
    summary = await world.running.storage.connections.get(ana.id)
    assert summary is not None
    assert summary.status is ConnectionStatus.CONNECTED
