"""The admin console in a real browser: headless Debian Chromium against the running app
with Slack configured against FakeSlack.

An admin asks for a link in Slack, signs in, gives a track its own earliest hour (and
the next search in Slack respects it), finds who has not connected and reminds them (the
DM is seen at FakeSlack), imports a CSV with a bad line, exports the activity as CSV and
signs out. axe-core checks every page (no serious or critical violation), no page breaks
its own Content-Security-Policy, and each page's screenshot is saved in the test's folder.
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, async_playwright, expect

from core.people import ChatIdentity, Platform, Profile, ProgramId
from tests.adapters.slack.harness import MENTEE, MENTOR, SlackWorld, buttons, slack_world
from tests.console import local
from tests.e2e.test_playground_browser import CHROMIUM, CHROMIUM_ARGS
from tests.fakes import slack_requests as sr

PROGRAM = ProgramId("slack:T0PAIRTIME")
NEW_YORK = ZoneInfo("America/New_York")
# axe-core, the npm package (.ci/run installs it there); PAIRTIME_AXE names another copy.
AXE = Path(
    os.environ.get(
        "PAIRTIME_AXE",
        Path.home() / ".cache" / "pairtime-axe" / "node_modules" / "axe-core" / "axe.min.js",
    )
)

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)",
    ),
    pytest.mark.skipif(
        not AXE.exists(), reason="needs axe-core from npm (.ci/run installs it; see PAIRTIME_AXE)"
    ),
]


async def prepare(world: SlackWorld) -> None:
    storage = world.running.storage
    await storage.programs.ensure(PROGRAM, "Pairtime Test")
    alex = await storage.people.remember(
        PROGRAM, ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTOR), Profile("Alex Kim")
    )
    maria = await storage.people.remember(
        PROGRAM, ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTEE), Profile("Maria Lopez")
    )
    await storage.programs.grant_admin(PROGRAM, alex.id)
    await storage.pairings.pair(PROGRAM, alex.id, maria.id)


async def slot_starts(world: SlackWorld) -> list[datetime]:
    """The times Slack is offered for "find a time with my mentee next week"."""
    await world.say(
        sr.slash_command(
            world.secret,
            text="find a time with my mentee next week",
            user_id=MENTOR,
            response_url=world.response_url(),
        )
    )
    blocks = world.slack.responses[-1].body["blocks"]
    stamps = re.findall(r"<!date\^(\d+)\^", str(blocks))
    assert stamps, blocks
    return [datetime.fromtimestamp(int(s), UTC).astimezone(NEW_YORK) for s in stamps]


class Checked:
    """Every page seen: a screenshot, axe-core's findings, and CSP violations (none)."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.problems: list[str] = []
        self.pages = 0
        self.axe = AXE.read_text()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(str(error)))

    def _console(self, message: Any) -> None:
        # A page that broke its own policy says so here ("Refused to load ... because it
        # violates the following Content Security Policy directive").
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(message.text)

    async def look(self, name: str) -> None:
        await self.page.screenshot(path=str(self.folder / f"console-{name}.png"), full_page=True)
        await self.page.evaluate(self.axe)  # through the DevTools protocol, not the page's CSP
        result = await self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"
        )
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name}: {bad}"
        self.pages += 1


