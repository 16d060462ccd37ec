"""FakeGoogle's events.list answers as the Calendar API reference shows, driven with aiohttp."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from tests.fakes.google import (
    EVENTS_OWNED_READONLY_SCOPE,
    FREEBUSY_SCOPE,
    FakeGoogle,
)
from tests.fakes.google_events import GoogleEvent, InvalidFields, parse_fields, select
from tests.fakes.server import running

BERLIN = ZoneInfo("Europe/Berlin")
ANA = "ana@example.com"
MASK = (
    "nextPageToken,timeZone,"
    "items(start,end,status,transparency,eventType,attendees(self,responseStatus))"
)


def berlin(day: int, hour: float) -> dt.datetime:
    return dt.datetime(2026, 3, day, tzinfo=BERLIN) + dt.timedelta(hours=hour)


@pytest.fixture
def fake() -> FakeGoogle:
    fake = FakeGoogle(next_account=ANA)
    fake.set_events(
        ANA,
        [
            GoogleEvent(berlin(9, 9), berlin(9, 10), summary="1:1 with Sam", description="notes"),
            GoogleEvent(dt.date(2026, 3, 10), dt.date(2026, 3, 12), transparency="transparent"),
            GoogleEvent(berlin(11, 8), berlin(11, 18), event_type="outOfOffice"),
            GoogleEvent(
                berlin(12, 14), berlin(12, 15), response="declined", guests=("lead@example.net",)
            ),
            GoogleEvent(berlin(12, 16), berlin(12, 17), status="cancelled"),
            GoogleEvent(
                dt.datetime(2026, 3, 9, 7, 30),  # naive: on the calendar's wall clock
                dt.datetime(2026, 3, 9, 8),
                recurrence=("RRULE:FREQ=DAILY;COUNT=3",),
                summary="Stand-up",
            ),
            GoogleEvent(dt.date(2026, 3, 13), dt.date(2026, 3, 14), event_type="workingLocation"),
        ],
        time_zone="Europe/Berlin",
    )
    return fake


async def list_events(
    base_url: str, token: str, **params: str
) -> tuple[int, Any, CIMultiDictProxy[str]]:
    query = {
        "timeMin": "2026-03-09T00:00:00Z",
        "timeMax": "2026-03-16T00:00:00Z",
        "singleEvents": "true",
        **params,
    }
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{base_url}/calendar/v3/calendars/primary/events",
            params=query,
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        text = await response.text()
        body = await response.json() if response.content_type == "application/json" else text
        return response.status, body, response.headers


async def test_events_come_back_in_the_documented_shape(fake):
    token = fake.issue_access_token(ANA, [EVENTS_OWNED_READONLY_SCOPE])
    async with running(fake.app) as base_url:
        status, body, _ = await list_events(base_url, token, maxAttendees="1")
    assert status == 200
    assert body["kind"] == "calendar#events"
    assert body["timeZone"] == "Europe/Berlin"
    assert "nextPageToken" not in body
    items = body["items"]
    first = items[0]
    assert first["summary"] == "Stand-up"
    assert first["start"] == {"dateTime": "2026-03-09T07:30:00+01:00"}
    assert first["recurringEventId"]
    assert first["id"] == f"{first['recurringEventId']}_20260309T063000Z"
    assert first["eventType"] == "default"
    assert "transparency" not in first  # opaque, the default, is left out
    meeting = next(i for i in items if i.get("summary") == "1:1 with Sam")
    assert meeting["description"] == "notes"
    all_day = next(i for i in items if "date" in i["start"])
    assert (all_day["start"], all_day["end"]) == ({"date": "2026-03-10"}, {"date": "2026-03-12"})
    assert all_day["transparency"] == "transparent"
    away = next(i for i in items if i["eventType"] == "outOfOffice")
    assert away["outOfOfficeProperties"]["autoDeclineMode"]
    declined = next(i for i in items if "attendees" in i)
    assert declined["attendees"] == [
        {"email": ANA, "self": True, "responseStatus": "declined"}  # maxAttendees=1
    ]
    assert declined["attendeesOmitted"] is True
    assert [i["summary"] for i in items].count("Stand-up") == 3
    assert all(i["status"] != "cancelled" for i in items)  # showDeleted is false by default
    assert any(i["eventType"] == "workingLocation" for i in items)


async def test_a_fields_mask_keeps_only_what_it_names_and_pages_follow_tokens(fake):
    fake.events_page_size = 3
    token = fake.issue_access_token(ANA, [EVENTS_OWNED_READONLY_SCOPE])
    async with running(fake.app) as base_url:
        pages = []
        page_token: str | None = None
        while True:
            extra = {"fields": MASK, "maxResults": "250"}
            if page_token:
                extra["pageToken"] = page_token
            status, body, _ = await list_events(base_url, token, **extra)
            assert status == 200
            pages.append(body)
            page_token = body.get("nextPageToken")
            if page_token is None:
                break
    assert [len(page["items"]) for page in pages] == [3, 3, 2]
    items = [item for page in pages for item in page["items"]]
    assert all(set(item) <= {"start", "end", "status", "transparency", "eventType", "attendees"}
               for item in items)  # fmt: skip
    assert not any("summary" in item or "description" in item for item in items)
    declined = next(item for item in items if "attendees" in item)
    assert {"self": True, "responseStatus": "declined"} in declined["attendees"]
    assert {"responseStatus": "accepted"} in declined["attendees"]  # no addresses either
    assert set(pages[-1]) == {"items", "timeZone"}


async def test_the_window_bounds_ends_and_starts_and_the_answer_zone_can_change(fake):
    token = fake.issue_access_token(ANA, [EVENTS_OWNED_READONLY_SCOPE])
    async with running(fake.app) as base_url:
        status, body, _ = await list_events(
            base_url,
            token,
            timeMin="2026-03-09T08:30:00Z",  # 09:30 in Berlin: inside the 09:00 meeting
            timeMax="2026-03-10T06:30:00Z",  # the second stand-up starts at 06:30 UTC: out
            timeZone="America/New_York",
        )
    assert status == 200
    starts = [i["start"] for i in body["items"]]
    # The all-day event starts at midnight in Berlin, 23:00 UTC the day before: inside.
    assert starts == [{"dateTime": "2026-03-09T04:00:00-04:00"}, {"date": "2026-03-10"}]


async def test_requests_google_refuses(fake):
    freebusy_only = fake.issue_access_token(ANA, [FREEBUSY_SCOPE])
    token = fake.issue_access_token(ANA, [EVENTS_OWNED_READONLY_SCOPE])
    async with running(fake.app) as base_url:
        status, body, _ = await list_events(base_url, freebusy_only)
        assert status == 403
        assert body["error"]["errors"][0]["reason"] == "insufficientPermissions"

        status, body, _ = await list_events(base_url, token, fields="items(title)")
        assert status == 400
        assert body["error"]["message"] == "Invalid field selection title"

        status, body, _ = await list_events(base_url, token, timeMax="2026-03-09T00:00:00Z")
        assert status == 400
        assert body["error"]["errors"][0]["reason"] == "timeRangeEmpty"

        status, body, _ = await list_events(base_url, token, pageToken="not-a-token")
        assert status == 400


async def test_free_busy_reports_the_events_google_counts_as_busy(fake):
    token = fake.issue_access_token(ANA, [FREEBUSY_SCOPE])
    query = {
        "timeMin": "2026-03-09T00:00:00Z",
        "timeMax": "2026-03-16T00:00:00Z",
        "items": [{"id": "primary"}],
    }
    async with (
        running(fake.app) as base_url,
        aiohttp.ClientSession() as session,
        session.post(
            f"{base_url}/calendar/v3/freeBusy",
            json=query,
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        body = await response.json()
    busy = [(b["start"], b["end"]) for b in body["calendars"]["primary"]["busy"]]
    # The stand-ups and the 1:1, the last stand-up merged with out of office; no
    # transparent all-day event, no declined meeting, no cancelled one, no working location.
    assert busy == [
        ("2026-03-09T06:30:00Z", "2026-03-09T07:00:00Z"),
        ("2026-03-09T08:00:00Z", "2026-03-09T09:00:00Z"),
        ("2026-03-10T06:30:00Z", "2026-03-10T07:00:00Z"),
        ("2026-03-11T06:30:00Z", "2026-03-11T17:00:00Z"),
    ]


async def test_a_scripted_answer_replaces_the_real_one_once(fake):
    token = fake.issue_access_token(ANA, [EVENTS_OWNED_READONLY_SCOPE])
    fake.answer_next("<html>Bad gateway</html>", on="events", content_type="text/html")
    async with running(fake.app) as base_url:
        status, body, headers = await list_events(base_url, token)
        assert (status, body) == (200, "<html>Bad gateway</html>")
        assert headers["Content-Type"].startswith("text/html")
        status, body, _ = await list_events(base_url, token)
        assert status == 200
        assert body["kind"] == "calendar#events"


def test_fields_masks_parse_nested_and_slashed_selections():
    tree = parse_fields("items(start/dateTime,attendees(self)),nextPageToken")
    assert tree == {"items": {"start": {"dateTime": None}, "attendees": {"self": None}},
                    "nextPageToken": None}  # fmt: skip
    value = {
        "items": [{"start": {"dateTime": "x", "timeZone": "UTC"}, "summary": "secret"}],
        "kind": "calendar#events",
    }
    assert select(value, tree) == {"items": [{"start": {"dateTime": "x"}}]}
    for broken in ("items(", "items(start", "items()", "items,,kind", "items(nope)"):
        with pytest.raises(InvalidFields):
            parse_fields(broken)
