"""Microsoft 365 and Outlook.com through the running app: msal with PKCE, then Graph.

The fake serves Entra ID and Graph over TLS with a test certificate (msal
accepts only https authorities); msal and aiohttp run their real code.
"""

from __future__ import annotations

import asyncio
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
import msal
import pytest

from adapters.calendars.config import CalendarSettings
from bot.settings import load_settings
from core.availability import BusyInterval, BusyStatus
from core.calendars import BusyTimes, NeedsReconnect, Unreadable
from core.commands import Provider
from core.people import ChatIdentity, Person, Platform, Profile, ProgramId
from core.privacy import masked
from core.secret import Secret
from core.time import Interval, local_day
from tests.fakes.microsoft import FakeEvent, FakeMicrosoft, parse_form_post, trusting_session
from tests.fakes.server import TestCertificate, running
from tests.memory import RecordingMessenger
from tests.support import PROVIDER_TIMEOUT, AppUnderTest, running_app

PUBLIC = "http://127.0.0.1:3978"
PROGRAM = ProgramId("teams:contoso")
WORK = "mentor@contoso.com"
PERSONAL = "sam@outlook.com"
LONDON = ZoneInfo("Europe/London")
WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))


def z(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    running: AppUnderTest
    microsoft: FakeMicrosoft
    tls: TestCertificate
    messenger: RecordingMessenger

    async def person(self, user: str, name: str) -> tuple[Person, ChatIdentity]:
        identity = ChatIdentity(Platform.TEAMS, "contoso", user)
        await self.running.storage.programs.ensure(PROGRAM, "Program")
        profile = Profile(name, timezone="Europe/London")
        return await self.running.storage.people.remember(PROGRAM, identity, profile), identity

    def browser(self) -> aiohttp.ClientSession:
        """A browser: it trusts the fake's certificate, accepts cookies from 127.0.0.1 and
        sends ``Secure`` ones to it over http, as Chromium does for loopback addresses."""
        connector = aiohttp.TCPConnector(ssl=self.tls.client_context())
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[self.running.base_url])
        return aiohttp.ClientSession(connector=connector, cookie_jar=jar)

    async def to_microsoft(
        self, browser: aiohttp.ClientSession, person: Person, identity: ChatIdentity
    ) -> str:
        """Open a connect link and Continue: the address of Microsoft's sign-in."""
        link = await self.running.services.links.link(identity, person.id, Provider.MICROSOFT)
        async with browser.get(link.replace(PUBLIC, self.running.base_url)) as page:
            shown = html.unescape(await page.text())
        assert "Continue to Microsoft 365 / Outlook.com" in shown
        state = re.search(r'name="state" value="([^"]+)"', shown)
        assert state is not None
        start = f"{self.running.base_url}/connect/microsoft/start?state={state.group(1)}"
        async with browser.get(start, allow_redirects=False) as to_microsoft:
            assert to_microsoft.status == 302
            authorize = to_microsoft.headers["Location"]
        assert "response_mode=form_post" in authorize
        assert "code_challenge_method=S256" in authorize
        return authorize

    async def sign_in(self, browser: aiohttp.ClientSession, authorize: str) -> tuple[int, str]:
        """Microsoft's sign-in, then its page posting the answer back; the last page."""
        async with browser.get(authorize) as sign_in:
            action, fields = parse_form_post(await sign_in.text())
        assert action == f"{PUBLIC}/oauth/microsoft/callback"
        # Microsoft's page posts the code back: a cross-site POST, as browsers send it.
        async with browser.post(action.replace(PUBLIC, self.running.base_url), data=fields) as done:
            return done.status, html.unescape(await done.text())

    async def consent(self, person: Person, identity: ChatIdentity) -> str:
        async with self.browser() as browser:
            authorize = await self.to_microsoft(browser, person, identity)
            _, page = await self.sign_in(browser, authorize)
            return page


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    tls = TestCertificate.create(tmp_path)
    microsoft = FakeMicrosoft(
        client_id="11111111-2222-3333-4444-555555555555",
        client_secret="microsoft-client-secret",
        redirect_uris=(f"{PUBLIC}/oauth/microsoft/callback",),
        next_account=WORK,
    )
    microsoft.add_account(PERSONAL, kind="personal")
    async with running(microsoft.app, tls=tls) as base:
        settings = replace(
            load_settings({}, dotenv_path=None),
            calendars=CalendarSettings(
                microsoft_client_id=microsoft.client_id,
                microsoft_client_secret=Secret(microsoft.client_secret),
                microsoft_authority_url=base,
                microsoft_graph_url=f"{base}/v1.0",
                ca_bundle=str(tls.ca_path),
                timeout_seconds=PROVIDER_TIMEOUT,
            ),
        )
        async with running_app(settings, tmp_path) as app:
            messenger = RecordingMessenger()
            app.services.messengers.register(Platform.TEAMS, messenger)
            yield World(app, microsoft, tls, messenger)


