"""Microsoft 365 and Outlook.com: msal's authorization code flow with PKCE, then Graph.

Delegated permission ``Calendars.ReadBasic`` (msal adds ``offline_access``,
``openid`` and ``profile`` itself): the least privileged one that lists
calendarView, and it leaves out events' bodies, attachments and extensions.
The ``common`` authority lets work, school and personal accounts all connect.
The msal token cache is kept sealed per connection and refreshed through msal.
Busy times come from ``calendarView`` for every account, with only the fields
that decide busy or free (``$select``), times in UTC, paged through
``@odata.nextLink``. Connections made before took ``Calendars.Read``; their
tokens are renewed with that permission, which reads the same fields.

msal and requests are imported at the first connection or read, not at start-up: a
server with Microsoft configured answers ``/healthz`` without them (bench/startup.py).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, MutableMapping
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from tzlocal.windows_tz import win_tz

from adapters.calendars.config import CalendarSettings
from adapters.calendars.connect import Connected
from adapters.calendars.errors import BadAnswer, ConsentDenied, GrantRevoked, ProviderError
from adapters.calendars.http import Deadline, Reply, parsed, request_json
from adapters.calendars.reader import EachPerson, Read, Reading, ReadResult
from core.availability import BusyInterval, BusyStatus
from core.calendars import BusyTimes
from core.commands import Provider
from core.time import Interval, local_day
from storage.repositories.connections import StoredConnection

if TYPE_CHECKING:
    import msal
    import requests

SCOPES = ["Calendars.ReadBasic"]
EARLIER_SCOPES = ["Calendars.Read"]  # what connections made before ReadBasic hold
PERSONAL_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"  # Microsoft accounts (Outlook.com)
SERVICE = "Microsoft"
MAX_PAGES = 50
SELECT = "start,end,showAs,isAllDay,isCancelled,responseStatus"
STATUSES = {
    "free": BusyStatus.FREE,
    "tentative": BusyStatus.TENTATIVE,
    "busy": BusyStatus.BUSY,
    "oof": BusyStatus.OOF,
    "workingelsewhere": BusyStatus.WORKING_ELSEWHERE,
    "unknown": BusyStatus.BUSY,  # nothing known: the careful choice is not to offer it
}
REVOKED = {"invalid_grant", "interaction_required"}


def _msal() -> ModuleType:
    import msal  # noqa: PLC0415 - see the module's docstring

    module: ModuleType = msal
    return module


class MicrosoftCalendars(EachPerson):
    service = SERVICE
    provider = Provider.MICROSOFT
    returns_by_post = True  # response_mode=form_post, as msal recommends (see connect.py)

    def __init__(self, settings: CalendarSettings, http: aiohttp.ClientSession) -> None:
        if settings.microsoft_client_id is None or settings.microsoft_client_secret is None:
            raise ValueError("Microsoft needs MICROSOFT_CALENDAR_CLIENT_ID and _SECRET")
        self._settings = settings
        self._client_id = settings.microsoft_client_id
        self._client_secret = settings.microsoft_client_secret
        self._http = http
        self._requests: requests.Session | None = None  # msal's, made at its first use
        # msal caches the authority's discovery document here, across app objects.
        self._http_cache: MutableMapping[Any, Any] = {}

    async def close(self) -> None:
        if self._requests is not None:
            self._requests.close()

    def _session(self) -> requests.Session:
        if self._requests is None:
            import requests  # noqa: PLC0415 - see the module's docstring

            self._requests = requests.Session()
            if self._settings.ca_bundle:
                # With trust_env, REQUESTS_CA_BUNDLE would silently replace this.
                self._requests.verify = self._settings.ca_bundle
                self._requests.trust_env = False
        return self._requests

    async def _app(self, cache: msal.SerializableTokenCache | None = None) -> Any:
        # Building the app fetches the authority's metadata (the first time): off the loop.
        return await asyncio.to_thread(
            _msal().ConfidentialClientApplication,
            self._client_id,
            client_credential=self._client_secret.reveal(),
            authority=f"{self._settings.microsoft_authority_url}/common",
            token_cache=cache,
            http_client=self._session(),
            http_cache=self._http_cache,
            instance_discovery=False,
            # Its calls run in threads the reader cannot cancel: bound them here too.
            timeout=self._settings.timeout_seconds,
        )

    # ---------------------------------------------------------------- connecting

    async def authorization_url(self, state: str, redirect_uri: str) -> tuple[str, dict[str, Any]]:
        app = await self._app()
        flow = app.initiate_auth_code_flow(
            SCOPES,
            redirect_uri=redirect_uri,
            state=state,
            prompt="select_account",
            # The code comes back in a POST body rather than the address bar.
            response_mode="form_post",
        )
        return flow["auth_uri"], {"msal_flow": flow}

    async def finish(
        self, query: Mapping[str, str], kept: Mapping[str, Any], redirect_uri: str
    ) -> Connected:
        if "error" in query:
            if query["error"] in {"access_denied", "consent_required"}:
                raise ConsentDenied("access was declined")
            raise ProviderError("the sign-in did not complete")
        flow = kept.get("msal_flow")
        if not isinstance(flow, dict) or flow.get("redirect_uri") != redirect_uri:
            raise ProviderError("the sign-in did not complete")
        cache = _msal().SerializableTokenCache()
        app = await self._app(cache)
        try:
            result = await asyncio.to_thread(app.acquire_token_by_auth_code_flow, flow, dict(query))
        except ValueError:  # msal's answer to a response that does not match the flow
            raise ProviderError("the sign-in did not complete") from None
        if "error" in result:
            raise ProviderError(f"the sign-in was refused ({result['error']})")
        claims = result.get("id_token_claims") or {}
        username = claims.get("preferred_username") or claims.get("email")
        accounts = app.get_accounts()
        if not accounts:
            raise ProviderError("Microsoft sent no account")
        return Connected(
            username,
            {
                "cache": cache.serialize(),
                "account": accounts[0]["home_account_id"],
                "username": username,
                "personal": claims.get("tid") == PERSONAL_TENANT,
                "scopes": SCOPES,
            },
        )

    # ---------------------------------------------------------------- reading

    async def _read_one(self, reading: Reading, window: Interval, deadline: Deadline) -> ReadResult:
        secret = reading.connection.secret
        scopes = list(secret.get("scopes") or EARLIER_SCOPES)
        cache = _msal().SerializableTokenCache()
        cache.deserialize(secret.get("cache") or "{}")
        try:
            app, account = await self._account(cache, secret)
            token = await self._token(app, account, scopes, force=False)
            try:
                busy = await self._calendar_view(token, reading, window, deadline)
            except _Unauthorized:
                # Graph refused a token msal still trusted: renew it once before concluding.
                token = await self._token(app, account, scopes, force=True)
                try:
                    busy = await self._calendar_view(token, reading, window, deadline)
                except _Unauthorized:
                    return GrantRevoked("Microsoft refused the renewed access token")
        except ProviderError as error:
            return error
        refreshed = {**secret, "cache": cache.serialize()} if cache.has_state_changed else None
        return Read(busy, refreshed)

    async def _account(
        self, cache: msal.SerializableTokenCache, secret: Mapping[str, Any]
    ) -> tuple[Any, dict[str, Any]]:
        app = await self._app(cache)
        account = next(
            (a for a in app.get_accounts() if a.get("home_account_id") == secret.get("account")),
            None,
        )
        if account is None:
            raise GrantRevoked("the stored Microsoft sign-in is incomplete")
        return app, account

    async def _token(
        self, app: Any, account: dict[str, Any], scopes: list[str], *, force: bool
    ) -> str:
        result = await asyncio.to_thread(
            app.acquire_token_silent_with_error, scopes, account, force_refresh=force
        )
        if result is None:
            raise GrantRevoked("Microsoft access has expired")
        if "error" in result:
            if result["error"] in REVOKED:
                raise GrantRevoked("Microsoft access was revoked or has expired")
            raise ProviderError(f"Microsoft refused to renew access ({result['error']})")
        return str(result["access_token"])

    async def _calendar_view(
        self, token: str, reading: Reading, window: Interval, deadline: Deadline
    ) -> BusyTimes:
        return await calendar_view(
            self._http,
            f"{self._settings.microsoft_graph_url}/me",
            token,
            zone=reading.zone,
            window=window,
            deadline=deadline,
        )

    async def revoke(self, connection: StoredConnection) -> None:
        """Graph offers no per-app token revocation; the tokens are deleted here."""
        del connection


async def calendar_view(
    http: aiohttp.ClientSession,
    mailbox: str,
    token: str,
    *,
    zone: ZoneInfo,
    window: Interval,
    deadline: Deadline,
) -> BusyTimes:
    """The busy blocks of ``mailbox`` (a Graph URL: ``.../me`` or ``.../users/{upn}``).

    Raises ``_Unauthorized`` on 401 and :class:`GraphRefused` on other errors."""
    url: str | None = f"{mailbox}/calendarView?{view_query(window)}"
    busy: list[BusyInterval] = []
    for _page in range(MAX_PAGES):
        if url is None:
            return BusyTimes(tuple(busy))
        reply = await request_json(
            http,
            "GET",
            url,
            deadline=deadline,
            service=SERVICE,
            # Instants in UTC; all-day events then come as midnight to midnight in UTC,
            # whose dates are placed on the owner's own days.
            headers={"Authorization": f"Bearer {token}", "Prefer": 'outlook.timezone="UTC"'},
        )
        _check(reply)
        found, url = parsed(reply, SERVICE, lambda data: _view_page(data, zone))
        busy.extend(found)
    if url is not None:
        raise BadAnswer(SERVICE, 200, f"more than {MAX_PAGES} pages of events")
    return BusyTimes(tuple(busy))


def view_query(window: Interval) -> str:
    """calendarView's query string for ``window`` (UTC bounds, the fields read, pages of 100)."""
    return urlencode(
        {
            "startDateTime": _utc(window.start),
            "endDateTime": _utc(window.end),
            "$select": SELECT,
            "$top": "100",
        }
    )


