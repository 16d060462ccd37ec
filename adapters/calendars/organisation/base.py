"""What every kind of organisation connection gives the reader, and its shared limits."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from adapters.calendars.config import CalendarSettings
from adapters.calendars.errors import ProviderError
from adapters.calendars.http import Deadline
from core.calendars import BusyTimes
from core.organisation import OrganisationConnection, OrganisationSetup, OrgProvider, Verified
from core.people import PersonId
from core.time import Interval
from storage.repositories.organisations import StoredOrganisation

# At most this many requests in flight per provider, whatever the number of people read at
# once: organisation reads share one app's (or one account's) throttling budget.
IN_FLIGHT = 10

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OrgReading:
    """One covered person to read: their mailbox address and their own zone."""

    person: PersonId
    email: str
    zone: ZoneInfo


@dataclass(frozen=True, slots=True)
class NotCovered:
    """The provider says this mailbox is outside the grant's reach (an RBAC scope, an
    unknown user): the person reads as not connected, and no error is shown."""


class AccessWithdrawn(ProviderError):
    """The organisation withdrew the grant itself (a deleted key, removed delegation or
    consent, an expired secret, a changed password): nobody can be read through it."""


OrgResult = BusyTimes | NotCovered | ProviderError


@dataclass(frozen=True, slots=True)
class OrgRead:
    """One read through an organisation connection: its covered people, over ``window``.
    Each person's read stops at ``deadline``; those read by then are kept."""

    stored: StoredOrganisation
    readings: Sequence[OrgReading]
    window: Interval
    deadline: Deadline


class OrganisationClient(ABC):
    """One kind of organisation connection, for every program that has one; at most
    ``IN_FLIGHT`` of its requests at once (:meth:`_bounded`)."""

    provider: ClassVar[OrgProvider]

    def __init__(self, settings: CalendarSettings) -> None:
        self._settings = settings
        self._limit = asyncio.Semaphore(IN_FLIGHT)

    def consent_url(self, setup: OrganisationSetup) -> str | None:
        """Where the tenant's admin consents to the app; None where the grant is given in
        the provider's own console (or is an account's password)."""
        del setup
        return None

    @abstractmethod
    async def verify(self, setup: OrganisationSetup) -> Verified:
        """One token, and a read of the program account's calendar with it; raises
        OrganisationRefused saying what the administrator should fix."""

    @abstractmethod
    async def read(self, asked: OrgRead) -> Mapping[PersonId, OrgResult]:
        """Busy times of each reading; raises AccessWithdrawn when the grant is gone."""

    @abstractmethod
    def forget(self, connection: OrganisationConnection) -> None:
        """Drop tokens and sessions kept for ``connection``."""

    async def close(self) -> None:  # noqa: B027 - a client that keeps nothing open has nothing to do
        """Close what the client keeps open (the server is stopping)."""

    async def _bounded(self, work: Coroutine[Any, Any, T], deadline: Deadline) -> T | ProviderError:
        """``work`` once the provider's bound on requests lets it start, unless the deadline
        passes first: then that person is not read in time, and those read before still
        are (and are cached for the next request)."""
        try:
            await asyncio.wait_for(self._limit.acquire(), max(deadline.remaining(), 0.001))
        except TimeoutError:
            work.close()  # never started
            return ProviderError("the organisation's calendars did not all answer in time")
        try:
            return await work
        finally:
            self._limit.release()

    @staticmethod
    def _probe_window() -> Interval:
        """What ``verify`` reads of the program account's calendar: the next day."""
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        return Interval(start, start + timedelta(days=1))


def per_person(
    readings: Sequence[OrgReading], results: Sequence[OrgResult | BaseException], provider: str
) -> dict[PersonId, OrgResult]:
    """Each person's result of a read gathered with ``return_exceptions=True``: a withdrawn
    grant is raised for everyone; anything unforeseen is that person's error alone."""
    found: dict[PersonId, OrgResult] = {}
    for reading, result in zip(readings, results, strict=True):
        if isinstance(result, AccessWithdrawn):
            raise result
        if isinstance(result, BusyTimes | NotCovered | ProviderError):
            found[reading.person] = result
        elif isinstance(result, Exception):
            found[reading.person] = ProviderError(
                f"{provider} answered unexpectedly ({type(result).__name__})"
            )
        else:
            raise result  # a cancellation: not ours to swallow
    return found
