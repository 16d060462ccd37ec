"""Core's views as the playground's HTML: every view, escaping, zones, and references."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from adapters.web.render import Viewer, local, message, render, said, zone_name
from core.commands import Provider
from core.polls import PollStatus
from core.views import (
    Button,
    ButtonStyle,
    Confirmation,
    ConnectionStatusView,
    ConnectPrompt,
    HelpView,
    LinkButton,
    MeetingItem,
    MeetingList,
    Notice,
    PollDraftView,
    PollOptionView,
    PollView,
    Question,
    SettingsView,
    SlotChoice,
    SlotPicker,
    TextInput,
    TimeInput,
    Tone,
    View,
)

LONDON = ZoneInfo("Europe/London")
KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
BASE = "http://127.0.0.1:3978"
HOSTILE = '<script>alert("x")</script> & "quotes" \'single\''
MONDAY = datetime(2026, 11, 30, 20, tzinfo=UTC)  # Tue 1 Dec 01:30 in Kolkata
VOID = {"input", "br", "img", "meta", "link"}


class Balanced(HTMLParser):
    """Checks that every tag closes in order, and collects the text and the scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, _attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"unexpected </{tag}>")


def parsed(fragment: str) -> Balanced:
    checker = Balanced()
    checker.feed(fragment)
    checker.close()
    assert checker.problems == []
    assert checker.open == []
    return checker


def test_the_checker_finds_unbalanced_html():
    checker = Balanced()
    checker.feed("<div><p>text</div>")
    assert checker.problems == ["unexpected </div>"]


def button(label: str, ref: str, style: ButtonStyle = ButtonStyle.DEFAULT) -> Button:
    return Button(label, ref, style)


def option(n: int, *, winner: bool = False, open_: bool = True) -> PollOptionView:
    start = MONDAY + timedelta(days=n)
    return PollOptionView(
        option=n,
        start=start,
        end=start + timedelta(hours=1),
        yes=n,
        if_need_be=1,
        busy=2,
        vote_yes=button("Yes", f"ref-yes-{n}") if open_ else None,
        vote_if_need_be=button("If need be", f"ref-maybe-{n}") if open_ else None,
        winner=winner,
    )