async def test_a_work_account_connects_and_its_events_are_read_with_statuses(world: World):
    ana, identity = await world.person("aad-ana", "Ana Lima")
    page = await world.consent(ana, identity)
    assert "Your Microsoft 365 / Outlook.com calendar is connected" in page
    summary = await world.running.storage.connections.get(ana.id)
    assert summary is not None
    assert (summary.provider, summary.account) == (Provider.MICROSOFT, masked(WORK))
    assert len(world.messenger.deliveries) == 1
    authorize = world.microsoft.calls_to("authorize")[0].query["scope"].split()
    assert "Calendars.ReadBasic" in authorize
    assert "Calendars.Read" not in authorize

    world.microsoft.set_events(
        WORK,
        [
            FakeEvent(z(1, 14), z(1, 15), show_as="busy"),
            FakeEvent(z(2, 9), z(2, 10), show_as="tentative"),
            FakeEvent(z(3, 9), z(3, 12), show_as="oof"),
            FakeEvent(z(3, 13), z(3, 14), show_as="workingElsewhere"),
            FakeEvent(z(3, 15), z(3, 16), show_as="free"),
            FakeEvent(z(3, 16), z(3, 17), is_cancelled=True),
            FakeEvent(z(3, 17), z(3, 18), response="declined"),
            FakeEvent(date(2026, 12, 4), date(2026, 12, 5), show_as="busy", all_day=True),
            # All-day events are created "free" in Outlook: the program's rule decides.
            FakeEvent(date(2026, 12, 2), date(2026, 12, 3), show_as="free", all_day=True),
            FakeEvent(date(2026, 12, 5), date(2026, 12, 7), show_as="oof", all_day=True),
            # 09:00 in São Paulo (UTC-3) every day from Monday: 12:00 UTC, three times.
            FakeEvent(
                datetime(2026, 11, 30, 9),
                datetime(2026, 11, 30, 9, 30),
                time_zone="E. South America Standard Time",
                recurrence="FREQ=DAILY;COUNT=3",
            ),
            # Begins before the window and ends inside it.
            FakeEvent(datetime(2026, 11, 29, 22, tzinfo=UTC), z(1, 1)),
        ],
    )
    busy = (await world.running.services.reader.busy_times([ana.id], WEEK))[ana.id]
    assert isinstance(busy, BusyTimes)

    def day(d: int, status: BusyStatus) -> BusyInterval:
        span = local_day(date(2026, 12, d), LONDON)
        return BusyInterval(span.start, span.end, status)

    monday = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert sorted(busy.intervals, key=lambda b: (b.start, b.end)) == [
        BusyInterval(datetime(2026, 11, 29, 22, tzinfo=UTC), z(1, 1)),
        BusyInterval(monday, monday + timedelta(minutes=30)),
        BusyInterval(z(1, 12), z(1, 12, 30)),
        BusyInterval(z(1, 14), z(1, 15)),
        day(2, BusyStatus.ALL_DAY),
        BusyInterval(z(2, 9), z(2, 10), BusyStatus.TENTATIVE),
        BusyInterval(z(2, 12), z(2, 12, 30)),
        BusyInterval(z(3, 9), z(3, 12), BusyStatus.OOF),
        BusyInterval(z(3, 13), z(3, 14), BusyStatus.WORKING_ELSEWHERE),
        day(4, BusyStatus.BUSY),
        day(5, BusyStatus.OOF),
        day(6, BusyStatus.OOF),
    ]  # fmt: skip
    (view,) = world.microsoft.calls_to("calendarView")
    assert view.query["$select"] == "start,end,showAs,isAllDay,isCancelled,responseStatus"
    assert view.headers["Prefer"] == 'outlook.timezone="UTC"'
    assert not world.microsoft.calls_to("getSchedule")


