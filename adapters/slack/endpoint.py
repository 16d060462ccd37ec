"""The Slack endpoint: bolt's AsyncApp on ``pairtime serve``'s one aiohttp application.

``/slack/events`` takes events, slash commands and interactivity; with OAuth
(many workspaces) ``/slack/install`` and ``/slack/oauth_redirect`` run bolt's
install flow, keeping installations sealed in Pairtime's database. Bolt
verifies every request's signature and refuses those older than five
minutes (answering 401) before any listener runs.

The app runs with ``process_before_response=True``: each listener is awaited
in the request itself, acknowledges, and hands its work to a tracked
background task (see ``tasks``), so the acknowledgement never waits for bolt's
polling loop, and shutdown can let unfinished work end instead of dropping it.
"""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

from adapters.chat import ChatContext, ChatEndpoint
from adapters.slack.channels import SlackChannelMembers
from adapters.slack.config import SlackSettings
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
from adapters.slack.tasks import BackgroundWork
from core.ports import ChannelMembers, Messenger

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
        work: BackgroundWork,
        channel_members: SlackChannelMembers,
    ) -> None:
        self._app = app
        self._messenger = messenger
        self._work = work
        self._channel_members = channel_members

    @property
    def messenger(self) -> Messenger:
        return self._messenger

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
            response = await self._app.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(response)
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

    async def idle(self) -> None:
        """Wait until every acknowledged request has been worked on (tests, benchmarks)."""
        await self._work.idle()

    async def close(self) -> None:
        await self._work.close()


async def start_slack(settings: SlackSettings, chat: ChatContext) -> ChatEndpoint:
    return build_endpoint(settings, chat)


def build_endpoint(settings: SlackSettings, chat: ChatContext) -> SlackEndpoint:
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
        installations = SealedInstallationStore(
            settings.client_id, chat.storage.database, chat.storage.vault
        )
        oauth = AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret.reveal(),
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            redirect_uri=f"{chat.base_url}{REDIRECT_PATH}",
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=installations,
            state_store=oauth_state_store(chat.storage.database),
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
        request_verification_enabled=True,
        process_before_response=True,
        user_facing_authorize_error_message=NOT_INSTALLED,
        oauth_settings=oauth,
        installation_store=installations,
        # bolt takes an AsyncAuthorize instance here, though its annotation names callables only.
        authorize=authorize,  # type: ignore[arg-type]
        logger=bolt_log,
    )
    work = BackgroundWork()
    clients = WorkspaceClients(
        settings,
        chat.http,
        single=None if settings.multi_workspace else client,
        installations=installations,
    )
    messenger = SlackMessenger(chat.storage, clients, Coalescer())
    people = SlackPeople(chat.storage)  # one users.info cache for speakers and channel members
    SlackBot(chat, people, messenger, work).register(app)
    return SlackEndpoint(app, messenger, work, SlackChannelMembers(clients, people))
