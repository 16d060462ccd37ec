"""The Slack endpoint: bolt's AsyncApp on ``pairtime serve``'s one aiohttp application.

``/slack/events`` takes events, slash commands and interactivity; with OAuth
(many workspaces) ``/slack/install`` and ``/slack/oauth_redirect`` run bolt's
install flow, keeping installations sealed in Pairtime's database.

Every request to ``/slack/events`` is checked before anything parses it (see
``inbound``): its size, then its signature on the raw bytes (401, also for a
request older than five minutes), then its shape (400). A signed slash command
or interaction carries a ``trigger_id`` used once: a replay of it within the
five minutes its signature stays valid is answered and dropped, in whichever
process it arrives (the inbox keeps one row per ``trigger_id``: see
``adapters.slack.listeners``).

The app runs with ``process_before_response=True``: each listener is awaited
in the request itself, keeps the request in the durable inbox (``adapters.chat.Inbox``)
and acknowledges, so Slack's 200 leaves only once the request is a row in the database;
a worker in this process or another then runs it (see ``adapters.slack.listeners``).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from adapters.chat import ChatContext, ChatEndpoint, Inbox
from adapters.slack.channels import SlackChannelMembers
from adapters.slack.config import SlackSettings
from adapters.slack.inbound import LARGE_BODY_BYTES, MAX_BODY_BYTES, Checked, check
from adapters.slack.installations import SealedInstallationStore, oauth_state_store
from adapters.slack.listeners import SlackBot
from adapters.slack.manifest import BOT_SCOPES
from adapters.slack.messenger import (
    Coalescer,
    SlackMessenger,
    WorkspaceClients,
    library_logger,
    web_client,
)
from adapters.slack.people import SlackPeople
from adapters.slack.transport import SlackProactiveMessenger
from core.ports import ChannelMembers, Messenger
from storage.crypto import Vault
from storage.database import Database

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
NOT_INSTALLED = (
    "Pairtime isn't installed in this workspace (any more). Ask a workspace admin to install "
    "it again."
)


class SlackEndpoint:
    def __init__(
        self,
        app: AsyncApp,
        messenger: SlackMessenger,
        inbox: Inbox,
        channel_members: SlackChannelMembers,
        *,
        verifier: SignatureVerifier,
    ) -> None:
        self._app = app
        self._messenger = messenger
        self._inbox = inbox
        self._channel_members = channel_members
        self._verifier = verifier

    @property
    def messenger(self) -> Messenger:
        return SlackProactiveMessenger(self._messenger)

    @property
    def channel_members(self) -> ChannelMembers:
        return self._channel_members

    @property
    def app(self) -> AsyncApp:
        return self._app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path == EVENTS_PATH:
            if request.method != "POST":
                return web.Response(status=405, headers={"Allow": "POST"})
            with self._inbox.receiving():
                return await self._events_request(request)
        flow = self._app.oauth_flow
        if flow is not None and request.method == "GET":
            if request.path == flow.install_path:
                answer = await flow.handle_installation(await to_bolt_request(request))
                return await to_aiohttp_response(answer)
            if request.path == flow.redirect_uri_path:
                answer = await flow.handle_callback(await to_bolt_request(request))
                return await to_aiohttp_response(answer)
        return web.json_response(
            {"error": "this Slack app installs through its bot token, not OAuth"}
            if flow is None
            else {"error": "not found"},
            status=404,
        )

    async def _events_request(self, request: web.Request) -> web.StreamResponse:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _refuse(413, "the body is too large")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:  # no Content-Length, but too much was sent
            return _refuse(413, "the body is too large")
        # Verifying and parsing take tens of milliseconds per MiB (and bolt parses again): a
        # large body is read in a thread, so that it holds up no other request.
        large = len(raw) > LARGE_BODY_BYTES
        checked = (
            await asyncio.to_thread(check, raw, request.headers, self._verifier)
            if large
            else check(raw, request.headers, self._verifier)
        )
        if not isinstance(checked, Checked):
            return _refuse(checked.status, checked.reason)
        try:
            bolt_request = (
                await asyncio.to_thread(_bolt_request, checked, request)
                if large
                else _bolt_request(checked, request)
            )
            response = await self._app.async_dispatch(bolt_request)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
            # Bolt reads ids out of the payload as it builds the request and matches listeners
            # (its own errors in listeners it answers itself): a shape the checks above let
            # through is still a malformed payload, not a server error.
            return _refuse(400, f"bolt could not read the payload ({type(error).__name__})")
        return await to_aiohttp_response(response)

    async def idle(self) -> None:
        """Wait until every acknowledged request has been worked on (tests, benchmarks)."""
        await self._inbox.idle()

    async def close(self) -> None:
        """Nothing to wait for: what was acknowledged is kept, and the worker (stopped
        before this) finished it or handed it back."""


def _bolt_request(checked: Checked, request: web.Request) -> AsyncBoltRequest:
    """Bolt's request with the body ``check`` parsed already: bolt would parse the text again
    (a click's form repeats its whole message), and would read it wrongly besides: it takes
    any form whose text holds the word "payload" for an interaction (parse_body looks for
    the word, not the field), so a slash command "/pairtime … payload …" would be empty."""
    bolt_request = AsyncBoltRequest(
        body="",
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type] # a mapping, as bolt's own adapter
    )
    bolt_request.raw_body = checked.text
    bolt_request.body = checked.body
    bolt_request.context = build_async_context(AsyncBoltContext({}), checked.body)
    return bolt_request


async def start_slack(
    settings: SlackSettings, chat: ChatContext, *, database: Database, vault: Vault
) -> ChatEndpoint:
    return build_endpoint(settings, chat, database=database, vault=vault)


def build_endpoint(
    settings: SlackSettings, chat: ChatContext, *, database: Database, vault: Vault
) -> SlackEndpoint:
    """The endpoint for ``settings``; with many workspaces, their installations are kept
    in ``database``, their tokens sealed by ``vault``."""
    if settings.signing_secret is None:
        raise ValueError("Slack needs its signing secret: requests are never taken unverified")
    bolt_log = library_logger("adapters.slack.bolt")
    token = settings.bot_token.reveal() if settings.bot_token is not None else None
    client = web_client(settings, chat.http, None if settings.multi_workspace else token)
    installations: SealedInstallationStore | None = None
    oauth: AsyncOAuthSettings | None = None
    authorize: AsyncInstallationStoreAuthorize | None = None
    if settings.multi_workspace:
        assert settings.client_id is not None
        assert settings.client_secret is not None
        installations = SealedInstallationStore(settings.client_id, database, vault)
        oauth = AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret.reveal(),
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            redirect_uri=f"{chat.base_url}{REDIRECT_PATH}",
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=installations,
            state_store=oauth_state_store(database),
            logger=bolt_log,
        )
        # Bolt's default would call auth.test on every request; once per token is enough.
        authorize = AsyncInstallationStoreAuthorize(
            logger=bolt_log,
            client_id=settings.client_id,
            client_secret=settings.client_secret.reveal(),
            installation_store=installations,
            client=client,
            cache_enabled=True,
        )
    app = AsyncApp(
        name="pairtime",
        client=client,
        signing_secret=settings.signing_secret.reveal(),
        # inbound.check verified the signature on the raw bytes before anything was parsed;
        # bolt's own check would only repeat it (over a MiB, milliseconds on the event loop).
        request_verification_enabled=False,
        process_before_response=True,
        user_facing_authorize_error_message=NOT_INSTALLED,
        oauth_settings=oauth,
        installation_store=installations,
        # bolt takes an AsyncAuthorize instance here, though its annotation names callables only.
        authorize=authorize,  # type: ignore[arg-type]
        logger=bolt_log,
    )
    clients = WorkspaceClients(
        settings,
        chat.http,
        single=None if settings.multi_workspace else client,
        installations=installations,
    )
    messenger = SlackMessenger(chat.ports.people, clients, Coalescer(), chat.inbox)
    people = SlackPeople(chat.scheduler)  # one users.info cache for speakers and channel members
    SlackBot(chat, people, messenger).register(app)
    return SlackEndpoint(
        app,
        messenger,
        chat.inbox,
        SlackChannelMembers(clients, people),
        verifier=SignatureVerifier(settings.signing_secret.reveal()),
    )


def _refuse(status: int, reason: str) -> web.Response:
    """One line in the log (never the body, which may hold what someone wrote), no traceback.

    A signed request that is malformed is worth a warning (Slack changed, or a bug); the
    rest is anyone on the internet knocking.
    """
    level = logging.WARNING if status == 400 else logging.INFO
    log.log(level, "refused a request to %s: %s (%d)", EVENTS_PATH, reason, status)
    return web.Response(status=status, text=reason)