async def test_an_admin_runs_the_program_from_a_chat_link(tmp_path: Path):
    async with slack_world(tmp_path) as world, async_playwright() as playwright:
        await prepare(world)
        before = await slot_starts(world)
        assert min(s.hour for s in before) < 11  # the program's 08:00, in New York

        await world.say(
            sr.event_callback(
                world.secret,
                sr.message_im_event(
                    text="admin", user=MENTOR, channel=world.slack.dm_channel(MENTOR)
                ),
            )
        )
        (link,) = buttons(world.dm(MENTOR)[-1].blocks)
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = await browser.new_context(accept_downloads=True)
            page = await context.new_page()
            checked = Checked(page, tmp_path)
            await page.goto(local(world.running, link["url"]))
            await checked.look("sign-in")
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.get_by_role("heading", name="Tracks")).to_be_visible()
            await checked.look("tracks")

            # Rules: the pair's track starts at 11:00; the next search in Slack keeps to it.
            await page.get_by_role("link", name="Rules").click()
            await checked.look("rules-program")
            await (
                page.get_by_role("navigation", name="Whose rules")
                .get_by_role("link", name="Main")
                .click()
            )
            earliest = page.locator("fieldset[data-rule=earliest]")
            await earliest.get_by_label("Set for this track").check()
            await earliest.get_by_label("Earliest start").fill("11:00")
            await page.get_by_role("button", name="Save the rules").click()
            await expect(page.get_by_role("status")).to_contain_text("Saved")
            await checked.look("rules-track")
            after = await slot_starts(world)
            assert min(s.hour for s in after) >= 11

            # People: who has not connected, reminded once (the DM arrives at FakeSlack).
            await page.get_by_role("link", name="People").click()
            await page.get_by_label("not connected").check()
            await page.get_by_role("button", name="Filter").click()
            await checked.look("people")
            # On a phone: nothing wider than the screen but the tables, which scroll.
            await page.set_viewport_size({"width": 375, "height": 740})
            wide = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert wide <= 0
            await page.screenshot(path=str(tmp_path / "console-people-phone.png"), full_page=True)
            await page.set_viewport_size({"width": 1280, "height": 800})
            # By keyboard: the first Tab reaches "Skip to the page", which leads to it.
            await page.keyboard.press("Tab")
            await expect(page.get_by_role("link", name="Skip to the page")).to_be_focused()
            await page.get_by_label("Select Maria Lopez").check()
            await page.get_by_role("button", name="Send a reminder to connect").click()
            await expect(page.get_by_role("status")).to_contain_text("Reminders sent to 1")
            await world.drain()
            reminder = world.dm(MENTEE)[-1]
            assert "Your program's admin asks you to connect your calendar" in reminder.text
            assert any("/connect/" in b.get("url", "") for b in buttons(reminder.blocks))

            # Pairs: a CSV with a bad line, previewed, then its good line imported.
            await page.get_by_role("link", name="Pairs").click()
            await checked.look("pairs")
            csv = tmp_path / "pairs.csv"
            csv.write_text(
                "mentor,mentee\nlee@example.org,kim@example.org\nnot an address,kim@example.org\n"
            )
            await page.get_by_label("CSV file").set_input_files(str(csv))
            await page.get_by_role("button", name="Check the file").click()
            await expect(page.get_by_role("status")).to_contain_text(
                "1 new, 0 unchanged, 1 with an error"
            )
            await checked.look("import-preview")
            await page.get_by_role("button", name="Import the 1 good line(s)").click()
            await expect(page.get_by_role("status")).to_contain_text("Added.")
            assert len(await world.running.storage.pairings.listing(PROGRAM)) == 2

            # Activity, exported as CSV; then the other pages, and out.
            await page.get_by_role("link", name="Activity").click()
            await expect(
                page.get_by_role("img", name=re.compile("Meetings per week"))
            ).to_be_visible()
            await checked.look("activity")
            async with page.expect_download() as waiting:
                await page.get_by_role("link", name=re.compile("Download as CSV.*pair")).click()
            download = await waiting.value
            exported = await asyncio.to_thread(Path(await download.path()).read_text)
            assert exported.startswith("Mentor,Mentee,Track,Booked")
            assert "Alex Kim,Maria Lopez,Main," in exported
            for name in ("Circles", "Admins", "Integrations", "Audit log"):
                await page.get_by_role("link", name=name, exact=True).click()
                await expect(page.get_by_role("heading", level=1)).to_have_text(name)
                await checked.look(name.lower().replace(" ", "-"))
            await expect(page.locator("main")).to_contain_text("Earliest start")
            await page.get_by_role("button", name="Sign out").click()
            await expect(page.get_by_role("status")).to_contain_text("signed out")
            await page.goto(local(world.running, link["url"]).split("/sign-in")[0] + "/tracks")
            await expect(page.get_by_role("heading", level=1)).to_have_text(
                "Sign in to the admin console"
            )
            assert checked.pages == 12
            assert checked.problems == []  # no CSP violation, no script error
        finally:
            await browser.close()
