"""How Pairtime talks to the Bot Framework: request authentication and outgoing clients.

botbuilder 4.17 left three costs in its defaults that this module removes:

- it builds new credentials, hence a new msal application with an empty token cache, for
  every turn, and msal fetches the token synchronously inside the event loop: here the
  credentials are kept per authority, and tokens are fetched in a worker thread before any
  call needs them;
- it builds a new ``ConnectorClient`` (a ``requests`` session) for every turn and never
  closes it: here one client per service URL is kept and closed with the endpoint;
- it fetches the channel's signing keys with a blocking ``requests.get`` on the first
  request of the day: here they are fetched in a thread when the endpoint starts, and
  refreshed in the background.
- its client serialises every outgoing activity with msrest's generic serializer (a tenth
  of a Teams message's CPU): the pooled clients' serializer does it directly
  (``schema.QuickSerializer``), to the same JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import msal
import requests
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenExtractor,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
)
from cachetools import TTLCache

from adapters.teams import schema
from adapters.teams.config import PUBLIC_LOGIN_URL, TeamsSettings

log = logging.getLogger(__name__)

TOKEN_CHECK_SECONDS = 300  # how often a cached token is checked (msal renews it near expiry)
KEYS_REFRESH_SECONDS = 12 * 3600  # botbuilder itself refreshes after a day, blocking


@dataclass(frozen=True, slots=True)
class BotFrameworkConfiguration:
    """What ``ConfigurationBotFrameworkAuthentication`` reads (by attribute name).

    Setting any endpoint switches botbuilder to its "parameterized" mode, which reads all of
    them: every one is set, to the public cloud's values unless the settings say otherwise.
    """

    APP_ID: str
    APP_PASSWORD: str
    APP_TENANTID: str
    APP_TYPE: str
    VALIDATE_AUTHORITY: bool
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str
    OAUTH_URL: str
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str
    CALLER_ID: str | None = None
    CHANNEL_SERVICE: str | None = None


def configuration(settings: TeamsSettings) -> BotFrameworkConfiguration:
    tenant = settings.tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
    return BotFrameworkConfiguration(
        APP_ID=settings.app_id or "",
        APP_PASSWORD=settings.app_password.reveal() if settings.app_password else "",
        APP_TENANTID=settings.tenant_id or "",
        APP_TYPE="SingleTenant" if settings.tenant_id else "MultiTenant",
        VALIDATE_AUTHORITY=settings.login_url == PUBLIC_LOGIN_URL,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=f"{settings.login_url.rstrip('/')}/{tenant}",
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        OAUTH_URL=AuthenticationConstants.OAUTH_URL,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.openid_metadata_url,
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=settings.openid_metadata_url
        if settings.openid_metadata_url
        != AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        else AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    )


class CachedCredentialFactory(PasswordServiceClientCredentialFactory):  # type: ignore[misc]
    """botbuilder's password credentials, kept per (app, scope, authority), tokens warmed in
    a thread. For an authority other than Microsoft's public one, msal is told not to ask
    login.microsoftonline.com about it (instance discovery) and to trust ``ca_bundle``."""

    def __init__(
        self,
        app_id: str | None,
        password: str | None,
        tenant_id: str | None,
        *,
        custom_authority: bool = False,
        ca_bundle: str | None = None,
    ) -> None:
        super().__init__(app_id or "", password or "", tenant_id)
        self._custom_authority = custom_authority
        self._ca_bundle = ca_bundle
        self._credentials: dict[tuple[str, str, str], Any] = {}
        # The credentials whose token was checked lately, by id: not checked again till expiry.
        self._checked: TTLCache[int, bool] = TTLCache(1_000, TOKEN_CHECK_SECONDS)
        self._sessions: list[requests.Session] = []

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        key = (app_id or "", oauth_scope or "", login_endpoint or "")
        credentials = self._credentials.get(key)
        if credentials is None:
            credentials = await super().create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
            if self._custom_authority or self._ca_bundle:
                self._use_own_msal(credentials)
            self._credentials[key] = credentials
        await self.warm(credentials)
        return credentials

    async def warm(self, credentials: Any) -> None:
        """Have a valid token in msal's cache, fetched off the event loop."""
        if not isinstance(credentials, MicrosoftAppCredentials):
            return
        if not credentials.microsoft_app_id:
            return
        if id(credentials) in self._checked:
            return
        await asyncio.to_thread(credentials.get_access_token)
        self._checked[id(credentials)] = True

    def _use_own_msal(self, credentials: Any) -> None:
        if not isinstance(credentials, MicrosoftAppCredentials) or not credentials.microsoft_app_id:
            return
        session = requests.Session()
        if self._ca_bundle:
            session.trust_env = False  # else REQUESTS_CA_BUNDLE replaces `verify`
            session.verify = self._ca_bundle
        self._sessions.append(session)
        credentials.app = msal.ConfidentialClientApplication(
            client_id=credentials.microsoft_app_id,
            client_credential=credentials.microsoft_app_password,
            authority=credentials.oauth_endpoint,
            instance_discovery=False,
            http_client=session,
        )

    def close(self) -> None:
        for session in self._sessions:
            session.close()
        self._sessions.clear()


class PooledAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """botbuilder's authentication, with connector clients kept per service URL."""

    def __init__(self, inner: Any, warm: Any = None) -> None:
        self._inner = inner
        self._warm = warm
        self._clients: dict[tuple[str | None, str, str | None], Any] = {}
        self._token_clients: dict[str | None, Any] = {}
        self._lock = asyncio.Lock()

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            app_id = _app_id(result.claims_identity)
            result.connector_factory = _PooledFactory(self, app_id, result.connector_factory)
        return result

    def unauthenticated(self, app_id: str | None) -> Any:
        """A request accepted without checking its token (PAIRTIME_TEAMS_AUTH=disabled):
        replies still carry the bot's own token when it has an app id."""
        claims = ClaimsIdentity(
            {
                AuthenticationConstants.AUDIENCE_CLAIM: app_id,
                AuthenticationConstants.APP_ID_CLAIM: app_id,
            },
            is_authenticated=True,
            authentication_type=AuthenticationConstants.ANONYMOUS_AUTH_TYPE,
        )
        result = AuthenticateRequestResult()
        result.claims_identity = claims
        result.audience = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        result.caller_id = None
        result.connector_factory = self.create_connector_factory(claims)
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id: str) -> Any:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id)

    def create_connector_factory(self, claims_identity: Any) -> Any:
        inner = self._inner.create_connector_factory(claims_identity)
        return _PooledFactory(self, _app_id(claims_identity), inner)

    async def create_user_token_client(self, claims_identity: Any) -> Any:
        # Unused by Pairtime (no OAuth prompts), yet botbuilder builds one for every turn, at
        # about 3 ms of msrest set-up each: build it once per app.
        app_id = _app_id(claims_identity)
        client = self._token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._token_clients[app_id] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> Any:
        return await self._inner.authenticate_channel_request(auth_header)

    async def client(
        self, app_id: str | None, service_url: str, audience: str | None, inner: Any
    ) -> Any:
        key = (app_id, service_url, audience)
        client = self._clients.get(key)
        if client is None:
            async with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = await inner.create(service_url, audience)
                    # Its serializer (shared by its operations) sends botbuilder's models
                    # as msrest would, without msrest's generic walk (adapters.teams.schema).
                    schema.quicken(client._serialize)  # noqa: SLF001 - the one place it is kept
                    self._clients[key] = client
        elif self._warm is not None:
            await self._warm(client.config.credentials)
        return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with contextlib.suppress(Exception):  # closing is best effort
                await client.__aexit__(None, None, None)


class _PooledFactory(ConnectorFactory):  # type: ignore[misc]
    def __init__(self, pool: PooledAuthentication, app_id: str | None, inner: Any) -> None:
        self._pool = pool
        self._app_id = app_id
        self._inner = inner

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        return await self._pool.client(self._app_id, service_url, audience, self._inner)


def _app_id(claims: Any) -> str | None:
    if claims is None:
        return None
    value = claims.claims.get(AuthenticationConstants.AUDIENCE_CLAIM) or claims.claims.get(
        AuthenticationConstants.APP_ID_CLAIM
    )
    return value if isinstance(value, str) else None


def build_authentication(
    settings: TeamsSettings,
    *,
    auth_configuration: Any = None,
    credentials_factory: Any = None,
) -> tuple[PooledAuthentication, CachedCredentialFactory | None]:
    """The authentication for ``settings``; tests may inject botbuilder's own pieces."""
    config = auth_configuration or configuration(settings)
    own: CachedCredentialFactory | None = None
    if credentials_factory is None:
        own = CachedCredentialFactory(
            settings.app_id,
            settings.app_password.reveal() if settings.app_password else None,
            settings.tenant_id,
            custom_authority=settings.login_url != PUBLIC_LOGIN_URL,
            ca_bundle=settings.ca_bundle,
        )
        credentials_factory = own
    inner = ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials_factory)
    return PooledAuthentication(inner, own.warm if own else None), own


async def refresh_signing_keys(metadata_url: str) -> None:
    """Fetch the channel's signing keys into botbuilder's cache, in a thread."""
    metadata = JwtTokenExtractor.get_open_id_metadata(metadata_url)

    def fetch() -> None:
        # botbuilder's refresh is a coroutine doing blocking I/O: run it on a loop of its own.
        asyncio.run(metadata._refresh())  # noqa: SLF001 - the one way to refresh its cache

    await asyncio.to_thread(fetch)


async def keep_signing_keys_fresh(metadata_url: str, *, first: bool = True) -> None:
    """Runs for the endpoint's life; a failed fetch is logged and retried later."""
    delay = KEYS_REFRESH_SECONDS
    if not first:
        await asyncio.sleep(delay)
    while True:
        try:
            await refresh_signing_keys(metadata_url)
            delay = KEYS_REFRESH_SECONDS
        except (requests.RequestException, ValueError, KeyError) as error:
            log.warning("could not fetch the Bot Framework signing keys (%s)", type(error).__name__)
            delay = 60
        await asyncio.sleep(delay)
