"""The running app with Teams on, wired to the Bot Framework fakes, and ways to talk to it.

async with teams_app(tmp_path) as teams:
    reply = await teams.post(ta.personal_message("help", service_url=teams.service_url))
    (card,) = (await teams.sent_to(conversation))[0].adaptive_cards

``settle`` waits until the bot has finished the work it acknowledged (and sent the card
updates that work queued), as the Slack harness does: what a test then reads is what the
bot did, however busy the machine. Clicks get an invoke budget no loaded machine exceeds
(``GENEROUS``), so each is answered in its invoke response unless a test asks otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiohttp

from adapters.calendars.config import CalendarSettings
from adapters.teams.config import TeamsSettings
from adapters.teams.endpoint import TeamsEndpoint
from adapters.teams.timing import InvokeBudget, TeamsTiming
from bot.server import CHAT_KEY
from bot.settings import Settings, load_settings
from core.people import ChatIdentity, Person, Platform, ProgramId
from core.secret import Secret
from tests.fakes import teams_activities as ta
from tests.fakes.botframework import (
    CHANNEL_METADATA_PATH,
    FakeBotFramework,
    FakeBotFrameworkAuth,
    ReceivedActivity,
)
from tests.fakes.server import TestCertificate, ThreadedServer, running
from tests.memory import FixedClock
from tests.support import POSTGRES_POOL_SIZE, AppUnderTest, open_to_all, running_app

PROGRAM = ProgramId(f"teams:{ta.TENANT_ID}")
NOW = datetime(2026, 11, 24, 14, tzinfo=UTC)  # a Tuesday


def identity(user: ta.TeamsUser) -> ChatIdentity:
    return ChatIdentity(Platform.TEAMS, ta.TENANT_ID, user.aad_object_id)


# Time enough for any click to be answered in its invoke response, even on a loaded machine:
# the slow path ("Working on it…", "Got it") is tested by asking for it.
GENEROUS = InvokeBudget(seconds=300, quick=300)


@dataclass
class TeamsUnderTest:
    running: AppUnderTest
    connector: FakeBotFramework
    auth: FakeBotFrameworkAuth | None
    service_url: str
    clock: FixedClock

    @property
    def endpoint(self) -> TeamsEndpoint:
        return cast("TeamsEndpoint", self.running.app[CHAT_KEY]["teams"])

    async def settle(self) -> None:
        """Wait for the bot's own background work: the jobs due now (what was due at start-up:
        poll deadlines and reminders), every activity acknowledged so far answered, and the
        card updates they queued sent."""
        await self.running.services.worker.drain()
        await self.endpoint.idle()

    @property
    def url(self) -> str:
        return f"{self.running.base_url}/api/messages"

    def token(self, **kwargs: Any) -> str:
        assert self.auth is not None
        return self.auth.sign_channel_token(self.auth.app_id, self.service_url, **kwargs)

    async def post(
        self, activity: dict[str, Any], *, authorization: str | None = None
    ) -> tuple[int, Any]:
        """POST ``activity`` as the channel does (signed unless ``authorization`` is given)."""
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif self.auth is not None:
            headers["Authorization"] = f"Bearer {self.token()}"
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, json=activity, headers=headers) as response,
        ):
            body = await response.json() if response.content_type == "application/json" else None
            return response.status, body

    async def sent_to(self, conversation_id: str, count: int = 1) -> list[ReceivedActivity]:
        """The first ``count`` activities the bot posted into ``conversation_id``, once it
        has settled."""
        await self.settle()
        found = self.connector.sent(conversation_id)
        assert len(found) >= count, f"{len(found)} message(s) in {conversation_id}, not {count}"
        return list(found[:count])

    async def open_to_all(self) -> None:
        """Let anyone find times with anyone (``availability_visible_to: program``)."""
        await open_to_all(self.running.storage, PROGRAM)

    async def say_hello(self, user: ta.TeamsUser) -> Person:
        """``user`` writes to the bot in their personal chat once, so Pairtime knows them."""
        chat = ta.personal_chat_id(user)
        before = len(self.connector.sent(chat))
        status, _ = await self.post(
            ta.personal_message("help", service_url=self.service_url, sender=user)
        )
        assert status == 202
        await self.sent_to(chat, before + 1)
        person = await self.running.storage.people.by_chat_user(PROGRAM, user.aad_object_id)
        assert person is not None
        return person


def on_rosters(connector: FakeBotFramework, members: Sequence[ta.TeamsUser]) -> None:
    """``members`` on the roster of their personal chats, the team and Alex's chat."""
    for user in members:
        for conversation in (ta.personal_chat_id(user), ta.TEAM_ID, ta.personal_chat_id(ta.ALEX)):
            connector.add_member(conversation, user.member())


