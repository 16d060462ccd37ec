"""The playground in a real browser: headless Debian Chromium against `pairtime serve`.

One process, started as a newcomer would (no chat settings, a fresh working
folder, the playground on by default), driven through the page: book a
meeting as a mentor, open the invitation in the mentee's inbox (it came
through the demo's SMTP server), accept it into his calendar and see it there
and among his meetings, connect and disconnect a calendar through the real
iCloud form, post a poll and vote as two people. Screenshots of the main
screens (the inbox, the opened invitation and the calendar among them) are
saved in the test's temporary folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from adapters.web.program import DEMO_PASSWORD
from tests.support import RunningProcess, start_serve

CHROMIUM = Path("/usr/bin/chromium")
# This machine's network is closed: without these, Chromium keeps trying to reach Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# As a newcomer's shell: no chat app, default database, address and playground setting.
NEWCOMER = dict.fromkeys(
    (
        "PAIRTIME_ENV",
        "PAIRTIME_DATABASE_URL",
        "PAIRTIME_BASE_URL",
        "PAIRTIME_ENCRYPTION_KEYS",
        "PAIRTIME_PLAYGROUND",
        "PAIRTIME_CALDAV_URL",
        "SLACK_SIGNING_SECRET",
        "SLACK_BOT_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "MICROSOFT_APP_ID",
        "MICROSOFT_APP_PASSWORD",
    ),
    "",
)
SOON = 15_000  # ms: what the page shows arrives within a poll or two (every 2 s)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it); "
    "no browser is ever downloaded",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    """One server for the module: starting it is most of a test's time."""
    work = tmp_path_factory.mktemp("work")
    running = start_serve(env=NEWCOMER, cwd=work)
    try:
        yield running
    finally:
        stderr = running.stop()
        # What people typed is never logged.
        assert "find a time with my mentee" not in stderr
        assert DEMO_PASSWORD not in stderr
        assert running.process.returncode == 0, stderr


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


def act_as(page: Page, user_id: str) -> None:
    page.get_by_label("Act as").select_option(user_id)
    expect(page).to_have_url(re.compile(rf"as={user_id}"))


def say(page: Page, text: str) -> None:
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")


def messages(page: Page):
    return page.get_by_role("log")


def tab(page: Page, name: str) -> None:
    chosen = page.get_by_role("tab", name=re.compile(f"^{name}"))
    chosen.click()
    expect(chosen).to_have_attribute("aria-selected", "true")


