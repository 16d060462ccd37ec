"""Microsoft 365 and Outlook.com: msal's authorization code flow with PKCE, then Graph.

Delegated scope ``Calendars.Read`` (msal adds ``offline_access``, ``openid``
and ``profile`` itself), on the ``common`` authority so work, school and
personal accounts all connect. The msal token cache is kept sealed per
connection and refreshed through msal. Busy times come from
``calendar/getSchedule`` (at most 20 schedules and under 62 days per call);
personal accounts, which it does not serve, are read with ``calendarView``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, MutableMapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
import msal
import requests
from tzlocal.windows_tz import win_tz

from adapters.calendars.config import CalendarSettings
from adapters.calendars.connect import Connected
from adapters.calendars.errors import ConsentDenied, GrantRevoked, ProviderError
from adapters.calendars.http import Deadline, Reply, request_json
from adapters.calendars.reader import Read, Reading, ReadResult
from core.availability import BusyInterval, BusyStatus
from core.calendars import BusyTimes
from core.commands import Provider
from core.people import PersonId
from core.rules import WorkingHours
from core.time import DayTime, Interval, local_day
from storage.repositories.connections import StoredConnection

SCOPES = ["Calendars.Read"]
PERSONAL_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"  # Microsoft accounts (Outlook.com)
SERVICE = "Microsoft"
MAX_SPAN = timedelta(days=61)  # getSchedule refuses 62 days or more
MAX_PAGES = 50
STATUSES = {
    "free": BusyStatus.FREE,
    "tentative": BusyStatus.TENTATIVE,
    "busy": BusyStatus.BUSY,
    "oof": BusyStatus.OOF,
    "workingelsewhere": BusyStatus.WORKING_ELSEWHERE,
    "unknown": BusyStatus.BUSY,  # nothing known: the careful choice is not to offer it
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
REVOKED = {"invalid_grant", "interaction_required"}


class MicrosoftCalendars:
    provider = Provider.MICROSOFT
    returns_by_post = True  # response_mode=form_post, as msal recommends (see connect.py)

    def __init__(self, settings: CalendarSettings, http: aiohttp.ClientSession) -> None:
        if settings.microsoft_client_id is None or settings.microsoft_client_secret is None:
            raise ValueError("Microsoft needs MICROSOFT_CALENDAR_CLIENT_ID and _SECRET")
        self._settings = settings
        self._client_id = settings.microsoft_client_id
        self._client_secret = settings.microsoft_client_secret
        self._http = http
        self._requests = requests.Session()
        if settings.ca_bundle:
            # With trust_env, REQUESTS_CA_BUNDLE would silently replace this.
            self._requests.verify = settings.ca_bundle
            self._requests.trust_env = False
        # msal caches the authority's discovery document here, across app objects.
        self._http_cache: MutableMapping[Any, Any] = {}

    async def close(self) -> None:
        self._requests.close()

    async def _app(self, cache: msal.SerializableTokenCache | None = None) -> Any:
        # Building the app fetches the authority's metadata (the first time): off the loop.
        return await asyncio.to_thread(
            msal.ConfidentialClientApplication,
            self._client_id,
            client_credential=self._client_secret.reveal(),
            authority=f"{self._settings.microsoft_authority_url}/common",
            token_cache=cache,
            http_client=self._requests,
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
        cache = msal.SerializableTokenCache()
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
            },
        )

    # ---------------------------------------------------------------- reading

    async def read(
        self, readings: Sequence[Reading], window: Interval, deadline: Deadline
    ) -> Mapping[PersonId, ReadResult]:
        results = await asyncio.gather(*(self._read_one(r, window, deadline) for r in readings))
        return {reading.person: result for reading, result in zip(readings, results, strict=True)}

    async def _read_one(self, reading: Reading, window: Interval, deadline: Deadline) -> ReadResult:
        secret = reading.connection.secret
        cache = msal.SerializableTokenCache()
        cache.deserialize(secret.get("cache") or "{}")
        try:
            app, account = await self._account(cache, secret)
            token = await self._token(app, account, force=False)
            try:
                busy = await self._busy(token, reading, window, deadline)
            except _Unauthorized:
                # Graph refused a token msal still trusted: renew it once before concluding.
                token = await self._token(app, account, force=True)
                try:
                    busy = await self._busy(token, reading, window, deadline)
                except _Unauthorized:
                    return GrantRevoked("Microsoft refused the renewed access token")
        except ProviderError as error:
            return error
        refreshed = {**secret, "cache": cache.serialize()} if cache.has_state_changed else None
        return Read(busy, refreshed)

    async def _busy(
        self, token: str, reading: Reading, window: Interval, deadline: Deadline
    ) -> BusyTimes:
        if reading.connection.secret.get("personal"):
            return await self._calendar_view(token, reading, window, deadline)
        return await self._schedule(token, reading, window, deadline)

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

    async def _token(self, app: Any, account: dict[str, Any], *, force: bool) -> str:
        result = await asyncio.to_thread(
            app.acquire_token_silent_with_error, SCOPES, account, force_refresh=force
        )
        if result is None:
            raise GrantRevoked("Microsoft access has expired")
        if "error" in result:
            if result["error"] in REVOKED:
                raise GrantRevoked("Microsoft access was revoked or has expired")
            raise ProviderError(f"Microsoft refused to renew access ({result['error']})")
        return str(result["access_token"])

    def _headers(self, token: str, zone: ZoneInfo) -> dict[str, str]:
        # Times come back on the owner's wall clock, so all-day events fall on their days.
        return {"Authorization": f"Bearer {token}", "Prefer": f'outlook.timezone="{zone.key}"'}

    async def _schedule(
        self, token: str, reading: Reading, window: Interval, deadline: Deadline
    ) -> BusyTimes:
        username = reading.connection.secret.get("username")
        busy: list[BusyInterval] = []
        hours: WorkingHours | None = None
        for chunk in _chunks(window):
            reply = await self._graph(
                "POST",
                "/me/calendar/getSchedule",
                token,
                reading.zone,
                deadline,
                json={
                    "schedules": [username],
                    "startTime": _graph_time(chunk.start),
                    "endTime": _graph_time(chunk.end),
                    "availabilityViewInterval": 30,
                },
            )
            if reply.status in (400, 404, 501):
                # No schedule service for this mailbox (as for personal accounts).
                return await self._calendar_view(token, reading, window, deadline)
            _check(reply)
            for schedule in reply.data.get("value", []):
                if "error" in schedule:
                    raise ProviderError("Microsoft could not read the calendar")
                for item in schedule.get("scheduleItems", []):
                    span = _span(item, reading.zone)
                    status = STATUSES.get(str(item.get("status", "busy")).lower(), BusyStatus.BUSY)
                    busy.append(BusyInterval(span.start, span.end, status))
                hours = hours or _working_hours(schedule.get("workingHours"))
        return BusyTimes(tuple(busy), hours)

    async def _calendar_view(
        self, token: str, reading: Reading, window: Interval, deadline: Deadline
    ) -> BusyTimes:
        query = urlencode(
            {
                "startDateTime": _utc(window.start),
                "endDateTime": _utc(window.end),
                "$select": "showAs,start,end,isAllDay",
                "$top": "100",
            }
        )
        url: str | None = f"{self._settings.microsoft_graph_url}/me/calendarView?{query}"
        busy: list[BusyInterval] = []
        for _page in range(MAX_PAGES):
            if url is None:
                break
            reply = await request_json(
                self._http,
                "GET",
                url,
                deadline=deadline,
                service=SERVICE,
                headers=self._headers(token, reading.zone),
            )
            _check(reply)
            for event in reply.data.get("value", []):
                status = STATUSES.get(str(event.get("showAs", "busy")).lower(), BusyStatus.BUSY)
                if event.get("isAllDay"):
                    first = _local(event["start"], reading.zone).date()
                    last = _local(event["end"], reading.zone).date()
                    days = max((last - first).days, 1)
                    busy.extend(
                        BusyInterval(span.start, span.end, status)
                        for span in (
                            local_day(first + timedelta(d), reading.zone) for d in range(days)
                        )
                        if span.overlaps(window)
                    )
                else:
                    span = _span(event, reading.zone)
                    if span.overlaps(window):
                        busy.append(BusyInterval(span.start, span.end, status))
            url = reply.data.get("@odata.nextLink")
        return BusyTimes(tuple(busy))

    async def _graph(
        self, method: str, path: str, token: str, zone: ZoneInfo, deadline: Deadline, **kwargs: Any
    ) -> Reply:
        return await request_json(
            self._http,
            method,
            f"{self._settings.microsoft_graph_url}{path}",
            deadline=deadline,
            service=SERVICE,
            headers=self._headers(token, zone),
            **kwargs,
        )

    async def revoke(self, connection: StoredConnection) -> None:
        """Graph offers no per-app token revocation; the tokens are deleted here."""
        del connection


class _Unauthorized(ProviderError):
    """Graph answered 401: the token is stale or the grant is gone."""


def _check(reply: Reply) -> None:
    if reply.status == 401:
        raise _Unauthorized("Microsoft refused the access token")
    if reply.status != 200 or not isinstance(reply.data, dict):
        code = ""
        if isinstance(reply.data, dict):
            code = str((reply.data.get("error") or {}).get("code", ""))
        raise ProviderError(f"Microsoft answered {reply.status}{f' ({code})' if code else ''}")


def _chunks(window: Interval) -> list[Interval]:
    chunks = []
    start = window.start
    while start < window.end:
        end = min(start + MAX_SPAN, window.end)
        chunks.append(Interval(start, end))
        start = end
    return chunks


def _graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def _working_hours(data: Mapping[str, Any] | None) -> WorkingHours | None:
    if not data:
        return None
    try:
        days = frozenset(
            WEEKDAYS.index(day.lower()) + 1 for day in data.get("daysOfWeek", []) if day
        )
        start = time.fromisoformat(data["startTime"][:8])
        end = time.fromisoformat(data["endTime"][:8])
    except (KeyError, ValueError, TypeError):
        return None
    zone = zone_named((data.get("timeZone") or {}).get("name"), ZoneInfo("UTC"))
    if not days or end <= start:
        return None
    return WorkingHours(
        DayTime.of(start.hour, start.minute), DayTime.of(end.hour, end.minute), days, zone
    )