@dataclass
class Lasting:
    """What survives a restart of the bot: see :func:`teams_app`."""

    keys: Sequence[str]
    clock: FixedClock
    connector: FakeBotFramework
    service_url: str


@contextmanager
def _identity_servers(
    auth: FakeBotFrameworkAuth, tls: TestCertificate
) -> Iterator[tuple[str, str]]:
    with ExitStack() as stack:
        login = stack.enter_context(ThreadedServer(auth.app, tls=tls))
        metadata = stack.enter_context(ThreadedServer(auth.app))
        yield login, metadata


@asynccontextmanager
async def teams_app(
    folder: Path,
    *,
    authenticated: bool = True,
    calendars: CalendarSettings | None = None,
    members: tuple[ta.TeamsUser, ...] = (ta.ALEX, ta.MARIA),
    lasting: Lasting | None = None,
    timing: TeamsTiming | None = None,
    database_url: str | None = None,
) -> AsyncIterator[TeamsUnderTest]:
    """The real app (``running_app``) with Teams configured against the fakes.

    With ``authenticated``, the channel signs every request with a key published in the
    fake's OpenID metadata, and the connector wants the bot's own tokens from the fake
    login server; without it, ``PAIRTIME_TEAMS_AUTH=disabled`` and no app id.
    ``members`` are on the roster of every conversation (email and AAD id lookups).
    ``timing`` is the adapter's clock and invoke budget (by default ``GENEROUS``).
    With ``lasting``, what outlives one run of the app is the caller's: the encryption (and
    signing) keys, the clock and the connector at its address; run the app again over the
    same ``folder`` to restart it (unauthenticated only), or run two apps side by side
    over one ``database_url`` (two ``pairtime serve`` processes on PostgreSQL).
    """
    timing = timing or TeamsTiming(budget=GENEROUS)
    if lasting is not None:
        assert not authenticated, "a lasting connector is an unauthenticated one"
        on_rosters(lasting.connector, members)
        settings: Settings = replace(
            load_settings({}, dotenv_path=None), teams=TeamsSettings(auth_disabled=True)
        )
        if database_url is not None:
            settings = replace(
                settings, database_url=database_url, database_pool_size=POSTGRES_POOL_SIZE
            )
        async with running_app(
            settings,
            folder,
            keys=lasting.keys,
            clock=lasting.clock,
            teams_timing=timing,
        ) as app:
            yield TeamsUnderTest(app, lasting.connector, None, lasting.service_url, lasting.clock)
        return
    clock = FixedClock(NOW)
    base = load_settings({}, dotenv_path=None)
    if calendars is not None:
        base = replace(base, calendars=calendars)
    if database_url is not None:
        base = replace(base, database_url=database_url, database_pool_size=POSTGRES_POOL_SIZE)
    with ExitStack() as stack:
        auth: FakeBotFrameworkAuth | None = None
        if authenticated:
            auth = FakeBotFrameworkAuth(app_id=ta.BOT_APP_ID)
            tls = TestCertificate.create(folder)
            login, metadata = stack.enter_context(_identity_servers(auth, tls))
            teams = TeamsSettings(
                app_id=auth.app_id,
                app_password=Secret(auth.app_password),
                openid_metadata_url=f"{metadata}{CHANNEL_METADATA_PATH}",
                login_url=login,
                ca_bundle=str(tls.ca_path),
            )
        else:
            teams = TeamsSettings(auth_disabled=True)
        settings = replace(base, teams=teams)
        connector = FakeBotFramework(auth=auth)
        on_rosters(connector, members)
        async with (
            running(connector.app) as service_url,
            running_app(settings, folder, clock=clock, teams_timing=timing) as app,
        ):
            yield TeamsUnderTest(app, connector, auth, service_url, clock)
