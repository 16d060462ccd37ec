"""iCloud, or any CalDAV server, with an Apple ID and an app-specific password.

iCloud answers no free-busy query, so events in the window are read with a
calendar-query and expanded here (see ``ical``). Credentials are checked
against the server before anything is stored, and kept sealed by storage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from caldav.aio import AsyncDAVClient
from caldav.lib.error import AuthorizationError, DAVError

from adapters.calendars.errors import (
    GrantRevoked,
    ProviderError,
    ProviderUnavailable,
    WrongCredentials,
)
from adapters.calendars.http import Deadline
from adapters.calendars.ical import busy_from_ical
from adapters.calendars.reader import Read, Reading, ReadResult
from core.calendars import BusyTimes
from core.commands import Provider
from core.people import PersonId
from core.time import Interval
from storage.repositories.connections import StoredConnection

SERVICE = "iCloud"


class CalDavCalendars:
    """The CalDAV provider: verifying credentials and reading busy times."""

    provider = Provider.ICLOUD

    def __init__(
        self, url: str, *, ca_bundle: str | None = None, timeout_seconds: float = 5
    ) -> None:
        self._url = url
        self._verify: bool | str = ca_bundle or True
        self._timeout = timeout_seconds

    def _client(self, username: str, password: str) -> AsyncDAVClient:
        return AsyncDAVClient(
            url=self._url,
            username=username,
            password=password,
            timeout=max(1, round(self._timeout)),
            ssl_verify_cert=self._verify,
            enable_rfc6764=False,
        )

    async def verify(self, apple_id: str, password: str) -> dict[str, Any]:
        """The secret to store once the server accepted ``apple_id`` and ``password``."""
        try:
            async with asyncio.timeout(self._timeout), self._client(apple_id, password) as client:
                principal = await client.get_principal()
                calendars = await client.get_calendars(principal)
        except AuthorizationError:
            raise WrongCredentials(
                "iCloud did not accept that Apple ID and app-specific password"
            ) from None
        except (TimeoutError, DAVError, OSError) as error:
            raise ProviderUnavailable(
                f"{SERVICE} could not be reached ({type(error).__name__})"
            ) from None
        if not calendars:
            raise ProviderError("that account has no calendars to read")
        return {"username": apple_id, "password": password}

    async def read(
        self, readings: Sequence[Reading], window: Interval, deadline: Deadline
    ) -> Mapping[PersonId, ReadResult]:
        results = await asyncio.gather(*(self._read_one(r, window, deadline) for r in readings))
        return {reading.person: result for reading, result in zip(readings, results, strict=True)}

    async def _read_one(self, reading: Reading, window: Interval, deadline: Deadline) -> ReadResult:
        secret = reading.connection.secret
        try:
            async with (
                asyncio.timeout(max(deadline.remaining(), 0.001)),
                self._client(secret["username"], secret["password"]) as client,
            ):
                principal = await client.get_principal()
                texts: list[str] = []
                for calendar in await client.get_calendars(principal):
                    found = await client.search_calendar(
                        calendar, event=True, start=window.start, end=window.end
                    )
                    texts.extend(item.data for item in found if item.data)
        except AuthorizationError:
            # The app-specific password was revoked at appleid.apple.com.
            return GrantRevoked("the app-specific password no longer works")
        except (TimeoutError, DAVError, OSError) as error:
            return ProviderUnavailable(f"{SERVICE} did not answer ({type(error).__name__})")
        return Read(BusyTimes(tuple(busy_from_ical(texts, window, reading.zone))))

    async def revoke(self, connection: StoredConnection) -> None:
        """Nothing to call: app-specific passwords are revoked by their owner at Apple."""
        del connection
