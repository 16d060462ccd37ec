"""The playground page: the switcher, the conversations, and a guide that follows the roster."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from adapters.web.page import page
from core.scheduling.directory import Circle, Member, Role, Roster

HOSTILE = '<b onmouseover="x">Eve</b>'


def member(user: str, name: str, zone: str, role: Role, *, connected: bool = True, channels=()):
    return Member(
        user, name, ZoneInfo(zone), role, tuple(channels), f"{user}@demo.example", connected
    )


ROSTER = Roster(
    members=(
        member("ana", "Ana Lima", "Europe/London", Role.MENTOR, channels=("circle",)),
        member("ben", "Ben Ode", "Europe/Berlin", Role.MENTOR),
        member("cy", "Cy Rao", "Asia/Kolkata", Role.MENTEE, connected=False),
        member("dee", "Dee Fox", "America/New_York", Role.MENTEE),
        member("eve", HOSTILE, "America/Sao_Paulo", Role.CIRCLE, channels=("circle",)),
    ),
    pairs=(("ben", "cy"), ("ana", "dee")),
    circles=(Circle("circle", "Leadership <Circle>", ("ana", "eve")),),
)


def test_people_are_grouped_by_role_with_their_zone_and_channels():
    html = page(ROSTER, person=None, place="dm", password="pw")
    assert '<label for="person">Act as</label><select id="person" name="person">' in html
    assert '<optgroup label="Mentors">' in html
    assert '<optgroup label="Mentees">' in html
    assert '<optgroup label="Circle members">' in html
    assert (
        '<option value="cy" data-channels="">Cy Rao \u2014 Asia/Kolkata (UTC+05:30)</option>'
        in html
    )
    assert 'data-circles="{&#34;circle&#34;: &#34;Leadership &lt;Circle&gt;&#34;}"' in html
    assert HOSTILE not in html
    assert "&lt;b onmouseover=&#34;x&#34;&gt;Eve&lt;/b&gt;" in html


def test_the_guide_books_with_a_fully_connected_pair_and_connects_the_unconnected():
    html = page(ROSTER, person=None, place="dm", password="pair-time-demo-only")
    # Ben's mentee has no calendar: Ana and Dee show booking, and Ana is selected.
    assert '<option value="ana" data-channels="circle" selected>' in html
    assert 'data-person="ana" data-in="dm" data-say="find a time with my mentee next week"' in html
    assert "Switch to <strong>Dee Fox</strong> (mentee, New York)" in html
    assert 'data-person="cy" data-in="dm" data-say="connect my calendar"' in html
    assert "<code>cy@demo.example</code>" in html
    assert "<code>pair-time-demo-only</code>" in html
    assert 'data-person="ana" data-in="circle" data-say="poll my circle"' in html


def test_a_channel_the_person_is_not_in_falls_back_to_the_direct_conversation():
    assert '<div class="layout" data-in="circle">' in page(
        ROSTER, person="eve", place="circle", password="pw"
    )
    assert '<div class="layout" data-in="dm">' in page(
        ROSTER, person="cy", place="circle", password="pw"
    )
    assert '<option value="cy" data-channels="" selected>' in page(
        ROSTER, person="cy", place="dm", password="pw"
    )


def test_an_empty_program_says_how_to_get_the_demo_back():
    html = page(Roster((), (), ()), person="ana", place="dm", password="pw")
    assert "pairtime demo reset" in html
    assert 'id="log"' not in html


def test_the_inbox_and_calendar_tabs_and_their_step_come_with_the_demo_desk():
    without = page(ROSTER, person=None, place="dm", password="pw")
    assert 'role="tablist"' not in without
    assert "Inbox" not in without
    html = page(ROSTER, person=None, place="dm", password="pw", desk=True)
    assert '<button type="button" role="tab" id="tab-inbox"' in html
    assert 'id="panel-calendar" role="tabpanel"' in html
    assert "Still as Dee Fox, <button" in html
    assert 'data-person="dee" data-in="dm" data-tab="inbox"' in html
    assert 'data-person="dee" data-in="dm" data-tab="calendar"' in html
    assert 'data-person="dee" data-in="dm" data-say="my meetings"' in html
    assert "and empties the inboxes" in html
    assert "<script>" not in html  # the page's CSP allows no inline script
    assert " on" + "click=" not in html
