"""Google Workspace through domain-wide delegation: a service account impersonates each
covered person (``with_subject``) with the read-only events scope, and reads their
primary calendar with the same ``events.list`` as a personal connection.

google-auth signs a JWT (RS256; iss the service account, sub the person, the scope, aud
the token URI) and trades it for an access token, one per person, kept until it expires.
The Workspace admin authorises the service account's client id for the scopes in the
Admin console; a scope not listed there is refused with ``unauthorized_client``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2 import service_account

from adapters.calendars.config import CalendarSettings
from adapters.calendars.errors import ProviderError
from adapters.calendars.google import EVENTS, CalendarApi, Refused, Unauthorized, refresh
from adapters.calendars.http import Deadline
from adapters.calendars.organisation import base
from adapters.calendars.organisation.writing import (
    GrantWithdrawn,
    WriteNotAllowed,
    google_write,
)
from core.calendars import BusyTimes
from core.errors import PublishRefused
from core.organisation import (
    OrganisationConnection,
    OrganisationRefused,
    OrganisationSetup,
    OrgProvider,
    Verified,
)
from core.people import PersonId
from core.publishing import ProgramEvent, PublishedEvent
from storage.repositories.organisations import StoredOrganisation

# Creating events on the program account's calendar (the optional write grant).
WRITE = "https://www.googleapis.com/auth/calendar.events"
KEY_FIELDS = ("type", "client_email", "private_key", "private_key_id")
# Per person, not for the whole grant: the account does not exist (or is suspended).
_UNKNOWN_USER = "invalid email or user id"


def key_info(text: str) -> dict[str, Any]:
    """A service-account key file's JSON, checked for what google-auth needs."""
    try:
        info = json.loads(text)
    except ValueError:
        raise OrganisationRefused("the service-account key file is not JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise OrganisationRefused(
            "the file is not a service-account key (its JSON has no type service_account)"
        )
    missing = [name for name in KEY_FIELDS if not info.get(name)]
    if missing:
        raise OrganisationRefused(f"the service-account key lacks {', '.join(missing)}")
    return info


