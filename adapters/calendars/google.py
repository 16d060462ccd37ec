"""Google Calendar: authorization code with PKCE, then free/busy only.

Scopes: ``calendar.freebusy`` (the narrowest that reads when someone is busy)
plus ``openid`` and ``email``, so the status can name the account connected.
The access token is refreshed with google-auth when it expires; a refused
refresh (``invalid_grant``) means the person revoked access.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
import google.auth.transport.requests
import requests
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from adapters.calendars.config import CalendarSettings
from adapters.calendars.connect import Connected
from adapters.calendars.errors import ConsentDenied, GrantRevoked, ProviderError
from adapters.calendars.http import Deadline, Reply, request_json
from adapters.calendars.reader import Read, Reading, ReadResult
from core.availability import BusyInterval
from core.calendars import BusyTimes
from core.commands import Provider
from core.people import PersonId
from core.time import Interval, format_instant, parse_instant
from storage.repositories.connections import StoredConnection

FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
# Google answers "email" with the long name; asking for it avoids oauthlib's scope warning.
SCOPES = ["openid", "https://www.googleapis.com/auth/userinfo.email", FREEBUSY]
SERVICE = "Google"
RATE_LIMITS = {"rateLimitExceeded", "userRateLimitExceeded"}


class GoogleCalendars:
    provider = Provider.GOOGLE
    returns_by_post = False  # Google redirects back with the code in the query

    def __init__(self, settings: CalendarSettings, http: aiohttp.ClientSession) -> None:
        if settings.google_client_id is None or settings.google_client_secret is None:
            raise ValueError("Google needs GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET")
        self._settings = settings
        self._client_id = settings.google_client_id
        self._client_secret = settings.google_client_secret
        self._http = http

    # ---------------------------------------------------------------- connecting

    def _flow(self, redirect_uri: str) -> Flow:
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
        flow = self._flow(redirect_uri)
        flow.code_verifier = kept.get("code_verifier")
        try:
            token = await asyncio.to_thread(flow.fetch_token, code=query["code"])
        except Warning:
            # Google lets people untick scopes on the consent screen; oauthlib then raises
            # its "Scope has changed" warning. Without free/busy there is nothing to keep.
            raise ConsentDenied("permission to see when you're busy was not granted") from None
        except (OAuth2Error, requests.RequestException) as error:
            raise ProviderError(
                f"the sign-in could not be completed ({type(error).__name__})"
            ) from None
        finally:
            flow.oauth2session.close()
        if FREEBUSY not in set(token.get("scope") or []):
            raise ConsentDenied("permission to see when you're busy was not granted")
        if not token.get("refresh_token"):
            raise ProviderError("Google sent no lasting access")
        credentials = flow.credentials
        return Connected(_email(token.get("id_token")), _secret(credentials))

    # ---------------------------------------------------------------- reading

    async def read(
        self, readings: Sequence[Reading], window: Interval, deadline: Deadline
    ) -> Mapping[PersonId, ReadResult]:
        results = await asyncio.gather(*(self._read_one(r, window, deadline) for r in readings))
        return {reading.person: result for reading, result in zip(readings, results, strict=True)}

    async def _read_one(self, reading: Reading, window: Interval, deadline: Deadline) -> ReadResult:
        credentials = self._credentials(reading.connection.secret)
        refreshed = False
        try:
            if not credentials.valid:
                await self._refresh(credentials)
                refreshed = True
            reply = await self._free_busy(credentials, window, deadline)
            if reply.status == 401 and not refreshed:  # revoked, or expired early: try once more
                await self._refresh(credentials)
                refreshed = True
                reply = await self._free_busy(credentials, window, deadline)
        except ProviderError as error:
            return error
        if reply.status == 401:
            return GrantRevoked("Google refused the access token")
        if reply.status != 200:
            return ProviderError(f"Google answered {reply.status}{_reason(reply)}")
        calendar = (reply.data.get("calendars") or {}).get("primary") or {}
        if calendar.get("errors"):
            return ProviderError(
                f"Google could not read the calendar ({calendar['errors'][0].get('reason')})"
            )
        busy = tuple(
            BusyInterval(
                parse_instant(block["start"], field="start"),
                parse_instant(block["end"], field="end"),
            )
            for block in calendar.get("busy", [])
        )
        return Read(BusyTimes(busy), _secret(credentials) if refreshed else None)

    async def _free_busy(
        self, credentials: Credentials, window: Interval, deadline: Deadline
    ) -> Reply:
        return await request_json(
            self._http,
            "POST",
            f"{self._settings.google_api_url}/freeBusy",
            deadline=deadline,
            service=SERVICE,
            retry_also=_rate_limited,
            headers={"Authorization": f"Bearer {credentials.token}"},
            json={
                "timeMin": format_instant(window.start),
                "timeMax": format_instant(window.end),
                "items": [{"id": "primary"}],
            },
        )

    async def _refresh(self, credentials: Credentials) -> None:
        session = requests.Session()
        if self._settings.ca_bundle:
            session.verify = self._settings.ca_bundle
        try:
            await asyncio.to_thread(
                credentials.refresh, google.auth.transport.requests.Request(session)
            )
        except RefreshError as error:
            if "invalid_grant" in str(error):
                raise GrantRevoked("Google access was revoked or has expired") from None
            raise ProviderError("Google refused to renew access") from None
        except TransportError:
            raise ProviderError("Google could not be reached") from None
        finally:
            session.close()

    def _credentials(self, secret: Mapping[str, Any]) -> Credentials:
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


def _rate_limited(reply: Reply) -> bool:
    if reply.status != 403 or not isinstance(reply.data, dict):
        return False
    errors = (reply.data.get("error") or {}).get("errors") or []
    return any(error.get("reason") in RATE_LIMITS for error in errors)


def _reason(reply: Reply) -> str:
    if isinstance(reply.data, dict):
        errors = (reply.data.get("error") or {}).get("errors") or []
        if errors:
            return f" ({errors[0].get('reason')})"
    return ""
