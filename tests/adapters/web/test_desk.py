"""The inbox and calendar tabs as HTML: escaped, in the viewer's zone, days placed right."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.web.desk import inbox, opened, week
from adapters.web.inbox import (
    Answer,
    Attendee,
    CalendarEntry,
    InvitationDetails,
    MailSummary,
    OpenedMail,
)
from core.time import local_day
from tests.adapters.web.test_render import HOSTILE, parsed

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
AT = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
START = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # 08:00 in New York, 18:30 in Kolkata


def summary(**changes: object) -> MailSummary:
    values: dict[str, object] = {
        "key": "1.M2P3.host",
        "sender": "Pairtime demo <pairtime@pairtime-demo.example>",
        "subject": f"Invitation: {HOSTILE}",
        "at": AT,
        "seen": False,
        "invitation": True,
    }
    return MailSummary(**(values | changes))  # type: ignore[arg-type]


def invitation(**changes: object) -> InvitationDetails:
    values: dict[str, object] = {
        "uid": "abc@pairtime",
        "method": "REQUEST",
        "sequence": 1,
        "title": f"Mentoring: {HOSTILE}",
        "start": START,
        "end": START + timedelta(minutes=30),
        "status": "TENTATIVE",
        "organiser": "Pairtime demo <pairtime@pairtime-demo.example>",
        "attendees": (Attendee(HOSTILE, "eve@example.org", "NEEDS-ACTION"),),
        "join_link": "https://meet.example/x?a=1&b=2",
    }
    return InvitationDetails(**(values | changes))  # type: ignore[arg-type]


def test_the_inbox_lists_mail_newest_first_escaped_in_the_readers_zone():
    html = inbox(
        [summary(), summary(key="2.M", seen=True)], name=HOSTILE, zone=KOLKATA, local_mail=True
    )
    parsed(html)
    assert "<script>" not in html
    assert html.count("data-mail=") == 2
    assert 'class="mail-item unread-mail" data-mail="1.M2P3.host"' in html
    assert 'class="mail-item" data-mail="2.M"' in html
    assert '<time class="mail-at" datetime="2026-12-05T20:30+05:30">Sat 5 Dec, 20:30</time>' in html
    assert "PAIRTIME_SMTP_URL" not in html


def test_an_empty_inbox_says_what_will_arrive_and_an_operators_server_is_named():
    assert "No emails yet" in inbox([], name="Sam", zone=NEW_YORK, local_mail=True)
    elsewhere = inbox([], name="Sam", zone=NEW_YORK, local_mail=False)
    assert "PAIRTIME_SMTP_URL" in elsewhere


def test_an_invitation_shows_its_time_people_and_link_and_can_be_answered():
    mail = OpenedMail(summary(seen=True), "Sam <sam@x>", f"Hello {HOSTILE}", invitation())
    html = opened(mail, name="Sam Carter", zone=NEW_YORK)
    parsed(html)
    assert "<script>" not in html
    assert '<time datetime="2026-12-07T08:00-05:00">Mon 7 Dec, 08:00</time>' in html
    assert '<time datetime="2026-12-07T08:30-05:00">08:30</time>' in html
    assert "Times in America/New_York (UTC\u221205:00)." in html
    assert "Proposed." in html
    assert 'href="https://meet.example/x?a=1&amp;b=2"' in html
    assert "eve@example.org&gt;: not answered yet" in html
    assert 'data-answer="accept"' in html
    assert 'data-answer="decline"' in html
    assert "Not in your calendar yet." in html


def test_an_answered_outdated_or_cancelled_invitation_says_so():
    def shown(details: InvitationDetails) -> str:
        return opened(OpenedMail(summary(), "x", "", details), name="Sam", zone=NEW_YORK)

    accepted = shown(invitation(answer=Answer.ACCEPTED, in_calendar=True))
    assert "In your calendar (you accepted)." in accepted
    declined = shown(invitation(answer=Answer.DECLINED))
    assert "You declined" in declined
    stale = shown(invitation(outdated=True))
    assert "out of date" in stale
    assert "data-answer" not in stale
    cancel = shown(invitation(method="CANCEL", status="CANCELLED"))
    assert "Cancellation" in cancel
    assert "data-answer" not in cancel


def test_a_week_across_new_yorks_clock_change_places_each_event_on_its_local_day():
    monday = date(2027, 3, 8)  # clocks go forward on Sunday 14 March
    trip = local_day(date(2027, 3, 13), NEW_YORK)
    entries = [
        CalendarEntry(
            "Weekend trip",
            trip.start,
            local_day(date(2027, 3, 14), NEW_YORK).end,
            all_day=True,
            reads_as="all_day",
            from_pairtime=False,
        ),
        # 23:30 on Sunday in New York (EDT) is Monday 03:30 UTC: Sunday's.
        CalendarEntry(
            HOSTILE,
            datetime(2027, 3, 15, 3, 30, tzinfo=UTC),
            datetime(2027, 3, 15, 4, 0, tzinfo=UTC),
            all_day=False,
            reads_as="busy",
            from_pairtime=True,
        ),
        # 09:00 on Monday 8 March is EST: 14:00 UTC.
        CalendarEntry(
            "Stand-up",
            datetime(2027, 3, 8, 14, tzinfo=UTC),
            datetime(2027, 3, 8, 14, 15, tzinfo=UTC),
            all_day=False,
            reads_as="oof",
            from_pairtime=False,
        ),
    ]
    html = week(entries, monday=monday, name="Sam", zone=NEW_YORK, which="this")
    parsed(html)
    assert "<script>" not in html
    days = html.split('<li class="day">')[1:]
    assert len(days) == 7
    assert "Stand-up" in days[0]
    assert '<time datetime="2027-03-08T09:00-05:00">09:00</time>' in days[0]
    assert "Out of office for Pairtime" in days[0]
    assert "Weekend trip" in days[5]  # Saturday
    assert "Weekend trip" in days[6]  # and Sunday: the event spans both
    assert "All day, marked free" in days[5]
    assert '<time datetime="2027-03-14T23:30-04:00">23:30</time>' in days[6]
    assert "Pairtime meeting." in days[6]
    assert 'class="entry reads-busy pairtime"' in days[6]
    assert "Nothing." in days[1]
    assert 'data-week="this" aria-pressed="true"' in html