class GoogleWorkspace(base.OrganisationClient):
    provider = OrgProvider.GOOGLE

    def __init__(self, settings: CalendarSettings, http: aiohttp.ClientSession) -> None:
        super().__init__(settings)
        self._http = http
        self._api = CalendarApi(http, settings.google_api_url)
        # Each person's impersonating credentials, with their token until it expires.
        self._credentials: dict[tuple[int, str], service_account.Credentials] = {}
        # Each connection's program account with the write scope, for its meetings.
        self._writers: dict[int, service_account.Credentials] = {}

    # ---------------------------------------------------------------- connecting

    async def verify(self, setup: OrganisationSetup) -> Verified:
        info: dict[str, Any] = json.loads(setup.secret.reveal())["key"]
        account = setup.program_account
        reading = _as(self._base(info, [EVENTS]), account)
        try:
            await self._refresh(reading)
        except ProviderError as error:
            raise OrganisationRefused(_advice(error, info, EVENTS)) from None
        try:
            await self._api.list_busy(
                str(reading.token),
                zone=ZoneInfo("UTC"),  # any zone: only whether it answers counts
                window=self._probe_window(),
                deadline=Deadline.after(self._settings.timeout_seconds),
            )
        except ProviderError as error:
            raise OrganisationRefused(
                f"Google did not let the service account read {account}'s calendar ({error})"
            ) from None
        can_write = False
        if setup.write:
            try:
                await self._refresh(_as(self._base(info, [WRITE]), account))
            except ProviderError as error:
                raise OrganisationRefused(_advice(error, info, WRITE)) from None
            can_write = True
        return Verified(setup.domains, can_write=can_write)

    # ---------------------------------------------------------------- reading

    async def read(self, asked: base.OrgRead) -> Mapping[PersonId, base.OrgResult]:
        delegating = self._base(asked.stored.secret["key"], [EVENTS])
        results = await asyncio.gather(
            *(
                self._bounded(self._read_one(asked, delegating, r), asked.deadline)
                for r in asked.readings
            ),
            return_exceptions=True,
        )
        return base.per_person(asked.readings, results, "Google")

    async def _read_one(
        self, asked: base.OrgRead, delegating: service_account.Credentials, reading: base.OrgReading
    ) -> base.OrgResult:
        key = (asked.stored.id, reading.email)
        window, deadline = asked.window, asked.deadline
        for attempt in range(2):
            credentials = self._credentials.get(key)
            if credentials is None:
                credentials = self._credentials[key] = _as(delegating, reading.email)
            try:
                if not credentials.valid:
                    await self._refresh(credentials, deadline)
                intervals = await self._api.list_busy(
                    str(credentials.token), zone=reading.zone, window=window, deadline=deadline
                )
            except _Withdrawn as error:
                self._credentials.pop(key, None)
                if _UNKNOWN_USER in str(error).lower():
                    return base.NotCovered()
                raise base.AccessWithdrawn(str(error)) from None
            except Unauthorized:
                # A token Google no longer honours (its key deleted, or expired early):
                # a new one, once, tells a passing hiccup from a withdrawn grant.
                self._credentials.pop(key, None)
                if attempt:
                    return ProviderError("Google refused the service account's token")
                continue
            except Refused as error:
                if error.status in {403, 404} and error.reason in {"notFound", "forbidden"}:
                    return base.NotCovered()
                return error
            except ProviderError as error:
                return error
            return BusyTimes(tuple(intervals))
        return ProviderError("Google refused the service account's token")

    # ---------------------------------------------------------------- writing

    async def write(
        self, stored: StoredOrganisation, event: ProgramEvent, previous: PublishedEvent | None
    ) -> PublishedEvent | None:
        """The meeting on the program account's calendar, impersonating only that account
        with the write scope (see ``writing.google_write``)."""
        credentials = self._writers.get(stored.id)
        if credentials is None:
            delegating = self._base(stored.secret["key"], [WRITE])
            credentials = self._writers[stored.id] = _as(delegating, stored.summary.program_account)
        try:
            if not credentials.valid:
                await self._refresh(credentials)
            return await google_write(
                self._http, self._settings.google_api_url, str(credentials.token), event, previous
            )
        except _Withdrawn as error:
            self._writers.pop(stored.id, None)
            if str(error).startswith("invalid_grant"):  # the key itself is gone
                raise GrantWithdrawn(str(error)) from None
            # The write scope alone was taken back: reads go on, meetings go by email.
            raise WriteNotAllowed(f"Google refused the write grant ({error})") from None
        except ProviderError as error:
            raise PublishRefused(str(error)) from None
        except PublishRefused as error:
            if not error.permanent:  # perhaps a token Google stopped honouring: a new one next
                self._writers.pop(stored.id, None)
            raise

    def _base(self, info: Mapping[str, Any], scopes: list[str]) -> service_account.Credentials:
        # The key file names Google's token endpoint; the setting points elsewhere in tests.
        credentials: service_account.Credentials = (
            service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                {**info, "token_uri": self._settings.google_token_url}, scopes=scopes
            )
        )
        return credentials

    async def _refresh(
        self, credentials: service_account.Credentials, deadline: Deadline | None = None
    ) -> None:
        try:
            limit = self._settings.timeout_seconds
            if deadline is not None:
                limit = max(min(limit, deadline.remaining()), 0.001)
            await asyncio.wait_for(refresh(credentials, self._settings.ca_bundle), limit)
        except RefreshError as error:
            raise _Withdrawn(_refresh_reason(error)) from None
        except (TransportError, TimeoutError):
            raise ProviderError("Google's token endpoint could not be reached") from None

    def forget(self, connection: OrganisationConnection) -> None:
        del connection
        self._credentials.clear()
        self._writers.clear()


def _as(delegating: service_account.Credentials, email: str) -> service_account.Credentials:
    """``delegating`` impersonating ``email`` (google-auth leaves ``with_subject`` untyped)."""
    subject: service_account.Credentials = delegating.with_subject(email)  # type: ignore[no-untyped-call]
    return subject


class _Withdrawn(ProviderError):
    """Google refused to issue a token for the service account (``str()``: its reason)."""


def _refresh_reason(error: RefreshError) -> str:
    """Google's own error and description, e.g. "unauthorized_client: Client is
    unauthorized..." (never the assertion)."""
    details = error.args[1] if len(error.args) > 1 else None
    if isinstance(details, dict):
        code = details.get("error", "refused")
        description = details.get("error_description")
        return f"{code}: {description}" if description else str(code)
    return str(error.args[0]).split(",")[0] if error.args else "refused"


def _advice(error: ProviderError, info: Mapping[str, Any], scope: str) -> str:
    text = str(error)
    if text.startswith("unauthorized_client"):
        return (
            f"Google refused the service account: in the Admin console (Security > API "
            f"controls > Domain-wide delegation) authorise client id {info.get('client_id')} "
            f"for {scope}"
        )
    if "invalid email" in text.lower():
        return "Google knows no such user: --program-account must be a user of the domain"
    return f"Google refused the service account's key ({text})"
