"""Reading everyone's busy times at once: core's busy-time source and calendar connections.

Providers are asked concurrently, each within the per-call timeout; a slow
or failing one costs only its own people, who are reported as unreadable.
Windows are widened to whole hours and results cached (see ``aligned`` and
``cache``), and requests arriving during a read wait for it; refreshed tokens
are stored back encrypted; a revoked grant marks the connection, once.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from adapters.calendars.cache import BusyCache, Key
from adapters.calendars.errors import BadAnswer, GrantRevoked, ProviderError
from adapters.calendars.http import Deadline
from adapters.flight import InFlight
from core.calendars import (
    BusyResult,
    BusyTimes,
    CalendarConnection,
    ConnectionStatus,
    NeedsReconnect,
    NotConnected,
    ReconnectCause,
    Unreadable,
    away_days,
)
from core.commands import Provider
from core.organisation import OrganisationConnection
from core.people import PersonId
from core.ports import Clock
from core.scheduling.context import zone_of
from core.time import Interval
from storage.repositories.connections import SqlConnections, StoredConnection

if TYPE_CHECKING:
    from adapters.calendars.organisation.reading import OrganisationReader

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Reading:
    """One person's calendar to read: their opened connection and their own zone."""

    person: PersonId
    connection: StoredConnection
    zone: ZoneInfo


@dataclass(frozen=True, slots=True)
class Read:
    busy: BusyTimes
    # Tokens the provider refreshed along the way, to store back (sealed).
    secret: dict[str, Any] | None = field(default=None, repr=False)


ReadResult = Read | ProviderError


class ProviderClient(Protocol):
    provider: Provider

    async def read(
        self, readings: Sequence[Reading], window: Interval, deadline: Deadline
    ) -> Mapping[PersonId, ReadResult]:
        """Busy times for each reading; a failure is returned per person, not raised."""
        ...

    async def revoke(self, connection: StoredConnection) -> None:
        """Give the grant back to the provider, where it allows; best effort."""
        ...


class EachPerson(ABC):
    """A provider client whose API reads one person's calendar a request (Google, Microsoft,
    CalDAV): everyone's reads at once, each in :meth:`_read_one`."""

    service: ClassVar[str]  # the provider's name, in a BadAnswer

    async def read(
        self, readings: Sequence[Reading], window: Interval, deadline: Deadline
    ) -> Mapping[PersonId, ReadResult]:
        """Whatever one person's read raises costs only that person, as a
        :class:`BadAnswer` (a parsing slip or a library's surprise on an answer nobody
        documented must not spoil the others' answer)."""
        outcomes = await asyncio.gather(
            *(self._read_one(r, window, deadline) for r in readings), return_exceptions=True
        )
        results: dict[PersonId, ReadResult] = {}
        for reading, outcome in zip(readings, outcomes, strict=True):
            if isinstance(outcome, Read | ProviderError):
                results[reading.person] = outcome
            elif isinstance(outcome, Exception):
                results[reading.person] = BadAnswer(self.service, None, type(outcome).__name__)
            else:
                raise outcome  # cancellation and the like are not a calendar's answer
        return results

    @abstractmethod
    async def _read_one(self, reading: Reading, window: Interval, deadline: Deadline) -> ReadResult:
        """One person's busy times; a failure the provider explains is returned, not raised."""


