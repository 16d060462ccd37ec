"""A fake of the Microsoft services Pairtime uses: the identity platform (v2.0) and Graph calendars.

msal and an aiohttp client run their real code against it. Paths match the
real ones relative to a base URL (login.microsoftonline.com for identity,
graph.microsoft.com for Graph), all served by one HTTPS server:

    GET  /{tenant}/v2.0/.well-known/openid-configuration
    GET  /{tenant}/discovery/v2.0/keys
    GET  /{tenant}/oauth2/v2.0/authorize
    POST /{tenant}/oauth2/v2.0/token
    GET  /v1.0/me                                  GET  /v1.0/users/{id|upn}
    POST /v1.0/me/calendar/getSchedule             POST /v1.0/users/{id|upn}/calendar/getSchedule
    GET  /v1.0/me/calendarView                     GET  /v1.0/users/{id|upn}/calendarView

msal accepts only an https authority, and with ``REQUESTS_CA_BUNDLE`` set a
requests session ignores its own ``verify`` unless ``trust_env`` is off, so:

    tls = TestCertificate.create()
    with ThreadedServer(fake.app, tls=tls) as base, trusting_session(tls) as http:
        app = msal.ConfidentialClientApplication(
            fake.client_id, client_credential=fake.client_secret,
            authority=f"{base}/common",          # or f"{base}/{fake.tenant_id}"
            instance_discovery=False,            # no call to login.microsoftonline.com
            http_client=http)
        # Graph: f"{base}/v1.0/...", aiohttp with ssl=tls.client_context()

The authorize endpoint stands in for the sign-in and consent pages: it
redirects at once to ``redirect_uri`` with ``code`` and ``state``, signed in
as ``next_account``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import unquote_plus, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jwt
import requests
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from dateutil.rrule import rrulestr

from tests.fakes import graph_batch, graph_writes
from tests.fakes.jwt_keys import SigningKey, jwks
from tests.fakes.scripted import RecordedRequest, Script, ScriptedEndpoints
from tests.fakes.server import TestCertificate

# The tenant of every personal Microsoft account (the "consumers" tenant).
PERSONAL_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
GRAPH_RESOURCE = "https://graph.microsoft.com/"
GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
DEFAULT_CLIENT_ID = "0c7d8c4e-5b1a-4f55-9a27-6f3f8a1b2c3d"
DEFAULT_CLIENT_SECRET = "pairtime~test~secret"
DEFAULT_TENANT_ID = "5f0c6a9e-2b7d-4c1e-8a3f-9d4b6e2a1c07"
DEFAULT_TENANT_DOMAIN = "contoso.onmicrosoft.com"
DEFAULT_REDIRECT_URI = "http://localhost:8080/oauth/microsoft/callback"
DEFAULT_ACCOUNT = "mentor@contoso.com"
MAX_SCHEDULES = 20
MAX_SCHEDULE_SPAN = dt.timedelta(days=62)  # getSchedule's range must be shorter than this
CODE_LIFETIME = 600.0

SHOW_AS = frozenset({"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"})
RESPONSES = frozenset(
    {"none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded"}
)
MAX_OCCURRENCES = 1000
# availabilityView digits; v1.0 reports workingElsewhere as free (scheduleInformation docs).
_AVAILABILITY = {
    "free": 0,
    "workingElsewhere": 0,
    "unknown": 0,
    "tentative": 1,
    "busy": 2,
    "oof": 3,
}
_CALENDAR_PERMISSIONS = frozenset(
    {
        "Calendars.ReadBasic",
        "Calendars.Read",
        "Calendars.ReadWrite",
        "Calendars.Read.Shared",
        "Calendars.ReadWrite.Shared",
    }
)
_USER_PERMISSIONS = frozenset({"User.Read", "User.ReadBasic.All", "User.Read.All"})
_OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
_MULTI_TENANT = frozenset({"common", "organizations", "consumers"})
_CONSUMER_DOMAINS = frozenset({"outlook.com", "hotmail.com", "live.com", "msn.com"})
GRAPH_ENDPOINTS = frozenset(
    {
        "me",
        "user",
        "organization",
        "getSchedule",
        "calendarView",
        "events.create",
        "events.update",
        "events.cancel",
        "events.delete",
    }
)
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ORGANIZATION_PERMISSIONS = frozenset(
    {"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All"}
)

# Windows time zone names, which Graph uses by default, for the zones tests are likely to use.
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Pacific Standard Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "E. South America Standard Time": "America/Sao_Paulo",
    "India Standard Time": "Asia/Kolkata",
    "Tokyo Standard Time": "Asia/Tokyo",
    "AUS Eastern Standard Time": "Australia/Sydney",
}

AccountKind = Literal["work", "personal"]


def trusting_session(tls: TestCertificate) -> requests.Session:
    """A requests session for msal's ``http_client`` that trusts only the fake's certificate."""
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment replaces verify
    session.verify = str(tls.ca_path)
    return session


@dataclass(frozen=True)
class WorkingHours:
    """A mailbox's working hours as getSchedule reports them (Windows zone names by default)."""

    days_of_week: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")
    start_time: dt.time = dt.time(8)
    end_time: dt.time = dt.time(17)
    time_zone: str = "Pacific Standard Time"

    def to_json(self) -> dict[str, Any]:
        return {
            "daysOfWeek": list(self.days_of_week),
            "startTime": f"{self.start_time:%H:%M:%S}.0000000",
            "endTime": f"{self.end_time:%H:%M:%S}.0000000",
            "timeZone": {"name": self.time_zone},
        }