def view_page(reply: Reply, zone: ZoneInfo) -> tuple[list[BusyInterval], str | None]:
    """One calendarView answer (a batch's too): its busy blocks and the next page's address;
    raises as :func:`calendar_view` does."""
    _check(reply)
    return parsed(reply, SERVICE, lambda data: _view_page(data, zone))


class _Unauthorized(ProviderError):
    """Graph answered 401: the token is stale or the grant is gone."""


Unauthorized = _Unauthorized


class GraphRefused(ProviderError):
    """Graph answered an error other than 401; ``status`` and ``code`` say which."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"Microsoft answered {status}{f' ({code})' if code else ''}")
        self.status = status
        self.code = code


def _check(reply: Reply) -> None:
    if reply.status == 401:
        raise _Unauthorized("Microsoft refused the access token")
    if reply.status != 200:
        code = ""
        if isinstance(reply.data, dict) and isinstance(reply.data.get("error"), dict):
            code = str(reply.data["error"].get("code", ""))
        raise GraphRefused(reply.status, code)


def _view_page(data: Any, zone: ZoneInfo) -> tuple[list[BusyInterval], str | None]:
    """One page of calendarView: its busy blocks and the next page's address."""
    busy: list[BusyInterval] = []
    events = data["value"]
    if not isinstance(events, list):
        raise TypeError("value")
    for event in events:
        status = event_status(event)
        if status is None:
            continue
        if event.get("isAllDay"):
            first = _date(event["start"])
            days = max((_date(event["end"]) - first).days, 1)
            spans = (local_day(first + timedelta(days=d), zone) for d in range(days))
            busy.extend(BusyInterval(span.start, span.end, status) for span in spans)
        else:
            span = _span(event, zone)
            busy.append(BusyInterval(span.start, span.end, status))
    link = data.get("@odata.nextLink")
    if link is not None and not isinstance(link, str):
        raise TypeError("@odata.nextLink")
    return busy, link