async def test_a_connection_made_with_calendars_read_keeps_its_permission(world: World):
    """Connections made before Pairtime asked for Calendars.ReadBasic hold Calendars.Read;
    asking for a permission never consented to would end them (AADSTS65001)."""
    ana, _ = await world.person("aad-ana", "Ana Lima")
    base = world.running.services.settings.calendars.microsoft_authority_url
    cache = msal.SerializableTokenCache()

    def sign_in_as_before() -> str:
        # msal is synchronous and the fake serves from this test's loop: in a thread.
        with trusting_session(world.tls) as http:
            app = msal.ConfidentialClientApplication(
                world.microsoft.client_id,
                client_credential=world.microsoft.client_secret,
                authority=f"{base}/common",
                instance_discovery=False,
                http_client=http,
                token_cache=cache,
            )
            flow = app.initiate_auth_code_flow(
                ["Calendars.Read"], redirect_uri=f"{PUBLIC}/oauth/microsoft/callback",
                response_mode="form_post",
            )  # fmt: skip
            _, answer = parse_form_post(http.get(flow["auth_uri"], timeout=5).text)
            assert "access_token" in app.acquire_token_by_auth_code_flow(flow, answer)
            return str(app.get_accounts()[0]["home_account_id"])

    account = await asyncio.to_thread(sign_in_as_before)
    old_secret = {"cache": cache.serialize(), "account": account, "username": WORK,
                  "personal": False}  # fmt: skip
    await world.running.storage.connections.replace(
        ana.id, Provider.MICROSOFT, WORK, old_secret, datetime.now(UTC)
    )
    world.microsoft.set_events(
        WORK, [FakeEvent(date(2026, 12, 2), date(2026, 12, 3), show_as="free", all_day=True)]
    )
    world.microsoft.expire_access_tokens()  # so that msal renews, with Calendars.Read
    busy = (await world.running.services.reader.busy_times([ana.id], WEEK))[ana.id]
    assert isinstance(busy, BusyTimes)
    assert [b.status for b in busy.intervals] == [BusyStatus.ALL_DAY]
    renewal = world.microsoft.calls_to("token")[-1].form
    assert renewal["grant_type"] == "refresh_token"
    assert "Calendars.Read" in renewal["scope"].split()


async def test_tokens_refresh_through_msal_and_a_revoked_grant_is_told_once(world: World):
    ana, identity = await world.person("aad-ana", "Ana Lima")
    await world.consent(ana, identity)
    before = (await world.running.storage.connections.load([ana.id])).opened[ana.id].secret
    world.microsoft.expire_access_tokens()
    reader = world.running.services.reader
    assert isinstance((await reader.busy_times([ana.id], WEEK))[ana.id], BusyTimes)
    after = (await world.running.storage.connections.load([ana.id])).opened[ana.id].secret
    assert after["cache"] != before["cache"]  # the refreshed msal cache was stored back

    world.microsoft.revoke_all(WORK)
    world.microsoft.expire_access_tokens()
    first = (await reader.busy_times([ana.id], WEEK, fresh=True))[ana.id]
    assert first == NeedsReconnect(Provider.MICROSOFT, tell=True)
    again = (await reader.busy_times([ana.id], WEEK, fresh=True))[ana.id]
    assert again == NeedsReconnect(Provider.MICROSOFT, tell=False)


