"""The program account's calendar through the running app's publisher: google-auth and
msal fetch the tokens, and the fakes check the documented wire format of each write."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest

from adapters.calendars.config import CalendarSettings
from adapters.calendars.google import EVENTS
from adapters.calendars.organisation.google_workspace import WRITE
from adapters.calendars.organisation.writing import GrantWithdrawn, google_event_id
from bot.settings import load_settings
from core.admin import organisation
from core.errors import PublishRefused
from core.invitations import Mailbox
from core.organisation import OrganisationSetup, OrgProvider, OrgStatus
from core.people import ProgramId
from core.ports import MeetingPublisher
from core.program import VideoRule
from core.publishing import ProgramEvent
from core.secret import Secret
from storage.repositories.organisations import REVOKED_JOB, WRITE_REFUSED_JOB
from tests.fakes.google import GOOGLE_TOKEN_AUDIENCE, JWT_BEARER_GRANT, FakeGoogle
from tests.fakes.microsoft import FakeMicrosoft
from tests.fakes.server import TestCertificate, running
from tests.memory import FixedClock
from tests.support import PROVIDER_TIMEOUT, AppUnderTest, running_app

GOOGLE_PROGRAM = ProgramId("slack:T0ORG")
MICROSOFT_PROGRAM = ProgramId("teams:contoso")
SERVICE_ACCOUNT = "pairtime@example-org.iam.gserviceaccount.com"
GOOGLE_ACCOUNT = "mentoring@example.org"
MICROSOFT_ACCOUNT = "mentoring@contoso.com"
CLOCK = FixedClock(datetime(2026, 11, 27, 9, tzinfo=UTC))


def event(program: ProgramId, video: VideoRule, **changes: Any) -> ProgramEvent:
    domain = "example.org" if program == GOOGLE_PROGRAM else "contoso.com"
    made = ProgramEvent(
        meeting="Zr7pW2mQ-x_4aB9",
        program=program,
        title="Mentoring: Ana and Ben",
        start=datetime(2026, 12, 1, 14, tzinfo=UTC),
        end=datetime(2026, 12, 1, 14, 30, tzinfo=UTC),
        attendees=(Mailbox("Ana", f"ana@{domain}"), Mailbox("Ben", f"ben@{domain}")),
        description="Mentoring: Ana and Ben, arranged with Pairtime.",
        location=None,
        video=video,
        active=True,
        tentative=False,
    )
    return replace(made, **changes)


def publisher(app: AppUnderTest) -> MeetingPublisher:
    found = app.services.scheduler.ports.publisher
    assert found is not None
    return found


async def told_once_and_stopped_writing(
    app: AppUnderTest, program: ProgramId, provider: OrgProvider
) -> None:
    """After a refusal of the events themselves: the connection reads on but writes no
    more, and one message to the admins waits in the jobs."""
    (connection,) = await app.storage.organisations.of_program(program)
    assert connection.status is OrgStatus.CONNECTED
    assert not connection.can_write
    assert connection.last_error
    assert not await publisher(app).can_publish(program)
    key = (
        f"{WRITE_REFUSED_JOB}:{program}:{provider.value}:{int(connection.connected_at.timestamp())}"
    )
    told = await app.storage.jobs.state(key)
    assert told is not None
    assert told.payload["reason"] == connection.last_error
    outcome = await app.services.scheduler.organisation_write_refused(
        program, provider, told.payload["reason"]
    )
    assert outcome.direct == ()  # nobody is an admin of these programs: nobody to tell


# ---------------------------------------------------------------- Google Workspace


@pytest.fixture
async def google(tmp_path: Path) -> AsyncIterator[tuple[AppUnderTest, FakeGoogle, dict[str, Any]]]:
    fake = FakeGoogle()
    async with running(fake.app) as base:
        info = fake.service_account_info(base, SERVICE_ACCOUNT, delegated_scopes=[EVENTS, WRITE])
        fake.set_events(GOOGLE_ACCOUNT, [])
        settings = replace(
            load_settings({}, dotenv_path=None),
            calendars=CalendarSettings(
                google_token_url=f"{base}/token",
                google_api_url=f"{base}/calendar/v3",
                timeout_seconds=PROVIDER_TIMEOUT,
            ),
        )
        async with running_app(settings, tmp_path, clock=CLOCK) as app:
            yield app, fake, info


async def connect_google(app: AppUnderTest, info: dict[str, Any], *, write: bool = True) -> None:
    await app.storage.programs.ensure(GOOGLE_PROGRAM, "Example Org")
    setup = OrganisationSetup(
        OrgProvider.GOOGLE,
        "Example Org",
        GOOGLE_ACCOUNT,
        ("example.org",),
        {"client_email": SERVICE_ACCOUNT},
        Secret(json.dumps({"key": info})),
        write=write,
    )
    card = await organisation.connect(
        app.storage.organisations, app.services.organisations, CLOCK, GOOGLE_PROGRAM, setup
    )
    assert card.connection is not None
    assert card.connection.can_write is write


async def test_google_creates_the_event_with_a_meet_as_the_program_account_only(google):
    app, fake, info = google
    await connect_google(app, info)
    assert await publisher(app).can_publish(GOOGLE_PROGRAM)

    made = await publisher(app).publish(event(GOOGLE_PROGRAM, VideoRule.MEET), None)

    assert made is not None
    assert made.provider is OrgProvider.GOOGLE
    assert made.event_id == google_event_id("Zr7pW2mQ-x_4aB9")
    stored = fake.written[GOOGLE_ACCOUNT][made.event_id]
    assert made.join_url == stored["hangoutLink"]
    assert made.join_url is not None
    assert made.join_url.startswith("https://meet.google.com/")
    assert [a["email"] for a in stored["attendees"]] == ["ana@example.org", "ben@example.org"]
    assert stored["start"] == {"dateTime": "2026-12-01T14:00:00Z", "timeZone": "UTC"}
    assert stored["conferenceData"]["createRequest"]["status"] == {"statusCode": "success"}
    (insert,) = fake.calls_to("events.insert")
    assert insert.query == {"sendUpdates": "all", "conferenceDataVersion": "1"}
    assert [n.kind for n in fake.notifications] == ["invitation"]
    # The write scope was asked for the program account, and for nobody else.
    public = fake._service_accounts[SERVICE_ACCOUNT].public_key_pem
    claims = [
        jwt.decode(
            c.form["assertion"], public, algorithms=["RS256"], audience=GOOGLE_TOKEN_AUDIENCE
        )
        for c in fake.calls_to("token")
        if c.form.get("grant_type") == JWT_BEARER_GRANT
    ]
    assert {c["sub"] for c in claims if WRITE in c["scope"].split()} == {GOOGLE_ACCOUNT}


async def test_google_moves_then_cancels_the_same_event_and_a_lost_answer_makes_one(google):
    app, fake, info = google
    await connect_google(app, info)
    first = await publisher(app).publish(event(GOOGLE_PROGRAM, VideoRule.NONE), None)
    # An attempt whose answer was lost: the same id is taken (409), so it is patched.
    again = await publisher(app).publish(event(GOOGLE_PROGRAM, VideoRule.NONE), None)
    assert first is not None
    assert again is not None
    assert again.event_id == first.event_id
    assert len(fake.written[GOOGLE_ACCOUNT]) == 1

    later = datetime(2026, 12, 2, 9, tzinfo=UTC)
    moved = event(GOOGLE_PROGRAM, VideoRule.NONE, start=later, end=later.replace(minute=30))
    assert await publisher(app).publish(moved, first) is not None
    stored = fake.written[GOOGLE_ACCOUNT][first.event_id]
    assert stored["start"]["dateTime"] == "2026-12-02T09:00:00Z"
    assert stored["sequence"] == 1
    assert "conferenceData" not in stored

    assert await publisher(app).publish(replace(moved, active=False), first) is None
    assert stored["status"] == "cancelled"
    assert [n.kind for n in fake.notifications] == [
        "invitation",
        "update",
        "update",
        "cancellation",
    ]
    assert fake.notifications[-1].attendees == ("ana@example.org", "ben@example.org")


async def test_google_without_the_delegated_write_scope_refuses_for_good(google):
    app, fake, info = google
    await connect_google(app, info)
    fake._service_accounts[SERVICE_ACCOUNT].delegated_scopes = frozenset({EVENTS})
    with pytest.raises(PublishRefused) as refused:
        await publisher(app).publish(event(GOOGLE_PROGRAM, VideoRule.NONE), None)
    assert refused.value.permanent
    assert "unauthorized_client" in refused.value.reason
    assert fake.written == {}
    await told_once_and_stopped_writing(app, GOOGLE_PROGRAM, OrgProvider.GOOGLE)


async def test_google_without_the_write_grant_publishes_nothing(google):
    app, _, info = google
    await connect_google(app, info, write=False)
    assert not await publisher(app).can_publish(GOOGLE_PROGRAM)


# ---------------------------------------------------------------- Microsoft 365


@pytest.fixture
async def microsoft(tmp_path: Path) -> AsyncIterator[tuple[AppUnderTest, FakeMicrosoft]]:
    tls = TestCertificate.create(tmp_path)
    fake = FakeMicrosoft(
        application_permissions=frozenset({"Calendars.ReadWrite"}),
        app_scope=frozenset({MICROSOFT_ACCOUNT, "ana@contoso.com", "ben@contoso.com"}),
    )
    fake.add_account(MICROSOFT_ACCOUNT)
    async with running(fake.app, tls=tls) as base:
        settings = replace(
            load_settings({}, dotenv_path=None),
            calendars=CalendarSettings(
                microsoft_authority_url=base,
                microsoft_graph_url=f"{base}/v1.0",
                ca_bundle=str(tls.ca_path),
                timeout_seconds=PROVIDER_TIMEOUT,
            ),
        )
        async with running_app(settings, tmp_path, clock=CLOCK) as app:
            await app.storage.programs.ensure(MICROSOFT_PROGRAM, "Contoso")
            setup = OrganisationSetup(
                OrgProvider.MICROSOFT,
                "Contoso",
                MICROSOFT_ACCOUNT,
                ("contoso.com",),
                {"tenant": fake.tenant_id, "client_id": fake.client_id},
                Secret(json.dumps({"client_secret": fake.client_secret})),
                write=True,
            )
            await organisation.connect(
                app.storage.organisations, app.services.organisations, CLOCK,
                MICROSOFT_PROGRAM, setup,
            )  # fmt: skip
            yield app, fake


async def test_graph_creates_the_event_with_a_teams_meeting_once_then_updates_and_cancels(
    microsoft,
):
    app, fake = microsoft
    fake.fail_next(429, on="events.create", retry_after=0)  # honoured, then created once
    made = await publisher(app).publish(event(MICROSOFT_PROGRAM, VideoRule.TEAMS), None)
    again = await publisher(app).publish(event(MICROSOFT_PROGRAM, VideoRule.TEAMS), None)

    assert made is not None
    assert again == made
    (stored,) = fake.written[MICROSOFT_ACCOUNT].values()
    assert stored["id"] == made.event_id
    assert stored["isOnlineMeeting"] is True
    assert stored["onlineMeetingProvider"] == "teamsForBusiness"
    assert made.join_url == stored["onlineMeeting"]["joinUrl"]
    assert made.join_url is not None
    assert made.join_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert stored["start"] == {"dateTime": "2026-12-01T14:00:00", "timeZone": "UTC"}
    assert [a["emailAddress"]["address"] for a in stored["attendees"]] == [
        "ana@contoso.com",
        "ben@contoso.com",
    ]
    assert len(fake.calls_to("events.create")) == 3

    declined = event(
        MICROSOFT_PROGRAM, VideoRule.TEAMS, attendees=(Mailbox("Ana", "ana@contoso.com"),)
    )
    updated = await publisher(app).publish(declined, made)
    assert updated is not None
    assert updated.join_url == made.join_url
    attendees = fake.written[MICROSOFT_ACCOUNT][made.event_id]["attendees"]
    assert [a["emailAddress"]["address"] for a in attendees] == ["ana@contoso.com"]

    assert await publisher(app).publish(replace(declined, active=False), made) is None
    assert fake.written[MICROSOFT_ACCOUNT] == {}
    assert made.event_id in fake.cancelled[MICROSOFT_ACCOUNT]
    assert [n.kind for n in fake.notifications] == ["invitation", "update", "cancellation"]


async def test_graph_without_calendars_readwrite_refuses_for_good(microsoft):
    app, fake = microsoft
    fake.application_permissions = frozenset({"Calendars.Read"})
    fake.expire_access_tokens()
    with pytest.raises(PublishRefused) as refused:
        await publisher(app).publish(event(MICROSOFT_PROGRAM, VideoRule.NONE), None)
    assert refused.value.permanent
    assert "Calendars.ReadWrite" in refused.value.reason
    assert fake.written == {}
    await told_once_and_stopped_writing(app, MICROSOFT_PROGRAM, OrgProvider.MICROSOFT)


async def test_a_deleted_key_found_by_a_write_stops_the_connection_and_tells_the_admins_once(
    google,
):
    app, fake, info = google
    await connect_google(app, info)
    fake.delete_service_account_key(SERVICE_ACCOUNT)
    with pytest.raises(GrantWithdrawn):
        await publisher(app).publish(event(GOOGLE_PROGRAM, VideoRule.NONE), None)
    (connection,) = await app.storage.organisations.of_program(GOOGLE_PROGRAM)
    assert connection.status is OrgStatus.REVOKED
    told = await app.storage.jobs.state(
        f"{REVOKED_JOB}:{GOOGLE_PROGRAM}:google:{int(connection.connected_at.timestamp())}"
    )
    assert told is not None
    # The next meeting goes by email at once: nothing may write any more.
    assert not await publisher(app).can_publish(GOOGLE_PROGRAM)
    with pytest.raises(PublishRefused) as refused:
        await publisher(app).publish(event(GOOGLE_PROGRAM, VideoRule.NONE), None)
    assert refused.value.permanent
    assert not isinstance(refused.value, GrantWithdrawn)


async def test_an_expired_client_secret_found_by_a_write_stops_the_connection(microsoft):
    app, fake = microsoft
    fake.expire_client_secret()
    with pytest.raises(GrantWithdrawn):
        await publisher(app).publish(event(MICROSOFT_PROGRAM, VideoRule.NONE), None)
    (connection,) = await app.storage.organisations.of_program(MICROSOFT_PROGRAM)
    assert connection.status is OrgStatus.REVOKED
    assert fake.written == {}


async def test_a_meet_still_pending_is_asked_again_and_then_found_made(google):
    app, fake, info = google
    await connect_google(app, info)
    fake.meet_pending = 1
    with pytest.raises(PublishRefused) as pending:
        await publisher(app).publish(event(GOOGLE_PROGRAM, VideoRule.MEET), None)
    assert not pending.value.permanent  # the worker tries again later
    made = await publisher(app).publish(event(GOOGLE_PROGRAM, VideoRule.MEET), None)
    assert made is not None
    assert made.join_url is not None
    (stored,) = fake.written[GOOGLE_ACCOUNT].values()
    assert stored["hangoutLink"] == made.join_url
    assert stored["conferenceData"]["createRequest"]["status"] == {"statusCode": "success"}