@dataclass(frozen=True)
class FakeEvent:
    """A calendar event. Naive datetimes (and all-day dates) are read in ``time_zone``."""

    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    show_as: str = "busy"
    all_day: bool = False
    time_zone: str = "UTC"
    subject: str = "Busy"
    is_cancelled: bool = False  # the organiser cancelled it; it stays until its owner removes it
    # The owner's own answer (responseStatus.response): "organizer" for their own events.
    response: str = "organizer"
    recurrence: str | None = None  # an RRULE such as "FREQ=WEEKLY;COUNT=4", expanded by Graph
    series_master_id: str | None = None  # set on the occurrences of a series
    id: str = field(default_factory=lambda: "AAMkA" + secrets.token_urlsafe(40))

    def __post_init__(self) -> None:
        if self.show_as not in SHOW_AS:
            raise ValueError(f"show_as must be one of {sorted(SHOW_AS)}")
        if self.response not in RESPONSES:
            raise ValueError(f"response must be one of {sorted(RESPONSES)}")

    def occurrences(self) -> list[FakeEvent]:
        """The event itself, or each occurrence of its series (as calendarView lists them)."""
        if self.recurrence is None:
            return [self]
        start, end = self.interval()
        zone = windows_or_iana_zone(self.time_zone)
        rule = rrulestr(f"RRULE:{self.recurrence}", dtstart=start.astimezone(zone), forceset=True)
        found = []
        for index, first in enumerate(rule):
            if index >= MAX_OCCURRENCES:
                break
            local = first.astimezone(zone)
            found.append(
                replace(
                    self,
                    start=local.date() if self.all_day else local,
                    end=(local + (end - start)).date() if self.all_day else local + (end - start),
                    recurrence=None,
                    series_master_id=self.id,
                    id=f"{self.id}{index:04d}",
                )
            )
        return found

    def interval(self) -> tuple[dt.datetime, dt.datetime]:
        zone = windows_or_iana_zone(self.time_zone)
        if self.all_day:
            return (
                dt.datetime.combine(_as_date(self.start), dt.time(), zone),
                dt.datetime.combine(_as_date(self.end), dt.time(), zone),
            )
        return _aware(self.start, zone), _aware(self.end, zone)


@dataclass
class MicrosoftAccount:
    email: str
    kind: AccountKind
    tenant_id: str
    object_id: str
    display_name: str
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    events: list[FakeEvent] = field(default_factory=list)
    pairwise_sub: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def graph_id(self) -> str:
        """Graph's user id: the object id, or a personal account's 16-hex-digit CID."""
        if self.kind == "personal":
            return self.object_id.replace("-", "")[-16:]
        return self.object_id


@dataclass(frozen=True)
class _Client:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    account: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str
    nonce: str | None
    expires_at: float
    used: bool = False


@dataclass
class _RefreshToken:
    account: str
    client_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass
class _AccessToken:
    """A Graph token: delegated (``account`` set) or application-only (``roles`` set)."""

    tenant_id: str
    expires_at: float
    account: str | None = None
    scopes: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class GraphError:
    status: int
    code: str
    message: str


# What Graph answers a personal account's getSchedule is not documented beyond "Not
# supported"; this shape is the Outlook REST error for a mailbox without the action.
PERSONAL_GET_SCHEDULE_ERROR = GraphError(
    400,
    "RequestBroker-ParseUri",
    "Resource not found for the segment 'getSchedule'.",
)


