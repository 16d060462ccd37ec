"""Reading covered people through their organisation, for the calendar reader.

Who is covered comes from storage (``covering_many``). Each connection's people are
read in one call to its client (batched and bounded there), within the reader's
deadline. A mailbox outside the grant's reach is remembered for a day and reads as not
connected; a withdrawn grant is marked once (which enqueues the one message to the
program's admins) and its people read as not connected; nobody sees an error for either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence

from adapters.calendars.errors import ProviderError
from adapters.calendars.http import Deadline
from adapters.calendars.organisation.base import (
    AccessWithdrawn,
    NotCovered,
    OrganisationClient,
    OrgRead,
    OrgReading,
    OrgResult,
)
from core.calendars import BusyResult, BusyTimes, NotConnected, Unreadable
from core.organisation import (
    OrganisationConnection,
    OrganisationRefused,
    OrganisationSetup,
    OrgProvider,
    Verified,
)
from core.people import Person, PersonId
from core.ports import Clock, People
from core.scheduling.context import zone_of
from core.time import Interval
from storage.repositories.organisations import SqlOrganisations

log = logging.getLogger(__name__)

BACKSTOP = 0.5  # seconds past the deadline before a whole connection's read is abandoned


class OrganisationReader:
    """Covered people's busy times, and the admins' side (``core.ports.OrganisationAuthority``)."""

    def __init__(
        self,
        store: SqlOrganisations,
        people: People,
        clients: Mapping[OrgProvider, Callable[[], OrganisationClient]],
        clock: Clock,
    ) -> None:
        self._store = store
        self._people = people
        # Built on first use: each imports its provider's library (exchangelib, msal,
        # google-auth), which a server with no such connection never needs.
        self._factories = clients
        self._clients: dict[OrgProvider, OrganisationClient] = {}
        self._clock = clock

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()

    # ---------------------------------------------------------------- admins

    def consent_url(self, setup: OrganisationSetup) -> str | None:
        return self._client(setup.provider).consent_url(setup)

    async def verify(self, setup: OrganisationSetup) -> Verified:
        return await self._client(setup.provider).verify(setup)

    async def forget(self, connection: OrganisationConnection) -> None:
        client = self._clients.get(connection.provider)
        if client is not None:
            client.forget(connection)

    def writer(self, provider: OrgProvider) -> OrganisationClient | None:
        """The client of ``provider`` (built on first use), for the program account's
        events; None when this server has none for it."""
        if provider not in self._factories:
            return None
        return self._client(provider)

    def _client(self, provider: OrgProvider) -> OrganisationClient:
        client = self._clients.get(provider)
        if client is None:
            factory = self._factories.get(provider)
            if factory is None:
                raise OrganisationRefused(f"{provider.label} is not set up on this server")
            client = self._clients[provider] = factory()
        return client

    # ---------------------------------------------------------------- reading

    async def covering(self, people: Sequence[PersonId]) -> dict[PersonId, OrganisationConnection]:
        """Which of ``people`` an organisation connection reads (a client for it runs here)."""
        covered = await self._store.covering_many(people, self._clock.now())
        return {p: c for p, c in covered.items() if c.provider in self._factories}

    async def read(
        self,
        covered: Mapping[PersonId, OrganisationConnection],
        window: Interval,
        deadline: Deadline,
    ) -> dict[PersonId, BusyResult]:
        groups: dict[tuple[str, OrgProvider], list[PersonId]] = {}
        for person, connection in covered.items():
            groups.setdefault((connection.program, connection.provider), []).append(person)
        found = await self._people.many(list(covered))
        outcomes = await asyncio.gather(
            *(
                self._read_group(covered[people[0]], people, found, window, deadline)
                for people in groups.values()
            )
        )
        results: dict[PersonId, BusyResult] = {}
        for outcome in outcomes:
            results |= outcome
        return results

    async def _read_group(
        self,
        connection: OrganisationConnection,
        people: list[PersonId],
        found: Mapping[PersonId, Person],
        window: Interval,
        deadline: Deadline,
    ) -> dict[PersonId, BusyResult]:
        stored = await self._store.load(connection.program, connection.provider)
        if stored is None or stored.summary.connected_at != connection.connected_at:
            return dict.fromkeys(people, NotConnected())  # gone, replaced, or its key is lost
        readings = []
        for person in people:
            who = found.get(person)
            if who is not None and who.email:
                readings.append(OrgReading(person, who.email, zone_of(who.timezone, "UTC")))
        client = self._client(connection.provider)
        now = self._clock.now()
        try:
            # Each person's read stops at the deadline itself (those read by then are kept);
            # this is only the backstop for a client that would not.
            answers: Mapping[PersonId, OrgResult] = await asyncio.wait_for(
                client.read(OrgRead(stored, readings, window, deadline)),
                max(deadline.remaining(), 0.001) + BACKSTOP,
            )
        except AccessWithdrawn as error:
            if await self._store.revoked(connection, str(error), now):
                log.warning(
                    "the %s organisation connection of %s stopped working: %s",
                    connection.provider.value,
                    connection.program,
                    error,
                )
            return dict.fromkeys(people, NotConnected())
        except TimeoutError:
            answers = dict.fromkeys(
                people, ProviderError(f"{connection.provider.label} did not answer in time")
            )
        except Exception as error:  # noqa: BLE001 - one connection's surprise costs only its people
            answers = dict.fromkeys(
                people, ProviderError(f"{connection.provider.label} answered unexpectedly")
            )
            log.warning(
                "the %s organisation connection of %s could not be read: %s",
                connection.provider.value,
                connection.program,
                type(error).__name__,
            )
        results: dict[PersonId, BusyResult] = {}
        failures: list[str] = []
        for person in people:
            answer = answers.get(person)
            if isinstance(answer, BusyTimes):
                results[person] = answer
            elif isinstance(answer, NotCovered):
                await self._store.out_of_reach(connection.program, person, now)
                results[person] = NotConnected()
            elif isinstance(answer, ProviderError):
                failures.append(str(answer))
                results[person] = Unreadable(str(answer))
            else:
                results[person] = NotConnected()  # no address to read
        if any(isinstance(r, BusyTimes) for r in results.values()):
            await self._store.read(connection, now)
        elif failures:
            await self._store.failed(connection, failures[0], now)
        return results
