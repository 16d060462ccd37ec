"""Fakes of the Bot Framework services a Teams bot talks to, for the real botbuilder to call.

Two services, two fakes:

``FakeBotFramework``: the connector at an activity's ``serviceUrl`` (``/v3/conversations...``),
which receives the bot's messages, replies, updates and deletions. Serve it with ``running``:
botframework-connector sends with ``requests`` from an executor thread, so the test's event loop
stays free to answer.

``FakeBotFrameworkAuth``: the identity side. It stands in for
``https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token`` (the bot's outgoing
token, client credentials, fetched by msal) and for
``https://login.botframework.com/v1/.well-known/openidconfiguration`` and its JWKS (the keys
the bot checks incoming channel tokens with), and signs channel tokens as the Bot Framework
does. Serve it with ``ThreadedServer``: botbuilder fetches both synchronously (msal and
``requests.get`` in ``JwtTokenExtractor``) from inside the event loop. Over HTTPS
(``tls=TestCertificate``) when msal is the client, since msal only takes an https authority.

How botbuilder 4.17 is pointed at them is in :meth:`FakeBotFrameworkAuth.settings`,
:func:`fake_login_credentials_factory` and tests/fakes/README.md.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import itertools
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
import msal
import requests
from aiohttp import web
from botframework.connector.auth import (
    AuthenticationConstants,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from msrest.authentication import Authentication

JsonDict = dict[str, Any]

CHANNEL_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER  # api.botframework.com
CONNECTOR_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE  # same URL
CHANNEL_METADATA_PATH = "/v1/.well-known/openidconfiguration"
CHANNEL_KEYS_PATH = "/v1/.well-known/keys"
DEFAULT_TENANT = AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT  # "botframework.com"
UNAUTHORIZED = {"message": "Authorization has been denied for this request."}


# ---------------------------------------------------------------------- keys and tokens


@dataclass(frozen=True)
class ChannelSigningKey:
    """An RSA key as the Bot Framework publishes it: kid, x5t, a self-signed x5c certificate."""

    private_key: rsa.RSAPrivateKey
    kid: str
    certificate: x509.Certificate

    @classmethod
    def generate(cls, kid: str | None = None) -> ChannelSigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.botframework.com")])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        thumbprint = _b64url(certificate.fingerprint(hashes.SHA1()))  # x5t is SHA-1 by definition
        return cls(key, kid or thumbprint, certificate)

    @property
    def x5t(self) -> str:
        return _b64url(self.certificate.fingerprint(hashes.SHA1()))  # x5t is SHA-1 by definition

    def jwk(self, endorsements: Iterable[str]) -> JsonDict:
        numbers = self.private_key.public_key().public_numbers()
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.x5t,
            "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            "x5c": [base64.b64encode(der).decode()],
            "endorsements": list(endorsements),
        }


@dataclass(frozen=True)
class IssuedToken:
    """An access token the fake token endpoint handed out."""

    app_id: str
    scope: str
    expires_at: float
    tenant: str


@dataclass(frozen=True)
class TokenRequest:
    tenant: str
    form: dict[str, str]  # client_secret masked
    status: int


@dataclass
class _BotApp:
    app_id: str
    password: str


class FakeBotFrameworkAuth:
    """The Bot Framework's identity side: bot token endpoint, channel OpenID metadata and keys."""

    def __init__(
        self,
        *,
        app_id: str = "00000000-0000-0000-0000-00000000b07a",
        app_password: str = "fake-bot-password",
        endorsements: Iterable[str] = ("msteams",),
        token_lifetime: int = 3599,
    ) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.endorsements = list(endorsements)
        self.token_lifetime = token_lifetime
        self.signing_key = ChannelSigningKey.generate()
        self.published_keys: list[ChannelSigningKey] = [self.signing_key]
        self.apps: dict[str, _BotApp] = {app_id: _BotApp(app_id, app_password)}
        self.issued: dict[str, IssuedToken] = {}
        self.token_requests: list[TokenRequest] = []
        self.metadata_fetches = 0
        self.keys_fetches = 0

    # ------------------------------------------------------------------ scripting

    def add_bot(self, app_id: str, password: str) -> None:
        """Another bot registration the token endpoint knows."""
        self.apps[app_id] = _BotApp(app_id, password)

    def rotate_signing_key(self) -> ChannelSigningKey:
        """Publish a new key (the old one stays published, as during a real rollover)."""
        self.signing_key = ChannelSigningKey.generate()
        self.published_keys.append(self.signing_key)
        return self.signing_key

    def wrong_key(self) -> ChannelSigningKey:
        """A key with the published kid but different key material: a forged signature."""
        return ChannelSigningKey.generate(kid=self.signing_key.kid)

    def expire_tokens(self) -> None:
        """Every token issued so far is now expired (the connector answers 401)."""
        self.issued = {
            token: IssuedToken(info.app_id, info.scope, 0.0, info.tenant)
            for token, info in self.issued.items()
        }

    def sign_channel_token(
        self,
        app_id: str,
        service_url: str,
        *,
        key: ChannelSigningKey | None = None,
        expires_in: int = 3600,
        issuer: str = CHANNEL_ISSUER,
        audience: str | None = None,
        extra_claims: JsonDict | None = None,
    ) -> str:
        """A JWT as the Bot Framework channel service sends in ``Authorization: Bearer``.

        RS256 with ``kid``/``x5t`` headers; claims ``iss`` (api.botframework.com), ``aud`` (the
        bot's app id), ``serviceurl`` (must equal the activity's serviceUrl), ``nbf``, ``exp``.
        botbuilder allows 5 minutes of clock skew, so an "expired" token needs
        ``expires_in < -300``.
        """
        signer = key or self.signing_key
        now = int(time.time())
        claims: JsonDict = {
            "serviceurl": service_url,
            "nbf": now - 5,
            "exp": now + expires_in,
            "iss": issuer,
            "aud": audience if audience is not None else app_id,
        }
        claims |= extra_claims or {}
        return jwt.encode(
            claims,
            signer.private_key,
            algorithm="RS256",
            headers={"kid": signer.kid, "x5t": signer.x5t, "typ": "JWT"},
        )

    def token_info(self, token: str) -> IssuedToken | None:
        """The issued, unexpired token ``token`` stands for, if any."""
        info = self.issued.get(token)
        if info is None or info.expires_at <= time.time():
            return None
        return info

    def settings(self, base_url: str, *, metadata_base_url: str | None = None) -> JsonDict:
        """Configuration for botbuilder's ``ConfigurationBotFrameworkAuthentication``.

        Setting any of ``TO_CHANNEL_FROM_BOT_LOGIN_URL``, ``..._OAUTH_SCOPE``,
        ``TO_BOT_FROM_CHANNEL_TOKEN_ISSUER``, ``OAUTH_URL``, ``..._OPENID_METADATA_URL`` or
        ``CALLER_ID`` switches botframework-connector's ``BotFrameworkAuthenticationFactory``
        to its parameterized mode, which reads *all* of them: set every one, as here.
        ``metadata_base_url`` serves the OpenID metadata from another server (plain http, so
        ``requests.get`` needs no CA bundle) while ``base_url`` must be the https one for msal.
        """
        metadata = metadata_base_url or base_url
        return {
            "APP_ID": self.app_id,
            "APP_PASSWORD": self.app_password,
            "APP_TYPE": "MultiTenant",
            "APP_TENANTID": "",
            "VALIDATE_AUTHORITY": False,
            "TO_CHANNEL_FROM_BOT_LOGIN_URL": f"{base_url}/{DEFAULT_TENANT}",
            "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": CONNECTOR_SCOPE,
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": CHANNEL_ISSUER,
            "OAUTH_URL": AuthenticationConstants.OAUTH_URL,
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": f"{metadata}{CHANNEL_METADATA_PATH}",
            "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": f"{metadata}{CHANNEL_METADATA_PATH}",
            "CALLER_ID": None,
        }

    # ------------------------------------------------------------------ HTTP

    @property
    def app(self) -> web.Application:
        """A new Application over this fake's state at each access, so that one fake can be
        served by several servers (an aiohttp Application belongs to one event loop)."""
        app = web.Application()
        app.router.add_get(CHANNEL_METADATA_PATH, self._channel_metadata)
        app.router.add_get(CHANNEL_KEYS_PATH, self._channel_keys)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._tenant)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        return app

    async def _channel_metadata(self, request: web.Request) -> web.Response:
        self.metadata_fetches += 1
        origin = str(request.url.origin())
        return web.json_response(
            {
                "issuer": CHANNEL_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{origin}{CHANNEL_KEYS_PATH}",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _channel_keys(self, _request: web.Request) -> web.Response:
        self.keys_fetches += 1
        return web.json_response(
            {"keys": [key.jwk(self.endorsements) for key in self.published_keys]}
        )

    async def _tenant(self, request: web.Request) -> web.Response:
        """OpenID configuration of the tenant, which msal reads before asking for a token."""
        tenant = request.match_info["tenant"]
        base = f"{request.url.origin()}/{tenant}"
        return web.json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{request.url.origin()}/{tenant}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code", "id_token", "code id_token"],
                "tenant_region_scope": "WW",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        """client_credentials for the bot, answered (and refused) as Entra ID does."""
        tenant = request.match_info["tenant"]
        form = {k: v[0] for k, v in parse_qs((await request.read()).decode()).items()}
        client_id = form.get("client_id", "")
        secret = form.get("client_secret", "")
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        recorded = {k: ("***" if k == "client_secret" else v) for k, v in form.items()}
        status, body = self._grant(tenant, form, client_id, secret)
        self.token_requests.append(TokenRequest(tenant, recorded, status))
        return web.json_response(body, status=status)

    def _grant(
        self, tenant: str, form: dict[str, str], client_id: str, secret: str
    ) -> tuple[int, JsonDict]:
        if form.get("grant_type") != "client_credentials":
            return 400, _aad_error(
                "unsupported_grant_type", 70003, "The grant type is not supported."
            )
        bot = self.apps.get(client_id)
        if bot is None:
            return 400, _aad_error(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        if secret != bot.password:
            return 401, _aad_error("invalid_client", 7000215, "Invalid client secret provided.")
        scope = form.get("scope", "")
        if not scope.endswith("/.default"):
            return 400, _aad_error(
                "invalid_scope", 1002012, f"The provided value for scope {scope} is not valid."
            )
        token = self._access_token(client_id, scope.removesuffix("/.default"), tenant)
        self.issued[token] = IssuedToken(
            client_id, scope, time.time() + self.token_lifetime, tenant
        )
        return 200, {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": token,
        }

    def _access_token(self, app_id: str, audience: str, tenant: str) -> str:
        now = int(time.time())
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "appid": app_id,
            "appidacr": "1",
            "idp": f"https://sts.windows.net/{tenant}/",
            "tid": tenant,
            "ver": "1.0",
            "jti": str(uuid.uuid4()),
        }
        headers = {"kid": self.signing_key.kid, "x5t": self.signing_key.x5t}
        return jwt.encode(claims, self.signing_key.private_key, algorithm="RS256", headers=headers)


def fake_login_credentials_factory(
    app_id: str, password: str, *, ca_path: Path | str, tenant_id: str | None = None
) -> FakeLoginCredentialFactory:
    """botbuilder's password credential factory, made able to reach a fake login server.

    botframework-connector 4.17 builds ``msal.ConfidentialClientApplication(client_id,
    client_credential, authority)`` in ``MicrosoftAppCredentials`` with msal's defaults, so for
    an authority that is not login.microsoftonline.com msal first asks
    ``https://login.microsoftonline.com/common/discovery/instance`` (instance discovery), and
    its own ``requests.Session`` trusts ``REQUESTS_CA_BUNDLE`` rather than a test CA. The
    configured ``VALIDATE_AUTHORITY`` never reaches msal. This factory gives each credential
    an msal app with ``instance_discovery=False`` and an http client trusting ``ca_path``;
    the authority still comes from ``TO_CHANNEL_FROM_BOT_LOGIN_URL``. Call ``close()`` at the
    end of the test: msal keeps its HTTPS connections open.
    """
    return FakeLoginCredentialFactory(app_id, password, tenant_id, ca_path=Path(ca_path))


class FakeLoginCredentialFactory(PasswordServiceClientCredentialFactory):  # type: ignore[misc]
    def __init__(self, app_id: str, password: str, tenant_id: str | None, *, ca_path: Path) -> None:
        super().__init__(app_id, password, tenant_id)
        self._ca_path = ca_path
        self._sessions: list[requests.Session] = []

    def close(self) -> None:
        """Close the HTTP sessions of the msal apps this factory made."""
        for session in self._sessions:
            session.close()
        self._sessions.clear()

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        credentials: Authentication = await super().create_credentials(
            app_id, oauth_scope, login_endpoint, validate_authority
        )
        if isinstance(credentials, MicrosoftAppCredentials) and credentials.microsoft_app_id:
            session = requests.Session()
            session.trust_env = False
            session.verify = str(self._ca_path)
            self._sessions.append(session)
            credentials.app = msal.ConfidentialClientApplication(
                client_id=credentials.microsoft_app_id,
                client_credential=credentials.microsoft_app_password,
                authority=credentials.oauth_endpoint,
                instance_discovery=False,
                http_client=session,
            )
        return credentials


# ---------------------------------------------------------------------- the connector


@dataclass(frozen=True)
class ReceivedActivity:
    """One call the connector received."""

    kind: str  # "create" | "send" | "reply" | "update" | "delete"
    conversation_id: str
    activity_id: str | None  # the id answered (send/reply/create) or addressed (update/delete)
    body: JsonDict  # the activity (ConversationParameters for "create"); {} for "delete"
    headers: dict[str, str]
    status: int
    at: float
    reply_to_id: str | None = None

    @property
    def text(self) -> str | None:
        return self.body.get("text")

    @property
    def attachments(self) -> list[JsonDict]:
        return self.body.get("attachments") or []

    @property
    def adaptive_cards(self) -> list[JsonDict]:
        return [
            a["content"]
            for a in self.attachments
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]


@dataclass
class FakeConversation:
    id: str
    parameters: JsonDict
    members: dict[str, JsonDict] = field(default_factory=dict)
    activities: dict[str, JsonDict] = field(default_factory=dict)  # id -> latest version
    deleted: set[str] = field(default_factory=set)


class FakeBotFramework:
    """The Bot Connector service at ``serviceUrl``: conversations, activities, members."""

    def __init__(self, *, auth: FakeBotFrameworkAuth | None = None) -> None:
        """With ``auth``, every call needs a Bearer token ``auth`` issued (else 401), as the
        real connector requires of a bot with an app id and password. Without it, calls are
        accepted as from an unauthenticated local bot (empty app id), and headers recorded."""
        self.auth = auth
        self.received: list[ReceivedActivity] = []
        self.conversations: dict[str, FakeConversation] = {}
        self._rate_limits: dict[str, list[int]] = {}
        self._failures: dict[str, list[tuple[int, JsonDict, int]]] = {}
        self._held: dict[str, asyncio.Event] = {}
        self._holds_left: dict[str, int] = {}  # conversation -> posts still to hold
        self.holding: dict[str, int] = {}  # conversation -> posts held there now
        self._arrived = asyncio.Event()  # set whenever a post is held
        self._crash: Callable[[], object] | None = None
        self._dead = False
        self._ids = itertools.count(1)
        self.page_size = 200  # pagedmembers without pageSize (Teams' own default is not stated)
        self.roster_reads: list[tuple[str, int | None, str | None]] = []  # id, size, token

    # ------------------------------------------------------------------ scripting

    def rate_limit(self, conversation_id: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls in ``conversation_id`` answer 429 with ``Retry-After``."""
        self._rate_limits[conversation_id] = [times, retry_after]

    def fail(
        self, conversation_id: str, status: int, code: str, message: str = "", *, times: int = 1
    ) -> None:
        """The next ``times`` calls in ``conversation_id`` answer ``status`` with an
        ErrorResponse ``{"error": {"code": code, "message": message}}``."""
        body = {"error": {"code": code, "message": message or code}}
        self._failures.setdefault(conversation_id, []).append((status, body, times))

    def hold(self, conversation_id: str, *, times: int | None = None) -> asyncio.Event:
        """Activities the bot posts in ``conversation_id`` (sends and replies) are answered
        only once the returned event is set: what the bot does before its message is
        delivered shows, on any machine, without timing it. With ``times``, only the next
        ``times`` of them are held (the one a process was sending when it stalled or died),
        and the later ones answered at once."""
        released = self._held[conversation_id] = asyncio.Event()
        if times is not None:
            self._holds_left[conversation_id] = times
        return released

    def crash_at_next_call(self, crash: Callable[[], object]) -> None:
        """A fault: the bot's next call (a create, a post, an update) runs ``crash`` (the
        test's: the calling process dying as it makes the call), and is refused (503), as is
        every call after it until :meth:`revive` (what the dead process had in flight never
        lands)."""
        self._crash = crash

    def revive(self) -> None:
        """After :meth:`crash_at_next_call` fired: calls are taken again (another process's,
        or the restarted one's)."""
        self._dead = False

    async def wait_for_held(self, conversation_id: str) -> None:
        """Return once a post in ``conversation_id`` is being held (see :meth:`hold`): the
        bot is in the middle of sending it."""
        while not self.holding.get(conversation_id):
            self._arrived.clear()
            await self._arrived.wait()

    def add_member(self, conversation_id: str, member: JsonDict) -> None:
        """A member TeamsInfo.get_member(s) will find: {id, name, aadObjectId, email,
        userPrincipalName, tenantId, givenName, surname, userRole}."""
        self._conversation(conversation_id).members[member["id"]] = member

    # ------------------------------------------------------------------ assertions

    def sent(self, conversation_id: str | None = None) -> list[ReceivedActivity]:
        """Activities the bot posted (send, reply, and the one inside a create)."""
        return [
            r
            for r in self.received
            if r.kind in {"send", "reply"}
            and r.status < 300
            and (conversation_id is None or r.conversation_id == conversation_id)
        ]

    def of_kind(self, kind: str) -> list[ReceivedActivity]:
        return [r for r in self.received if r.kind == kind]

    def activity(self, conversation_id: str, activity_id: str) -> JsonDict | None:
        """The activity as it stands now (after updates); None if unknown or deleted."""
        conversation = self.conversations.get(conversation_id)
        if conversation is None or activity_id in conversation.deleted:
            return None
        return conversation.activities.get(activity_id)

    # ------------------------------------------------------------------ HTTP

    @property
    def app(self) -> web.Application:
        """A new Application over this fake's state at each access, so that one fake can be
        served by several servers (an aiohttp Application belongs to one event loop)."""
        app = web.Application()
        conversation = "/v3/conversations/{conversation_id}"
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post(f"{conversation}/activities", self._send)
        app.router.add_post(f"{conversation}/activities/{{activity_id}}", self._reply)
        app.router.add_put(f"{conversation}/activities/{{activity_id}}", self._update)
        app.router.add_delete(f"{conversation}/activities/{{activity_id}}", self._delete)
        app.router.add_get(f"{conversation}/members", self._members)
        app.router.add_get(f"{conversation}/pagedmembers", self._paged_members)
        app.router.add_get(f"{conversation}/members/{{member_id}}", self._member)
        return app

    async def _create(self, request: web.Request) -> web.Response:
        params = await _json_body(request)
        if (refused := self._refused(request)) is not None:
            self._record(request, "create", "", None, params, status=refused.status)
            return refused
        tenant = (
            params.get("tenantId")
            or params.get("tenantID")  # botbuilder-python's ConversationParameters says tenantID
            or ((params.get("channelData") or {}).get("tenant") or {}).get("id")
        )
        members = params.get("members") or []
        if not tenant or not members:
            body = {"error": {"code": "BadArgument", "message": "Tenant and members required"}}
            self._record(request, "create", "", None, params, status=400)
            return web.json_response(body, status=400)
        conversation_id = self._conversation_id(params, members)
        conversation = self._conversation(conversation_id, params)
        for member in members:
            conversation.members.setdefault(member["id"], member)
        answer: JsonDict = {"id": conversation_id, "serviceUrl": str(request.url.origin())}
        activity_id = None
        if params.get("activity"):
            activity_id = self._store(conversation_id, params["activity"])
            answer["activityId"] = activity_id
        self._record(request, "create", conversation_id, activity_id, params, status=201)
        if activity_id:
            self._record(
                request, "send", conversation_id, activity_id, params["activity"], status=201
            )
        return web.json_response(answer, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        return await self._post_activity(request, "send")

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._post_activity(request, "reply")

    async def _post_activity(self, request: web.Request, kind: str) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        reply_to = request.match_info.get("activity_id")
        activity = await _json_body(request)
        if (held := self._held.get(conversation_id)) is not None:
            left = self._holds_left.get(conversation_id)
            if left is not None and left <= 1:
                del self._held[conversation_id], self._holds_left[conversation_id]
            elif left is not None:
                self._holds_left[conversation_id] = left - 1
            self.holding[conversation_id] = self.holding.get(conversation_id, 0) + 1
            self._arrived.set()
            try:
                await held.wait()
            finally:
                self.holding[conversation_id] -= 1
        if (refused := self._refused(request, conversation_id)) is not None:
            self._record(
                request,
                kind,
                conversation_id,
                None,
                activity,
                status=refused.status,
                reply_to_id=reply_to,
            )
            return refused
        activity_id = self._store(conversation_id, activity)
        self._record(
            request, kind, conversation_id, activity_id, activity, status=201, reply_to_id=reply_to
        )
        return web.json_response({"id": activity_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        activity_id = request.match_info["activity_id"]
        activity = await _json_body(request)
        if (refused := self._refused(request, conversation_id)) is not None:
            self._record(
                request, "update", conversation_id, activity_id, activity, status=refused.status
            )
            return refused
        if self.activity(conversation_id, activity_id) is None:
            self._record(request, "update", conversation_id, activity_id, activity, status=404)
            return _not_found("ActivityNotFoundInConversation", "Unknown activity")
        self.conversations[conversation_id].activities[activity_id] = activity | {"id": activity_id}
        self._record(request, "update", conversation_id, activity_id, activity, status=200)
        return web.json_response({"id": activity_id}, status=200)

    async def _delete(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        activity_id = request.match_info["activity_id"]
        if (refused := self._refused(request, conversation_id)) is not None:
            self._record(request, "delete", conversation_id, activity_id, {}, status=refused.status)
            return refused
        if self.activity(conversation_id, activity_id) is None:
            self._record(request, "delete", conversation_id, activity_id, {}, status=404)
            return _not_found("ActivityNotFoundInConversation", "Unknown activity")
        self.conversations[conversation_id].deleted.add(activity_id)
        self._record(request, "delete", conversation_id, activity_id, {}, status=200)
        return web.Response(status=200)

    async def _members(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        if (refused := self._refused(request, conversation_id)) is not None:
            return refused
        conversation = self.conversations.get(conversation_id)
        return web.json_response(list(conversation.members.values()) if conversation else [])

    async def _paged_members(self, request: web.Request) -> web.Response:
        """``GET .../pagedmembers?pageSize=&continuationToken=``: ``{"members": [...],
        "continuationToken": ...}``, the token left out on the last page (as Teams does)."""
        conversation_id = request.match_info["conversation_id"]
        size_text = request.query.get("pageSize")
        token = request.query.get("continuationToken")
        size = int(size_text) if size_text and size_text.isdigit() else None
        self.roster_reads.append((conversation_id, size, token))
        if (refused := self._refused(request, conversation_id)) is not None:
            return refused
        if size_text is not None and (size is None or not 1 <= size <= 500):
            return _bad_argument("pageSize must be between 1 and 500")
        start = _roster_offset(token)
        if start is None:
            return _bad_argument("Invalid continuation token")
        conversation = self.conversations.get(conversation_id)
        members = list(conversation.members.values()) if conversation else []
        end = start + (size or self.page_size)
        body: JsonDict = {"members": members[start:end]}
        if end < len(members):
            body["continuationToken"] = base64.urlsafe_b64encode(f"roster:{end}".encode()).decode()
        return web.json_response(body)

    async def _member(self, request: web.Request) -> web.Response:
        conversation_id = request.match_info["conversation_id"]
        if (refused := self._refused(request, conversation_id)) is not None:
            return refused
        conversation = self.conversations.get(conversation_id)
        member = conversation.members.get(request.match_info["member_id"]) if conversation else None
        if member is None:
            return _not_found("MemberNotFoundInConversation", "The member was not found")
        return web.json_response(member)

    # ------------------------------------------------------------------ helpers

    def _refused(self, request: web.Request, conversation_id: str = "") -> web.Response | None:
        if self._crash is not None:
            crash, self._crash, self._dead = self._crash, None, True
            crash()
        if self._dead:
            body = {"error": {"code": "ServiceUnavailable", "message": "The bot died calling"}}
            return web.json_response(body, status=503)
        if self.auth is not None:
            header = request.headers.get("Authorization", "")
            token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
            info = self.auth.token_info(token) if token else None
            if info is None or info.scope.removesuffix("/.default") != CONNECTOR_SCOPE:
                return web.json_response(UNAUTHORIZED, status=401)
        limit = self._rate_limits.get(conversation_id)
        if limit and limit[0] > 0:
            limit[0] -= 1
            body = {"error": {"code": "TooManyRequests", "message": "Too many requests"}}
            return web.json_response(body, status=429, headers={"Retry-After": str(limit[1])})
        queue = self._failures.get(conversation_id)
        if queue:
            status, body, times = queue[0]
            if times <= 1:
                queue.pop(0)
            else:
                queue[0] = (status, body, times - 1)
            return web.json_response(body, status=status)
        return None

    def _record(
        self,
        request: web.Request,
        kind: str,
        conversation_id: str,
        activity_id: str | None,
        body: JsonDict,
        *,
        status: int,
        reply_to_id: str | None = None,
    ) -> None:
        names = ("Authorization", "Content-Type", "User-Agent")
        headers = {n: request.headers[n] for n in names if n in request.headers}
        self.received.append(
            ReceivedActivity(
                kind,
                conversation_id,
                activity_id,
                body,
                headers,
                status,
                time.monotonic(),
                reply_to_id,
            )
        )

    def _conversation(
        self, conversation_id: str, params: JsonDict | None = None
    ) -> FakeConversation:
        if conversation_id not in self.conversations:
            self.conversations[conversation_id] = FakeConversation(conversation_id, params or {})
        return self.conversations[conversation_id]

    def _store(self, conversation_id: str, activity: JsonDict) -> str:
        # Teams message ids are epoch milliseconds
        activity_id = str(int(time.time() * 1000) * 1000 + next(self._ids))
        self._conversation(conversation_id).activities[activity_id] = activity | {"id": activity_id}
        return activity_id

    def _conversation_id(self, params: JsonDict, members: list[JsonDict]) -> str:
        if not params.get("isGroup") and len(members) == 1:
            # A 1:1 chat between a bot and a user exists once: Teams answers the same id
            return personal_conversation_id(
                (params.get("bot") or {}).get("id", ""), members[0]["id"]
            )
        return f"19:{secrets.token_hex(16)}@thread.v2"


# ---------------------------------------------------------------------- helpers


def personal_conversation_id(bot_id: str, user_id: str) -> str:
    """The id of the 1:1 chat between a bot ("28:<app id>") and a user ("29:...")."""
    return f"a:1{hashlib.sha256(f'{bot_id}|{user_id}'.encode()).hexdigest()[:40]}"


async def _json_body(request: web.Request) -> JsonDict:
    if not request.body_exists:
        return {}
    body = json.loads(await request.read() or b"{}")
    return body if isinstance(body, dict) else {"_body": body}


def _roster_offset(token: str | None) -> int | None:
    """Where a pagedmembers continuation token resumes; None for one this fake never gave."""
    if not token:
        return 0
    try:
        kind, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return int(offset) if kind == "roster" and offset.isdigit() else None


def _bad_argument(message: str) -> web.Response:
    return web.json_response({"error": {"code": "BadArgument", "message": message}}, status=400)


def _not_found(code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=404)


def _aad_error(error: str, code: int, description: str) -> JsonDict:
    trace = str(uuid.uuid4())
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace}",
        "error_codes": [code],
        "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        "trace_id": trace,
        "correlation_id": str(uuid.uuid4()),
    }


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
