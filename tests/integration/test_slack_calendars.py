"""Calendars tell the truth, end to end: through Slack, the running app, each provider's fake
(or a real Radicale) and back.

Maria's calendar holds, next week, an all-day event marked free (as Google and Outlook make
them by default) on Tuesday and an out-of-office block over Thursday's shared hours. On every
provider, those times are never offered to her mentor, and a poll counts her busy then. A
calendar that answers nonsense costs only its own note.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msal
import pytest
from sqlalchemy import text

from adapters.calendars import google
from adapters.calendars.config import CalendarSettings
from bot.chores import ask_to_reconnect, messaging
from core.commands import Provider
from core.people import ChatIdentity, PersonId, Platform, Profile, ProgramId
from core.privacy import masked
from core.secret import Secret
from core.time import Interval, local_day
from tests.adapters.slack.harness import (
    MENTEE,
    MENTOR,
    NOW,
    SlackWorld,
    buttons,
    slack_world,
    texts,
)
from tests.caldav_server import CalDavServer, add_calendar, radicale_server
from tests.fakes import slack_requests as sr
from tests.fakes.google import FakeGoogle
from tests.fakes.google_events import GoogleEvent
from tests.fakes.microsoft import FakeEvent, FakeMicrosoft, parse_form_post, trusting_session
from tests.fakes.server import TestCertificate, running
from tests.support import PROVIDER_TIMEOUT

PROGRAM = ProgramId("slack:T0PAIRTIME")
MADRID = ZoneInfo("Europe/Madrid")
GOOGLE_ACCOUNT = "maria@example.com"
MICROSOFT_ACCOUNT = "maria@contoso.com"
APPLE_ID, APP_PASSWORD = "maria@icloud.example", "abcd-efgh-ijkl-mnop"
REDIRECT = "http://127.0.0.1:3978/oauth/{}/callback"
TUESDAY = local_day(date(2026, 12, 1), MADRID)  # marked free, all day
# Out of office over all of Thursday's shared hours (Alex's 08:00 in New York is 13:00 UTC,
# Maria's 18:00 in Madrid is 17:00 UTC).
AWAY = Interval(datetime(2026, 12, 3, 12, tzinfo=UTC), datetime(2026, 12, 3, 18, tzinfo=UTC))
FIND = f"find a time with <@{MENTEE}|maria> next week"
POLL = f"poll <@{MENTEE}> for an hour next week"
HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pairtime tests//EN\r\n"
ICAL = [
    HEAD + "BEGIN:VEVENT\r\nUID:holiday@test\r\nDTSTAMP:20261101T000000Z\r\n"
    "SUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20261201\r\nDTEND;VALUE=DATE:20261202\r\n"
    "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    HEAD + "BEGIN:VEVENT\r\nUID:away@test\r\nDTSTAMP:20261101T000000Z\r\n"
    "SUMMARY:Conference\r\nDTSTART:20261203T120000Z\r\nDTEND:20261203T180000Z\r\n"
    "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
]


@dataclass
class Calendars:
    """The three services, set up with Maria's week."""

    google: FakeGoogle
    microsoft: FakeMicrosoft
    caldav: CalDavServer
    tls: TestCertificate
    settings: CalendarSettings


