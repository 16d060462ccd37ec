"""Who may see whose free times, through the wire (issue 14): under the program's default
rule (``availability_visible_to: partners``) a stranger who names Maria (by mention, by name
or in a poll) is refused, and her calendar is never read: the Google fake's request log
says so. Her mentor, naming her in plain words, is answered from that same calendar.
Slack and Teams alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.calendars import google
from adapters.calendars.config import CalendarSettings
from core.commands import Provider
from core.people import PersonId, ProgramId
from core.secret import Secret
from storage.store import Storage
from tests.adapters.slack.harness import MENTEE, MENTOR, NOW, STRANGER, slack_world, texts
from tests.adapters.teams.harness import PROGRAM as TEAMS
from tests.adapters.teams.harness import teams_app
from tests.fakes import slack_requests as sr
from tests.fakes import teams_activities as ta
from tests.fakes.google import FakeGoogle
from tests.fakes.google_events import GoogleEvent
from tests.fakes.server import running
from tests.support import PROVIDER_TIMEOUT

SLACK = ProgramId("slack:T0PAIRTIME")
ACCOUNT = "maria@example.com"
PARTNERS_ONLY = "You can only find times with your mentoring partners"
SAM = ta.TeamsUser(
    "29:1SamStoneW4e6r8t0y2u4i6o8p0aSdFgH", "Sam Stone", "8d3f6e3a-3c4d-4e5f-8a9b-2c3d4e5f6a71",
    "sam@contoso.example",
)  # fmt: skip


@asynccontextmanager
async def marias_google() -> AsyncIterator[tuple[FakeGoogle, CalendarSettings]]:
    fake = FakeGoogle()
    busy = datetime(2026, 12, 1, 9, tzinfo=UTC)
    fake.set_events(ACCOUNT, [GoogleEvent(busy, busy + timedelta(hours=2))], time_zone="UTC")
    async with running(fake.app) as base:
        yield (
            fake,
            CalendarSettings(
                google_client_id=fake.client_id,
                google_client_secret=Secret(fake.client_secret),
                google_auth_url=f"{base}/o/oauth2/v2/auth",
                google_token_url=f"{base}/token",
                google_revoke_url=f"{base}/revoke",
                google_api_url=f"{base}/calendar/v3",
                timeout_seconds=PROVIDER_TIMEOUT,
            ),
        )


async def connect(storage: Storage, person: PersonId, fake: FakeGoogle) -> None:
    """Maria's Google connection as the connect flow stores it (tested on its own)."""
    secret = {
        "token": fake.issue_access_token(ACCOUNT, google.SCOPES),
        "refresh_token": "1//0g-maria",
        "expiry": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "scopes": google.SCOPES,
    }
    await storage.connections.replace(person, Provider.GOOGLE, ACCOUNT, secret, NOW)


def calendar_reads(fake: FakeGoogle) -> int:
    return sum("/calendar/v3/" in call.path for call in fake.calls)


async def test_in_slack_a_stranger_never_sees_a_mentees_free_times(tmp_path: Path):
    async with (
        marias_google() as (fake, settings),
        slack_world(tmp_path, calendars=settings) as world,
    ):
        storage = world.running.storage
        maria = await storage.people.by_chat_user(SLACK, MENTEE)  # paired with Alex
        assert maria is not None
        await connect(storage, maria.id, fake)

        for said in (
            f"find a time with <@{MENTEE}|maria> next week",
            "find a time with Maria Lopez next week",
            "when can I meet maria?",
            f"poll <@{MENTEE}> for an hour next week",
        ):
            await world.say(
                sr.slash_command(
                    world.secret, text=said, user_id=STRANGER, response_url=world.response_url()
                )
            )
            answer = texts(world.slack.responses[-1].body["blocks"])
            assert PARTNERS_ONLY in answer, said
            assert "Choose" not in answer
        assert calendar_reads(fake) == 0

        await world.say(
            sr.slash_command(
                world.secret,
                text="find a time with maria next week",
                user_id=MENTOR,
                response_url=world.response_url(),
            )
        )
        picker = texts(world.slack.responses[-1].body["blocks"])
        assert "Times for you and Maria Lopez" in picker
        assert calendar_reads(fake) > 0


async def test_in_teams_a_stranger_never_sees_a_mentees_free_times(tmp_path: Path):
    async with (
        marias_google() as (fake, settings),
        teams_app(tmp_path, calendars=settings, members=(ta.ALEX, ta.MARIA, SAM)) as teams,
    ):
        storage = teams.running.storage
        maria = await teams.say_hello(ta.MARIA)
        await connect(storage, maria.id, fake)
        await teams.say_hello(SAM)
        chat = ta.personal_chat_id(SAM)

        for said in ("find a time with Maria next week", "poll Maria Lopez for an hour"):
            before = len(teams.connector.sent(chat))
            await teams.post(ta.personal_message(said, service_url=teams.service_url, sender=SAM))
            (*_, reply) = await teams.sent_to(chat, before + 1)
            assert PARTNERS_ONLY in json.dumps(reply.body), said
        mention = ta.channel_message(
            "find a time next week with", service_url=teams.service_url, sender=SAM
        )
        await teams.post(mention)
        (reply,) = await teams.sent_to(ta.CHANNEL_ID)
        assert PARTNERS_ONLY in json.dumps(reply.body)
        assert calendar_reads(fake) == 0

        alex = await teams.say_hello(ta.ALEX)
        await storage.pairings.pair(TEAMS, alex.id, maria.id)
        chat = ta.personal_chat_id(ta.ALEX)
        before = len(teams.connector.sent(chat))
        await teams.post(
            ta.personal_message("find a time with maria next week", service_url=teams.service_url)
        )
        (*_, reply) = await teams.sent_to(chat, before + 1)
        assert "Times for you and Maria Lopez" in json.dumps(reply.body)
        assert calendar_reads(fake) > 0