def test_a_newcomer_books_is_accepted_connects_and_votes(
    server: RunningProcess, browser: Browser, tmp_path
):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    refused: list[str] = []  # what the page's Content-Security-Policy blocked, if anything
    page.on(
        "console",
        lambda line: refused.append(line.text) if "Content Security Policy" in line.text else None,
    )
    page.goto(server.address + "/")
    expect(page.get_by_role("heading", name="Pairtime playground")).to_be_visible()
    expect(page.get_by_label("Act as")).to_have_value("maria")  # the guide's first step
    page.screenshot(path=tmp_path / "home.png")

    # Book: the mentor asks, picks a time with the keyboard, and both sides see it.
    say(page, "find a time with my mentee next week")
    picker = messages(page).locator(".picker")
    expect(picker.get_by_role("heading", name="Times for you and Sam Carter")).to_be_visible(
        timeout=SOON
    )
    expect(picker).to_contain_text("Times in Europe/London")
    page.screenshot(path=tmp_path / "picker.png")
    slot = picker.locator("button.slot").first
    start = slot.locator("time").first.get_attribute("datetime")
    assert start is not None
    slot.focus()
    page.keyboard.press("Enter")
    confirmation = (
        messages(page)
        .locator(".confirmation")
        .filter(has_text="You proposed this time to Sam Carter.")
    )
    expect(confirmation).to_be_visible(timeout=SOON)
    expect(confirmation.locator("time").first).to_have_attribute("datetime", start)
    with page.expect_download() as download:
        confirmation.get_by_role("link", name="Download invitation (.ics)").click()
    invitation = Path(download.value.path()).read_text(encoding="utf-8")
    assert "BEGIN:VCALENDAR" in invitation
    assert "Sam Carter" in invitation

    # The mentee is asked: he accepts, and sees it among his meetings.
    act_as(page, "sam")
    theirs = (
        messages(page)
        .locator(".confirmation")
        .filter(has_text="Maria Lopez proposes a time for Mentoring: Maria Lopez and Sam Carter.")
    )
    expect(theirs).to_be_visible(timeout=SOON)
    expect(theirs).to_contain_text("Times in America/New_York")
    page.screenshot(path=tmp_path / "proposal-mentee.png")

    # The invitation reached Sam's inbox through SMTP: he opens it and accepts it there, as
    # in a mail client, and the meeting is in his calendar, at his own wall-clock time.
    in_new_york = (
        datetime.fromisoformat(start)
        .astimezone(ZoneInfo("America/New_York"))
        .isoformat(timespec="minutes")
    )
    page.locator(".guide").get_by_role("button", name="open the Inbox").click()
    expect(page.get_by_role("tab", name=re.compile("^Inbox"))).to_have_attribute(
        "aria-selected", "true"
    )
    inbox = page.locator("#panel-inbox")
    item = inbox.get_by_role(
        "button", name=re.compile("Invitation: Mentoring: Maria Lopez and Sam Carter")
    )
    expect(item).to_be_visible(timeout=SOON)
    expect(page.get_by_role("tab", name=re.compile("^Inbox"))).to_contain_text("1 unread")
    expect(item).to_contain_text("Pairtime demo <pairtime@pairtime-demo.example>")
    page.screenshot(path=tmp_path / "inbox.png")
    item.click()
    emailed = inbox.locator(".invitation")
    expect(emailed.get_by_role("heading")).to_have_text(
        "Mentoring: Maria Lopez and Sam Carter", timeout=SOON
    )
    expect(emailed.locator(".when time").first).to_have_attribute("datetime", in_new_york)
    expect(emailed).to_contain_text("Times in America/New_York")
    expect(emailed.locator(".invitation-people")).to_contain_text("pairtime@pairtime-demo.example")
    expect(emailed.locator(".invitation-people")).to_contain_text(
        "Maria Lopez <maria.lopez@pairtime-demo.example>: not answered yet"
    )
    expect(inbox.locator(".mail-text")).to_contain_text("Hello Sam Carter")
    page.screenshot(path=tmp_path / "invitation.png", full_page=True)
    emailed.get_by_role("button", name="Accept").click()
    expect(inbox.locator(".calendar-state")).to_have_text(
        "In your calendar (you accepted).", timeout=SOON
    )
    expect(page.locator("#desk-status")).to_have_text("Accepted: the meeting is in your calendar.")
    tab(page, "Calendar")
    calendar = page.locator("#panel-calendar")
    expect(calendar.get_by_role("button", name="Next week")).to_have_attribute(
        "aria-pressed", "true", timeout=SOON
    )
    meeting = calendar.locator(".entry.pairtime")
    expect(meeting).to_contain_text("Mentoring: Maria Lopez and Sam Carter", timeout=SOON)
    expect(meeting.locator("time").first).to_have_attribute("datetime", in_new_york)
    expect(calendar.locator(".entry").filter(has_text="Daily scrum").first).to_be_visible()
    expect(calendar.locator(".entry").filter(has_text="Customer workshop")).to_contain_text(
        "All day"
    )
    page.screenshot(path=tmp_path / "calendar.png", full_page=True)
    tab(page, "Chat")
    theirs.get_by_role("button", name="Accept").click()
    accepted = (
        messages(page)
        .locator(".confirmation")
        .filter(has_text="You accepted Mentoring: Maria Lopez and Sam Carter.")
    )
    expect(accepted).to_be_visible(timeout=SOON)
    expect(accepted.get_by_role("button", name="Move")).to_be_visible()
    say(page, "my meetings")
    listing = messages(page).locator(".meetings").last
    expect(listing).to_contain_text("Your upcoming meetings", timeout=SOON)
    mine = listing.locator(".meeting").filter(has_text="Mentoring: Maria Lopez and Sam Carter")
    expect(mine).to_contain_text("Confirmed.")
    expect(mine.locator("time").first).to_have_attribute(
        "datetime",
        re.compile(r"-0[45]:00$"),  # New York's offset: Sam's own zone
    )
    expect(mine.get_by_role("button", name="Cancel meeting")).to_be_visible()
    page.screenshot(path=tmp_path / "my-meetings.png")
    act_as(page, "maria")
    expect(
        messages(page).get_by_text("Sam Carter accepted Mentoring: Maria Lopez and Sam Carter.")
    ).to_be_visible(timeout=SOON)

    # Connect Priya's calendar through the real iCloud form, then disconnect it.
    act_as(page, "priya")
    say(page, "connect my calendar")
    link = messages(page).get_by_role("link", name=re.compile("Connect iCloud"))
    expect(link).to_be_visible(timeout=SOON)
    with context.expect_page() as opened:
        link.click()
    form = opened.value
    expect(form.get_by_text("For Priya Nair (Pairtime).")).to_be_visible()
    form.get_by_label("Apple ID (email)").fill("priya.nair@pairtime-demo.example")
    form.get_by_label("App-specific password").fill(DEMO_PASSWORD)
    form.get_by_role("button", name="Connect iCloud").click()
    expect(form.get_by_role("heading", name="Your iCloud calendar is connected")).to_be_visible()
    form.close()
    expect(
        messages(page).get_by_text("Your iCloud calendar (p•••@pairtime-demo.example) is")
    ).to_be_visible(timeout=SOON)
    say(page, "status")
    disconnect = messages(page).get_by_role("button", name="Disconnect")
    expect(disconnect).to_be_visible(timeout=SOON)
    page.screenshot(path=tmp_path / "connected.png")
    disconnect.click()
    expect(messages(page).get_by_text("Your iCloud calendar is disconnected")).to_be_visible(
        timeout=SOON
    )

    # A poll in the circle's channel: posted by Beatriz, voted on by Maria and Jonas.
    act_as(page, "beatriz")
    channel = page.get_by_role("button", name="#circle")
    expect(channel).to_have_attribute("title", "Leadership Circle")
    channel.click()
    expect(page.get_by_role("heading", name="#circle")).to_be_visible()
    say(page, "poll my circle")
    draft = messages(page).locator(".message").filter(has=page.locator(".poll-draft"))
    expect(draft).to_be_visible(timeout=SOON)
    expect(draft).to_contain_text("Only visible to you")
    draft.get_by_role("button", name="Post poll").click()
    poll = messages(page).locator(".poll")
    expect(poll).to_be_visible(timeout=SOON)
    first_option = poll.locator(".option").first
    for voter, tally in (("maria", "1 yes"), ("jonas", "2 yes")):
        act_as(page, voter)
        first_option = messages(page).locator(".poll .option").first
        expect(first_option).to_be_visible(timeout=SOON)
        first_option.get_by_role("button", name=re.compile("^Yes for ")).click()
        expect(first_option.locator(".tally")).to_contain_text(tally, timeout=SOON)
    page.screenshot(path=tmp_path / "poll.png")
    act_as(page, "beatriz")
    expect(messages(page).locator(".poll .option").first.locator(".tally")).to_contain_text(
        "2 yes", timeout=SOON
    )
    messages(page).get_by_role("button", name="Close and book").click()
    expect(messages(page).locator(".poll .winner-note")).to_be_visible(timeout=SOON)
    expect(messages(page).get_by_text("The most popular time was booked.").first).to_be_visible()
    assert refused == []
    context.close()


def test_the_page_fits_a_phone(server: RunningProcess, browser: Browser, tmp_path):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(server.address + "/?as=maria")
    say(page, "find a time with my mentee next week")
    expect(messages(page).locator(".picker button.slot").first).to_be_visible(timeout=SOON)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=tmp_path / "phone.png", full_page=True)
    # Keyboard focus survives the page asking for news every two seconds.
    circle = page.get_by_role("button", name="#circle")
    circle.focus()
    page.wait_for_timeout(2500)
    expect(circle).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="#circle")).to_be_visible()
    context.close()
