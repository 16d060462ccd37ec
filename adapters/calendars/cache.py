"""Busy times kept for two minutes, so a burst of requests reads each calendar once.

Long enough for a poll of fifty or a run of requests about one mentor; short enough that
someone who changes their calendar and asks again soon after sees the change. Booking
never uses it: the chosen time is always checked against a fresh read.

Entries are keyed by person, the moment their calendar was connected (a
reconnect, in any process, makes old entries unreachable) and the window.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from core.calendars import BusyTimes
from core.people import PersonId
from core.time import Interval

Key = tuple[PersonId, datetime, datetime, datetime]


class BusyCache:
    def __init__(
        self,
        ttl_seconds: float = 120,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, BusyTimes]] = OrderedDict()

    @staticmethod
    def key(person: PersonId, connected_at: datetime, window: Interval) -> Key:
        return (person, connected_at, window.start, window.end)

    def get(self, key: Key) -> BusyTimes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self._clock() - stored_at > self._ttl:
            del self._entries[key]
            return None
        return value

    def put(self, key: Key, value: BusyTimes) -> None:
        if self._ttl <= 0:  # no cache (PAIRTIME_CALENDAR_CACHE_SECONDS=0)
            return
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def forget(self, person: PersonId) -> None:
        """Drop everything about ``person`` (they connected or disconnected)."""
        for key in [key for key in self._entries if key[0] == person]:
            del self._entries[key]