PICKER = SlotPicker(
    title=f"Times for you and {HOSTILE}",
    zone=LONDON,
    duration_minutes=30,
    slots=(
        SlotChoice(MONDAY, MONDAY + timedelta(minutes=30), "ref-pick-1"),
        SlotChoice(MONDAY + timedelta(hours=12), MONDAY + timedelta(hours=12.5), "ref-pick-2"),
    ),
    more=button("More times", "ref-more"),
    notes=(f"{HOSTILE}'s calendar was not checked.",),
    connect=ConnectPrompt("Connect yours", (LinkButton("Connect iCloud", f"{BASE}/connect/x"),)),
    remaining=4,
)
CONFIRMATION = Confirmation(
    headline="You booked it.",
    title=f"Mentoring: {HOSTILE}",
    start=MONDAY,
    end=MONDAY + timedelta(minutes=30),
    zone=LONDON,
    with_names=(HOSTILE, "Sam"),
    download="tok.en/with?odd&chars",
    buttons=(button("Cancel meeting", "ref-cancel", ButtonStyle.DANGER),),
    location=f"javascript:alert(1) {HOSTILE}",
    notes=(f"{HOSTILE} has no email address.",),
    place=TextInput("Add a link or a room", "ref-place", "Save", HOSTILE),
)
POLL = PollView(
    title=HOSTILE,
    organizer=HOSTILE,
    zone=LONDON,
    duration_minutes=60,
    options=(option(0, winner=True), option(1)),
    invitees=4,
    connected=3,
    status=PollStatus.OPEN,
    deadline=MONDAY + timedelta(days=3),
    required=(HOSTILE,),
    result=None,
    close=button("Close and book", "ref-close", ButtonStyle.PRIMARY),
    cancel=button("Cancel poll", "ref-cancel-poll", ButtonStyle.DANGER),
    connect=button("Connect my calendar", "ref-connect"),
)
DRAFT = PollDraftView(
    title=HOSTILE,
    zone=LONDON,
    duration_minutes=60,
    options=((option(0, open_=False), button("Remove", "ref-remove-0")),),
    invitees=(HOSTILE, "Ben"),
    connected=1,
    add_time=TimeInput("Add a time of your own", "ref-add"),
    deadlines=(
        button("No deadline", "ref-d0", ButtonStyle.PRIMARY),
        button("In 1 day", "ref-d24"),
    ),
    deadline=None,
    required=(button(HOSTILE, "ref-req-1", ButtonStyle.PRIMARY), button("Ben", "ref-req-2")),
    required_names=(HOSTILE,),
    post=button("Post poll", "ref-post", ButtonStyle.PRIMARY),
    cancel=button("Discard", "ref-discard", ButtonStyle.DANGER),
    notes=(HOSTILE,),
)
EVERY_VIEW: list[tuple[View, list[str]]] = [
    (PICKER, ["ref-pick-1", "ref-pick-2", "ref-more"]),
    (CONFIRMATION, ["ref-cancel", "ref-place"]),
    (
        MeetingList(
            "Your upcoming meetings",
            LONDON,
            (
                MeetingItem(
                    HOSTILE,
                    MONDAY,
                    MONDAY + timedelta(minutes=30),
                    (HOSTILE,),
                    HOSTILE,
                    location=f"https://example.org/{HOSTILE}",
                    buttons=(button("Move", "ref-move"), button(HOSTILE, "ref-other")),
                ),
            ),
        ),
        ["ref-move", "ref-other"],
    ),
    (ConnectPrompt(HOSTILE, (LinkButton(HOSTILE, "https://example.org/?a=1&b=2"),)), []),
    (
        ConnectionStatusView(
            HOSTILE, Provider.ICLOUD, disconnect=button("Disconnect", "ref-disconnect")
        ),
        ["ref-disconnect"],
    ),
    (HelpView(HOSTILE, (HOSTILE, "status"), hint=HOSTILE), []),
    (SettingsView(HOSTILE, ((HOSTILE, HOSTILE),), can_edit=True), []),
    (Notice(HOSTILE, Tone.WARNING, (button(HOSTILE, "ref-notice"),)), ["ref-notice"]),
    (
        Question(HOSTILE, (button("Ana", "ref-ana"), button("Ben", "ref-ben"))),
        ["ref-ana", "ref-ben"],
    ),
    (
        POLL,
        [
            "ref-yes-0",
            "ref-maybe-0",
            "ref-yes-1",
            "ref-maybe-1",
            "ref-close",
            "ref-cancel-poll",
            "ref-connect",
        ],
    ),
    (
        DRAFT,
        [
            "ref-remove-0",
            "ref-add",
            "ref-d0",
            "ref-d24",
            "ref-req-1",
            "ref-req-2",
            "ref-post",
            "ref-discard",
        ],
    ),
]


@pytest.mark.parametrize(("view", "references"), EVERY_VIEW, ids=lambda v: type(v).__name__)
def test_every_view_is_balanced_escaped_and_carries_its_references(view, references):
    fragment = render(view, Viewer(LONDON, BASE), key="m7")
    checker = parsed(fragment)
    assert "script" not in checker.tags
    assert "<script" not in fragment
    assert re.findall(r'data-action="([^"]+)"', fragment) == references
    assert len(re.findall(r"<(?:button|form) [^>]*data-action=", fragment)) == len(references)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in fragment
    # Every clickable thing is a real button or a link, never a div with a handler.
    assert "onclick" not in fragment


def test_buttons_are_buttons_with_their_reference_untouched():
    fragment = render(Notice("Hi", buttons=(button("Go", "abc.DEF-_"),)), Viewer(LONDON), key="m1")
    assert '<button type="button" class="button default" data-action="abc.DEF-_">Go</button>' in (
        fragment
    )


def test_times_are_shown_in_the_viewers_zone_whatever_the_view_says():
    fragment = render(PICKER, Viewer(KOLKATA, BASE), key="m3")
    # 20:00 UTC on Monday is 01:30 on Tuesday in Kolkata: grouped under Tuesday.
    assert '<h4 id="m3-day0"><time datetime="2026-12-01">Tue 1 Dec</time></h4>' in fragment
    assert '<time datetime="2026-12-01T01:30+05:30">01:30</time>' in fragment
    assert "Times in Asia/Kolkata (UTC+05:30)." in fragment
    assert "Europe/London" not in fragment
    assert "Book Tue 1 Dec, " in fragment  # the slot's full name for screen readers

    in_new_york = render(CONFIRMATION, Viewer(NEW_YORK), key="m4")
    assert '<time datetime="2026-11-30T15:00-05:00">Mon 30 Nov, 15:00</time>' in in_new_york
    assert "Times in America/New_York (UTC\u221205:00)." in in_new_york