async def test_a_personal_account_is_read_through_calendar_view_with_paging(world: World):
    world.microsoft.next_account = PERSONAL
    sam, identity = await world.person("aad-sam", "Sam Reed")
    page = await world.consent(sam, identity)
    assert masked(PERSONAL) in page
    # 250 ten-minute events over five days: more than two pages of the hundred Pairtime asks for.
    starts = [z(1 + i % 5, 8 + (i // 5) // 6, 10 * ((i // 5) % 6)) for i in range(250)]
    world.microsoft.set_events(PERSONAL, [FakeEvent(s, s + timedelta(minutes=10)) for s in starts])
    busy = (await world.running.services.reader.busy_times([sam.id], WEEK))[sam.id]
    assert isinstance(busy, BusyTimes)
    assert sorted(b.start for b in busy.intervals) == sorted(starts)
    assert len(world.microsoft.calls_to("calendarView")) == 3


async def test_the_link_cookie_survives_microsofts_cross_site_post(world: World):
    """Microsoft answers with a form POST from its own site: only a SameSite=None cookie
    (which browsers accept only with Secure) comes with it."""
    ana, identity = await world.person("aad-ana", "Ana Lima")
    link = await world.running.services.links.link(identity, ana.id, Provider.MICROSOFT)
    async with (
        world.browser() as browser,
        browser.get(link.replace(PUBLIC, world.running.base_url)) as page,
    ):
        (cookie,) = page.cookies.values()
    assert cookie["samesite"] == "None"
    assert cookie["secure"]
    assert cookie["httponly"]


async def test_someone_elses_sign_in_finished_in_this_browser_connects_nothing(world: World):
    """Login CSRF: Mallory starts her own link and sends Microsoft's sign-in address to Ana,
    whose browser finishes it. Ana's calendar must not become Mallory's."""
    mallory, identity = await world.person("aad-mallory", "Mallory")
    async with world.browser() as attacker, world.browser() as victim:
        authorize = await world.to_microsoft(attacker, mallory, identity)
        status, page = await world.sign_in(victim, authorize)
    assert status == 403
    assert "This sign-in didn't start in this browser" in page
    assert await world.running.storage.connections.get(mallory.id) is None
    assert world.microsoft.calls_to("token") == []  # Ana's code was never exchanged
    assert world.messenger.deliveries == []


async def test_a_callback_without_a_code_leaves_the_link_usable(world: World):
    ana, identity = await world.person("aad-ana", "Ana Lima")
    async with world.browser() as browser:
        authorize = await world.to_microsoft(browser, ana, identity)
        state = parse_qs(urlsplit(authorize).query)["state"][0]
        callback = f"{world.running.base_url}/oauth/microsoft/callback"
        async with browser.post(callback, data={"state": state}) as empty:
            assert empty.status == 400
            assert "didn't finish" in html.unescape(await empty.text())
        status, page = await world.sign_in(browser, authorize)
    assert status == 200
    assert "Your Microsoft 365 / Outlook.com calendar is connected" in page


async def test_declined_consent_stores_nothing(world: World):
    ben, identity = await world.person("aad-ben", "Ben Okafor")
    world.microsoft.deny_next_consent()
    page = await world.consent(ben, identity)
    assert "You declined to give Pairtime access" in page
    assert await world.running.storage.connections.get(ben.id) is None
    assert world.messenger.deliveries == []


@pytest.mark.parametrize(
    "body",
    [
        '{"value": "no events"}',
        '{"value": [{"showAs": "busy", "start": {"dateTime": 7}}]}',
        '{"error": null}',
        '{"value": [], "@odata.nextLink": 42}',
        "<html>Service Unavailable</html>",
    ],
)
async def test_a_malformed_answer_costs_only_its_own_calendar(
    world: World, caplog: pytest.LogCaptureFixture, body: str
):
    ana, ana_identity = await world.person("aad-ana", "Ana Lima")
    await world.consent(ana, ana_identity)
    world.microsoft.next_account = PERSONAL
    sam, sam_identity = await world.person("aad-sam", "Sam Reed")
    await world.consent(sam, sam_identity)
    for account in (WORK, PERSONAL):
        world.microsoft.set_events(account, [FakeEvent(z(1, 14), z(1, 15))])
    world.microsoft.answer_next(body, on="calendarView")

    with caplog.at_level(logging.WARNING, logger="adapters.calendars.reader"):
        results = await world.running.services.reader.busy_times([ana.id, sam.id], WEEK)

    unreadable = [p for p, r in results.items() if isinstance(r, Unreadable)]
    assert len(unreadable) == 1
    assert sum(isinstance(r, BusyTimes) for r in results.values()) == 1
    assert results[unreadable[0]] == Unreadable("Microsoft sent an answer I couldn't read")
    (record,) = caplog.records
    assert record.getMessage().startswith(f"Microsoft calendar of person {unreadable[0]}")
    assert record.getMessage().endswith("(HTTP status 200)")
    assert record.exc_info is None