def event_status(event: Mapping[str, Any]) -> BusyStatus | None:
    """How one calendarView event counts, or None when it leaves its owner free.

    Cancelled and declined events are free; ``oof`` is out of office; an all-day
    event shown as free is ``all_day``, for the program's rule to decide (and
    working elsewhere stays that); others keep their ``showAs``.
    """
    if event.get("isCancelled"):
        return None
    if (event.get("responseStatus") or {}).get("response") == "declined":
        return None
    status = STATUSES.get(str(event.get("showAs", "busy")).lower(), BusyStatus.BUSY)
    if event.get("isAllDay") and status is BusyStatus.FREE:
        return BusyStatus.ALL_DAY
    return None if status is BusyStatus.FREE else status


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(value: Mapping[str, str]) -> date:
    """The day of an all-day event's bound: Graph gives it as midnight in the zone asked for."""
    return datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value["dateTime"])).date()


def _span(item: Mapping[str, Any], zone: ZoneInfo) -> Interval:
    start, end = _local(item["start"], zone), _local(item["end"], zone)
    return Interval(start.astimezone(UTC), max(end, start).astimezone(UTC))


def _local(value: Mapping[str, str], fallback: ZoneInfo) -> datetime:
    """A Graph dateTimeTimeZone: seven fractional digits, and a Windows or IANA zone name."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", value["dateTime"])
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone_named(value.get("timeZone"), fallback))
    return moment


def zone_named(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    if not name:
        return fallback
    for candidate in (name, win_tz.get(name)):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return fallback
