"""The busy-time reader: concurrency, timeouts, caching, refreshed tokens and revoked grants."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.calendars.cache import BusyCache
from adapters.calendars.errors import GrantRevoked, ProviderUnavailable
from adapters.calendars.http import Deadline
from adapters.calendars.reader import CalendarReader, Read, Reading, ReadResult
from core.availability import BusyInterval
from core.calendars import BusyTimes, ConnectionStatus, NeedsReconnect, NotConnected, Unreadable
from core.commands import Provider
from core.people import ChatIdentity, Person, PersonId, Platform, Profile, ProgramId
from core.time import Interval
from storage import migrate
from storage.crypto import generate_key
from storage.repositories.connections import StoredConnection
from storage.store import Storage
from tests.memory import FixedClock

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
WINDOW = Interval(NOW, NOW + timedelta(days=7))
BLOCK = BusyInterval(NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1))


@dataclass
class ScriptedProvider:
    """A provider client whose answers a test sets: busy blocks, failures, and when.

    Each read is announced on ``entered`` as it begins (the people it was asked for). With a
    ``gate`` it answers only once the test opens it; a ``late`` one, a minute later.
    """

    provider: Provider
    gate: asyncio.Event | None = None
    late: bool = False
    entered: asyncio.Queue[tuple[PersonId, ...]] = field(default_factory=asyncio.Queue)
    failure: dict[PersonId, ReadResult] = field(default_factory=dict)
    refreshed: dict[str, str] | None = None
    blocks: tuple[BusyInterval, ...] = (BLOCK,)
    calls: list[tuple[PersonId, ...]] = field(default_factory=list)
    windows: list[Interval] = field(default_factory=list)
    revoked: list[PersonId] = field(default_factory=list)

    async def read(
        self, readings: Sequence[Reading], window: Interval, deadline: Deadline
    ) -> Mapping[PersonId, ReadResult]:
        del deadline  # the script answers the same blocks for any window
        people = tuple(r.person for r in readings)
        self.calls.append(people)
        self.windows.append(window)
        self.entered.put_nowait(people)
        if self.late:
            await asyncio.sleep(60)  # far past the reader's timeout, which ends this read first
        if self.gate is not None:
            await self.gate.wait()
        return {
            r.person: self.failure.get(r.person, Read(BusyTimes(self.blocks), self.refreshed))
            for r in readings
        }

    async def revoke(self, connection: StoredConnection) -> None:
        self.revoked.append(connection.summary.person)


@pytest.fixture
async def storage(tmp_path: Path):
    store = Storage.open(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", [generate_key()])
    await migrate.upgrade(store.database)
    yield store
    await store.close()


async def connected(storage: Storage, name: str, provider: Provider) -> Person:
    program = ProgramId("slack:T1")
    await storage.programs.ensure(program, "P")
    person = await storage.people.remember(
        program,
        ChatIdentity(Platform.SLACK, "T1", name),
        Profile(name, timezone="Europe/Paris"),
    )
    await storage.connections.replace(person.id, provider, f"{name}@x", {"token": name}, NOW)
    return person


def reader(storage: Storage, *providers: ScriptedProvider, timeout: float = 5) -> CalendarReader:
    return CalendarReader(
        storage.connections,
        {p.provider: p for p in providers},
        FixedClock(NOW),
        timeout_seconds=timeout,
    )


async def test_each_provider_is_asked_once_concurrently_and_a_slow_one_costs_only_its_people(
    storage: Storage,
):
    google = ScriptedProvider(Provider.GOOGLE)
    late = ScriptedProvider(Provider.MICROSOFT, late=True)
    ana = await connected(storage, "ana", Provider.GOOGLE)
    ben = await connected(storage, "ben", Provider.GOOGLE)
    cy = await connected(storage, "cy", Provider.MICROSOFT)
    nobody = await storage.people.add_by_email("dee@example.org")
    # Google answers as soon as it is asked, however late that is on a busy machine; Microsoft
    # is cut off by the timeout (if it were not, its answer would come and fail the test).
    results = await reader(storage, google, late, timeout=0.05).busy_times(
        [ana.id, ben.id, cy.id, nobody.id], WINDOW
    )
    assert google.calls == [(ana.id, ben.id)]
    assert results[ana.id] == BusyTimes((BLOCK,))
    assert results[ben.id] == BusyTimes((BLOCK,))
    assert results[cy.id] == Unreadable("Microsoft 365 / Outlook.com did not answer in time")
    assert results[nobody.id] == NotConnected()
    summary = await storage.connections.get(ana.id)
    assert summary is not None
    assert summary.last_sync == NOW


async def test_results_are_cached_until_fresh_is_asked_or_the_person_reconnects(storage: Storage):
    google = ScriptedProvider(Provider.GOOGLE)
    ana = await connected(storage, "ana", Provider.GOOGLE)
    busy = reader(storage, google)
    await busy.busy_times([ana.id], WINDOW)
    await busy.busy_times([ana.id], WINDOW)
    assert len(google.calls) == 1
    await busy.busy_times([ana.id], WINDOW, fresh=True)
    assert len(google.calls) == 2
    # Reconnecting changes the connection's timestamp: the old entry no longer matches.
    await storage.connections.replace(ana.id, Provider.GOOGLE, "a@x", {"t": 1}, NOW + timedelta(1))
    await busy.busy_times([ana.id], WINDOW)
    assert len(google.calls) == 3


async def test_requests_within_the_hour_share_one_read_and_see_only_their_window(
    storage: Storage,
):
    early = BusyInterval(NOW + timedelta(minutes=10), NOW + timedelta(minutes=20))
    google = ScriptedProvider(Provider.GOOGLE, blocks=(early, BLOCK))
    ana = await connected(storage, "ana", Provider.GOOGLE)
    busy = reader(storage, google)
    week = timedelta(days=7)
    first = Interval(NOW + timedelta(minutes=7), NOW + timedelta(minutes=7) + week)
    later = Interval(NOW + timedelta(minutes=40), NOW + timedelta(minutes=40) + week)

    seen_first = await busy.busy_times([ana.id], first)
    seen_later = await busy.busy_times([ana.id], later)

    assert google.windows == [Interval(NOW, NOW + week + timedelta(hours=1))]  # whole hours
    assert seen_first[ana.id] == BusyTimes((early, BLOCK))
    assert seen_later[ana.id] == BusyTimes((BLOCK,))  # ten past ended before it began
    next_hour = Interval(NOW + timedelta(minutes=70), NOW + timedelta(minutes=70) + week)
    await busy.busy_times([ana.id], next_hour)
    assert len(google.windows) == 2
    assert google.windows[1].start == NOW + timedelta(hours=1)


async def test_requests_at_the_same_moment_wait_for_one_read_and_a_booking_reads_its_own(
    storage: Storage,
):
    gate = asyncio.Event()
    google = ScriptedProvider(Provider.GOOGLE, gate=gate)
    ana = await connected(storage, "ana", Provider.GOOGLE)
    ben = await connected(storage, "ben", Provider.GOOGLE)
    busy = reader(storage, google)

    first = asyncio.create_task(busy.busy_times([ana.id], WINDOW))
    assert await google.entered.get() == (ana.id,)  # ana's read is under way
    impatient = asyncio.create_task(busy.busy_times([ana.id, ben.id], WINDOW))
    assert await google.entered.get() == (ben.id,)  # it waits for ana's, and reads ben's
    patient = asyncio.create_task(busy.busy_times([ben.id, ana.id], WINDOW))
    booking = asyncio.create_task(busy.busy_times([ana.id], WINDOW, fresh=True))
    assert await google.entered.get() == (ana.id,)  # the booking's own read
    impatient.cancel()  # one caller giving up takes nothing from the others
    gate.set()
    results = await asyncio.gather(first, patient, booking)

    # Ben read once for both who asked; Ana once for the first three, once for the booking.
    assert sorted(google.calls) == sorted([(ana.id,), (ana.id,), (ben.id,)])
    assert results[0] == {ana.id: BusyTimes((BLOCK,))}
    assert results[1] == {ben.id: BusyTimes((BLOCK,)), ana.id: BusyTimes((BLOCK,))}
    assert results[2] == {ana.id: BusyTimes((BLOCK,))}
    assert impatient.cancelled()
    await busy.busy_times([ana.id, ben.id], WINDOW)
    assert len(google.calls) == 3  # both cached once read


async def test_a_read_that_fails_fails_for_everyone_waiting_on_it_and_is_tried_again(
    storage: Storage,
):
    gate = asyncio.Event()
    google = ScriptedProvider(Provider.GOOGLE, gate=gate)
    ana = await connected(storage, "ana", Provider.GOOGLE)
    ben = await connected(storage, "ben", Provider.GOOGLE)
    google.failure[ana.id] = ProviderUnavailable("Google Calendar is down")
    busy = reader(storage, google)

    first = asyncio.create_task(busy.busy_times([ana.id], WINDOW))
    assert await google.entered.get() == (ana.id,)
    second = asyncio.create_task(busy.busy_times([ana.id, ben.id], WINDOW))
    assert await google.entered.get() == (ben.id,)  # so it has joined the read of ana's
    gate.set()

    assert await first == {ana.id: Unreadable("Google Calendar is down")}
    assert (await second)[ana.id] == Unreadable("Google Calendar is down")
    assert google.calls == [(ana.id,), (ben.id,)]
    google.failure.clear()
    assert await busy.busy_times([ana.id], WINDOW) == {ana.id: BusyTimes((BLOCK,))}
    assert len(google.calls) == 3  # a failure is not cached


async def test_refreshed_tokens_are_stored_back_sealed(storage: Storage):
    google = ScriptedProvider(Provider.GOOGLE, refreshed={"token": "renewed"})
    ana = await connected(storage, "ana", Provider.GOOGLE)
    await reader(storage, google).busy_times([ana.id], WINDOW)
    assert (await storage.connections.load([ana.id])).opened[ana.id].secret == {"token": "renewed"}


async def test_a_revoked_grant_is_marked_and_told_once(storage: Storage):
    ana = await connected(storage, "ana", Provider.GOOGLE)
    google = ScriptedProvider(Provider.GOOGLE, failure={ana.id: GrantRevoked("revoked")})
    busy = reader(storage, google)
    first = await busy.busy_times([ana.id], WINDOW)
    assert first[ana.id] == NeedsReconnect(Provider.GOOGLE, tell=True)
    second = await busy.busy_times([ana.id], WINDOW)
    assert second[ana.id] == NeedsReconnect(Provider.GOOGLE, tell=False)
    assert len(google.calls) == 1  # a marked connection is not read again
    summary = await storage.connections.get(ana.id)
    assert summary is not None
    assert summary.status is ConnectionStatus.NEEDS_RECONNECT


async def test_a_provider_failure_is_reported_with_its_reason(storage: Storage):
    ana = await connected(storage, "ana", Provider.GOOGLE)
    google = ScriptedProvider(
        Provider.GOOGLE, failure={ana.id: ProviderUnavailable("Google is busy right now")}
    )
    results = await reader(storage, google).busy_times([ana.id], WINDOW)
    assert results[ana.id] == Unreadable("Google is busy right now")


async def test_disconnect_deletes_revokes_and_forgets(storage: Storage):
    google = ScriptedProvider(Provider.GOOGLE)
    ana = await connected(storage, "ana", Provider.GOOGLE)
    busy = reader(storage, google)
    await busy.busy_times([ana.id], WINDOW)
    removed = await busy.disconnect(ana.id)
    assert removed is not None
    assert removed.provider is Provider.GOOGLE
    assert google.revoked == [ana.id]
    assert await busy.get(ana.id) is None
    assert (await busy.busy_times([ana.id], WINDOW))[ana.id] == NotConnected()
    assert await busy.disconnect(ana.id) is None


def test_the_cache_expires_and_stays_bounded():
    now = [0.0]
    cache = BusyCache(ttl_seconds=600, max_entries=2, clock=lambda: now[0])
    keys = [BusyCache.key(PersonId(f"p{i}"), NOW, WINDOW) for i in range(3)]
    for key in keys:
        cache.put(key, BusyTimes(()))
    assert cache.get(keys[0]) is None  # the oldest went first
    assert cache.get(keys[2]) == BusyTimes(())
    now[0] = 601
    assert cache.get(keys[2]) is None


def test_a_cache_of_no_seconds_keeps_nothing():
    cache = BusyCache(ttl_seconds=0, clock=lambda: 0.0)
    key = BusyCache.key(PersonId("p"), NOW, WINDOW)
    cache.put(key, BusyTimes(()))
    assert cache.get(key) is None