class CalendarReader:
    def __init__(
        self,
        connections: SqlConnections,
        clients: Mapping[Provider, ProviderClient],
        clock: Clock,
        *,
        timeout_seconds: float = 5.0,
        cache: BusyCache | None = None,
        organisations: OrganisationReader | None = None,
    ) -> None:
        self._organisations = organisations
        self._connections = connections
        self._clients = clients
        self._clock = clock
        self._timeout = timeout_seconds
        self.cache = cache or BusyCache()
        # Reads under way, by cache key: a burst of requests about the same people (a
        # poll's invitees, one mentor's mentees) waits for one read instead of starting more.
        self._reading: InFlight[Key, dict[PersonId, BusyResult]] = InFlight()

    async def get(self, person: PersonId) -> CalendarConnection | None:
        return await self._connections.get(person)

    async def disconnect(self, person: PersonId) -> CalendarConnection | None:
        removed = await self._connections.remove(person)
        self.cache.forget(person)
        if removed is None:
            return None
        client = self._clients.get(removed.summary.provider)
        if client is not None and removed.secret:
            try:
                await asyncio.wait_for(client.revoke(removed), self._timeout)
            except (ProviderError, TimeoutError):
                # The tokens are deleted here whatever the provider says.
                log.warning(
                    "could not revoke %s access for person %s at the provider",
                    removed.summary.provider.value,
                    person,
                )
        return removed.summary

    async def to_ask_to_reconnect(self, limit: int) -> list[CalendarConnection]:
        return await self._connections.to_ask_to_reconnect(limit)

    async def asked_to_reconnect(self, person: PersonId, now: datetime) -> bool:
        return await self._connections.asked_to_reconnect(person, now)

    def forget(self, person: PersonId) -> None:
        """Clear cached busy times after a connect (a disconnect clears them itself)."""
        self.cache.forget(person)

    async def busy_times(
        self, people: Sequence[PersonId], window: Interval, *, fresh: bool = False
    ) -> Mapping[PersonId, BusyResult]:
        asked, window = window, aligned(window)
        results = await self._busy_in(people, window, fresh=fresh)
        return {person: within(result, asked) for person, result in results.items()}

    async def _busy_in(
        self, people: Sequence[PersonId], window: Interval, *, fresh: bool
    ) -> dict[PersonId, BusyResult]:
        deadline = Deadline.after(self._timeout)
        # Summaries first: a cached answer needs no secret opened and no provider asked.
        summaries = await self._connections.summaries(people)
        # Without a working personal connection, someone may be read through their
        # organisation; their own connection, when they make one, takes precedence.
        candidates = [
            p
            for p in people
            if (s := summaries.get(p)) is None or s.status is ConnectionStatus.NEEDS_RECONNECT
        ]
        covered = (
            await self._organisations.covering(candidates)
            if self._organisations is not None and candidates
            else {}
        )
        results: dict[PersonId, BusyResult] = {}
        to_read: dict[PersonId, Key] = {}
        waiting: dict[PersonId, asyncio.Future[dict[PersonId, BusyResult]]] = {}
        for person in people:
            summary = summaries.get(person)
            organisation = covered.get(person)
            if organisation is not None:
                stamp = organisation.connected_at
            elif summary is None:
                results[person] = NotConnected()
                continue
            elif summary.status is ConnectionStatus.NEEDS_RECONNECT:
                results[person] = NeedsReconnect(summary.provider)  # its owner was told
                continue
            # A connection whose key is missing is read on: opening it is cheap, and once an
            # admin restores the key it works again.
            elif summary.provider not in self._clients:
                results[person] = Unreadable(f"{summary.provider.label} is not set up here")
                continue
            else:
                stamp = summary.connected_at
            key = BusyCache.key(person, stamp, window)
            cached = None if fresh else self.cache.get(key)
            if cached is not None:
                results[person] = cached
            elif not fresh and (reading := self._reading.get(key)) is not None:
                waiting[person] = reading  # somebody is reading it already
            else:
                to_read[person] = key
        if to_read:
            work = self._read_now(list(to_read), window, deadline, covered, to_read)
            # A fresh read is the booker's own: nobody else waits on it.
            keys = [] if fresh else to_read.values()
            waiting |= dict.fromkeys(to_read, self._reading.start(keys, work))
        for person, pending in waiting.items():
            # Shielded: if this caller gives up, the others waiting on the read still get it.
            results[person] = (await asyncio.shield(pending)).get(person, NotConnected())
        return results

    async def _read_now(
        self,
        to_read: list[PersonId],
        window: Interval,
        deadline: Deadline,
        covered: Mapping[PersonId, OrganisationConnection],
        keys: Mapping[PersonId, Key],
    ) -> dict[PersonId, BusyResult]:
        """Ask the providers for ``to_read``'s calendars, and cache what they answer."""
        through = {p: covered[p] for p in to_read if p in covered}
        if through and self._organisations is not None:
            organisation = asyncio.ensure_future(
                self._organisations.read(through, window, deadline)
            )
            try:
                results = await self._read_personal(
                    [p for p in to_read if p not in through], window, deadline
                )
            finally:
                read = await organisation
            for person, result in read.items():
                if isinstance(result, BusyTimes):
                    self.cache.put(keys[person], result)
                results[person] = result
            return results
        return await self._read_personal(to_read, window, deadline)

    async def _read_personal(
        self, to_read: list[PersonId], window: Interval, deadline: Deadline
    ) -> dict[PersonId, BusyResult]:
        results: dict[PersonId, BusyResult] = {}
        if not to_read:
            return results
        loaded = await self._connections.load(to_read)
        for person, provider in loaded.unopenable.items():
            results[person] = NeedsReconnect(provider, tell=True, cause=ReconnectCause.KEY_MISSING)
        for person, provider in loaded.still_unopenable.items():
            results[person] = NeedsReconnect(provider, cause=ReconnectCause.KEY_MISSING)
        pending: dict[Provider, list[Reading]] = {}
        # In the caller's order, not the database's: providers see a stable batch.
        for person in to_read:
            stored = loaded.opened.get(person)
            if stored is None:
                continue
            zone = zone_of(loaded.zones.get(person), "UTC")
            pending.setdefault(stored.summary.provider, []).append(Reading(person, stored, zone))
        for person in to_read:  # disconnected between the two queries
            results.setdefault(person, NotConnected())

        outcomes = await asyncio.gather(
            *(
                self._read(provider, readings, window, deadline)
                for provider, readings in pending.items()
            )
        )
        now = self._clock.now()
        synced: dict[PersonId, int] = {}
        for provider, readings, outcome in zip(pending, pending.values(), outcomes, strict=True):
            for reading in readings:
                result = outcome.get(reading.person)
                settled = await self._settle(reading, provider, result, window, now)
                results[reading.person] = settled
                if isinstance(settled, BusyTimes):
                    # What its owner's status tells them: how much of the next two weeks
                    # all-day or out-of-office events take ("why is my partner never free?").
                    synced[reading.person] = away_days(settled.intervals, reading.zone, window, now)
        await self._connections.synced(synced, now)
        return results

    async def _read(
        self, provider: Provider, readings: list[Reading], window: Interval, deadline: Deadline
    ) -> Mapping[PersonId, ReadResult]:
        try:
            return await asyncio.wait_for(
                self._clients[provider].read(readings, window, deadline),
                max(deadline.remaining(), 0.001),
            )
        except TimeoutError:
            failure = ProviderError(f"{provider.label} did not answer in time")
            return dict.fromkeys((r.person for r in readings), failure)
        except Exception as error:  # noqa: BLE001 - one provider's surprise costs only its people
            bad = BadAnswer(provider.label, None, type(error).__name__)
            return dict.fromkeys((r.person for r in readings), bad)

    async def _settle(
        self,
        reading: Reading,
        provider: Provider,
        result: ReadResult | None,
        window: Interval,
        now: datetime,
    ) -> BusyResult:
        person = reading.person
        if isinstance(result, Read):
            if result.secret is not None:
                await self._connections.update_secret(person, provider, result.secret, now)
            key = BusyCache.key(person, reading.connection.summary.connected_at, window)
            self.cache.put(key, result.busy)
            return result.busy
        if isinstance(result, GrantRevoked):
            told = await self._connections.needs_reconnect(person, provider)
            self.cache.forget(person)
            return NeedsReconnect(provider, tell=told)
        if isinstance(result, BadAnswer):
            # Once per failed read, without the body (it may hold event details) or a
            # traceback: what the provider got wrong and the HTTP status it said it with.
            log.warning(
                "%s calendar of person %s could not be read: %s (HTTP status %s)",
                result.service,
                person,
                result.detail,
                result.status if result.status is not None else "unknown",
            )
        reason = str(result) if result is not None else f"{provider.label} gave no answer"
        return Unreadable(reason)


def aligned(window: Interval) -> Interval:
    """``window`` widened to whole UTC hours. Requests "from now" differ by seconds; widened,
    those made within the same hour read, and cache, the same window: a burst of them (a
    poll of fifty, several people asking about one mentor) reads each calendar once."""
    start = window.start.replace(minute=0, second=0, microsecond=0)
    end = window.end.replace(minute=0, second=0, microsecond=0)
    if end < window.end:
        end += HOUR
    return Interval(start, end)


def within(result: BusyResult, window: Interval) -> BusyResult:
    """Only the busy blocks that touch ``window``: callers see what they asked for."""
    if not isinstance(result, BusyTimes):
        return result
    inside = tuple(b for b in result.intervals if b.start < window.end and b.end > window.start)
    if len(inside) == len(result.intervals):
        return result
    return replace(result, intervals=inside)
