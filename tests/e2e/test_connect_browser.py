"""Connecting Microsoft in headless Debian Chromium: the link's cookie must survive Microsoft's
cross-site form post, and another browser must not be able to finish someone's sign-in.

The app runs in-process, the Microsoft fake over TLS (its certificate is self-signed:
Chromium is told to accept it); the browser runs in a worker thread, so the event loop keeps
serving both while it clicks.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import Browser, BrowserType, Route, sync_playwright
from sqlalchemy import text

from adapters.calendars.config import CalendarSettings
from bot.bootstrap import prepare_database
from bot.server import SERVICES_KEY, build_app
from bot.settings import load_settings
from core.commands import Provider
from core.people import ChatIdentity, Platform, Profile, ProgramId
from core.privacy import masked
from core.secret import Secret
from storage.crypto import generate_key
from storage.store import Storage
from tests.e2e.test_playground_browser import CHROMIUM, CHROMIUM_ARGS
from tests.fakes.microsoft import FakeMicrosoft
from tests.fakes.server import TestCertificate, running
from tests.support import PROVIDER_TIMEOUT

PROGRAM = ProgramId("teams:contoso")
WORK = "ana@contoso.com"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it); "
    "no browser is ever downloaded",
)


def free_port() -> int:
    """A port for the app, known before it starts: its redirect URI must name it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class World:
    storage: Storage
    app: web.Application

    async def link(self, user: str, name: str) -> str:
        await self.storage.programs.ensure(PROGRAM, "Program")
        identity = ChatIdentity(Platform.TEAMS, "contoso", user)
        person = await self.storage.people.remember(PROGRAM, identity, Profile(name))
        return await self.app[SERVICES_KEY].links.link(identity, person.id, Provider.MICROSOFT)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    tls = TestCertificate.create(tmp_path)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    microsoft = FakeMicrosoft(
        client_id="11111111-2222-3333-4444-555555555555",
        client_secret="microsoft-client-secret",
        redirect_uris=(f"{public}/oauth/microsoft/callback",),
        next_account=WORK,
    )
    async with running(microsoft.app, tls=tls) as base:
        settings = replace(
            load_settings({}, dotenv_path=None),
            base_url=public,
            playground=False,
            calendars=CalendarSettings(
                microsoft_client_id=microsoft.client_id,
                microsoft_client_secret=Secret(microsoft.client_secret),
                microsoft_authority_url=base,
                microsoft_graph_url=f"{base}/v1.0",
                ca_bundle=str(tls.ca_path),
                timeout_seconds=PROVIDER_TIMEOUT,
            ),
        )
        storage = Storage.open(f"sqlite+aiosqlite:///{tmp_path / 'pairtime.db'}", [generate_key()])
        await prepare_database(storage.database, migrate_if_behind=False)
        runner = web.AppRunner(build_app(settings, storage, folder=tmp_path / ".pairtime"))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield World(storage, runner.app)
        finally:
            await runner.cleanup()
            await storage.close()


def launch(chromium: BrowserType) -> Browser:
    return chromium.launch(
        executable_path=str(CHROMIUM),
        args=[*CHROMIUM_ARGS, "--ignore-certificate-errors"],  # the fake's own certificate
        headless=True,
    )


def connect(link: str) -> str:
    """Open the link, Continue, sign in at Microsoft: the last page's text."""
    with sync_playwright() as playwright:
        browser = launch(playwright.chromium)
        try:
            page = browser.new_context().new_page()
            page.goto(link)
            page.get_by_role("button", name="Continue to Microsoft 365 / Outlook.com").click()
            page.wait_for_url("**/oauth/microsoft/callback")
            return page.locator("main").inner_text()
        finally:
            browser.close()


def finish_someone_elses(link: str) -> str:
    """Mallory opens her link and stops at Microsoft; Ana's browser opens that address."""
    with sync_playwright() as playwright:
        browser = launch(playwright.chromium)
        try:
            mallory = browser.new_context().new_page()
            sign_in: list[str] = []

            def stop_before_microsoft(route: Route) -> None:
                # Her browser's own request (her link's cookie goes with it); she keeps the
                # address of Microsoft's sign-in instead of following it.
                answer = route.fetch(max_redirects=0)
                sign_in.append(answer.headers["location"])
                route.fulfill(status=200, body="")

            mallory.route("**/connect/microsoft/start?*", stop_before_microsoft)
            mallory.goto(link)
            mallory.get_by_role("button", name="Continue to Microsoft 365 / Outlook.com").click()
            mallory.wait_for_url("**/connect/microsoft/start?*")
            assert sign_in
            ana = browser.new_context().new_page()
            ana.goto(sign_in[0])
            ana.wait_for_url("**/oauth/microsoft/callback")
            return ana.locator("main").inner_text()
        finally:
            browser.close()


async def test_microsoft_connects_through_its_cross_site_form_post(world: World):
    link = await world.link("aad-ana", "Ana Lima")
    page = await asyncio.to_thread(connect, link)
    assert "Your Microsoft 365 / Outlook.com calendar is connected" in page
    assert masked(WORK) in page  # the work account, shown masked as every status shows it
    assert WORK not in page


async def test_another_browser_cannot_finish_someone_elses_sign_in(world: World):
    link = await world.link("aad-mallory", "Mallory")
    page = await asyncio.to_thread(finish_someone_elses, link)
    assert "This sign-in didn't start in this browser" in page
    async with world.storage.database.transaction() as db:
        count = (await db.execute(text("SELECT count(*) FROM calendar_connections"))).scalar_one()
    assert count == 0
