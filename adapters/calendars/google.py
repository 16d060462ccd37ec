"""Google Calendar: authorization code with PKCE, then the primary calendar's events.

Scopes: ``calendar.events.owned.readonly`` (the narrowest that lists the events
of the person's own calendars, so that events marked free, all-day ones
included, can be counted), plus ``openid`` and ``email``, so the status can
name the account connected. Reads ask ``events.list`` for each event's times,
status, transparency, type and the person's own answer, and nothing else: a
``fields`` mask keeps titles, descriptions, places and guests out of the
answer. Connections made before Pairtime read events hold only
``calendar.freebusy``; they keep working through ``freeBusy`` until their
owner reconnects. The access token is refreshed with google-auth when it
expires; a refused refresh (``invalid_grant``) means the person revoked access.

google-auth, google-auth-oauthlib and requests are imported at the first connection,
read or refresh, not at start-up: a server with Google configured answers ``/healthz``
without them (bench/startup.py), and the first read in a process pays for them once.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import aiohttp

from adapters.calendars.config import CalendarSettings
from adapters.calendars.connect import Connected
from adapters.calendars.errors import BadAnswer, ConsentDenied, GrantRevoked, ProviderError
from adapters.calendars.http import Deadline, Reply, parsed, request_json
from adapters.calendars.reader import EachPerson, Read, Reading, ReadResult
from core.availability import BusyInterval, BusyStatus
from core.calendars import BusyTimes
from core.commands import Provider
from core.time import Interval, format_instant, local_day, parse_instant
from core.time import zone_named as iana_zone
from storage.repositories.connections import StoredConnection

if TYPE_CHECKING:
    import google.auth.credentials
    from google.oauth2.credentials import Credentials
    from google_auth_oauthlib.flow import Flow

AUTH = "https://www.googleapis.com/auth/"
EVENTS = f"{AUTH}calendar.events.owned.readonly"
FREEBUSY = f"{AUTH}calendar.freebusy"  # all that connections made before events were read hold
# Scopes under which events.list answers with each event's transparency and type: a
# grant holding one of them is read through events (the discovery document's list,
# without the free/busy-only and public-calendar scopes).
READS_EVENTS = frozenset(
    {
        EVENTS,
        f"{AUTH}calendar.events.readonly",
        f"{AUTH}calendar.events.owned",
        f"{AUTH}calendar.events",
        f"{AUTH}calendar.readonly",
        f"{AUTH}calendar",
    }
)
# Google answers "email" with the long name; asking for it avoids oauthlib's scope warning.
SCOPES = ["openid", f"{AUTH}userinfo.email", EVENTS]
SERVICE = "Google"
RATE_LIMITS = {"rateLimitExceeded", "userRateLimitExceeded"}
# Only what deciding busy or free needs: never titles, descriptions, places or guests'
# addresses (the attendees' entries carry only "self" and their answer).
FIELDS = (
    "nextPageToken,timeZone,"
    "items(start,end,status,transparency,eventType,attendees(self,responseStatus))"
)
MAX_PAGES = 20  # of up to 2,500 events each
IGNORED_TYPES = frozenset(
    {
        "workingLocation",  # where someone works, not whether they are free
        "birthday",  # contacts' birthdays: all-day, yet nobody's engagement
    }
)


class GoogleCalendars(EachPerson):
    service = SERVICE
    provider = Provider.GOOGLE
    returns_by_post = False  # Google redirects back with the code in the query

    def __init__(self, settings: CalendarSettings, http: aiohttp.ClientSession) -> None:
        if settings.google_client_id is None or settings.google_client_secret is None:
            raise ValueError("Google needs GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET")
        self._settings = settings
        self._client_id = settings.google_client_id
        self._client_secret = settings.google_client_secret
        self._http = http
        self._api = CalendarApi(http, settings.google_api_url)

    # ---------------------------------------------------------------- connecting

    def _flow(self, redirect_uri: str) -> Flow:
        from google_auth_oauthlib.flow import Flow  # noqa: PLC0415 - see the module's docstring

        config = {
            "web": {
                "client_id": self._client_id,
                "client_secret": self._client_secret.reveal(),
                "auth_uri": self._settings.google_auth_url,
                "token_uri": self._settings.google_token_url,
                "redirect_uris": [redirect_uri],
            }
        }
        flow = Flow.from_client_config(
            config, scopes=SCOPES, redirect_uri=redirect_uri, autogenerate_code_verifier=True
        )
        if self._settings.ca_bundle:
            flow.oauth2session.verify = self._settings.ca_bundle
        return flow

    async def authorization_url(self, state: str, redirect_uri: str) -> tuple[str, dict[str, Any]]:
        flow = self._flow(redirect_uri)
        # "consent" makes Google send a refresh token even to someone who connected before.
        url, _ = flow.authorization_url(state=state, access_type="offline", prompt="consent")
        return url, {"code_verifier": flow.code_verifier}

    async def finish(
        self, query: Mapping[str, str], kept: Mapping[str, Any], redirect_uri: str
    ) -> Connected:
        if "error" in query:
            if query["error"] == "access_denied":
                raise ConsentDenied("access was declined")
            raise ProviderError("the sign-in did not complete")
        if "code" not in query:
            raise ProviderError("the sign-in did not complete")
        import requests  # noqa: PLC0415 - see the module's docstring
        from oauthlib.oauth2.rfc6749.errors import OAuth2Error  # noqa: PLC0415 - as above

        flow = self._flow(redirect_uri)
        flow.code_verifier = kept.get("code_verifier")
        try:
            token = await asyncio.to_thread(flow.fetch_token, code=query["code"])
        except Warning:
            # Google lets people untick scopes on the consent screen; oauthlib then raises
            # its "Scope has changed" warning. Without the events there is nothing to keep.
            raise ConsentDenied("permission to see when you're busy was not granted") from None
        except (OAuth2Error, requests.RequestException) as error:
            raise ProviderError(
                f"the sign-in could not be completed ({type(error).__name__})"
            ) from None
        finally:
            flow.oauth2session.close()
        if EVENTS not in set(token.get("scope") or []):
            raise ConsentDenied("permission to see when you're busy was not granted")
        if not token.get("refresh_token"):
            raise ProviderError("Google sent no lasting access")
        credentials = flow.credentials
        return Connected(_email(token.get("id_token")), _secret(credentials))

    # ---------------------------------------------------------------- reading

    async def _read_one(self, reading: Reading, window: Interval, deadline: Deadline) -> ReadResult:
        credentials = self._credentials(reading.connection.secret)
        events = bool(READS_EVENTS & set(reading.connection.secret.get("scopes") or []))
        refreshed = False
        try:
            if not credentials.valid:
                await self._refresh(credentials)
                refreshed = True
            try:
                busy = await self._busy(credentials, reading, window, deadline, events=events)
            except _Unauthorized:
                if refreshed:
                    return GrantRevoked("Google refused the access token")
                # Revoked, or expired early: renew once before concluding.
                await self._refresh(credentials)
                refreshed = True
                try:
                    busy = await self._busy(credentials, reading, window, deadline, events=events)
                except _Unauthorized:
                    return GrantRevoked("Google refused the access token")
        except ProviderError as error:
            return error
        return Read(BusyTimes(tuple(busy)), _secret(credentials) if refreshed else None)

    async def _busy(
        self,
        credentials: Credentials,
        reading: Reading,
        window: Interval,
        deadline: Deadline,
        *,
        events: bool,
    ) -> list[BusyInterval]:
        if not events:
            return await self._api.free_busy(str(credentials.token), window, deadline)
        return await self._api.list_busy(
            str(credentials.token), zone=reading.zone, window=window, deadline=deadline
        )

    async def _refresh(self, credentials: Credentials) -> None:
        from google.auth.exceptions import RefreshError, TransportError  # noqa: PLC0415

        try:
            await refresh(credentials, self._settings.ca_bundle)
        except RefreshError as error:
            if "invalid_grant" in str(error):
                raise GrantRevoked("Google access was revoked or has expired") from None
            raise ProviderError("Google refused to renew access") from None
        except TransportError:
            raise ProviderError("Google could not be reached") from None

    def _credentials(self, secret: Mapping[str, Any]) -> Credentials:
        from google.oauth2.credentials import Credentials  # noqa: PLC0415 - see the docstring

        expiry = secret.get("expiry")
        return Credentials(  # type: ignore[no-untyped-call]  # google-auth leaves it untyped
            token=secret.get("token"),
            refresh_token=secret.get("refresh_token"),
            token_uri=self._settings.google_token_url,
            client_id=self._client_id,
            client_secret=self._client_secret.reveal(),
            scopes=secret.get("scopes"),
            # google-auth compares naive UTC expiries.
            expiry=datetime.fromisoformat(expiry).replace(tzinfo=None) if expiry else None,
        )

    async def revoke(self, connection: StoredConnection) -> None:
        token = connection.secret.get("refresh_token") or connection.secret.get("token")
        if not token:
            return
        await request_json(
            self._http,
            "POST",
            self._settings.google_revoke_url,
            deadline=Deadline.after(self._settings.timeout_seconds),
            service=SERVICE,
            data={"token": token},
        )


async def refresh(credentials: google.auth.credentials.Credentials, ca_bundle: str | None) -> None:
    """``credentials.refresh`` off the event loop (google-auth is synchronous), trusting
    ``ca_bundle`` too when one is set."""
    import google.auth.transport.requests  # noqa: PLC0415 - see the module's docstring
    import requests  # noqa: PLC0415 - as above

    session = requests.Session()
    if ca_bundle:
        session.verify = ca_bundle
    try:
        request = google.auth.transport.requests.Request(session)
        await asyncio.to_thread(credentials.refresh, request)
    finally:
        session.close()


@dataclass(frozen=True, slots=True)
class CalendarApi:
    """Google Calendar's API at ``url`` (the setting points elsewhere in tests), over ``http``:
    what a personal connection and the Workspace client (impersonating) both read through."""

    http: aiohttp.ClientSession
    url: str

    async def list_busy(
        self, token: str, *, zone: ZoneInfo, window: Interval, deadline: Deadline
    ) -> list[BusyInterval]:
        """The busy blocks of the primary calendar that ``token`` reads (a person's own, or
        one that a service account impersonates), through ``events.list``.

        Raises ``_Unauthorized`` on 401 and :class:`ProviderError` (naming the reason) on
        any other refusal."""
        busy: list[BusyInterval] = []
        page_token: str | None = None
        for _page in range(MAX_PAGES):
            query = {
                "timeMin": format_instant(window.start),
                "timeMax": format_instant(window.end),
                "singleEvents": "true",
                "showDeleted": "false",
                "maxResults": "2500",
                # With more guests than this, Google lists only the person's own entry.
                "maxAttendees": "1",
                "fields": FIELDS,
            }
            if page_token:
                query["pageToken"] = page_token
            reply = await _calendar_api(
                self.http,
                "GET",
                f"{self.url}/calendars/primary/events",
                token,
                deadline,
                params=query,
            )
            found, page_token = parsed(reply, SERVICE, lambda data: _events_page(data, zone))
            busy.extend(found)
            if not page_token:
                return busy
        raise BadAnswer(SERVICE, 200, f"more than {MAX_PAGES} pages of events")

    async def free_busy(
        self, token: str, window: Interval, deadline: Deadline
    ) -> list[BusyInterval]:
        """What a connection made with ``calendar.freebusy`` alone can read: events marked
        free, all-day ones included, are missing from it."""
        reply = await _calendar_api(
            self.http,
            "POST",
            f"{self.url}/freeBusy",
            token,
            deadline,
            json={
                "timeMin": format_instant(window.start),
                "timeMax": format_instant(window.end),
                "items": [{"id": "primary"}],
            },
        )
        return parsed(reply, SERVICE, _free_busy_blocks)


def _secret(credentials: Credentials) -> dict[str, Any]:
    expiry = credentials.expiry
    return {
        "token": credentials.token,
        "refresh_token": credentials.refresh_token,
        "expiry": expiry.replace(tzinfo=UTC).isoformat() if expiry else None,
        "scopes": list(credentials.scopes or SCOPES),
    }


def _email(id_token: str | None) -> str | None:
    """The account's address from the ID token.

    It came straight from Google's token endpoint over TLS, so its signature
    needs no separate check (OpenID Connect Core, 3.1.3.7).
    """
    if not id_token or id_token.count(".") != 2:
        return None
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    email = claims.get("email")
    return email if isinstance(email, str) else None


class _Unauthorized(ProviderError):
    """Google answered 401: the token is stale or the grant is gone."""


Unauthorized = _Unauthorized


class Refused(ProviderError):
    """Google answered with an error other than 401; ``status`` and ``reason`` say which."""

    def __init__(self, status: int, reason: str | None) -> None:
        super().__init__(f"Google answered {status}{f' ({reason})' if reason else ''}")
        self.status = status
        self.reason = reason


async def _calendar_api(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str,
    deadline: Deadline,
    **kwargs: Any,
) -> Reply:
    """A Calendar API call with ``token``: rate limits are retried until ``deadline``, a
    refused token or request raised."""
    headers = {"Authorization": f"Bearer {token}"}
    reply = await request_json(
        http,
        method,
        url,
        deadline=deadline,
        service=SERVICE,
        retry_also=_rate_limited,
        headers=headers,
        **kwargs,
    )
    return _checked(reply)


def _checked(reply: Reply) -> Reply:
    if reply.status == 401:
        raise _Unauthorized("Google refused the access token")
    if reply.status != 200:
        raise Refused(reply.status, _reason(reply) or None)
    return reply


def _events_page(data: Any, zone: ZoneInfo) -> tuple[list[BusyInterval], str | None]:
    """One page of events.list: the busy blocks in it and the next page's token.

    All-day events cover whole days of the calendar's own zone (``zone``, the
    person's, when the answer names none).
    """
    calendar_zone = iana_zone(data["timeZone"]) if data.get("timeZone") else zone
    busy: list[BusyInterval] = []
    for item in data.get("items", []):
        status = event_status(item)
        if status is None:
            continue
        start, end = item["start"], item["end"]
        if "date" in start:
            first, last = date.fromisoformat(start["date"]), date.fromisoformat(end["date"])
            days = max((last - first).days, 1)
            spans = [local_day(first + timedelta(days=d), calendar_zone) for d in range(days)]
            busy.extend(BusyInterval(span.start, span.end, status) for span in spans)
        else:
            begin = parse_instant(start["dateTime"], field="start")
            finish = parse_instant(end["dateTime"], field="end")
            busy.append(BusyInterval(begin, max(begin, finish), status))
    token = data.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise TypeError("nextPageToken")
    return busy, token


def event_status(item: Mapping[str, Any]) -> BusyStatus | None:
    """How one listed event counts, or None when it leaves the person free.

    Cancelled and declined events, working locations and birthdays are free;
    out of office is ``oof``; an all-day event marked free (transparent) is
    ``all_day``, for the program's rule to decide; others follow their
    transparency, and the person's "maybe" makes them ``tentative``.
    """
    kind = item.get("eventType", "default")
    if item.get("status") == "cancelled" or kind in IGNORED_TYPES:
        return None
    own: Mapping[str, Any] = next((a for a in item.get("attendees", ()) if a.get("self")), {})
    answer = own.get("responseStatus")
    if answer == "declined":
        return None
    if kind == "outOfOffice":
        return BusyStatus.OOF
    transparent = item.get("transparency") == "transparent"
    if "date" in item["start"]:
        if transparent:
            return BusyStatus.ALL_DAY
    elif transparent:
        return None
    if answer == "tentative" or item.get("status") == "tentative":
        return BusyStatus.TENTATIVE
    return BusyStatus.BUSY


def _free_busy_blocks(data: Any) -> list[BusyInterval]:
    calendar = data["calendars"]["primary"]
    if calendar.get("errors"):
        raise ProviderError(
            f"Google could not read the calendar ({calendar['errors'][0].get('reason')})"
        )
    return [
        BusyInterval(
            parse_instant(block["start"], field="start"), parse_instant(block["end"], field="end")
        )
        for block in calendar.get("busy", [])
    ]


def _rate_limited(reply: Reply) -> bool:
    if reply.status != 403 or not isinstance(reply.data, dict):
        return False
    errors = (reply.data.get("error") or {}).get("errors") or []
    return any(error.get("reason") in RATE_LIMITS for error in errors)


def _reason(reply: Reply) -> str:
    if isinstance(reply.data, dict):
        errors = (reply.data.get("error") or {}).get("errors") or []
        if errors:
            return str(errors[0].get("reason"))
    return ""