@asynccontextmanager
async def three_services(folder: Path) -> AsyncIterator[Calendars]:
    tls = TestCertificate.create(folder)
    fake_google = FakeGoogle(redirect_uris=(REDIRECT.format("google"),))
    fake_google.set_events(
        GOOGLE_ACCOUNT,
        [
            GoogleEvent(date(2026, 12, 1), date(2026, 12, 2), transparency="transparent"),
            GoogleEvent(AWAY.start, AWAY.end, event_type="outOfOffice"),
        ],
        time_zone="Europe/Madrid",
    )
    fake_microsoft = FakeMicrosoft(redirect_uris=(REDIRECT.format("microsoft"),))
    fake_microsoft.set_events(
        MICROSOFT_ACCOUNT,
        [
            FakeEvent(date(2026, 12, 1), date(2026, 12, 2), all_day=True, show_as="free"),
            FakeEvent(AWAY.start, AWAY.end, show_as="oof"),
        ],
    )
    with radicale_server(folder, {APPLE_ID: APP_PASSWORD}) as server:
        add_calendar(server.url, APPLE_ID, APP_PASSWORD, "Home", ICAL)
        async with (
            running(fake_google.app) as google_base,
            running(fake_microsoft.app, tls=tls) as microsoft_base,
        ):
            settings = CalendarSettings(
                google_client_id=fake_google.client_id,
                google_client_secret=Secret(fake_google.client_secret),
                google_auth_url=f"{google_base}/o/oauth2/v2/auth",
                google_token_url=f"{google_base}/token",
                google_revoke_url=f"{google_base}/revoke",
                google_api_url=f"{google_base}/calendar/v3",
                microsoft_client_id=fake_microsoft.client_id,
                microsoft_client_secret=Secret(fake_microsoft.client_secret),
                microsoft_authority_url=microsoft_base,
                microsoft_graph_url=f"{microsoft_base}/v1.0",
                caldav_url=server.url,
                ca_bundle=str(tls.ca_path),
                timeout_seconds=PROVIDER_TIMEOUT,
            )
            yield Calendars(fake_google, fake_microsoft, server, tls, settings)


async def maria_connects(world: SlackWorld, services: Calendars, provider: Provider) -> PersonId:
    """Maria's connection as the connect flow stores it (that flow has tests of its own)."""
    storage = world.running.storage
    await storage.programs.ensure(PROGRAM, "Pairtime Test")
    maria = await storage.people.remember(
        PROGRAM,
        ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTEE),
        Profile("Maria Lopez", timezone="Europe/Madrid"),
    )
    alex = await storage.people.remember(
        PROGRAM,
        ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTOR),
        Profile("Alex Kim", timezone="America/New_York"),
    )
    await storage.pairings.pair(PROGRAM, alex.id, maria.id)
    if provider is Provider.GOOGLE:
        token = services.google.issue_access_token(GOOGLE_ACCOUNT, google.SCOPES)
        account = GOOGLE_ACCOUNT
        secret: dict[str, Any] = {
            "token": token,
            "refresh_token": "1//0g-maria",
            "expiry": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "scopes": google.SCOPES,
        }
    elif provider is Provider.MICROSOFT:
        account = MICROSOFT_ACCOUNT
        secret = await asyncio.to_thread(microsoft_sign_in, services)
    else:
        account = APPLE_ID
        secret = {"username": APPLE_ID, "password": APP_PASSWORD, "calendars": []}
    await storage.connections.replace(maria.id, provider, account, secret, NOW)
    return maria.id


def microsoft_sign_in(services: Calendars) -> dict[str, Any]:
    """msal's own sign-in against the fake (synchronous: run in a thread)."""
    services.microsoft.next_account = MICROSOFT_ACCOUNT
    cache = msal.SerializableTokenCache()
    with trusting_session(services.tls) as http:
        app = msal.ConfidentialClientApplication(
            services.microsoft.client_id,
            client_credential=services.microsoft.client_secret,
            authority=f"{services.settings.microsoft_authority_url}/common",
            instance_discovery=False,
            http_client=http,
            token_cache=cache,
        )
        flow = app.initiate_auth_code_flow(
            ["Calendars.ReadBasic"],
            redirect_uri=REDIRECT.format("microsoft"),
            response_mode="form_post",
        )
        _, answer = parse_form_post(http.get(flow["auth_uri"], timeout=5).text)
        assert "access_token" in app.acquire_token_by_auth_code_flow(flow, answer)
        account = app.get_accounts()[0]["home_account_id"]
    return {
        "cache": cache.serialize(),
        "account": account,
        "username": MICROSOFT_ACCOUNT,
        "personal": False,
        "scopes": ["Calendars.ReadBasic"],
    }


