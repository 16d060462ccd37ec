"""The running app with Slack configured against FakeSlack, for the tests through the wire.

    async with slack_world(tmp_path) as world:
        reply = await world.post(sr.slash_command(world.secret, text="help",
                                                  response_url=world.response_url()))
        await world.settle()
        assert world.slack.responses[0].text ...

``settle`` waits until the app has finished the work it acknowledged (bolt's
lazy listeners); nothing of Pairtime is replaced: requests go over HTTP to the
real aiohttp app, and the real slack_sdk calls the fake over HTTP.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiohttp

from adapters.calendars.config import CalendarSettings
from adapters.mail.config import MailSettings
from adapters.slack.config import SlackSettings
from adapters.slack.endpoint import SlackEndpoint
from adapters.slack.translate import profile_of
from bot.server import CHAT_KEY, SERVICES_KEY
from bot.settings import load_settings
from core.people import ChatIdentity, Platform, program_id
from core.ports import Clock
from core.secret import Secret
from tests.fakes import slack_requests as sr
from tests.fakes.server import running
from tests.fakes.slack import FakeSlack
from tests.memory import FixedClock
from tests.support import (
    POSTGRES_POOL_SIZE,
    PROVIDER_TIMEOUT,
    AppUnderTest,
    open_to_all,
    running_app,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)  # a Wednesday
MENTOR, MENTEE, STRANGER, NO_ZONE = "U0MENTOR", "U0MENTEE", "U0STRANGER", "U0NOTZ"
CHANNEL = "C0MENTORING"


def people(slack: FakeSlack) -> None:
    slack.add_user(
        MENTOR, name="alex", real_name="Alex Kim", tz="America/New_York",
        email="alex@example.org",
    )  # fmt: skip
    slack.add_user(MENTEE, name="maria", real_name="Maria Lopez", tz="Europe/Madrid")
    slack.add_user(STRANGER, name="sam", real_name="Sam Stone", tz="Europe/London")
    slack.add_user(NO_ZONE, name="noor", real_name="Noor Haddad", tz=None)
    slack.add_user("U0ROBOT", name="robot", real_name="Robot", is_bot=True)
    slack.add_channel(CHANNEL, name="mentoring", members=[MENTOR, MENTEE, STRANGER, NO_ZONE])


@dataclass
class Answer:
    status: int
    text: str
    seconds: float


@dataclass
class SlackWorld:
    running: AppUnderTest
    slack: FakeSlack
    slack_base: str
    session: aiohttp.ClientSession
    clock: FixedClock | None
    secret: str = SECRET

    @property
    def endpoint(self) -> SlackEndpoint:
        return cast("SlackEndpoint", self.running.app[CHAT_KEY]["slack"])

    def response_url(self) -> str:
        return self.slack.response_url(self.slack_base)

    async def post(self, request: sr.SlackRequest, path: str = "/slack/events") -> Answer:
        started = time.monotonic()
        async with self.session.post(
            self.running.base_url + path, data=request.body.encode(), headers=request.headers
        ) as reply:
            text = await reply.text()
        return Answer(reply.status, text, time.monotonic() - started)

    async def settle(self) -> None:
        await self.endpoint.idle()

    async def drain(self) -> None:
        """Run the durable jobs that are due now (emails, reminders), and wait for them."""
        await self.running.app[SERVICES_KEY].worker.drain()
        await self.settle()

    async def open_to_all(self, team: str | None = None) -> None:
        """Let anyone in ``team`` (the default workspace's) find times with anyone
        (``availability_visible_to: program``)."""
        program = program_id(Platform.SLACK, team or self.slack.team_id)
        await open_to_all(self.running.storage, program)

    async def say(self, request: sr.SlackRequest) -> Answer:
        """Post and wait for the work it started."""
        answer = await self.post(request)
        await self.settle()
        return answer

    def dm(self, user: str) -> list[Any]:
        return self.slack.messages_in(self.slack.dm_channel(user))


def buttons(blocks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button in ``blocks``: accessories and actions elements."""
    found = []
    for block in blocks:
        accessory = block.get("accessory")
        if accessory and accessory.get("type") == "button":
            found.append(accessory)
        found.extend(e for e in block.get("elements", []) if e.get("type") == "button")
    return found


def texts(blocks: Iterable[dict[str, Any]]) -> str:
    """All text in ``blocks`` (sections, fields, contexts), for reading assertions."""
    return json.dumps(list(blocks), ensure_ascii=False)


@asynccontextmanager
async def slack_world(
    folder: Path,
    *,
    clock: Clock | None = None,
    caldav_url: str | None = None,
    calendars: CalendarSettings | None = None,
    multi_workspace: bool = False,
    fake: FakeSlack | None = None,
    mail: MailSettings | None = None,
    keys: Sequence[str] | None = None,
    database_url: str | None = None,
    slack_base: str | None = None,
    paired: bool = True,
) -> AsyncIterator[SlackWorld]:
    """``caldav_url`` sets iCloud's server; ``calendars`` sets every calendar service;
    ``mail`` an SMTP server for the invitations; ``keys`` the storage keys (the same ones
    again to restart over the same database in ``folder``); ``database_url`` another
    database than SQLite in ``folder``; ``slack_base`` a FakeSlack already served (several
    apps, as several processes, talking to one Slack); ``paired`` pairs MENTOR with MENTEE
    (the program's default rule shows free times to partners only)."""
    slack = fake or FakeSlack()
    if fake is None:
        people(slack)
    fixed = FixedClock(NOW) if clock is None else None
    async with AsyncExitStack() as stack:
        if slack_base is None:
            slack_base = await stack.enter_async_context(running(slack.app))
        slack_settings = (
            SlackSettings(
                signing_secret=Secret(SECRET),
                client_id=slack.client_id,
                client_secret=Secret(slack.client_secret),
                api_url=f"{slack_base}/api/",
            )
            if multi_workspace
            else SlackSettings(
                signing_secret=Secret(SECRET),
                bot_token=Secret(slack.bot_token),
                api_url=f"{slack_base}/api/",
            )
        )
        # With a chat app configured, the playground is off (as load_settings decides).
        settings = replace(
            load_settings({}, dotenv_path=None), slack=slack_settings, playground=False
        )
        if caldav_url is not None:
            settings = replace(
                settings,
                calendars=CalendarSettings(caldav_url=caldav_url, timeout_seconds=PROVIDER_TIMEOUT),
            )
        if calendars is not None:
            settings = replace(settings, calendars=calendars)
        if mail is not None:
            settings = replace(settings, mail=mail)
        if database_url is not None:
            settings = replace(
                settings, database_url=database_url, database_pool_size=POSTGRES_POOL_SIZE
            )
        async with (
            running_app(settings, folder, clock=clock or fixed, keys=keys) as app,
            aiohttp.ClientSession() as session,
        ):
            if paired and MENTOR in slack.users and MENTEE in slack.users:
                await pair_mentor_with_mentee(app, slack)
            yield SlackWorld(app, slack, slack_base, session, fixed)


async def pair_mentor_with_mentee(app: AppUnderTest, slack: FakeSlack) -> None:
    """Alex mentors Maria, as an admin's import would say: under the program's default
    rule, only partners find times with each other."""
    storage = app.storage
    program = program_id(Platform.SLACK, slack.team_id)
    await storage.programs.ensure(program, "Pairtime Test")
    found = []
    for user_id in (MENTOR, MENTEE):
        user = slack.users[user_id]
        found.append(
            await storage.people.remember(
                program,
                ChatIdentity(Platform.SLACK, slack.team_id, user_id),
                profile_of(user.to_json()),
            )
        )
    await storage.pairings.pair(program, found[0].id, found[1].id)
