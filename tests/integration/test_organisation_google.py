"""Google Workspace domain-wide delegation through the running app: google-auth signs each
person's assertion, the fake's token endpoint verifies it, and events.list is read as
for a personal connection."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest

from adapters.calendars.config import CalendarSettings
from adapters.calendars.google import EVENTS
from bot.settings import load_settings
from core.admin import organisation
from core.availability import BusyStatus
from core.calendars import BusyTimes, NotConnected
from core.organisation import OrganisationSetup, OrgProvider, OrgStatus
from core.people import ChatIdentity, Person, Platform, Profile, ProgramId
from core.secret import Secret
from core.time import Interval
from core.views import Notice
from storage.repositories.organisations import REVOKED_JOB
from tests.fakes.google import GOOGLE_TOKEN_AUDIENCE, JWT_BEARER_GRANT, FakeGoogle
from tests.fakes.google_events import GoogleEvent
from tests.fakes.server import running
from tests.memory import FixedClock, RecordingMessenger
from tests.support import PROVIDER_TIMEOUT, AppUnderTest, running_app

PROGRAM = ProgramId("slack:T0ORG")
WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
SERVICE_ACCOUNT = "pairtime@example-org.iam.gserviceaccount.com"


def z(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    running: AppUnderTest
    google: FakeGoogle
    info: dict[str, Any]
    messenger: RecordingMessenger

    async def person(self, user: str, name: str, email: str) -> Person:
        identity = ChatIdentity(Platform.SLACK, "T0ORG", user)
        await self.running.storage.programs.ensure(PROGRAM, "Example Org")
        profile = Profile(name, email=email, timezone="Europe/London")
        return await self.running.storage.people.remember(PROGRAM, identity, profile)

    async def connect(self) -> None:
        setup = OrganisationSetup(
            OrgProvider.GOOGLE,
            "Example Org",
            "mentoring@example.org",
            ("example.org",),
            {"client_email": SERVICE_ACCOUNT},
            Secret(json.dumps({"key": self.info})),
        )
        await organisation.connect(
            self.running.storage.organisations,
            self.running.services.organisations,
            self.running.services.clock,
            PROGRAM,
            setup,
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    google = FakeGoogle()
    async with running(google.app) as base:
        info = google.service_account_info(base, SERVICE_ACCOUNT, delegated_scopes=[EVENTS])
        google.set_events("mentoring@example.org", [])
        settings = replace(
            load_settings({}, dotenv_path=None),
            calendars=CalendarSettings(
                google_token_url=f"{base}/token",
                google_api_url=f"{base}/calendar/v3",
                timeout_seconds=PROVIDER_TIMEOUT,
            ),
        )
        clock = FixedClock(datetime(2026, 11, 27, 9, tzinfo=UTC))
        async with running_app(settings, tmp_path, clock=clock) as app:
            messenger = RecordingMessenger()
            app.services.messengers.register(Platform.SLACK, messenger)
            yield World(app, google, info, messenger)


def assertions(google: FakeGoogle) -> list[dict[str, Any]]:
    """The claims of every JWT assertion the token endpoint received, signature checked."""
    public = serialization_public(google)
    return [
        jwt.decode(
            call.form["assertion"],
            public,
            algorithms=["RS256"],
            audience=GOOGLE_TOKEN_AUDIENCE,
        )
        for call in google.calls_to("token")
        if call.form.get("grant_type") == JWT_BEARER_GRANT
    ]


def serialization_public(google: FakeGoogle) -> str:
    return google._service_accounts[SERVICE_ACCOUNT].public_key_pem


async def test_two_people_are_read_by_impersonation_and_others_are_not(world: World):
    ana = await world.person("U0ANA", "Ana", "ana@example.org")
    ben = await world.person("U0BEN", "Ben", "Ben@Example.org")
    carl = await world.person("U0CARL", "Carl", "carl@elsewhere.com")
    dan = await world.person("U0DAN", "Dan", "dan@example.org")
    world.google.set_events(
        "ana@example.org",
        [
            GoogleEvent(z(1, 9), z(1, 10)),
            GoogleEvent(z(2, 9), z(2, 10), event_type="outOfOffice"),
            GoogleEvent(date(2026, 12, 3), date(2026, 12, 4), transparency="transparent"),
        ],
        time_zone="Europe/London",
    )
    world.google.set_events("ben@example.org", [GoogleEvent(z(1, 15), z(1, 16))])
    await world.connect()
    await world.running.storage.organisations.opt_out(PROGRAM, dan.id, z(1, 0))

    found = await world.running.services.reader.busy_times([ana.id, ben.id, carl.id, dan.id], WEEK)

    first = found[ana.id]
    assert isinstance(first, BusyTimes)
    assert {(b.start, b.end, b.status) for b in first.intervals} == {
        (z(1, 9), z(1, 10), BusyStatus.BUSY),
        (z(2, 9), z(2, 10), BusyStatus.OOF),
        (z(3, 0), z(4, 0), BusyStatus.ALL_DAY),
    }
    second = found[ben.id]
    assert isinstance(second, BusyTimes)
    assert [(b.start, b.end) for b in second.intervals] == [(z(1, 15), z(1, 16))]
    assert isinstance(found[carl.id], NotConnected)  # not in the domain
    assert isinstance(found[dan.id], NotConnected)  # opted out

    subjects = {claims["sub"]: claims for claims in assertions(world.google)}
    assert set(subjects) == {"mentoring@example.org", "ana@example.org", "Ben@Example.org"}
    for claims in subjects.values():
        assert claims["iss"] == SERVICE_ACCOUNT
        assert claims["scope"] == EVENTS
    status = (await world.running.storage.organisations.of_program(PROGRAM))[0]
    assert status.last_read_at is not None
    assert (
        await world.running.storage.organisations.people_covered(PROGRAM, OrgProvider.GOOGLE) == 2
    )


async def test_a_deleted_key_is_told_to_admins_once_and_people_read_as_not_connected(
    world: World,
):
    ana = await world.person("U0ANA", "Ana", "ana@example.org")
    admin = await world.person("U0ADM", "Ada", "ada@example.org")
    await world.running.storage.programs.grant_admin(PROGRAM, admin.id)
    world.google.set_events("ana@example.org", [GoogleEvent(z(1, 9), z(1, 10))])
    await world.connect()
    assert isinstance(
        (await world.running.services.reader.busy_times([ana.id], WEEK))[ana.id], BusyTimes
    )

    world.google.delete_service_account_key(SERVICE_ACCOUNT)
    for _ in range(2):  # read twice: the admins hear of it once
        found = await world.running.services.reader.busy_times([ana.id], WEEK, fresh=True)
        assert isinstance(found[ana.id], NotConnected)
    await world.running.services.worker.drain()

    [stored] = await world.running.storage.organisations.of_program(PROGRAM)
    assert stored.status is OrgStatus.REVOKED
    assert stored.last_error is not None
    assert "Invalid JWT Signature" in stored.last_error
    told = [message for _, outcome in world.messenger.deliveries for message in outcome.direct]
    assert [m.person for m in told] == [admin.id]
    assert isinstance(told[0].view, Notice)
    assert "Example Org (Google Workspace) connection stopped working" in told[0].view.text
    jobs = [
        await world.running.storage.jobs.state(
            f"{REVOKED_JOB}:{PROGRAM}:google:{int(stored.connected_at.timestamp())}"
        )
    ]
    assert jobs[0] is not None