async def offered(world: SlackWorld) -> list[Interval]:
    """Every time the last picker offered (the picker shows a page of them)."""
    async with world.running.storage.database.transaction() as db:
        stored = (
            await db.execute(text("SELECT slots FROM slot_offers ORDER BY created_at DESC"))
        ).first()
    assert stored is not None
    slots = stored[0] if isinstance(stored[0], list) else json.loads(stored[0])
    return [
        Interval(datetime.fromtimestamp(s, UTC), datetime.fromtimestamp(e, UTC)) for s, e in slots
    ]


async def add_time(world: SlackWorld, blocks: list[dict[str, Any]], at: datetime) -> None:
    """The organiser adds ``at`` to the draft with its date-time field."""
    field = next(b for b in blocks if b["type"] == "actions" and b.get("block_id"))
    payload = sr.block_actions_payload(
        "pt:time",
        block_id=field["block_id"],
        action_type="datetimepicker",
        response_url=world.response_url(),
    )
    payload["actions"][0]["selected_date_time"] = int(at.timestamp())
    await world.say(sr.interactivity(world.secret, payload))


def line_for(blocks: list[dict[str, Any]], at: datetime) -> str:
    """The poll's line (time and tally) for the option starting ``at``."""
    mark = f"<!date^{int(at.timestamp())}^"
    return str(
        next(
            b["text"]["text"]
            for b in blocks
            if b["type"] == "section" and mark in b["text"]["text"]
        )
    )


PROVIDERS = [Provider.GOOGLE, Provider.MICROSOFT, Provider.ICLOUD]


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.value)
async def test_all_day_and_out_of_office_times_are_never_offered_and_count_as_busy(
    tmp_path: Path, provider: Provider
):
    async with (
        three_services(tmp_path) as services,
        slack_world(tmp_path, calendars=services.settings) as world,
    ):
        maria = await maria_connects(world, services, provider)

        await world.say(
            sr.slash_command(world.secret, text=FIND, response_url=world.response_url())
        )
        picker = world.slack.responses[-1]
        assert buttons(picker.body["blocks"])
        assert "couldn't be checked" not in texts(picker.body["blocks"])
        slots = await offered(world)
        assert slots
        assert not [s for s in slots if s.overlaps(TUESDAY) or s.overlaps(AWAY)]
        days = {s.start.astimezone(MADRID).date() for s in slots}
        assert {date(2026, 11, 30), date(2026, 12, 2), date(2026, 12, 4)} <= days
        # The reader kept what Maria's own status will say: Tuesday is taken, all day.
        summary = await world.running.storage.connections.get(maria)
        assert summary is not None
        assert summary.away_days == 1

        await world.say(
            sr.slash_command(world.secret, text=POLL, response_url=world.response_url())
        )
        tuesday, thursday = (
            datetime(2026, 12, 1, 14, tzinfo=UTC),
            datetime(2026, 12, 3, 14, tzinfo=UTC),
        )
        await add_time(world, world.slack.responses[-1].body["blocks"], tuesday)
        await add_time(world, world.slack.responses[-1].body["blocks"], thursday)
        draft = world.slack.responses[-1].body["blocks"]
        post = next(b for b in buttons(draft) if b["action_id"] == "pt:poll:post")
        await world.say(
            sr.block_actions(
                world.secret,
                post["action_id"],
                value=post["value"],
                user_id=MENTOR,
                response_url=world.response_url(),
            )
        )
        (posted,) = world.slack.messages_in("C0MENTORING")
        assert line_for(posted.blocks, tuesday).endswith(", 1 busy")
        assert line_for(posted.blocks, thursday).endswith(", 1 busy")
        others = [
            b["text"]["text"]
            for b in posted.blocks
            if b["type"] == "section" and "<!date^" in b["text"]["text"]
        ]
        assert len(others) > 2
        assert sum(", 0 busy" not in line for line in others) == 2  # the times proposed are free
        assert "Holiday" not in json.dumps([c.args for c in world.slack.calls])
        assert "Conference" not in json.dumps([c.args for c in world.slack.calls])