@dataclass
class FakeMicrosoft(ScriptedEndpoints):
    """Scriptable Microsoft identity platform + Graph calendars; routes in the module docstring.

    ``app`` builds a new aiohttp application per access, serving this state.
    """

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,)
    tenant_id: str = DEFAULT_TENANT_ID
    tenant_domain: str = DEFAULT_TENANT_DOMAIN
    expires_in: int = 3599
    latency: float = 0.0
    page_size: int = 10  # calendarView's default page size
    next_account: str = DEFAULT_ACCOUNT
    application_permissions: frozenset[str] = frozenset({"Calendars.Read", "User.Read.All"})
    # Exchange RBAC for Applications (or an application access policy): the mailboxes an
    # app-only token may reach; None reaches every mailbox of the tenant, as by default.
    app_scope: frozenset[str] | None = None
    verified_domains: tuple[str, ...] = ()  # besides tenant_domain, for GET /organization
    personal_get_schedule_error: GraphError = PERSONAL_GET_SCHEDULE_ERROR
    signing_key: SigningKey = field(default_factory=SigningKey.generate, repr=False)
    calls: list[RecordedRequest] = field(default_factory=list, repr=False)
    accounts: dict[str, MicrosoftAccount] = field(default_factory=dict)
    # Events written through Graph (graph_writes.py), by mailbox then id; those cancelled;
    # and what Exchange would have sent their attendees.
    written: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    cancelled: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    notifications: list[graph_writes.Notified] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._clients: dict[str, _Client] = {}
        self._codes: dict[str, _Code] = {}
        self._refresh_tokens: dict[str, _RefreshToken] = {}
        self._access_tokens: dict[str, _AccessToken] = {}
        self._certificates: dict[str, list[x509.Certificate]] = {}
        self._expired_secrets: set[str] = set()
        self._scripts: list[Script] = []
        self._denials = 0
        self.register_client(self.client_id, self.client_secret, self.redirect_uris)

    # ---------------------------------------------------------------- scripting

    def register_client(
        self, client_id: str, client_secret: str, redirect_uris: Iterable[str]
    ) -> None:
        """An app registration (multi-tenant, work and personal accounts); exact redirect URIs."""
        self._clients[client_id] = _Client(client_id, client_secret, tuple(redirect_uris))

    def add_account(
        self,
        email: str,
        *,
        kind: AccountKind | None = None,
        display_name: str | None = None,
        working_hours: WorkingHours | None = None,
    ) -> MicrosoftAccount:
        """A work account in the fake's tenant, or a personal one (``kind="personal"``, the
        default for outlook.com, hotmail.com, live.com). Returns the existing one if known."""
        key = email.lower()
        if key in self.accounts:
            return self.accounts[key]
        domain = key.rsplit("@", 1)[-1]
        kind = kind or ("personal" if domain in _CONSUMER_DOMAINS else "work")
        if kind == "personal":
            object_id = f"00000000-0000-0000-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
            tenant_id = PERSONAL_TENANT_ID
        else:
            object_id, tenant_id = str(uuid.uuid4()), self.tenant_id
        account = MicrosoftAccount(
            email=email,
            kind=kind,
            tenant_id=tenant_id,
            object_id=object_id,
            display_name=display_name or email.partition("@")[0].replace(".", " ").title(),
            working_hours=working_hours or WorkingHours(),
        )
        self.accounts[key] = account
        return account

    def set_events(self, account: str, events: Iterable[FakeEvent]) -> None:
        """Replace the account's calendar (every show-as status; getSchedule reports them all)."""
        self.add_account(account).events = list(events)

    def set_working_hours(self, account: str, working_hours: WorkingHours) -> None:
        self.add_account(account).working_hours = working_hours

    def deny_next_consent(self, *, times: int = 1) -> None:
        """The next ``times`` authorize requests redirect with ``error=access_denied``."""
        self._denials += times

    def add_certificate(self, client_id: str, certificate_pem: str) -> None:
        """A certificate uploaded to the app registration: client assertions signed with its
        key (found by ``x5t#S256`` or ``x5t``) authenticate the app."""
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
        self._certificates.setdefault(client_id, []).append(certificate)

    def expire_client_secret(self, client_id: str | None = None) -> None:
        """The app's client secret expires (or is deleted): AADSTS7000222 from then on."""
        self._expired_secrets.add(client_id or self.client_id)

    def revoke_all(self, account: str) -> None:
        """Revoke the account's refresh tokens (as a password reset or admin revocation does).
        Access tokens already issued keep working until they expire, as Entra's do."""
        for refresh_token in self._refresh_tokens.values():
            if refresh_token.account == account.lower():
                refresh_token.revoked = True

    def expire_access_tokens(self, account: str | None = None) -> None:
        for token in self._access_tokens.values():
            if account is None or token.account == account.lower():
                token.expires_at = 0.0

    def issue_access_token(
        self, account: str, scopes: Iterable[str] = ("Calendars.Read", "User.Read")
    ) -> str:
        """A delegated Graph token without the OAuth dance, for tests about Graph."""
        holder = self.add_account(account)
        return self._new_access_token(
            _AccessToken(
                tenant_id=holder.tenant_id,
                expires_at=time.time() + self.expires_in,
                account=holder.email.lower(),
                scopes=frozenset(_graph_scopes(scopes)),
            )
        )

    def issue_app_token(self) -> str:
        """An application (client credentials) Graph token for the fake's tenant."""
        return self._new_access_token(
            _AccessToken(
                tenant_id=self.tenant_id,
                expires_at=time.time() + self.expires_in,
                roles=frozenset(self.application_permissions),
            )
        )

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        on: str = "graph",
        code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``on`` (an endpoint name, or "graph" for any
        Graph call) with an error: Graph's ``{"error": {"code", "message"}}`` (429
        TooManyRequests, 500 generalException, 503 serviceNotAvailable, or ``code``),
        or Entra's OAuth error JSON on "token". ``retry_after`` sets ``Retry-After``."""
        self._scripts.append(Script(on, times, status=status, reason=code, retry_after=retry_after))

    def delay_next(self, seconds: float, *, times: int = 1, on: str = "graph") -> None:
        """Delay the next ``times`` calls to ``on`` by ``seconds`` (on top of ``latency``)."""
        self._scripts.append(Script(on, times, delay=seconds))

    # ---------------------------------------------------------------- the app

    @property
    def app(self) -> web.Application:
        app = web.Application()
        routes = [
            ("GET", "/v1.0/me", "me", self._me),
            ("GET", "/v1.0/users/{user}", "user", self._user),
            ("GET", "/v1.0/organization", "organization", self._organization),
            ("POST", "/v1.0/me/calendar/getSchedule", "getSchedule", self._get_schedule),
            ("POST", "/v1.0/users/{user}/calendar/getSchedule", "getSchedule", self._get_schedule),
            ("GET", "/v1.0/me/calendarView", "calendarView", self._calendar_view),
            ("GET", "/v1.0/users/{user}/calendarView", "calendarView", self._calendar_view),
            (
                "GET",
                "/{tenant}/v2.0/.well-known/openid-configuration",
                "openid-configuration",
                self._discovery,
            ),
            ("GET", "/{tenant}/discovery/v2.0/keys", "keys", self._keys),
            ("GET", "/{tenant}/oauth2/v2.0/authorize", "authorize", self._authorize),
            ("POST", "/{tenant}/oauth2/v2.0/token", "token", self._token),
        ]
        routes += graph_writes.routes(self) + graph_batch.routes(self)
        for method, path, name, handler in routes:
            app.router.add_route(method, path, self._endpoint(name, handler))
        return app

    def _covers(self, on: str, endpoint: str) -> bool:
        return on == endpoint or (on == "graph" and endpoint in GRAPH_ENDPOINTS)

    def _fault_response(self, endpoint: str, fault: Script) -> web.Response:
        return _microsoft_fault(endpoint, fault)

    # ---------------------------------------------------------------- identity

    def _tenant(self, tenant: str) -> str | None:
        """The tenant id a path segment names: itself for common/organizations/consumers."""
        if tenant in _MULTI_TENANT:
            return tenant
        if tenant.lower() in (self.tenant_id, self.tenant_domain.lower()):
            return self.tenant_id
        if tenant == PERSONAL_TENANT_ID:
            return PERSONAL_TENANT_ID
        return None

    def _refusal(self, tenant: str, account: MicrosoftAccount) -> str | None:
        """Why the sign-in page would turn this account away at this authority, if it would."""
        if tenant == "organizations" and account.kind == "personal":
            return (
                "You can't sign in here with a personal account. "
                "Use your work or school account instead."
            )
        if tenant == "consumers" and account.kind == "work":
            return (
                f"AADSTS50020: User account '{account.email}' from identity provider "
                f"'{account.tenant_id}' does not exist in tenant 'Microsoft Accounts'."
            )
        if tenant not in _MULTI_TENANT and account.tenant_id != self._tenant(tenant):
            return (
                f"AADSTS50020: User account '{account.email}' from an external identity "
                f"provider does not exist in tenant '{tenant}'."
            )
        return None

    async def _discovery(self, request: web.Request) -> web.StreamResponse:
        tenant = request.match_info["tenant"]
        resolved = self._tenant(tenant)
        base = _base(request)
        if resolved is None:
            return _unknown_tenant(base, tenant)
        # The multi-tenant endpoints cannot know the issuer in advance (their documents
        # say "{tenantid}"); a tenant's own document names it.
        path = tenant if tenant in _MULTI_TENANT else resolved
        issuer_tenant = "{tenantid}" if tenant in _MULTI_TENANT else resolved
        return web.json_response(
            {
                "token_endpoint": f"{base}/{path}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/{path}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/{issuer_tenant}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
                "authorization_endpoint": f"{base}/{path}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/{path}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/{path}/oauth2/v2.0/logout",
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "auth_time",
                    "nonce",
                    "preferred_username",
                    "name",
                    "tid",
                    "ver",
                    "email",
                ],
                "tenant_region_scope": None,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
            }
        )

    async def _keys(self, request: web.Request) -> web.StreamResponse:
        base = _base(request)
        if self._tenant(request.match_info["tenant"]) is None:
            return _unknown_tenant(base, request.match_info["tenant"])
        return web.json_response(jwks(self.signing_key))

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        client = self._clients.get(q.get("client_id", ""))
        if client is None or self._tenant(request.match_info["tenant"]) is None:
            return _error_page("AADSTS700016: Application or tenant not found.")
        redirect_uri = q.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return _error_page(
                "AADSTS50011: The redirect URI specified in the request does not match "
                "the redirect URIs configured for the application."
            )
        state = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code":
            return _answer(
                redirect_uri,
                q.get("response_mode", "query"),
                error="unsupported_response_type",
                error_description="AADSTS70005: response_type 'token' is not enabled.",
                **state,
            )
        if self._denials:
            self._denials -= 1
            return _answer(
                redirect_uri,
                q.get("response_mode", "query"),
                error="access_denied",
                error_description="AADSTS65004: User declined to consent to access the app.",
                **state,
            )
        account = self.add_account(self.next_account)
        refusal = self._refusal(request.match_info["tenant"], account)
        if refusal:
            return _error_page(refusal)
        code = "1.A" + secrets.token_urlsafe(96)
        self._codes[code] = _Code(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            account=account.email.lower(),
            scopes=tuple(q.get("scope", "").split()),
            code_challenge=q.get("code_challenge"),
            code_challenge_method=q.get("code_challenge_method", "plain"),
            nonce=q.get("nonce"),
            expires_at=time.time() + CODE_LIFETIME,
        )
        extra = {"client_info": _client_info(account)} if q.get("client_info") == "1" else {}
        return _answer(
            redirect_uri,
            q.get("response_mode", "query"),
            code=code,
            **extra,
            **state,
            session_state=str(uuid.uuid4()),
        )

    async def _token(self, request: web.Request) -> web.StreamResponse:
        base = _base(request)
        tenant = request.match_info["tenant"]
        if self._tenant(tenant) is None:
            return _unknown_tenant(base, tenant)
        form = {k: str(v) for k, v in (await request.post()).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            basic_id, _, basic_secret = base64.b64decode(header[6:]).decode().partition(":")
            client_id, secret = unquote_plus(basic_id), unquote_plus(basic_secret)
        client = self._clients.get(client_id or "")
        if client is None:
            return _aad_error(
                base,
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        if form.get("client_assertion_type") == CLIENT_ASSERTION_TYPE:
            refusal = self._check_assertion(
                base, f"{base}/{tenant}/oauth2/v2.0/token", client, form
            )
            if refusal is not None:
                return refusal
        elif client.client_id in self._expired_secrets and secret == client.client_secret:
            return _aad_error(
                base,
                401,
                "invalid_client",
                7000222,
                f"The provided client secret keys for app '{client.client_id}' are expired. "
                "Visit the Azure portal to create new keys for your app.",
            )
        elif secret != client.client_secret:
            return _aad_error(
                base,
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID.",
            )
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._redeem_code(base, client, form)
        if grant_type == "refresh_token":
            return self._refresh(base, client, form)
        if grant_type == "client_credentials":
            return self._client_credentials(base, tenant, form)
        return _aad_error(
            base,
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
        )

    def _check_assertion(
        self, base: str, audience: str, client: _Client, form: Mapping[str, str]
    ) -> web.Response | None:
        """A certificate credential (RFC 7523 client assertion), as Entra checks it: a JWT
        naming the certificate by thumbprint, signed with its key (PS256 or RS256), with
        ``aud`` the token endpoint and ``iss`` = ``sub`` = the client id."""
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError:
            return _aad_error(
                base, 400, "invalid_request", 50027, "JWT token is invalid or malformed."
            )
        certificate = next(
            (
                c
                for c in self._certificates.get(client.client_id, [])
                # msal pads the base64url thumbprint; RFC 7515 does not.
                if str(header.get("x5t#S256", "")).rstrip("=") == _thumbprint(c, hashes.SHA256())
                or str(header.get("x5t", "")).rstrip("=") == _thumbprint(c, hashes.SHA1())
            ),
            None,
        )
        if certificate is None:
            return _aad_error(
                base,
                401,
                "invalid_client",
                700027,
                "Client assertion failed signature validation. The key was not found.",
            )
        try:
            claims = jwt.decode(
                assertion,
                certificate.public_key(),  # type: ignore[arg-type]  # an RSA key here
                algorithms=["PS256", "RS256"],
                audience=audience,
                issuer=client.client_id,
                options={"require": ["aud", "iss", "sub", "exp", "jti"]},
            )
        except jwt.InvalidTokenError as exc:
            return _aad_error(
                base,
                401,
                "invalid_client",
                700027,
                f"Client assertion failed signature validation. ({type(exc).__name__})",
            )
        if claims.get("sub") != client.client_id:
            return _aad_error(
                base, 401, "invalid_client", 700023, "The client assertion's subject is wrong."
            )
        return None

    def _redeem_code(self, base: str, client: _Client, form: Mapping[str, str]) -> web.Response:
        code = self._codes.get(form.get("code", ""))
        if code is None or code.client_id != client.client_id:
            return _aad_error(
                base, 400, "invalid_grant", 9002313, "Invalid request. Request is malformed."
            )
        if code.used:
            return _aad_error(
                base,
                400,
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new "
                "valid code or use an existing refresh token.",
            )
        if code.expires_at < time.time():
            return _aad_error(
                base, 400, "invalid_grant", 70008, "The provided authorization code has expired."
            )
        if form.get("redirect_uri") != code.redirect_uri:
            return _aad_error(
                base,
                400,
                "invalid_grant",
                70000,
                "The provided value for the 'redirect_uri' is not valid. The value must "
                "exactly match the redirect URI used to obtain the authorization code.",
            )
        if code.code_challenge is not None and (
            _pkce_challenge(form.get("code_verifier", ""), code.code_challenge_method)
            != code.code_challenge
        ):
            return _aad_error(
                base,
                400,
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the "
                "authorization request.",
            )
        code.used = True
        scopes = tuple(form["scope"].split()) if form.get("scope") else code.scopes
        return self._user_tokens(
            base, client.client_id, code.account, scopes=scopes, form=form, nonce=code.nonce
        )

    def _refresh(self, base: str, client: _Client, form: Mapping[str, str]) -> web.Response:
        held = self._refresh_tokens.get(form.get("refresh_token", ""))
        if held is None or held.client_id != client.client_id:
            return _aad_error(
                base, 400, "invalid_grant", 9002313, "Invalid request. Request is malformed."
            )
        if held.revoked:
            return _aad_error(
                base,
                400,
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token "
                "is needed. The user might have changed or reset their password.",
            )
        scopes = tuple(form["scope"].split()) if form.get("scope") else held.scopes
        consented = _graph_scopes(s for s in held.scopes if s not in _OIDC_SCOPES)
        asked = _graph_scopes(s for s in scopes if s not in _OIDC_SCOPES)
        if not asked <= consented:
            # A permission the person never consented to needs the consent page again.
            return _aad_error(
                base,
                400,
                "invalid_grant",
                65001,
                "The user or administrator has not consented to use the application with ID "
                f"'{client.client_id}'. Send an interactive authorization request for this "
                "user and resource.",
            )
        return self._user_tokens(
            base, client.client_id, held.account, scopes=scopes, form=form, nonce=None
        )

    def _client_credentials(self, base: str, tenant: str, form: Mapping[str, str]) -> web.Response:
        if tenant in _MULTI_TENANT:
            return _aad_error(
                base,
                400,
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or implied "
                "by any provided credentials.",
            )
        scope = form.get("scope", "")
        if not scope.endswith("/.default") or " " in scope:
            return _aad_error(
                base,
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        if scope != GRAPH_DEFAULT_SCOPE:
            return _aad_error(
                base,
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {scope.removesuffix('/.default')} was not "
                "found in the tenant.",
            )
        token = self.issue_app_token()
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "ext_expires_in": self.expires_in,
                "access_token": token,
            }
        )

    def _user_tokens(
        self,
        base: str,
        client_id: str,
        email: str,
        *,
        scopes: tuple[str, ...],
        form: Mapping[str, str],
        nonce: str | None,
    ) -> web.Response:
        account = self.accounts[email]
        graph_scopes = _graph_scopes(s for s in scopes if s not in _OIDC_SCOPES)
        access_token = self._new_access_token(
            _AccessToken(
                tenant_id=account.tenant_id,
                expires_at=time.time() + self.expires_in,
                account=email,
                scopes=frozenset(graph_scopes),
            )
        )
        granted = sorted(graph_scopes) + [s for s in ("openid", "profile", "email") if s in scopes]
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(granted),
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": access_token,
        }
        if "offline_access" in scopes:
            refresh_token = "1.AR" + secrets.token_urlsafe(120)
            self._refresh_tokens[refresh_token] = _RefreshToken(email, client_id, scopes)
            body["refresh_token"] = refresh_token
        if "openid" in scopes:
            body["id_token"] = self._id_token(base, client_id, account, scopes, nonce)
        if form.get("client_info") == "1":
            body["client_info"] = _client_info(account)
        return web.json_response(body)

    def _id_token(
        self,
        base: str,
        client_id: str,
        account: MicrosoftAccount,
        scopes: tuple[str, ...],
        nonce: str | None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "ver": "2.0",
            "iss": f"{base}/{account.tenant_id}/v2.0",
            "sub": account.pairwise_sub,
            "aud": client_id,
            "exp": now + 3600,
            "iat": now,
            "nbf": now,
            "oid": account.object_id,
            "tid": account.tenant_id,
            "uti": secrets.token_urlsafe(16),
        }
        if "profile" in scopes:
            claims |= {"name": account.display_name, "preferred_username": account.email}
        if "email" in scopes:
            claims["email"] = account.email
        if nonce:
            claims["nonce"] = nonce
        return self.signing_key.sign(claims, headers={"typ": "JWT"})

    def _new_access_token(self, token: _AccessToken) -> str:
        value = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(120)
        self._access_tokens[value] = token
        return value

    # ---------------------------------------------------------------- Graph

    def _caller(self, request: web.Request) -> _AccessToken | web.Response:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return _graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        token = self._access_tokens.get(header[7:])
        if token is None:
            return _graph_error(
                401,
                "InvalidAuthenticationToken",
                "IDX14100: JWT is not well formed, there are no dots (.).",
            )
        if token.expires_at <= time.time():
            return _graph_error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        return token

    def _target(
        self, request: web.Request, token: _AccessToken, needed: frozenset[str]
    ) -> MicrosoftAccount | web.Response:
        """The mailbox a Graph call is about: /me or /users/{id}, checked against the token."""
        if token.account is not None and not token.scopes & needed:
            return _graph_error(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        if token.account is None and not token.roles & needed:
            return _graph_error(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        user = request.match_info.get("user")
        if user is None:
            if token.account is None:
                return _graph_error(
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
            return self.accounts[token.account]
        account = self._find(user)
        if account is None or account.tenant_id != token.tenant_id:
            return _graph_error(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")
        if token.account is not None and account.email.lower() != token.account:
            return _graph_error(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        if (
            token.account is None
            and self.app_scope is not None
            and account.email.lower() not in self.app_scope
        ):
            # Outside the app's RBAC management scope: Exchange Online's own refusal.
            return _graph_error(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        return account

    def _find(self, user: str) -> MicrosoftAccount | None:
        key = user.lower()
        if key in self.accounts:
            return self.accounts[key]
        return next((a for a in self.accounts.values() if a.graph_id.lower() == key), None)

    async def _organization(self, request: web.Request) -> web.StreamResponse:
        token = self._caller(request)
        if isinstance(token, web.Response):
            return token
        if not (token.roles | token.scopes) & _ORGANIZATION_PERMISSIONS:
            return _graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        domains = [self.tenant_domain, *self.verified_domains]
        return web.json_response(
            {
                "@odata.context": f"{_base(request)}/v1.0/$metadata#organization",
                "value": [
                    {
                        "id": self.tenant_id,
                        "displayName": "Contoso",
                        "verifiedDomains": [
                            {
                                "capabilities": "Email, OfficeCommunicationsOnline",
                                "isDefault": index == 1 or len(domains) == 1,
                                "isInitial": name == self.tenant_domain,
                                "name": name,
                                "type": "Managed",
                            }
                            for index, name in enumerate(domains)
                        ],
                    }
                ],
            }
        )

    async def _me(self, request: web.Request) -> web.StreamResponse:
        return await self._user(request)

    async def _user(self, request: web.Request) -> web.StreamResponse:
        token = self._caller(request)
        if isinstance(token, web.Response):
            return token
        account = self._target(request, token, _USER_PERMISSIONS)
        if isinstance(account, web.Response):
            return account
        given, _, surname = account.display_name.partition(" ")
        return web.json_response(
            {
                "@odata.context": f"{_base(request)}/v1.0/$metadata#users/$entity",
                "businessPhones": [],
                "displayName": account.display_name,
                "givenName": given,
                "jobTitle": None,
                # Personal accounts commonly have no mail property; their address is the UPN.
                "mail": account.email if account.kind == "work" else None,
                "mobilePhone": None,
                "officeLocation": None,
                "preferredLanguage": None,
                "surname": surname or None,
                "userPrincipalName": account.email,
                "id": account.graph_id,
            }
        )

    async def _get_schedule(self, request: web.Request) -> web.StreamResponse:
        token = self._caller(request)
        if isinstance(token, web.Response):
            return token
        owner = self._target(request, token, _CALENDAR_PERMISSIONS)
        if isinstance(owner, web.Response):
            return owner
        if owner.kind == "personal":
            error = self.personal_get_schedule_error
            return _graph_error(error.status, error.code, error.message)
        try:
            body = _lower_keys(await request.json())
            schedules = [str(s) for s in body["schedules"]]
            start = _from_graph_time(body["starttime"])
            end = _from_graph_time(body["endtime"])
            interval = int(body.get("availabilityviewinterval") or 30)
        except ZoneInfoNotFoundError as exc:  # a KeyError, so caught first
            return _unsupported_zone(str(exc.args[0]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return _graph_error(400, "ErrorInvalidParameter", "The request body is not valid.")
        if not schedules or len(schedules) > MAX_SCHEDULES:
            return _graph_error(
                400,
                "ErrorInvalidParameter",
                f"The number of schedules must be between 1 and {MAX_SCHEDULES}.",
            )
        if end <= start:
            return _graph_error(
                400, "ErrorInvalidParameter", "The end time must be after the start."
            )
        if end - start >= MAX_SCHEDULE_SPAN:
            return _graph_error(
                400, "ErrorTimeIntervalTooBig", "The specified time interval is too long."
            )
        if not 5 <= interval <= 1440:
            return _graph_error(
                400, "ErrorInvalidParameter", "availabilityViewInterval must be 5 to 1440."
            )
        zone_name, zone = _preferred_zone(request)
        if zone is None:
            return _unsupported_zone(zone_name)
        value = [
            self._schedule(owner, schedule, (start, end), interval=interval, zone=(zone_name, zone))
            for schedule in schedules
        ]
        return _graph_json(
            request,
            {
                "@odata.context": f"{_base(request)}/v1.0/$metadata#Collection("
                "microsoft.graph.scheduleInformation)",
                "value": value,
            },
            zone_name,
        )

    def _schedule(
        self,
        owner: MicrosoftAccount,
        schedule: str,
        span: tuple[dt.datetime, dt.datetime],
        *,
        interval: int,
        zone: tuple[str, dt.tzinfo],
    ) -> dict[str, Any]:
        (start, end), (zone_name, tz) = span, zone
        account = self.accounts.get(schedule.lower())
        if account is None or account.kind == "personal" or account.tenant_id != owner.tenant_id:
            return {
                "scheduleId": schedule,
                "error": {
                    "message": f"Unable to resolve e-mail address {schedule} to an Active "
                    "Directory object.",
                    "responseCode": "5009",
                },
            }
        events = sorted(
            (
                e
                for e in _expanded(account.events)
                if _overlaps(e.interval(), start, end)
                and not e.is_cancelled
                and e.response != "declined"
            ),
            key=lambda e: e.interval(),
        )
        slots = -(-int((end - start).total_seconds()) // (interval * 60))
        view = []
        for slot in range(slots):
            slot_start = start + dt.timedelta(minutes=interval * slot)
            slot_end = min(slot_start + dt.timedelta(minutes=interval), end)
            codes = [
                _AVAILABILITY[e.show_as]
                for e in events
                if _overlaps(e.interval(), slot_start, slot_end)
            ]
            view.append(str(max(codes, default=0)))
        return {
            "scheduleId": schedule,
            "availabilityView": "".join(view),
            "scheduleItems": [
                {
                    "isPrivate": False,
                    "status": e.show_as,
                    "subject": e.subject,
                    "location": "",
                    "isMeeting": False,
                    "isRecurring": False,
                    "isException": False,
                    "isReminderSet": False,
                    "start": _graph_time(e.interval()[0], zone_name, tz),
                    "end": _graph_time(e.interval()[1], zone_name, tz),
                }
                for e in events
            ],
            "workingHours": account.working_hours.to_json(),
        }

    async def _calendar_view(self, request: web.Request) -> web.StreamResponse:
        token = self._caller(request)
        if isinstance(token, web.Response):
            return token
        owner = self._target(request, token, _CALENDAR_PERMISSIONS)
        if isinstance(owner, web.Response):
            return owner
        q = request.query
        if "startDateTime" not in q or "endDateTime" not in q:
            return _graph_error(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters "
                "StartDateTime and EndDateTime.",
            )
        try:
            start, end = _query_time(q["startDateTime"]), _query_time(q["endDateTime"])
            top = int(q.get("$top", self.page_size))
            skip = int(q.get("$skip", 0))
        except ValueError:
            return _graph_error(400, "ErrorInvalidParameter", "The query is not valid.")
        zone_name, zone = _preferred_zone(request)
        if zone is None:
            return _unsupported_zone(zone_name)
        selected = [s for s in q.get("$select", "").split(",") if s]
        events = sorted(
            (e for e in _expanded(owner.events) if _overlaps(e.interval(), start, end)),
            key=lambda e: e.interval(),
        )
        page = events[skip : skip + top]
        base = _base(request)
        context = f"{base}/v1.0/$metadata#users('{owner.email}')/calendarView"
        body: dict[str, Any] = {
            "@odata.context": context + (f"({','.join(selected)})" if selected else ""),
            "value": [_event_json(e, zone_name, zone, selected) for e in page],
        }
        if skip + top < len(events):
            next_query = {**q, "$skip": str(skip + top)}
            body["@odata.nextLink"] = f"{base}{request.path}?{urlencode(next_query)}"
        return _graph_json(request, body, zone_name)

    # ---------------------------------------------------------------- helpers


def _thumbprint(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    """A certificate's thumbprint as JWT headers carry it (base64url, no padding)."""
    return base64.urlsafe_b64encode(certificate.fingerprint(algorithm)).rstrip(b"=").decode()


def _graph_scopes(scopes: Iterable[str]) -> set[str]:
    return {s.removeprefix(GRAPH_RESOURCE) for s in scopes if s}


def _client_info(account: MicrosoftAccount) -> str:
    raw = json.dumps({"uid": account.object_id, "utid": account.tenant_id}).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _pkce_challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _answer(redirect_uri: str, response_mode: str, **params: str) -> web.Response:
    """Send the authorization response back as ``response_mode`` says."""
    if response_mode == "form_post":
        # Entra's page: a form of hidden fields that a script submits at once.
        fields = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}" />'
            for k, v in params.items()
        )
        page = (
            "<html><head><title>Working...</title></head><body>"
            f'<form method="POST" name="hiddenform" action="{html.escape(redirect_uri)}">'
            f"{fields}<noscript><p>Script is disabled. Click Submit to continue.</p>"
            '<input type="submit" value="Submit" /></noscript></form>'
            '<script language="javascript">document.forms[0].submit();</script>'
            "</body></html>"
        )
        return web.Response(text=page, content_type="text/html")
    if response_mode == "fragment":
        location = f"{redirect_uri}#{urlencode(params)}"
    else:
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode(params)}"
    return web.Response(status=302, headers={"Location": location})


def parse_form_post(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of a ``response_mode=form_post`` page: what the
    browser would POST to the redirect URI (msal's ``auth_response``)."""
    parser = _FormParser()
    parser.feed(page)
    return parser.action, parser.fields


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action", "")
        elif tag == "input" and values.get("type") == "hidden":
            self.fields[values.get("name", "")] = values.get("value", "")


def _error_page(message: str) -> web.Response:
    # Entra shows its own error page when it cannot trust the redirect URI.
    return web.Response(
        status=400, text=f"Sign in\nSorry, but we're having trouble signing you in.\n{message}\n"
    )


def _aad_error(
    base: str,
    status: int,
    error: str,
    code: int,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """Entra's token endpoint error JSON (RFC 6749 fields plus its own)."""
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    timestamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return web.json_response(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {message} Trace ID: {trace_id} "
            f"Correlation ID: {correlation_id} Timestamp: {timestamp}",
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"{base}/error?code={code}",
        },
        status=status,
        headers=headers,
    )


def _unknown_tenant(base: str, tenant: str) -> web.Response:
    return _aad_error(
        base,
        400,
        "invalid_tenant",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
        "and are signing into the correct cloud.",
    )


def _graph_error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }
    all_headers = dict(headers or {})
    if status == 401:
        all_headers["WWW-Authenticate"] = (
            'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
            'oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
        )
    return web.json_response(body, status=status, headers=all_headers)


def _unsupported_zone(name: str) -> web.Response:
    return _graph_error(
        400,
        "TimeZoneNotSupportedException",
        f"A valid TimeZone value must be specified. The following TimeZone value is not "
        f"supported: '{name}'.",
    )


_FAULT_CODES = {
    429: ("TooManyRequests", "Please retry again later."),
    500: ("generalException", "An unspecified error has occurred."),
    503: ("serviceNotAvailable", "The service is not available. Try again after a delay."),
}


def _microsoft_fault(endpoint: str, fault: Script) -> web.Response:
    status = fault.status or 500
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if endpoint == "token":
        return _aad_error(
            "https://login.microsoftonline.com",
            status,
            "temporarily_unavailable",
            90033,
            "A transient error has occurred. Please try again.",
            headers=headers,
        )
    code, message = _FAULT_CODES.get(status, ("generalException", "An error has occurred."))
    return _graph_error(status, fault.reason or code, message, headers)


def _graph_json(request: web.Request, body: Any, zone_name: str) -> web.Response:
    headers = {}
    if "outlook.timezone" in request.headers.get("Prefer", ""):
        headers["Preference-Applied"] = f'outlook.timezone="{zone_name}"'
    return web.json_response(body, headers=headers)


def windows_or_iana_zone(name: str) -> ZoneInfo:
    """A zone from a Windows name (as Graph uses by default) or an IANA name."""
    try:
        return ZoneInfo(WINDOWS_ZONES.get(name, name))
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise ZoneInfoNotFoundError(name) from exc


def _preferred_zone(request: web.Request) -> tuple[str, dt.tzinfo | None]:
    """The ``Prefer: outlook.timezone="..."`` zone; UTC without one."""
    for preference in request.headers.get("Prefer", "").split(","):
        key, _, value = preference.strip().partition("=")
        if key.strip().lower() == "outlook.timezone":
            name = value.strip().strip('"')
            try:
                return name, windows_or_iana_zone(name)
            except ZoneInfoNotFoundError:
                return name, None
    return "UTC", dt.UTC


def _lower_keys(body: Any) -> dict[str, Any]:
    # Graph reads JSON property names case-insensitively ("Schedules" in its own examples).
    if not isinstance(body, dict):
        raise TypeError("a JSON object is expected")
    return {str(k).lower(): v for k, v in body.items()}


def _from_graph_time(value: Mapping[str, str]) -> dt.datetime:
    """A dateTimeTimeZone (``{"dateTime": "...", "timeZone": "..."}``) as an aware datetime."""
    fields = {k.lower(): v for k, v in value.items()}
    moment = _parse_iso(fields["datetime"])
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=windows_or_iana_zone(fields.get("timezone") or "UTC"))


def _query_time(value: str) -> dt.datetime:
    moment = _parse_iso(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _parse_iso(value: str) -> dt.datetime:
    # Graph writes seven fractional digits; Python reads at most six.
    head, dot, tail = value.partition(".")
    if dot:
        digits = "".join(c for c in tail if c.isdigit())
        value = f"{head}.{digits[:6]}{tail[len(digits) :]}"
    return dt.datetime.fromisoformat(value)


def _graph_time(moment: dt.datetime, zone_name: str, zone: dt.tzinfo) -> dict[str, str]:
    local = moment.astimezone(zone)
    return {"dateTime": f"{local:%Y-%m-%dT%H:%M:%S}.0000000", "timeZone": zone_name}


def _event_json(
    event: FakeEvent, zone_name: str, zone: dt.tzinfo, selected: list[str]
) -> dict[str, Any]:
    start, end = event.interval()
    if event.all_day:
        # All-day events are dates, not instants: midnight to midnight in any zone asked for.
        start_json = {
            "dateTime": f"{_as_date(event.start)}T00:00:00.0000000",
            "timeZone": zone_name,
        }
        end_json = {"dateTime": f"{_as_date(event.end)}T00:00:00.0000000", "timeZone": zone_name}
    else:
        start_json, end_json = (
            _graph_time(start, zone_name, zone),
            _graph_time(end, zone_name, zone),
        )
    full = {
        "@odata.etag": f'W/"{hashlib.sha256(event.id.encode()).hexdigest()[:24]}"',
        "id": event.id,
        "subject": event.subject,
        "start": start_json,
        "end": end_json,
        "showAs": event.show_as,
        "isAllDay": event.all_day,
        "isCancelled": event.is_cancelled,
        "responseStatus": {"response": event.response, "time": "0001-01-01T00:00:00Z"},
        "type": "occurrence" if event.series_master_id else "singleInstance",
        "seriesMasterId": event.series_master_id,
        "sensitivity": "normal",
        "bodyPreview": f"About {event.subject}",
    }
    if not selected:
        return full
    return {k: v for k, v in full.items() if k in ("@odata.etag", "id", *selected)}


def _expanded(events: Iterable[FakeEvent]) -> list[FakeEvent]:
    return [occurrence for event in events for occurrence in event.occurrences()]


def _overlaps(
    interval: tuple[dt.datetime, dt.datetime], start: dt.datetime, end: dt.datetime
) -> bool:
    return interval[0] < end and interval[1] > start


def _as_date(value: dt.datetime | dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _aware(value: dt.datetime | dt.date, zone: dt.tzinfo) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(), zone)
    return value if value.tzinfo else value.replace(tzinfo=zone)
