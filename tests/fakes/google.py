"""A fake of the Google services Pairtime uses: OAuth 2.0, ID tokens, Calendar events and freeBusy.

It speaks the documented wire format, so google-auth, google-auth-oauthlib
and an aiohttp client run their real code against it. Paths match the real
ones relative to a base URL (real hosts in brackets):

    GET  /o/oauth2/v2/auth          authorize    [accounts.google.com]
    POST /token                     token        [oauth2.googleapis.com]
    POST /revoke                    revoke       [oauth2.googleapis.com]
    GET  /oauth2/v3/certs           certs        [www.googleapis.com]
    GET  /.well-known/openid-configuration       [accounts.google.com]
    POST /calendar/v3/freeBusy      freeBusy     [www.googleapis.com]
    GET  /calendar/v3/calendars/{calendarId}/events    events    [www.googleapis.com]

    fake = FakeGoogle()
    fake.set_busy("ana@example.com", [(start, end)])
    fake.set_events("ana@example.com", [GoogleEvent(start, end, transparency="transparent")],
                    time_zone="Europe/Berlin")
    with ThreadedServer(fake.app) as base:   # sync clients (google-auth's requests)
        flow = Flow.from_client_config(fake.client_config(base), scopes=[...],
                                       redirect_uri=DEFAULT_REDIRECT_URI)

The authorize endpoint stands in for the consent screen: it redirects at
once to ``redirect_uri`` with ``code`` and ``state``, as ``next_account``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jwt
from aiohttp import web

from tests.fakes import google_writes
from tests.fakes.google_events import (
    GoogleEvent,
    InvalidFields,
    event_json,
    instances,
    parse_fields,
    select,
)
from tests.fakes.jwt_keys import SigningKey, jwks, unverified_claims, verified_claims
from tests.fakes.scripted import RecordedRequest, Script, ScriptedEndpoints

GOOGLE_ISSUER = "https://accounts.google.com"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # a service account JWT's aud
FREEBUSY_SCOPE = "https://www.googleapis.com/auth/calendar.freebusy"
# Scopes that authorize freeBusy.query, per the Calendar API reference.
FREEBUSY_CAPABLE_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/calendar",
        "https://www.googleapis.com/auth/calendar.readonly",
        "https://www.googleapis.com/auth/calendar.events.freebusy",
        FREEBUSY_SCOPE,
    }
)
EVENTS_OWNED_READONLY_SCOPE = "https://www.googleapis.com/auth/calendar.events.owned.readonly"
EVENTS_READONLY_SCOPE = "https://www.googleapis.com/auth/calendar.events.readonly"
# Scopes that authorize events.list, per the Calendar API's discovery document.
EVENTS_LIST_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/calendar",
        "https://www.googleapis.com/auth/calendar.app.created",
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/calendar.events.freebusy",
        "https://www.googleapis.com/auth/calendar.events.owned",
        EVENTS_OWNED_READONLY_SCOPE,
        "https://www.googleapis.com/auth/calendar.events.public.readonly",
        EVENTS_READONLY_SCOPE,
        "https://www.googleapis.com/auth/calendar.readonly",
    }
)
USERINFO_EMAIL = "https://www.googleapis.com/auth/userinfo.email"
USERINFO_PROFILE = "https://www.googleapis.com/auth/userinfo.profile"
# Google answers with the long names of these short scopes, and adds openid once either
# is granted; oauthlib then sees a changed scope (google-api-python-client PR #1088).
_SCOPE_ALIASES = {"email": USERINFO_EMAIL, "profile": USERINFO_PROFILE}
_CONSUMER_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

DEFAULT_CLIENT_ID = "1234567890-pairtime.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "GOCSPX-pairtime-test-secret"
DEFAULT_REDIRECT_URI = "http://localhost:8080/oauth/google/callback"
DEFAULT_ACCOUNT = "mentor@example.com"
MAX_CALENDARS_PER_QUERY = 50  # calendarExpansionMax's documented maximum
MAX_RESULTS = 2500  # events.list's maxResults ceiling; 250 by default
CODE_LIFETIME = 600.0


@dataclass
class GoogleAccount:
    email: str
    sub: str
    name: str

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1].lower()


@dataclass(frozen=True)
class _Client:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


@dataclass
class _Grant:
    """One user's consent to one client; revoking it kills all its tokens."""

    account: str
    client_id: str
    scopes: frozenset[str]
    revoked: bool = False


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    account: str
    scopes: frozenset[str]
    offline: bool
    force_refresh_token: bool
    code_challenge: str | None
    code_challenge_method: str
    nonce: str | None
    expires_at: float
    used: bool = False


