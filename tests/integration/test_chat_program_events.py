"""End to end in Slack and Teams: with an organisation connection that may write the
program account's calendar, a meeting booked in chat becomes an event there, created by
the program account with both people as attendees and a video link (a Meet through Google
Workspace, a Teams meeting through Microsoft 365), and the join link comes back in chat.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from adapters.calendars.config import CalendarSettings
from adapters.calendars.google import EVENTS
from adapters.calendars.organisation.google_workspace import WRITE
from core.admin import organisation
from core.jobs import JobStatus
from core.organisation import OrganisationSetup, OrgProvider
from core.people import ChatIdentity, Platform, Profile, ProgramId
from core.program import ProgramSettings, VideoRule
from core.secret import Secret
from tests.adapters.slack.harness import MENTEE, MENTOR, people, slack_world
from tests.adapters.teams.harness import PROGRAM as TEAMS
from tests.adapters.teams.harness import teams_app
from tests.fakes import teams_activities as ta
from tests.fakes.google import FakeGoogle
from tests.fakes.microsoft import FakeMicrosoft
from tests.fakes.server import TestCertificate, running
from tests.fakes.slack import FakeSlack
from tests.integration.test_slack_booking import ask_for_times, button, click
from tests.integration.test_slack_invitations import (
    certificate,
    mail_settings,
    slack_with_emails,
    summary,
)
from tests.integration.test_teams_clicks import click as click_in_teams
from tests.mail_server import MailServer
from tests.support import PROVIDER_TIMEOUT

__all__ = ["certificate"]  # the SMTP server's certificate fixture, shared
SLACK = ProgramId("slack:T0PAIRTIME")
GOOGLE_ACCOUNT = "mentoring@example.org"
MICROSOFT_ACCOUNT = "mentoring@contoso.example"


async def test_in_slack_a_booked_meeting_is_the_program_accounts_event_with_a_meet(
    tmp_path: Path,
):
    google = FakeGoogle()
    google.set_events(GOOGLE_ACCOUNT, [])
    google.set_events("maria@example.org", [])
    slack = FakeSlack()
    people(slack)
    async with running(google.app) as base:
        info = google.service_account_info(base, delegated_scopes=[EVENTS, WRITE])
        settings = CalendarSettings(
            google_token_url=f"{base}/token",
            google_api_url=f"{base}/calendar/v3",
            timeout_seconds=PROVIDER_TIMEOUT,
        )
        async with slack_world(tmp_path, calendars=settings, fake=slack) as world:
            storage = world.running.storage
            await storage.programs.ensure(SLACK, "Pairtime Test")
            await storage.programs.save_settings(SLACK, ProgramSettings(video=VideoRule.MEET))
            maria = await storage.people.remember(
                SLACK,
                ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTEE),
                Profile("Maria Lopez", email="maria@example.org", timezone="Europe/Madrid"),
            )
            alex = await storage.people.remember(
                SLACK,
                ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTOR),
                Profile("Alex Kim", email="alex@example.org", timezone="America/New_York"),
            )
            await storage.pairings.pair(SLACK, alex.id, maria.id)
            await organisation.connect(
                storage.organisations,
                world.running.services.organisations,
                world.running.services.clock,
                SLACK,
                OrganisationSetup(
                    OrgProvider.GOOGLE,
                    "Example Org",
                    GOOGLE_ACCOUNT,
                    ("example.org",),
                    {},
                    Secret(json.dumps({"key": info})),
                    write=True,
                ),
            )

            # Google refuses the first attempt's token: the job waits and is tried again.
            google.fail_next(401, on="events.insert")
            await click(world, button(await ask_for_times(world), "pt:pick:0"))
            await world.drain()
            (meeting,) = await storage.meetings.upcoming(
                alex.id, world.running.services.clock.now()
            )
            job = await storage.jobs.state(f"meeting.event:{meeting.ref}:0")
            assert job is not None
            assert (job.status, job.attempts) == (JobStatus.PENDING, 1)
            assert GOOGLE_ACCOUNT not in google.written
            assert world.clock is not None
            world.clock.advance(timedelta(minutes=1))
            await world.drain()
            job = await storage.jobs.state(f"meeting.event:{meeting.ref}:0")
            assert job is not None
            assert (job.status, job.attempts) == (JobStatus.DONE, 2)

            (meeting,) = await storage.meetings.upcoming(
                alex.id, world.running.services.clock.now()
            )
            (event,) = google.written[GOOGLE_ACCOUNT].values()
            assert event["organizer"] == {"email": GOOGLE_ACCOUNT, "self": True}
            assert sorted(a["email"] for a in event["attendees"]) == [
                "alex@example.org",
                "maria@example.org",
            ]
            assert event["status"] == "tentative"  # waiting for Maria's answer
            link = event["hangoutLink"]
            assert link.startswith("https://meet.google.com/")
            assert meeting.location == link
            (sent,) = google.notifications
            assert sent.kind == "invitation"
            # The join link comes back in chat to both; no email went out from Pairtime.
            for user in (MENTOR, MENTEE):
                shown = json.dumps([m.blocks for m in world.dm(user)])
                assert link in shown
            async with storage.database.transaction() as db:
                emails = await db.execute(text("SELECT count(*) FROM jobs WHERE kind = 'email'"))
                assert emails.scalar_one() == 0


async def test_in_teams_a_booked_meeting_is_the_program_accounts_event_with_a_teams_link(
    tmp_path: Path,
):
    tls = TestCertificate.create(tmp_path)
    microsoft = FakeMicrosoft(
        application_permissions=frozenset({"Calendars.ReadBasic", "Calendars.ReadWrite"})
    )
    microsoft.add_account(MICROSOFT_ACCOUNT)
    microsoft.add_account(ta.MARIA.email)
    microsoft.app_scope = frozenset({MICROSOFT_ACCOUNT, ta.MARIA.email})
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
            await storage.programs.save_settings(TEAMS, ProgramSettings(video=VideoRule.TEAMS))
            await organisation.connect(
                storage.organisations,
                teams.running.services.organisations,
                teams.running.services.clock,
                TEAMS,
                OrganisationSetup(
                    OrgProvider.MICROSOFT,
                    "Contoso",
                    MICROSOFT_ACCOUNT,
                    ("contoso.example",),
                    {"tenant": microsoft.tenant_id, "client_id": microsoft.client_id},
                    Secret(json.dumps({"client_secret": microsoft.client_secret})),
                    write=True,
                ),
            )
            chat = ta.personal_chat_id(ta.ALEX)
            before = len(teams.connector.sent(chat))
            await teams.post(
                ta.personal_message(
                    "find a time with my mentee next week", service_url=teams.service_url
                )
            )
            (*_, picker) = await teams.sent_to(chat, before + 1)
            invoke, _ = click_in_teams(teams, picker)
            status, _ = await teams.post(invoke)
            assert status == 200
            await teams.settle()

            (event,) = microsoft.written[MICROSOFT_ACCOUNT].values()
            assert event["isOnlineMeeting"] is True
            assert event["onlineMeetingProvider"] == "teamsForBusiness"
            assert sorted(a["emailAddress"]["address"] for a in event["attendees"]) == sorted(
                [ta.ALEX.email, ta.MARIA.email]
            )
            link = event["onlineMeeting"]["joinUrl"]
            (meeting,) = await storage.meetings.upcoming(alex.id, teams.clock.now())
            assert meeting.location == link
            assert [n.kind for n in microsoft.notifications] == ["invitation"]
            for user in (ta.ALEX, ta.MARIA):
                cards = json.dumps(
                    [a.adaptive_cards for a in teams.connector.sent(ta.personal_chat_id(user))]
                )
                assert link in cards


async def test_when_the_provider_refuses_the_event_the_invitations_are_emailed_instead(
    tmp_path: Path, certificate: TestCertificate
):
    """Connected with --write, but the app was never granted Calendars.ReadWrite: Graph
    answers 403, the job gives up at once, and the change's emails reach the SMTP server."""
    tls = TestCertificate.create(tmp_path)
    microsoft = FakeMicrosoft(application_permissions=frozenset({"Calendars.Read"}))
    microsoft.add_account(GOOGLE_ACCOUNT)  # mentoring@example.org, in this tenant
    server = await MailServer("starttls", certificate=certificate).start()
    try:
        async with running(microsoft.app, tls=tls) as base:
            settings = CalendarSettings(
                microsoft_authority_url=base,
                microsoft_graph_url=f"{base}/v1.0",
                ca_bundle=str(tls.ca_path),
                timeout_seconds=PROVIDER_TIMEOUT,
            )
            (tmp_path / "slack").mkdir()
            async with slack_world(
                tmp_path / "slack",
                calendars=settings,
                fake=slack_with_emails(),
                mail=mail_settings(server, certificate),
            ) as world:
                storage = world.running.storage
                await storage.programs.ensure(SLACK, "Pairtime Test")
                await organisation.connect(
                    storage.organisations,
                    world.running.services.organisations,
                    world.running.services.clock,
                    SLACK,
                    OrganisationSetup(
                        OrgProvider.MICROSOFT,
                        "Example Org",
                        GOOGLE_ACCOUNT,
                        ("example.org",),
                        {"tenant": microsoft.tenant_id, "client_id": microsoft.client_id},
                        Secret(json.dumps({"client_secret": microsoft.client_secret})),
                        write=True,
                    ),
                )
                await click(world, button(await ask_for_times(world), "pt:pick:0"))
                await world.drain()
                (meeting,) = await storage.meetings.upcoming(
                    (await storage.people.by_chat_user(SLACK, MENTOR)).id,  # type: ignore[union-attr]
                    world.running.services.clock.now(),
                )
                job = await storage.jobs.state(f"meeting.event:{meeting.ref}:0")
                assert job is not None
                assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
                assert "Calendars.ReadWrite" in (job.last_error or "")
                # Reads go on; the next meeting is emailed at once, and the admins are told.
                (connection,) = await storage.organisations.of_program(SLACK)
                assert not connection.can_write
    finally:
        await server.stop()
    assert microsoft.written == {}
    assert len(microsoft.calls_to("events.create")) == 1
    assert sorted(summary(server)) == [
        (("alex@example.org",), "REQUEST", 0, "TENTATIVE"),
        (("maria@example.org",), "REQUEST", 0, "TENTATIVE"),
    ]
