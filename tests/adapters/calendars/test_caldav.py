"""iCloud-style CalDAV against a real Radicale server: credentials, and events read right.

Expected values are worked out by hand. The owner lives in Europe/London
(GMT until 29 March 2026 01:00, then BST); Berlin moves from CET to CEST the
same night; New York has been on EDT since 8 March.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from icalendar import Timezone

from adapters.calendars.caldav import CalDavCalendars
from adapters.calendars.errors import (
    BadAnswer,
    GrantRevoked,
    ProviderUnavailable,
    WrongCredentials,
)
from adapters.calendars.http import Deadline
from adapters.calendars.reader import Read, Reading
from core.availability import BusyInterval, BusyStatus
from core.calendars import CalendarConnection, ConnectionStatus
from core.commands import Provider
from core.people import PersonId
from core.time import Interval
from storage.repositories.connections import StoredConnection
from tests.caldav_server import CalDavServer, add_calendar, radicale_server

LONDON = ZoneInfo("Europe/London")
WINDOW = Interval(datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 4, 10, tzinfo=UTC))
APPLE_ID = "ana@icloud.example"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


def vtimezone(name: str) -> str:
    """The zone's VTIMEZONE for 2026, as calendar clients send it alongside events."""
    zone = Timezone.from_tzid(name, first_date=date(2026, 1, 1), last_date=date(2026, 12, 31))
    ical: bytes = zone.to_ical()
    return ical.decode().replace("\r\n", "\n").strip()


def calendar(body: str, *zones: str) -> str:
    parts = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pairtime tests//EN"]
    parts += [vtimezone(zone) for zone in zones]
    parts += [body.strip(), "END:VCALENDAR", ""]
    return "\r\n".join("\r\n".join(parts).split("\n"))


EVENTS = {
    # Mondays 10:00-10:30 in Berlin from 16 March, five times; the 23rd moved to Tuesday
    # 14:00, the 30th cancelled by EXDATE; 6 April is after Berlin's clock change.
    "weekly": calendar(
        """BEGIN:VEVENT
UID:weekly@test
DTSTAMP:20260301T000000Z
SUMMARY:Private: weekly team sync
DTSTART;TZID=Europe/Berlin:20260316T100000
DTEND;TZID=Europe/Berlin:20260316T103000
RRULE:FREQ=WEEKLY;COUNT=5
EXDATE;TZID=Europe/Berlin:20260330T100000
END:VEVENT
BEGIN:VEVENT
UID:weekly@test
DTSTAMP:20260301T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20260323T100000
SUMMARY:Private: weekly team sync (moved)
DTSTART;TZID=Europe/Berlin:20260324T140000
DTEND;TZID=Europe/Berlin:20260324T143000
END:VEVENT""",
        "Europe/Berlin",
    ),
    "all-day": calendar(
        """BEGIN:VEVENT
UID:offsite@test
DTSTAMP:20260301T000000Z
SUMMARY:Offsite
DTSTART;VALUE=DATE:20260325
DTEND;VALUE=DATE:20260326
END:VEVENT"""
    ),
    # Marked free, as Apple and Google create all-day events: still the whole day, for the
    # program's rule to decide (1 April: London is on BST, so 23:00 UTC to 23:00 UTC).
    "all-day-free": calendar(
        """BEGIN:VEVENT
UID:holiday@test
DTSTAMP:20260301T000000Z
SUMMARY:Bank holiday trip
DTSTART;VALUE=DATE:20260401
DTEND;VALUE=DATE:20260402
TRANSP:TRANSPARENT
END:VEVENT"""
    ),
    # Saturday to Monday across London's change: 24, 23 and 24 hours.
    "long-weekend": calendar(
        """BEGIN:VEVENT
UID:weekend@test
DTSTAMP:20260301T000000Z
SUMMARY:Long weekend away
DTSTART;VALUE=DATE:20260328
DTEND;VALUE=DATE:20260331
END:VEVENT"""
    ),
    "new-york": calendar(
        """BEGIN:VEVENT
UID:ny@test
DTSTAMP:20260301T000000Z
SUMMARY:Call with the New York office
DTSTART;TZID=America/New_York:20260326T090000
DTEND;TZID=America/New_York:20260326T100000
END:VEVENT""",
        "America/New_York",
    ),
    "transparent": calendar(
        """BEGIN:VEVENT
UID:lunch@test
DTSTAMP:20260301T000000Z
SUMMARY:Lunch (shown as free)
DTSTART:20260327T120000Z
DTEND:20260327T130000Z
TRANSP:TRANSPARENT
END:VEVENT"""
    ),
    "tentative": calendar(
        """BEGIN:VEVENT
UID:maybe@test
DTSTAMP:20260301T000000Z
SUMMARY:Maybe a dentist
DTSTART:20260327T150000Z
DTEND:20260327T160000Z
STATUS:TENTATIVE
END:VEVENT"""
    ),
    "cancelled": calendar(
        """BEGIN:VEVENT
UID:cancelled@test
DTSTAMP:20260301T000000Z
SUMMARY:Cancelled review
DTSTART:20260327T170000Z
DTEND:20260327T180000Z
STATUS:CANCELLED
END:VEVENT"""
    ),
    # 00:30 GMT to 03:30 BST on the night London's clocks go forward: two real hours.
    "across-the-change": calendar(
        """BEGIN:VEVENT
UID:night@test
DTSTAMP:20260301T000000Z
SUMMARY:Night shift
DTSTART;TZID=Europe/London:20260329T003000
DTEND;TZID=Europe/London:20260329T033000
END:VEVENT""",
        "Europe/London",
    ),
    "floating": calendar(
        """BEGIN:VEVENT
UID:floating@test
DTSTAMP:20260301T000000Z
SUMMARY:Gym
DTSTART:20260402T090000
DTEND:20260402T100000
END:VEVENT"""
    ),
    "outside": calendar(
        """BEGIN:VEVENT
UID:later@test
DTSTAMP:20260301T000000Z
SUMMARY:Later
DTSTART:20260420T090000Z
DTEND:20260420T100000Z
END:VEVENT"""
    ),
}
WORK_EVENT = calendar(
    """BEGIN:VEVENT
UID:work@test
DTSTAMP:20260301T000000Z
SUMMARY:Board meeting
DTSTART:20260331T140000Z
DTEND:20260331T150000Z
END:VEVENT"""
)


