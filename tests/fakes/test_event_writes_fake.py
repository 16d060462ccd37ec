"""The fakes' event writes refuse what Google Calendar and Graph refuse, as they refuse it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.google import FakeGoogle
from tests.fakes.microsoft import FakeMicrosoft
from tests.fakes.server import running

WRITE = "https://www.googleapis.com/auth/calendar.events"
READ = "https://www.googleapis.com/auth/calendar.events.readonly"
OWNER = "mentoring@example.org"
GOOD: dict[str, Any] = {
    "summary": "Mentoring",
    "start": {"dateTime": "2026-12-01T14:00:00Z", "timeZone": "UTC"},
    "end": {"dateTime": "2026-12-01T14:30:00Z", "timeZone": "UTC"},
    "attendees": [{"email": "ana@example.org", "displayName": "Ana"}],
}


@pytest.fixture
async def google() -> AsyncIterator[tuple[FakeGoogle, str, aiohttp.ClientSession]]:
    fake = FakeGoogle()
    fake.add_account(OWNER)
    async with running(fake.app) as base, aiohttp.ClientSession() as http:
        yield fake, f"{base}/calendar/v3/calendars/primary/events", http


async def post(
    http: aiohttp.ClientSession, url: str, token: str, body: Any, **query: str
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(url, json=body, params=query, headers=headers) as reply:
        return reply.status, await reply.json()


@pytest.mark.parametrize(
    ("body", "query", "status", "reason"),
    [
        ({**GOOD, "id": "UPPER-case"}, {}, 400, "invalid"),
        ({**GOOD, "colour": "red"}, {}, 400, "badRequest"),
        ({**GOOD, "end": GOOD["start"]}, {}, 400, "timeRangeEmpty"),
        ({**GOOD, "start": {"dateTime": "2026-12-01T14:00:00"}}, {}, 400, "invalid"),
        ({**GOOD, "attendees": [{"displayName": "Nobody"}]}, {}, 400, "invalid"),
        (GOOD, {"sendUpdates": "everyone"}, 400, "invalid"),
        (
            {**GOOD, "conferenceData": {"createRequest": {"requestId": "r1"}}},
            {"conferenceDataVersion": "1"},
            400,
            "invalid",
        ),
    ],
)
async def test_google_refuses_a_malformed_insert(google, body, query, status, reason):
    fake, url, http = google
    token = fake.issue_access_token(OWNER, [WRITE])
    answered, data = await post(http, url, token, body, **query)
    assert (answered, data["error"]["errors"][0]["reason"]) == (status, reason)
    assert fake.written.get(OWNER, {}) == {}


async def test_google_needs_a_write_scope_and_the_callers_own_calendar(google):
    fake, url, http = google
    reader = fake.issue_access_token(OWNER, [READ])
    assert (await post(http, url, reader, GOOD))[0] == 403
    writer = fake.issue_access_token(OWNER, [WRITE])
    other = url.replace("/primary/", "/ana@example.org/")
    assert (await post(http, other, writer, GOOD))[0] == 404


async def test_google_makes_a_meet_only_with_conference_data_version_1(google):
    fake, url, http = google
    token = fake.issue_access_token(OWNER, [WRITE])
    meet = {"createRequest": {"requestId": "r1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    status, ignored = await post(http, url, token, {**GOOD, "conferenceData": meet})
    assert status == 200
    assert "hangoutLink" not in ignored
    status, made = await post(
        http, url, token, {**GOOD, "conferenceData": meet}, conferenceDataVersion="1"
    )
    assert made["hangoutLink"].startswith("https://meet.google.com/")
    assert made["conferenceData"]["entryPoints"][0]["uri"] == made["hangoutLink"]
    assert made["organizer"] == {"email": OWNER, "self": True}
    assert fake.notifications == []  # sendUpdates defaults to none: nobody was emailed


# ---------------------------------------------------------------- Graph

GRAPH: dict[str, Any] = {
    "subject": "Mentoring",
    "start": {"dateTime": "2026-12-01T14:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-12-01T14:30:00", "timeZone": "UTC"},
    "attendees": [{"emailAddress": {"address": "ana@contoso.com"}, "type": "required"}],
}
MAILBOX = "mentoring@contoso.com"


@pytest.fixture
async def graph() -> AsyncIterator[tuple[FakeMicrosoft, str, aiohttp.ClientSession]]:
    fake = FakeMicrosoft(application_permissions=frozenset({"Calendars.ReadWrite"}))
    fake.add_account(MAILBOX)
    fake.add_account("ana@contoso.com")
    async with running(fake.app) as base, aiohttp.ClientSession() as http:
        yield fake, f"{base}/v1.0/users", http


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({**GRAPH, "colour": "red"}, 400, "RequestBodyRead"),
        ({**GRAPH, "start": {"dateTime": "2026-12-01T14:00:00", "timeZone": "Mars"}}, 400,
         "TimeZoneNotSupportedException"),
        ({**GRAPH, "onlineMeetingProvider": "zoom"}, 400, "RequestBodyRead"),
        ({**GRAPH, "attendees": [{"emailAddress": {"address": "ana"}}]}, 400,
         "ErrorInvalidRecipients"),
        ({k: v for k, v in GRAPH.items() if k != "end"}, 400, "ErrorInvalidRequest"),
    ],
)  # fmt: skip
async def test_graph_refuses_a_malformed_event(graph, body, status, code):
    fake, users, http = graph
    token = fake.issue_app_token()
    answered, data = await post(http, f"{users}/{MAILBOX}/events", token, body)
    assert (answered, data["error"]["code"]) == (status, code)
    assert fake.written == {}


async def test_graph_needs_readwrite_and_a_mailbox_inside_the_rbac_scope(graph):
    fake, users, http = graph
    fake.app_scope = frozenset({MAILBOX})
    token = fake.issue_app_token()
    assert (await post(http, f"{users}/ana@contoso.com/events", token, GRAPH))[0] == 403
    status, made = await post(http, f"{users}/{MAILBOX}/events", token, GRAPH)
    assert status == 201
    assert made["onlineMeeting"] is None  # no isOnlineMeeting asked
    fake.application_permissions = frozenset({"Calendars.Read"})
    reader = fake.issue_app_token()
    assert (await post(http, f"{users}/{MAILBOX}/events", reader, GRAPH))[0] == 403
