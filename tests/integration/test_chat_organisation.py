"""An organisation connection end to end through Slack and Teams: Maria never clicked a
link, yet her mentor is offered times around her real busy blocks, read through her
organisation (Google Workspace impersonation; a Microsoft 365 app); when she opts out,
her calendar no longer constrains.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from adapters.calendars.config import CalendarSettings
from adapters.calendars.google import EVENTS
from core.admin import organisation
from core.organisation import OrganisationSetup, OrgProvider
from core.people import ChatIdentity, Platform, Profile, ProgramId
from core.secret import Secret
from core.time import Interval, local_day
from tests.adapters.slack.harness import MENTEE, MENTOR, SlackWorld, people, slack_world, texts
from tests.adapters.teams.harness import PROGRAM as TEAMS
from tests.adapters.teams.harness import teams_app
from tests.fakes import slack_requests as sr
from tests.fakes import teams_activities as ta
from tests.fakes.google import FakeGoogle
from tests.fakes.google_events import GoogleEvent
from tests.fakes.microsoft import FakeEvent, FakeMicrosoft
from tests.fakes.server import TestCertificate, running
from tests.fakes.slack import FakeSlack
from tests.support import PROVIDER_TIMEOUT

PROGRAM = ProgramId("slack:T0PAIRTIME")
MADRID = ZoneInfo("Europe/Madrid")
MARIA = "maria@example.org"
TUESDAY = local_day(date(2026, 12, 1), MADRID)  # all day, marked free
AWAY = Interval(datetime(2026, 12, 3, 12, tzinfo=UTC), datetime(2026, 12, 3, 18, tzinfo=UTC))
FIND = f"find a time with <@{MENTEE}|maria> next week"


async def offered(world: SlackWorld) -> list[Interval]:
    async with world.running.storage.database.transaction() as db:
        stored = (
            await db.execute(text("SELECT slots FROM slot_offers ORDER BY created_at DESC"))
        ).first()
    assert stored is not None
    slots = stored[0] if isinstance(stored[0], list) else json.loads(stored[0])
    return [
        Interval(datetime.fromtimestamp(s, UTC), datetime.fromtimestamp(e, UTC)) for s, e in slots
    ]


async def test_a_participant_who_never_clicked_a_link_is_read_through_the_organisation(
    tmp_path: Path,
):
    google = FakeGoogle()
    google.set_events(
        MARIA,
        [
            GoogleEvent(date(2026, 12, 1), date(2026, 12, 2), transparency="transparent"),
            GoogleEvent(AWAY.start, AWAY.end, event_type="outOfOffice"),
        ],
        time_zone="Europe/Madrid",
    )
    google.set_events("mentoring@example.org", [])
    slack = FakeSlack()
    people(slack)
    async with running(google.app) as base:
        info = google.service_account_info(base, delegated_scopes=[EVENTS])
        settings = CalendarSettings(
            google_token_url=f"{base}/token",
            google_api_url=f"{base}/calendar/v3",
            timeout_seconds=PROVIDER_TIMEOUT,
        )
        async with slack_world(tmp_path, calendars=settings, fake=slack) as world:
            storage = world.running.storage
            await storage.programs.ensure(PROGRAM, "Pairtime Test")
            maria = await storage.people.remember(
                PROGRAM,
                ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTEE),
                Profile("Maria Lopez", email=MARIA, timezone="Europe/Madrid"),
            )
            alex = await storage.people.remember(
                PROGRAM,
                ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTOR),
                Profile("Alex Kim", email="alex@elsewhere.org", timezone="America/New_York"),
            )
            await storage.pairings.pair(PROGRAM, alex.id, maria.id)
            await organisation.connect(
                storage.organisations,
                world.running.services.organisations,
                world.running.services.clock,
                PROGRAM,
                OrganisationSetup(
                    OrgProvider.GOOGLE,
                    "Example Org",
                    "mentoring@example.org",
                    ("example.org",),
                    {},
                    Secret(json.dumps({"key": info})),
                ),
            )

            await world.say(
                sr.slash_command(world.secret, text=FIND, response_url=world.response_url())
            )
            picker = world.slack.responses[-1].body["blocks"]
            assert "couldn't be checked" not in texts(picker)
            assert "hasn't connected" not in texts(picker)
            slots = await offered(world)
            assert slots
            assert not [s for s in slots if s.overlaps(TUESDAY) or s.overlaps(AWAY)]
            assert await storage.connections.get(maria.id) is None  # she never connected

            # Her status says whose connection reads her calendar; she opts out.
            await world.say(
                sr.event_callback(world.secret, sr.message_im_event("status", user=MENTEE))
            )
            said = json.dumps([m.text for m in world.dm(MENTEE)] + [
                json.dumps(m.blocks) for m in world.dm(MENTEE)
            ])  # fmt: skip
            assert "connected through Example Org (Google Workspace)" in said
            await world.say(
                sr.event_callback(
                    world.secret,
                    sr.message_im_event("don't use my organisation calendar", user=MENTEE),
                )
            )
            assert "no longer read your calendar" in json.dumps(
                [m.text for m in world.dm(MENTEE)] + [m.blocks for m in world.dm(MENTEE)]
            )
            world.running.services.reader.cache.forget(maria.id)
            await world.say(
                sr.slash_command(world.secret, text=FIND, response_url=world.response_url())
            )
            again = await offered(world)
            assert [s for s in again if s.overlaps(AWAY)]  # her calendar no longer constrains


async def test_in_teams_a_microsoft_365_organisation_reads_the_mentee(tmp_path: Path):
    tls = TestCertificate.create(tmp_path)
    microsoft = FakeMicrosoft(application_permissions=frozenset({"Calendars.ReadBasic"}))
    microsoft.add_account("mentoring@contoso.example")
    microsoft.set_events(ta.MARIA.email, [FakeEvent(AWAY.start, AWAY.end, show_as="oof")])
    microsoft.app_scope = frozenset({"mentoring@contoso.example", ta.MARIA.email})
    async with running(microsoft.app, tls=tls) as base:
        settings = CalendarSettings(
            microsoft_authority_url=base,
            microsoft_graph_url=f"{base}/v1.0",
            ca_bundle=str(tls.ca_path),
            timeout_seconds=PROVIDER_TIMEOUT,
        )
        (tmp_path / "teams").mkdir()
        async with teams_app(tmp_path / "teams", calendars=settings) as teams:
            maria = await teams.say_hello(ta.MARIA)
            storage = teams.running.storage
            alex = await storage.people.by_chat_user(TEAMS, ta.ALEX.aad_object_id)
            if alex is None:
                alex = await teams.say_hello(ta.ALEX)
            await storage.pairings.pair(TEAMS, alex.id, maria.id)
            await organisation.connect(
                storage.organisations,
                teams.running.services.organisations,
                teams.running.services.clock,
                TEAMS,
                OrganisationSetup(
                    OrgProvider.MICROSOFT,
                    "Contoso",
                    "mentoring@contoso.example",
                    ("contoso.example",),
                    {"tenant": microsoft.tenant_id, "client_id": microsoft.client_id},
                    Secret(json.dumps({"client_secret": microsoft.client_secret})),
                ),
            )
            chat = ta.personal_chat_id(ta.ALEX)
            before = len(teams.connector.sent(chat))
            status, _ = await teams.post(
                ta.personal_message(
                    "find a time with my mentee next week", service_url=teams.service_url
                )
            )
            assert status == 202
            (*_, reply) = await teams.sent_to(chat, before + 1)
            (card,) = reply.adaptive_cards
            shown = json.dumps(card)
            assert "Times for you and Maria Lopez" in shown
            assert "hasn't connected a calendar" not in shown
            async with storage.database.transaction() as db:
                stored = (
                    await db.execute(text("SELECT slots FROM slot_offers ORDER BY created_at DESC"))
                ).first()
            assert stored is not None
            raw = stored[0] if isinstance(stored[0], list) else json.loads(stored[0])
            slots = [
                Interval(datetime.fromtimestamp(s, UTC), datetime.fromtimestamp(e, UTC))
                for s, e in raw
            ]
            assert slots
            assert not [s for s in slots if s.overlaps(AWAY)]
            # Read in one batch with Alex's (outside the app's scope): in either order.
            assert f"/v1.0/users/{ta.MARIA.email}/calendarView" in [
                c.path for c in microsoft.calls_to("calendarView")
            ]