def z(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


EXPECTED = [
    BusyInterval(z(3, 16, 9), z(3, 16, 9, 30)),  # 10:00 CET
    BusyInterval(z(3, 24, 13), z(3, 24, 13, 30)),  # the moved instance, 14:00 CET
    BusyInterval(z(3, 25), z(3, 26)),  # all day, London still on GMT
    BusyInterval(z(3, 26, 13), z(3, 26, 14)),  # 09:00 EDT
    BusyInterval(z(3, 27, 15), z(3, 27, 16), BusyStatus.TENTATIVE),
    BusyInterval(z(3, 28), z(3, 29)),  # the long weekend: Saturday, on GMT
    BusyInterval(z(3, 29), z(3, 29, 23)),  # Sunday, 23 hours
    BusyInterval(z(3, 29, 0, 30), z(3, 29, 2, 30)),  # across London's change
    BusyInterval(z(3, 29, 23), z(3, 30, 23)),  # Monday, on BST
    BusyInterval(z(3, 31, 14), z(3, 31, 15)),  # from the second calendar
    BusyInterval(z(3, 31, 23), z(4, 1, 23), BusyStatus.ALL_DAY),  # marked free
    BusyInterval(z(4, 2, 8), z(4, 2, 9)),  # floating 09:00, read as London BST
    BusyInterval(z(4, 6, 8), z(4, 6, 8, 30)),  # 10:00 CEST, after Berlin's change
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDavServer]:
    folder = tmp_path_factory.mktemp("caldav")
    with radicale_server(folder, {APPLE_ID: APP_PASSWORD}) as running:
        add_calendar(running.url, APPLE_ID, APP_PASSWORD, "Home", EVENTS.values())
        add_calendar(running.url, APPLE_ID, APP_PASSWORD, "Work", [WORK_EVENT])
        yield running


def reading(password: str = APP_PASSWORD) -> Reading:
    summary = CalendarConnection(
        PersonId("ana"), Provider.ICLOUD, APPLE_ID, ConnectionStatus.CONNECTED, z(3, 1)
    )
    return Reading(
        PersonId("ana"),
        StoredConnection(summary, {"username": APPLE_ID, "password": password}),
        LONDON,
    )


async def test_every_kind_of_event_comes_out_as_the_right_busy_times(server: CalDavServer):
    calendars = CalDavCalendars(server.url)
    results = await calendars.read([reading()], WINDOW, Deadline.after(10))
    result = results[PersonId("ana")]
    assert isinstance(result, Read)
    assert sorted(result.busy.intervals, key=lambda b: (b.start, b.end)) == EXPECTED
    # The calendars were looked up once and handed back to be kept with the secret.
    assert result.secret is not None
    assert len(result.secret["calendars"]) == 2


async def test_the_owners_agenda_names_each_event_and_what_pairtime_reads_from_it(
    server: CalDavServer,
):
    """The playground's calendar tab: the same query and expansion as the busy-time read."""
    entries = await CalDavCalendars(server.url).agenda(APPLE_ID, APP_PASSWORD, WINDOW, LONDON)
    # Every busy interval the product reads comes from one entry, and nothing else does.
    busy = sorted((b for entry in entries for b in entry.busy), key=lambda b: (b.start, b.end))
    assert busy == EXPECTED
    titles = [entry.title for entry in entries]
    assert "Cancelled review" not in titles  # cancelled: not in the calendar at all
    assert "Later" not in titles  # outside the window
    assert titles.count("Private: weekly team sync") == 2  # 16 Mar, 6 Apr: 30 Mar is an EXDATE
    moved = next(e for e in entries if e.title == "Private: weekly team sync (moved)")
    assert (moved.start, moved.end) == (z(3, 24, 13), z(3, 24, 13, 30))
    lunch = next(e for e in entries if e.title == "Lunch (shown as free)")
    assert lunch.busy == ()  # free for Pairtime, still in the owner's calendar
    weekend = next(e for e in entries if e.title == "Long weekend away")
    assert weekend.all_day
    assert (weekend.start, weekend.end) == (z(3, 28), z(3, 30, 23))  # to Tuesday on BST
    holiday = next(e for e in entries if e.title == "Bank holiday trip")
    assert [b.status for b in holiday.busy] == [BusyStatus.ALL_DAY]
    assert entries == sorted(entries, key=lambda e: (e.start, not e.all_day, e.title))


async def test_known_calendars_are_read_directly_and_a_vanished_one_is_looked_up_again(
    server: CalDavServer,
):
    calendars = CalDavCalendars(server.url)
    found = await calendars.read([reading()], WINDOW, Deadline.after(10))
    known = found[PersonId("ana")]
    assert isinstance(known, Read)
    assert known.secret is not None
    direct = replace(reading(), connection=replace(reading().connection, secret=known.secret))
    again = (await calendars.read([direct], WINDOW, Deadline.after(10)))[PersonId("ana")]
    assert isinstance(again, Read)
    assert again.secret is None  # nothing new to keep
    assert sorted(again.busy.intervals, key=lambda b: (b.start, b.end)) == EXPECTED
    stale = {**known.secret, "calendars": [f"{server.url}{APPLE_ID}/deleted/"]}
    moved = replace(reading(), connection=replace(reading().connection, secret=stale))
    recovered = (await calendars.read([moved], WINDOW, Deadline.after(10)))[PersonId("ana")]
    assert isinstance(recovered, Read)
    assert sorted(recovered.busy.intervals, key=lambda b: (b.start, b.end)) == EXPECTED
    assert recovered.secret is not None
    assert recovered.secret["calendars"] == known.secret["calendars"]


async def test_credentials_are_checked_before_anything_is_kept(server: CalDavServer):
    calendars = CalDavCalendars(server.url)
    secret = await calendars.verify(APPLE_ID, APP_PASSWORD)
    assert (secret["username"], secret["password"]) == (APPLE_ID, APP_PASSWORD)
    assert len(secret["calendars"]) == 2  # Home and Work, kept to save round trips
    with pytest.raises(WrongCredentials) as caught:
        await calendars.verify(APPLE_ID, "wrong-password")
    assert "wrong-password" not in str(caught.value)


async def test_a_revoked_app_password_reads_as_a_revoked_grant(server: CalDavServer):
    results = await CalDavCalendars(server.url).read(
        [reading("revoked")], WINDOW, Deadline.after(10)
    )
    assert isinstance(results[PersonId("ana")], GrantRevoked)


async def test_an_unreachable_server_is_unavailable_not_an_error():
    calendars = CalDavCalendars("http://127.0.0.1:9/", timeout_seconds=2)
    results = await calendars.read([reading()], WINDOW, Deadline.after(2))
    assert isinstance(results[PersonId("ana")], ProviderUnavailable)
    with pytest.raises(ProviderUnavailable):
        await calendars.verify(APPLE_ID, APP_PASSWORD)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("<html><body>Service temporarily unavailable</body></html>", "207 Multi-Status"),
        ('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response>', "207 Multi-Status"),
        ("not XML at all", "200 OK"),
    ],
)
async def test_an_answer_that_is_not_xml_is_a_bad_answer_with_its_status(
    server: CalDavServer, body: str, status: str
):
    server.answer_next(body, status=status)
    calendars = CalDavCalendars(server.url)
    result = (await calendars.read([reading()], WINDOW, Deadline.after(10)))[PersonId("ana")]
    assert isinstance(result, BadAnswer)
    assert str(result) == "iCloud sent an answer I couldn't read"
    assert result.status == int(status.split(maxsplit=1)[0])
    # The next read is answered by the server again.
    again = (await CalDavCalendars(server.url).read([reading()], WINDOW, Deadline.after(10)))[
        PersonId("ana")
    ]
    assert isinstance(again, Read)


def test_the_server_refuses_free_busy_queries_like_icloud(server: CalDavServer):
    body = (
        '<?xml version="1.0"?><C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
        '<C:time-range start="20260315T000000Z" end="20260410T000000Z"/></C:free-busy-query>'
    )
    reply = requests.request(
        "REPORT", f"{server.url}{APPLE_ID}/", data=body, auth=(APPLE_ID, APP_PASSWORD), timeout=10
    )
    assert reply.status_code == 400