MALFORMED: dict[Provider, Callable[[Calendars], None]] = {
    Provider.GOOGLE: lambda s: s.google.answer_next(
        "<html>Bad gateway</html>", on="events", content_type="text/html"
    ),
    Provider.MICROSOFT: lambda s: s.microsoft.answer_next('{"value": 3}', on="calendarView"),
    Provider.ICLOUD: lambda s: s.caldav.answer_next("<html>Bad gateway</html>"),
}


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.value)
async def test_a_calendar_that_answers_nonsense_is_named_and_the_others_still_count(
    tmp_path: Path, provider: Provider
):
    async with (
        three_services(tmp_path) as services,
        slack_world(tmp_path, calendars=services.settings) as world,
    ):
        await maria_connects(world, services, provider)
        MALFORMED[provider](services)

        await world.say(
            sr.slash_command(world.secret, text=FIND, response_url=world.response_url())
        )

        picker = world.slack.responses[-1]
        said = texts(picker.body["blocks"])
        label = {Provider.GOOGLE: "Google", Provider.MICROSOFT: "Microsoft"}.get(provider, "iCloud")
        assert (
            f"Maria Lopez's calendar couldn't be checked just now ({label} sent an answer "
            "I couldn't read), so it was left out."
        ) in said
        assert buttons(picker.body["blocks"])  # times are offered all the same
        assert "Something went wrong" not in said


async def test_an_old_google_connection_is_asked_once_to_reconnect_and_keeps_working(
    tmp_path: Path,
):
    """Connections made with calendar.freebusy (marked by migration 0005): one DM, whatever
    the number of sweeps and processes; the status says so until Maria reconnects."""
    async with (
        three_services(tmp_path) as services,
        slack_world(tmp_path, calendars=services.settings) as world,
    ):
        maria = await maria_connects(world, services, Provider.GOOGLE)
        async with world.running.storage.database.transaction() as db:
            await db.execute(
                text("UPDATE calendar_connections SET misses_free_events = :yes"), {"yes": True}
            )

        # Two processes' sweeps at once, then later ones: Maria is asked once.
        asking = messaging(world.running.services)
        await asyncio.gather(ask_to_reconnect(asking), ask_to_reconnect(asking))
        await ask_to_reconnect(asking)

        (asked,) = world.dm(MENTEE)
        assert "so that all-day events are counted" in asked.text
        (link,) = buttons(asked.blocks)
        assert link["text"]["text"] == "Connect Google"
        assert link["url"].startswith("http://127.0.0.1:3978/connect/google?state=")

        await world.say(sr.event_callback(world.secret, sr.message_im_event("status", user=MENTEE)))
        status = world.dm(MENTEE)[-1]
        assert (
            f"Your Google calendar ({masked(GOOGLE_ACCOUNT)}) is connected. It was connected before"
            in (status.text)
        )
        assert "so that all-day events are counted" in status.text

        await world.running.storage.connections.replace(
            maria, Provider.GOOGLE, GOOGLE_ACCOUNT, {"scopes": google.SCOPES}, NOW
        )  # reconnected: a new grant that reads events
        await world.say(sr.event_callback(world.secret, sr.message_im_event("status", user=MENTEE)))
        assert world.dm(MENTEE)[-1].text.startswith(
            f"Your Google calendar ({masked(GOOGLE_ACCOUNT)}) is connected."
        )
        assert "all-day" not in world.dm(MENTEE)[-1].text
        await ask_to_reconnect(asking)
        assert len([m for m in world.dm(MENTEE) if "so that all-day" in (m.text or "")]) == 2