@dataclass
class _AccessToken:
    account: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float
    grant: _Grant | None
    domain_wide: bool = False


@dataclass
class _ServiceAccount:
    client_email: str
    public_key_pem: str
    delegated_scopes: frozenset[str]
    key_deleted: bool = False


@dataclass
class FakeGoogle(ScriptedEndpoints):
    """Scriptable Google OAuth + Calendar freeBusy; see the module docstring for the routes.

    State is plain attributes and methods; ``app`` builds an aiohttp application
    serving it (a new one per access, so a fake can be served more than once).
    """

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,)
    expires_in: int = 3600
    latency: float = 0.0
    next_account: str = DEFAULT_ACCOUNT
    # events.list pages hold at most this many events, whatever maxResults asks ("the
    # number of events in the resulting page may be less than this value").
    events_page_size: int = 250
    signing_key: SigningKey = field(default_factory=SigningKey.generate, repr=False)
    calls: list[RecordedRequest] = field(default_factory=list, repr=False)
    accounts: dict[str, GoogleAccount] = field(default_factory=dict)
    # Events written through events.insert/patch/delete (google_writes.py), by account then
    # id, and what Google would have emailed their attendees.
    written: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    notifications: list[google_writes.Notified] = field(default_factory=list)
    meet_pending: int = 0  # this many Meets are still "pending" in Google's first answer

    def __post_init__(self) -> None:
        self._clients: dict[str, _Client] = {}
        self._busy: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
        self._events: dict[str, list[GoogleEvent]] = {}
        self._calendar_zones: dict[str, str] = {}
        self._codes: dict[str, _Code] = {}
        self._grants: list[_Grant] = []
        self._access_tokens: dict[str, _AccessToken] = {}
        self._refresh_tokens: dict[str, _Grant] = {}
        self._service_accounts: dict[str, _ServiceAccount] = {}
        self._scripts: list[Script] = []
        self._denials = 0
        self._grant_only: frozenset[str] | None = None
        self.register_client(self.client_id, self.client_secret, self.redirect_uris)

    # ---------------------------------------------------------------- scripting

    def register_client(
        self, client_id: str, client_secret: str, redirect_uris: Iterable[str]
    ) -> None:
        """An OAuth client as the Cloud console would hold it; redirect URIs match exactly."""
        self._clients[client_id] = _Client(client_id, client_secret, tuple(redirect_uris))

    def client_config(self, base_url: str, *, redirect_uri: str | None = None) -> dict[str, Any]:
        """The ``{"web": {...}}`` dict google-auth-oauthlib's ``Flow.from_client_config`` takes."""
        return {
            "web": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "auth_uri": f"{base_url}/o/oauth2/v2/auth",
                "token_uri": f"{base_url}/token",
                "redirect_uris": [redirect_uri or self.redirect_uris[0]],
            }
        }

    def add_account(self, email: str, *, name: str | None = None) -> GoogleAccount:
        """A Google account (Workspace unless its domain is gmail.com); returns the existing one."""
        key = email.lower()
        if key not in self.accounts:
            self.accounts[key] = GoogleAccount(
                email=email,
                sub=str(100000000000000000000 + secrets.randbelow(10**20)),
                name=name or email.partition("@")[0].replace(".", " ").title(),
            )
        return self.accounts[key]

    def set_busy(self, account: str, blocks: Iterable[tuple[dt.datetime, dt.datetime]]) -> None:
        """Replace the account's busy blocks (timezone-aware). Free events never show in freeBusy,
        so only busy time is scripted."""
        self.add_account(account)
        busy = [(start, end) for start, end in blocks]
        if any(start.tzinfo is None or end.tzinfo is None for start, end in busy):
            raise ValueError("busy blocks need timezone-aware datetimes")
        self._busy[account.lower()] = busy

    def set_events(
        self, account: str, events: Iterable[GoogleEvent], *, time_zone: str = "UTC"
    ) -> None:
        """Replace the events of the account's primary calendar, whose zone is ``time_zone``.

        freeBusy reports them too, as Google does: opaque events the owner has not
        declined, working locations left out."""
        self.add_account(account)
        ZoneInfo(time_zone)  # a typo fails here, not in a handler
        self._events[account.lower()] = list(events)
        self._calendar_zones[account.lower()] = time_zone

    def deny_next_consent(self, *, times: int = 1) -> None:
        """The next ``times`` authorize requests redirect with ``error=access_denied``."""
        self._denials += times

    def grant_only_next(self, scopes: Iterable[str]) -> None:
        """The next consent grants only these scopes (Google's granular consent checkboxes)."""
        self._grant_only = frozenset(_normalize_scopes(scopes))

    def revoke_all(self, account: str) -> None:
        """The user removes the app's access: every refresh and access token of theirs dies."""
        for grant in self._grants:
            if grant.account == account.lower():
                grant.revoked = True

    def expire_access_tokens(self, account: str | None = None) -> None:
        """Make issued access tokens (all, or one account's) expired, without waiting."""
        for token in self._access_tokens.values():
            if account is None or token.account == account.lower():
                token.expires_at = 0.0

    def issue_access_token(
        self,
        account: str,
        scopes: Iterable[str] = (FREEBUSY_SCOPE,),
        *,
        client_id: str | None = None,
    ) -> str:
        """A valid user access token without the OAuth dance, for tests about the Calendar API."""
        self.add_account(account)
        grant = self._grant_for(account.lower(), client_id or self.client_id, frozenset(scopes))
        return self._new_access_token(grant)

    def register_service_account(
        self,
        client_email: str,
        public_key_pem: str,
        *,
        delegated_scopes: Iterable[str] = (FREEBUSY_SCOPE,),
    ) -> None:
        """A service account with domain-wide delegation for ``delegated_scopes`` (what a
        Workspace admin grants in the Admin console)."""
        self._service_accounts[client_email] = _ServiceAccount(
            client_email, public_key_pem, frozenset(delegated_scopes)
        )

    def service_account_info(
        self,
        base_url: str,
        client_email: str = "pairtime@pairtime-test.iam.gserviceaccount.com",
        *,
        delegated_scopes: Iterable[str] = (FREEBUSY_SCOPE,),
    ) -> dict[str, str]:
        """Make and register a service account; returns its key file as a dict, for
        ``google.oauth2.service_account.Credentials.from_service_account_info``."""
        key = SigningKey.generate()
        self.register_service_account(
            client_email, key.public_pem(), delegated_scopes=delegated_scopes
        )
        return {
            "type": "service_account",
            "project_id": "pairtime-test",
            "private_key_id": key.key_id,
            "private_key": key.private_pem(),
            "client_email": client_email,
            "client_id": str(100000000000000000000 + secrets.randbelow(10**20)),
            "token_uri": f"{base_url}/token",
        }

    def delete_service_account_key(self, client_email: str) -> None:
        """The key is deleted in the Cloud console: assertions it signs are refused with
        ``invalid_grant`` "Invalid JWT Signature.", and its access tokens stop working."""
        self._service_accounts[client_email].key_deleted = True
        for token in self._access_tokens.values():
            if token.client_id == client_email:
                token.expires_at = 0.0

    def remove_delegation(self, client_email: str) -> None:
        """The Workspace admin removes the client id from domain-wide delegation."""
        self._service_accounts[client_email].delegated_scopes = frozenset()

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        on: str = "freeBusy",
        reason: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls to endpoint ``on`` with an error in Google's shape.

        ``status`` 429 and 403 give ``rateLimitExceeded`` (or ``reason``, e.g.
        ``userRateLimitExceeded``), 500 and 503 ``backendError``. ``retry_after``
        adds a ``Retry-After`` header (seconds).
        """
        self._scripts.append(
            Script(on, times, status=status, reason=reason, retry_after=retry_after)
        )

    def delay_next(self, seconds: float, *, times: int = 1, on: str = "freeBusy") -> None:
        """Delay the next ``times`` calls to endpoint ``on`` (added to ``latency``)."""
        self._scripts.append(Script(on, times, delay=seconds))

    # ---------------------------------------------------------------- the app

    @property
    def app(self) -> web.Application:
        app = web.Application()
        routes = [
            ("GET", "/o/oauth2/v2/auth", "authorize", self._authorize),
            ("POST", "/token", "token", self._token),
            ("POST", "/revoke", "revoke", self._revoke),
            ("GET", "/oauth2/v3/certs", "certs", self._certs),
            ("GET", "/.well-known/openid-configuration", "openid-configuration", self._discovery),
            ("POST", "/calendar/v3/freeBusy", "freeBusy", self._free_busy),
            ("GET", "/calendar/v3/calendars/{calendar}/events", "events", self._events_list),
        ]
        routes += google_writes.routes(self)
        for method, path, name, handler in routes:
            app.router.add_route(method, path, self._endpoint(name, handler))
        return app

    def _fault_response(self, endpoint: str, fault: Script) -> web.Response:
        return _google_fault(endpoint, fault)

    # ---------------------------------------------------------------- OAuth

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        client = self._clients.get(q.get("client_id", ""))
        if client is None:
            return _error_page(401, "invalid_client", "The OAuth client was not found.")
        redirect_uri = q.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return _error_page(400, "redirect_uri_mismatch", f"redirect_uri: {redirect_uri}")
        state = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code":
            return _redirect(redirect_uri, error="unsupported_response_type", **state)
        method = q.get("code_challenge_method", "plain")
        if "code_challenge" in q and method not in ("S256", "plain"):
            return _redirect(redirect_uri, error="invalid_request", **state)
        if self._denials:
            self._denials -= 1
            return _redirect(redirect_uri, error="access_denied", **state)
        requested = frozenset(_normalize_scopes(q.get("scope", "").split()))
        if not requested:
            return _error_page(400, "invalid_request", "Missing required parameter: scope")
        granted = requested if self._grant_only is None else requested & self._grant_only
        self._grant_only = None
        account = self.add_account(self.next_account)
        code = "4/0A" + secrets.token_urlsafe(48)
        self._codes[code] = _Code(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            account=account.email.lower(),
            scopes=granted,
            offline=q.get("access_type") == "offline",
            force_refresh_token="consent" in q.get("prompt", "").split(),
            code_challenge=q.get("code_challenge"),
            code_challenge_method=method,
            nonce=q.get("nonce"),
            expires_at=time.time() + CODE_LIFETIME,
        )
        return _redirect(redirect_uri, code=code, scope=" ".join(sorted(granted)), **state)

    async def _token(self, request: web.Request) -> web.StreamResponse:
        form = {k: str(v) for k, v in (await request.post()).items()}
        grant_type = form.get("grant_type", "")
        if grant_type == JWT_BEARER_GRANT:
            return self._jwt_bearer(request, form)
        if grant_type not in ("authorization_code", "refresh_token"):
            return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        client = self._authenticate_client(request, form)
        if isinstance(client, web.Response):
            return client
        if grant_type == "authorization_code":
            return self._redeem_code(client, form)
        return self._refresh(client, form)

    def _authenticate_client(
        self, request: web.Request, form: Mapping[str, str]
    ) -> _Client | web.Response:
        # Both client_secret_basic (requests-oauthlib) and client_secret_post (google-auth).
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            decoded = base64.b64decode(header[6:]).decode()
            basic_id, _, basic_secret = decoded.partition(":")
            client_id, secret = unquote_plus(basic_id), unquote_plus(basic_secret)
        client = self._clients.get(client_id or "")
        if client is None:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if secret != client.client_secret:
            return _oauth_error(401, "invalid_client", "Unauthorized")
        return client

    def _redeem_code(self, client: _Client, form: Mapping[str, str]) -> web.Response:
        code = self._codes.get(form.get("code", ""))
        if code is None:
            return _oauth_error(400, "invalid_grant", "Malformed auth code.")
        if code.used or code.expires_at < time.time() or code.client_id != client.client_id:
            return _oauth_error(400, "invalid_grant", "Bad Request")
        if form.get("redirect_uri") != code.redirect_uri:
            return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
        if code.code_challenge is not None:
            verifier = form.get("code_verifier")
            if not verifier:
                return _oauth_error(400, "invalid_grant", "Missing code verifier.")
            if _pkce_challenge(verifier, code.code_challenge_method) != code.code_challenge:
                return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
        code.used = True
        had_grant = self._live_grant(code.account, client.client_id) is not None
        grant = self._grant_for(code.account, client.client_id, code.scopes)
        body: dict[str, Any] = self._token_body(grant, code.scopes, nonce=code.nonce)
        # Google hands out a refresh token on the first offline consent, and again only
        # when prompt=consent forced the consent screen (web-server OAuth guide).
        if code.offline and (code.force_refresh_token or not had_grant):
            refresh_token = "1//0g" + secrets.token_urlsafe(64)
            self._refresh_tokens[refresh_token] = grant
            body["refresh_token"] = refresh_token
        return web.json_response(body)

    def _refresh(self, client: _Client, form: Mapping[str, str]) -> web.Response:
        grant = self._refresh_tokens.get(form.get("refresh_token", ""))
        if grant is None or grant.revoked or grant.client_id != client.client_id:
            return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        scopes = grant.scopes
        if "scope" in form:
            asked = frozenset(_normalize_scopes(form["scope"].split()))
            if not asked <= grant.scopes:
                return _oauth_error(400, "invalid_scope", "Bad Request")
            scopes = asked
        return web.json_response(self._token_body(grant, scopes))

    def _jwt_bearer(self, request: web.Request, form: Mapping[str, str]) -> web.Response:
        assertion = form.get("assertion", "")
        try:
            issuer = unverified_claims(assertion).get("iss", "")
        except jwt.InvalidTokenError:
            return _oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        account = self._service_accounts.get(issuer)
        if account is None:
            return _oauth_error(400, "invalid_grant", "Invalid grant: account not found")
        # google-auth always sets aud to Google's real token URL, whatever token_uri says;
        # the fake also accepts its own.
        audience = [GOOGLE_TOKEN_AUDIENCE, f"{request.scheme}://{request.host}/token"]
        if account.key_deleted:
            return _oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        try:
            claims = verified_claims(assertion, account.public_key_pem, audience=audience)
        except jwt.InvalidSignatureError:
            return _oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        except jwt.InvalidTokenError as exc:
            return _oauth_error(400, "invalid_grant", f"Invalid JWT: {exc}")
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            return _oauth_error(400, "invalid_scope", "Invalid OAuth scope or ID token audience")
        subject = claims.get("sub")
        if subject and subject != issuer:
            if subject.lower() not in self.accounts:
                return _oauth_error(400, "invalid_grant", "Invalid email or User ID")
            if not scopes <= account.delegated_scopes:
                return _oauth_error(
                    401,
                    "unauthorized_client",
                    "Client is unauthorized to retrieve access tokens using this method, "
                    "or client not authorized for any of the scopes requested.",
                )
        token = "ya29.c." + secrets.token_urlsafe(96)
        self._access_tokens[token] = _AccessToken(
            account=str(subject or issuer).lower(),
            client_id=issuer,
            scopes=scopes,
            expires_at=time.time() + self.expires_in,
            grant=None,
            domain_wide=bool(subject),
        )
        return web.json_response(
            {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}
        )

    async def _revoke(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token = str(form.get("token") or request.query.get("token", ""))
        grant = self._refresh_tokens.get(token)
        if grant is None and token in self._access_tokens:
            grant = self._access_tokens[token].grant
        if grant is None or grant.revoked:
            return _oauth_error(400, "invalid_token", "Token expired or revoked")
        # Revoking either token ends the whole grant (Google's revoke documentation).
        grant.revoked = True
        return web.json_response({})

    async def _certs(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(jwks(self.signing_key))

    async def _discovery(self, request: web.Request) -> web.StreamResponse:
        base = f"{request.scheme}://{request.host}"
        return web.json_response(
            {
                "issuer": GOOGLE_ISSUER,
                "authorization_endpoint": f"{base}/o/oauth2/v2/auth",
                "token_endpoint": f"{base}/token",
                "revocation_endpoint": f"{base}/revoke",
                "jwks_uri": f"{base}/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    JWT_BEARER_GRANT,
                ],
            }
        )

    def _live_grant(self, account: str, client_id: str) -> _Grant | None:
        return next(
            (
                g
                for g in self._grants
                if g.account == account and g.client_id == client_id and not g.revoked
            ),
            None,
        )

    def _grant_for(self, account: str, client_id: str, scopes: frozenset[str]) -> _Grant:
        grant = self._live_grant(account, client_id)
        if grant is None:
            grant = _Grant(account, client_id, scopes)
            self._grants.append(grant)
        else:
            grant.scopes |= scopes  # include_granted_scopes is Google's default behaviour
        return grant

    def _new_access_token(self, grant: _Grant, scopes: frozenset[str] | None = None) -> str:
        token = "ya29.a0" + secrets.token_urlsafe(96)
        self._access_tokens[token] = _AccessToken(
            account=grant.account,
            client_id=grant.client_id,
            scopes=scopes if scopes is not None else grant.scopes,
            expires_at=time.time() + self.expires_in,
            grant=grant,
        )
        return token

    def _token_body(
        self, grant: _Grant, scopes: frozenset[str], *, nonce: str | None = None
    ) -> dict[str, Any]:
        access_token = self._new_access_token(grant, scopes)
        body: dict[str, Any] = {
            "access_token": access_token,
            "expires_in": self.expires_in,
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
        }
        if "openid" in scopes:
            body["id_token"] = self._id_token(grant, scopes, access_token, nonce)
        return body

    def _id_token(
        self, grant: _Grant, scopes: frozenset[str], access_token: str, nonce: str | None
    ) -> str:
        account = self.accounts[grant.account]
        now = int(time.time())
        digest = hashlib.sha256(access_token.encode()).digest()
        claims: dict[str, Any] = {
            "iss": GOOGLE_ISSUER,
            "azp": grant.client_id,
            "aud": grant.client_id,
            "sub": account.sub,
            "at_hash": base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode(),
            "iat": now,
            "exp": now + 3600,
        }
        if USERINFO_EMAIL in scopes:
            claims |= {"email": account.email, "email_verified": True}
        if USERINFO_PROFILE in scopes:
            claims["name"] = account.name
        if account.domain not in _CONSUMER_DOMAINS:
            claims["hd"] = account.domain
        if nonce:
            claims["nonce"] = nonce
        return self.signing_key.sign(claims, headers={"typ": "JWT"})

    # ---------------------------------------------------------------- Calendar

    def _bearer(self, request: web.Request) -> _AccessToken | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        token = self._access_tokens.get(header[7:])
        if token is None or token.expires_at <= time.time():
            return None
        if token.grant is not None and token.grant.revoked:
            return None
        return token

    def _visible(self, token: _AccessToken, email: str) -> bool:
        """A user sees their own calendar; Workspace users (and a domain-wide delegated
        token) see the free/busy of colleagues in the same domain."""
        if email == token.account:
            return email in self.accounts
        if email not in self.accounts:
            return False
        domain = self.accounts[email].domain
        return domain not in _CONSUMER_DOMAINS and domain == token.account.rsplit("@", 1)[-1]

    def _busy_events(self, email: str) -> list[tuple[dt.datetime, dt.datetime]]:
        zone = self._calendar_zones.get(email, "UTC")
        listed = instances(
            self._events.get(email, []), zone, None, None, single_events=True, show_deleted=False
        )
        return [
            instance.span(zone)
            for instance in listed
            if instance.event.transparency == "opaque"
            and instance.event.response != "declined"
            and instance.event.event_type not in ("workingLocation", "birthday")
        ]

    async def _events_list(self, request: web.Request) -> web.StreamResponse:
        token = self._bearer(request)
        if token is None:
            return _unauthenticated()
        if not token.scopes & EVENTS_LIST_SCOPES:
            return _insufficient_scopes()
        calendar_id = request.match_info["calendar"]
        email = token.account if calendar_id == "primary" else calendar_id.lower()
        if email != token.account or email not in self.accounts:
            return _api_error(
                404,
                "Not Found",
                [{"domain": "global", "reason": "notFound", "message": "Not Found"}],
            )
        q = request.query
        try:
            time_min = _rfc3339(q["timeMin"]) if "timeMin" in q else None
            time_max = _rfc3339(q["timeMax"]) if "timeMax" in q else None
            max_results = int(q.get("maxResults", 250))
            max_attendees = int(q["maxAttendees"]) if "maxAttendees" in q else None
            offset = int(q.get("pageToken", "0").removeprefix("CiAKGj"), 16)
        except ValueError:
            return _bad_request("badRequest", "Bad Request", domain="global")
        if time_min and time_max and time_max <= time_min:
            return _bad_request(
                "timeRangeEmpty", "The specified time range is empty.", location="timeMax"
            )
        if not 1 <= max_results <= MAX_RESULTS or (max_attendees is not None and max_attendees < 1):
            return _bad_request("invalid", "Invalid value", domain="global")
        calendar_zone = self._calendar_zones.get(email, "UTC")
        try:
            response_zone = ZoneInfo(q.get("timeZone") or calendar_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return _bad_request("invalid", "Invalid time zone definition for timeZone.")
        try:
            mask = parse_fields(q["fields"]) if "fields" in q else None
        except InvalidFields as exc:
            return _bad_request(
                "invalidParameter", f"Invalid field selection {exc}", domain="global",
                location="fields",
            )  # fmt: skip
        single = q.get("singleEvents") == "true"
        listed = instances(
            self._events.get(email, []),
            calendar_zone,
            time_min,
            time_max,
            single_events=single,
            show_deleted=q.get("showDeleted") == "true",
        )
        size = min(max_results, self.events_page_size)
        page = listed[offset : offset + size]
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": '"p33c9l6vho3gt60o"',
            "summary": self.accounts[email].email,
            "description": "",
            "updated": "2026-01-05T09:30:00.000Z",
            "timeZone": calendar_zone,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
            "items": [
                event_json(
                    instance,
                    owner=self.accounts[email].email,
                    calendar_zone=calendar_zone,
                    response_zone=response_zone,
                    max_attendees=max_attendees,
                    single_events=single,
                )
                for instance in page
            ],
        }
        if offset + size < len(listed):
            body["nextPageToken"] = f"CiAKGj{offset + size:x}"  # opaque to clients
        else:
            body["nextSyncToken"] = "CPDAlvWDx70CEPDAlvWDx70CGAU="
        return web.json_response(select(body, mask))

    async def _free_busy(self, request: web.Request) -> web.StreamResponse:
        token = self._bearer(request)
        if token is None:
            return _unauthenticated()
        if not token.scopes & FREEBUSY_CAPABLE_SCOPES:
            return _insufficient_scopes()
        try:
            body = await request.json()
        except ValueError:
            return _bad_request("parseError", "Parse Error", domain="global")
        if not isinstance(body, dict):
            return _bad_request("parseError", "Parse Error", domain="global")
        for name in ("timeMin", "timeMax"):
            if not body.get(name):
                return _bad_request("required", "Required", domain="global", location=name)
        try:
            time_min, time_max = _rfc3339(body["timeMin"]), _rfc3339(body["timeMax"])
        except ValueError:
            return _bad_request("badRequest", "Bad Request", domain="global")
        if time_max <= time_min:
            return _bad_request(
                "timeRangeEmpty", "The specified time range is empty.", location="timeMax"
            )
        zone: dt.tzinfo = dt.UTC
        if body.get("timeZone"):
            try:
                zone = ZoneInfo(body["timeZone"])
            except (ZoneInfoNotFoundError, ValueError):
                return _bad_request("invalid", "Invalid time zone definition for timeZone.")
        items = body.get("items") or []
        if len(items) > MAX_CALENDARS_PER_QUERY:
            return _bad_request("tooManyCalendarsRequested", "Too many calendars requested.")
        calendars: dict[str, Any] = {}
        for item in items:
            calendar_id = str(item.get("id", ""))
            email = token.account if calendar_id == "primary" else calendar_id.lower()
            if not self._visible(token, email):
                calendars[calendar_id] = {
                    "errors": [{"domain": "global", "reason": "notFound"}],
                    "busy": [],
                }
                continue
            blocks = _merge(
                (max(start, time_min), min(end, time_max))
                for start, end in [*self._busy.get(email, []), *self._busy_events(email)]
                if start < time_max and end > time_min
            )
            calendars[calendar_id] = {
                "busy": [
                    {"start": _google_time(start, zone), "end": _google_time(end, zone)}
                    for start, end in blocks
                ]
            }
        return web.json_response(
            {
                "kind": "calendar#freeBusy",
                "timeMin": _google_bound(time_min),
                "timeMax": _google_bound(time_max),
                "calendars": calendars,
            }
        )


# -------------------------------------------------------------------- helpers


def _normalize_scopes(scopes: Iterable[str]) -> set[str]:
    normalized = {_SCOPE_ALIASES.get(s, s) for s in scopes if s}
    if normalized & {USERINFO_EMAIL, USERINFO_PROFILE}:
        normalized.add("openid")
    return normalized


def _pkce_challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _redirect(redirect_uri: str, **params: str) -> web.Response:
    separator = "&" if "?" in redirect_uri else "?"
    location = f"{redirect_uri}{separator}{urlencode(params)}"
    return web.Response(status=302, headers={"Location": location})


def _error_page(status: int, error: str, detail: str) -> web.Response:
    # Google shows an error page here instead of redirecting back to the app.
    return web.Response(status=status, text=f"Error {status}: {error}\n{detail}\n")


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _api_error(
    code: int,
    message: str,
    errors: list[dict[str, str]],
    *,
    status: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    body = {
        "error": {
            "code": code,
            "message": message,
            "errors": errors,
            "status": status or _STATUS_NAMES.get(code, "UNKNOWN"),
        }
    }
    return web.json_response(body, status=code, headers=headers)


def _bad_request(
    reason: str, message: str, *, domain: str = "calendar", location: str | None = None
) -> web.Response:
    error = {"domain": domain, "reason": reason, "message": message}
    if location:
        error |= {"locationType": "parameter", "location": location}
    return _api_error(400, message, [error])


def _insufficient_scopes() -> web.Response:
    return _api_error(
        403,
        "Request had insufficient authentication scopes.",
        [
            {
                "message": "Insufficient Permission",
                "domain": "global",
                "reason": "insufficientPermissions",
            }
        ],
        status="PERMISSION_DENIED",
    )


def _unauthenticated() -> web.Response:
    message = (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential. "
        "See https://developers.google.com/identity/sign-in/web/devconsole-project."
    )
    error = {
        "message": "Invalid Credentials",
        "domain": "global",
        "reason": "authError",
        "location": "Authorization",
        "locationType": "header",
    }
    headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
    return _api_error(401, message, [error], headers=headers)


_FAULT_REASONS = {
    403: ("usageLimits", "rateLimitExceeded"),
    429: ("usageLimits", "rateLimitExceeded"),
}
_FAULT_MESSAGES = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "quotaExceeded": "Calendar usage limits exceeded.",
    "backendError": "Backend Error",
}


def _google_fault(endpoint: str, fault: Script) -> web.Response:
    status = fault.status or 500
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    domain, reason = _FAULT_REASONS.get(status, ("global", "backendError"))
    reason = fault.reason or reason
    message = _FAULT_MESSAGES.get(reason, reason)
    if endpoint in ("token", "revoke"):
        error = "temporarily_unavailable" if status in (429, 503) else "internal_failure"
        return web.json_response(
            {"error": error, "error_description": message}, status=status, headers=headers
        )
    errors = [{"message": message, "domain": domain, "reason": reason}]
    return _api_error(status, message, errors, headers=headers)


def _rfc3339(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("RFC 3339 needs an offset")
    return parsed


Interval = tuple[dt.datetime, dt.datetime]


def _merge(blocks: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(blocks):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _google_time(moment: dt.datetime, zone: dt.tzinfo) -> str:
    if zone is dt.UTC:
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _google_bound(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