def test_a_poll_names_each_vote_for_screen_readers_and_marks_the_winner():
    fragment = render(POLL, Viewer(LONDON), key="m5")
    assert (
        '<button type="button" class="button vote" data-action="ref-yes-0">Yes'
        '<span class="visually-hidden"> for Mon 30 Nov, 20:00</span></button>'
    ) in fragment
    assert '<li class="option winner">' in fragment
    assert "0 yes, 1 if need be, 2 busy" in fragment
    assert "3 of 4 invitees have connected calendars." in fragment
    assert "tied-note" not in fragment


def test_a_tied_time_is_marked_as_such():
    tied = replace(option(1, open_=False), tied=True)
    closed = replace(
        POLL, status=PollStatus.CLOSED, options=(option(0, winner=True, open_=False), tied)
    )
    fragment = render(closed, Viewer(LONDON), key="m6")
    assert fragment.count('<strong class="tied-note">Tied</strong>') == 1
    assert fragment.index("tied-note") > fragment.index("winner-note")


def test_the_draft_has_a_labelled_time_field_and_pressed_toggles():
    fragment = render(DRAFT, Viewer(LONDON), key="m9")
    assert '<form class="time-input" data-action="ref-add">' in fragment
    assert '<label for="m9-add">Add a time of your own (Europe/London (UTC+' in fragment
    assert '<input id="m9-add" name="value" type="datetime-local" required>' in fragment
    assert 'aria-pressed="true" data-action="ref-d0"' in fragment
    assert 'aria-pressed="false" data-action="ref-d24"' in fragment
    assert 'role="group" aria-labelledby="m9-deadline"' in fragment


def test_links_to_this_server_become_relative_and_downloads_are_quoted():
    picker = render(PICKER, Viewer(LONDON, BASE), key="m1")
    assert 'href="/connect/x" target="_blank" rel="noopener"' in picker
    confirmation = render(CONFIRMATION, Viewer(LONDON, BASE), key="m2")
    assert 'href="/invitations/tok.en%2Fwith%3Fodd%26chars.ics" download' in confirmation
    assert local(f"{BASE}/connect/icloud?state=a", BASE) == "/connect/icloud?state=a"
    assert local("http://127.0.0.1:39780/connect", BASE) == "http://127.0.0.1:39780/connect"
    assert local("https://example.org/x", BASE) == "https://example.org/x"
    assert local(BASE, BASE) == "/"


def test_a_cancelled_confirmation_offers_no_cancel_button():
    cancelled = Confirmation(
        "Ana cancelled it.", "Mentoring", MONDAY, MONDAY + timedelta(hours=1), LONDON, ("Ana",),
        download="t", cancelled=True,
    )  # fmt: skip
    fragment = render(cancelled, Viewer(LONDON), key="m1")
    assert "This meeting is off." in fragment
    assert "data-action" not in fragment
    assert "Download cancellation (.ics)" in fragment


def test_messages_say_who_when_and_whether_only_you_see_them():
    at = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
    mine = message(
        key="m12", author=HOSTILE, at=at, body=said(HOSTILE), viewer=Viewer(KOLKATA),
        from_pairtime=False,
    )  # fmt: skip
    parsed(mine)
    assert '<li class="message from-person" id="m12" tabindex="-1">' in mine
    assert '<time datetime="2026-11-25T15:35+05:30">15:35</time>' in mine
    assert "<script>" not in mine
    private = message(
        key="m13", author="Pairtime", at=at, body="<p>x</p>", viewer=Viewer(LONDON),
        from_pairtime=True, private=True,
    )  # fmt: skip
    assert "Only visible to you" in private
    assert 'class="message from-pairtime private"' in private


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Asia/Kolkata", "Asia/Kolkata (UTC+05:30)"),
        ("Asia/Kathmandu", "Asia/Kathmandu (UTC+05:45)"),
        ("America/Sao_Paulo", "America/Sao_Paulo (UTC\u221203:00)"),
        ("Europe/London", "Europe/London (UTC+00:00)"),
    ],
)
def test_zones_are_named_with_their_offset_then(zone, expected):
    assert zone_name(ZoneInfo(zone), datetime(2026, 12, 1, tzinfo=UTC)) == expected
    summer = zone_name(ZoneInfo("Europe/London"), datetime(2026, 7, 1, tzinfo=UTC))
    assert summer == "Europe/London (UTC+01:00)"
