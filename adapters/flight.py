"""Single flight: concurrent requests for the same thing share one run of the work.

A burst of requests about the same people (a poll's invitees, a channel's members) waits for
one read instead of starting one each. Neither ``cachetools`` nor ``async-lru`` fits here:
``cachetools`` has no notion of work in progress, and ``async-lru`` keys its calls on every
argument (Slack's client differs per request, so nothing would be shared), has no injectable
clock for its time-to-live, and caches answers we must not keep (a failed lookup). So the
caches are ``cachetools``' and what is in flight is kept here, for every caller alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class InFlight(Generic[K, V]):
    """The work under way, by key; one run may stand for several keys (a batch read)."""

    def __init__(self) -> None:
        self._running: dict[K, asyncio.Future[V]] = {}

    def __contains__(self, key: K) -> bool:
        return key in self._running

    def get(self, key: K) -> asyncio.Future[V] | None:
        return self._running.get(key)

    def start(self, keys: Iterable[K], work: Awaitable[V]) -> asyncio.Future[V]:
        """Run ``work`` as the one run for every key of ``keys``, until it is done."""
        running = asyncio.ensure_future(work)
        keys = list(keys)
        for key in keys:
            self._running[key] = running
        running.add_done_callback(lambda done: self._done(keys, done))
        return running

    async def run(self, key: K, work: Callable[[], Awaitable[V]]) -> V:
        """The result of the run for ``key`` under way, or of ``work()`` started now.

        Shielded: a caller that gives up (a cancelled request) leaves the run to the others.
        """
        running = self._running.get(key)
        if running is None:
            running = self.start([key], work())
        return await asyncio.shield(running)

    def _done(self, keys: list[K], done: asyncio.Future[V]) -> None:
        for key in keys:
            if self._running.get(key) is done:
                del self._running[key]
        if not done.cancelled():
            done.exception()  # retrieved: its waiters, if any are left, have it raised
