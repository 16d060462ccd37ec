"""The Teams endpoint: ``POST /api/messages``, authenticated, answered fast.

Every request is checked before anything else: a missing or malformed ``Authorization``
header is refused here with 401 (botbuilder would answer 500), then botbuilder validates the
token against the channel's published keys. Only ``PAIRTIME_TEAMS_AUTH=disabled`` (refused
in production by the settings) skips that, for local tools such as the Emulator.

The activity is then run through botbuilder's ``CloudAdapter.process_activity`` directly,
not ``CloudAdapter.process``, which fails on invoke responses in 4.17; the invoke response
body is returned as JSON as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botframework.connector.models import ErrorResponseException
from msrest.exceptions import DeserializationError  # type: ignore[attr-defined]

from adapters.chat import ChatContext, ChatEndpoint, Inbox, nested_deeper_than
from adapters.teams import connection, schema
from adapters.teams.bot import INCOMING, PairtimeBot
from adapters.teams.config import TeamsSettings
from adapters.teams.members import TeamsChannelMembers
from adapters.teams.messenger import CARD_JOB, DeliveryFailed, Outbox, TeamsMessenger
from adapters.teams.timing import TeamsTiming
from adapters.teams.translate import BadActivity, parse_activity
from adapters.teams.transport import TeamsProactiveMessenger
from adapters.teams.turns import Turns

log = logging.getLogger(__name__)

KEYS_TIMEOUT = 10.0  # seconds to wait for the signing keys at start-up
_BEARER = re.compile(r"Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class TeamsEndpoint:
    def __init__(
        self,
        *,
        settings: TeamsSettings,
        adapter: Any,
        authentication: connection.PooledAuthentication,
        credentials: connection.CachedCredentialFactory | None,
        turns: Turns,
        messenger: TeamsMessenger,
        channel_members: TeamsChannelMembers,
        inbox: Inbox,
    ) -> None:
        self._settings = settings
        self._inbox = inbox
        self._adapter = adapter
        self._authentication = authentication
        self._credentials = credentials
        self._turns = turns
        self._messenger = messenger
        self._proactive = TeamsProactiveMessenger(messenger)
        self._channel_members = channel_members
        self._bot = PairtimeBot(turns)
        self._keys: asyncio.Task[None] | None = None

    @property
    def messenger(self) -> TeamsProactiveMessenger:
        return self._proactive

    @property
    def channel_members(self) -> TeamsChannelMembers:
        return self._channel_members

    async def start(self) -> None:
        """Fetch the channel's signing keys before the first request (off the event loop),
        then keep them fresh."""
        if self._settings.auth_disabled:
            return
        url = self._settings.openid_metadata_url
        try:
            await asyncio.wait_for(connection.refresh_signing_keys(url), KEYS_TIMEOUT)
        except (TimeoutError, OSError, ValueError, KeyError) as error:
            log.warning("could not fetch the Bot Framework signing keys (%s)", type(error).__name__)
        self._keys = asyncio.ensure_future(connection.keep_signing_keys_fresh(url, first=False))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        header = request.headers.get("Authorization", "")
        if not self._settings.auth_disabled and not _BEARER.fullmatch(header):
            return _unauthorized()
        try:
            body = _shallow(await request.json())
            incoming = parse_activity(body, default_tenant=self._settings.tenant_id)
            activity = schema.activity(body)
        # RecursionError: JSON nested deeper than the parser's stack (a 100,000-deep list).
        except (ValueError, RecursionError, BadActivity, DeserializationError) as error:
            log.info("refused a request that is not an activity (%s)", type(error).__name__)
            return web.json_response(
                {"error": "the body is not a Bot Framework activity"}, status=400
            )
        if self._settings.auth_disabled:
            result = self._authentication.unauthenticated(self._settings.app_id)
        else:
            try:
                result = await self._authentication.authenticate_request(activity, header)
            except Exception as error:  # noqa: BLE001 - every failure to authenticate is a 401
                log.warning(
                    "refused activity %s: not authenticated (%s)", incoming.id, type(error).__name__
                )
                return _unauthorized()

        async def logic(turn_context: TurnContext) -> None:
            turn_context.turn_state[INCOMING] = incoming
            await self._bot.on_turn(turn_context)

        try:
            response = await self._adapter.process_activity(result, activity, logic)
        except Exception:  # noqa: BLE001 - logged by on_turn_error; Teams gets a plain 500
            return web.json_response({"error": "internal error"}, status=500)
        if response is None:
            return web.Response(status=202)
        if response.body is None:
            return web.Response(status=response.status)
        return web.json_response(response.body, status=response.status)

    async def idle(self) -> None:
        """Return once every acknowledged activity has been worked on and the card updates
        it queued have been sent (tests, benchmarks)."""
        await self._turns.idle()
        await self._inbox.idle()  # the card jobs those queued, and any other due job
        await self._messenger.updates.idle()

    async def close(self) -> None:
        if self._keys is not None:
            self._keys.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keys
        await self._turns.close()
        await self._messenger.close()  # the last card updates (a poll's tally) go out now
        await self._authentication.close()
        if self._credentials is not None:
            self._credentials.close()


async def start_teams(
    settings: TeamsSettings,
    chat: ChatContext,
    *,
    auth_configuration: Any = None,
    credentials_factory: Any = None,
    timing: TeamsTiming | None = None,
) -> ChatEndpoint:
    """The endpoint for ``settings``. The keyword arguments replace botbuilder's configuration
    object and credential factory (tests point them at fakes), and the clock and the invoke
    budget (``timing``)."""
    timing = timing or TeamsTiming()
    authentication, credentials = connection.build_authentication(
        settings, auth_configuration=auth_configuration, credentials_factory=credentials_factory
    )
    adapter = CloudAdapter(authentication)
    adapter.on_turn_error = _on_turn_error
    outbox = Outbox(adapter, settings.app_id, timer=timing.timer)
    messenger = TeamsMessenger(
        outbox,
        chat.ports.people,
        chat.addresses,
        clock=chat.clock,
        base_url=chat.base_url,
        timing=timing,
        inbox=chat.inbox,
    )
    chat.inbox.handle(CARD_JOB, messenger.send_card)
    members = TeamsChannelMembers(outbox, chat.scheduler, chat.addresses, chat.clock)
    turns = Turns(chat, outbox, messenger, channel_members=members, timing=timing)
    endpoint = TeamsEndpoint(
        settings=settings,
        adapter=adapter,
        authentication=authentication,
        credentials=credentials,
        turns=turns,
        messenger=messenger,
        channel_members=members,
        inbox=chat.inbox,
    )
    await endpoint.start()
    return endpoint


async def _on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    """Log what failed without secrets (the activity's id and type, the error's class), and
    let the caller answer: a friendly card for a click, nothing more for a message."""
    activity = turn_context.activity
    status = getattr(getattr(error, "response", None), "status_code", None)
    # The Bot Framework's answers (a 404 for a roster entry, a 429) are the caller's to judge.
    level = (
        logging.INFO
        if isinstance(error, ErrorResponseException | DeliveryFailed)
        else logging.ERROR
    )
    log.log(
        level,
        "Teams turn for activity %s (%s) failed: %s%s",
        getattr(activity, "id", None),
        getattr(activity, "type", None),
        type(error).__name__,
        f" (status {status})" if isinstance(status, int) else "",
    )
    raise error


def _shallow(body: Any) -> Any:
    """``body``, unless it nests deeper than any activity (which botbuilder would recurse into)."""
    if nested_deeper_than(body):
        raise BadActivity("the body nests too deeply")
    return body


def _unauthorized() -> web.Response:
    return web.json_response({"error": "unauthorized"}, status=401)
