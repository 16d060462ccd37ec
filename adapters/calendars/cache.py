"""Busy times kept for two minutes, so a burst of requests reads each calendar once.

Long enough for a poll of fifty or a run of requests about one mentor; short enough that
someone who changes their calendar and asks again soon after sees the change. Booking
never uses it: the chosen time is always checked against a fresh read.

Entries are keyed by person, the moment their calendar was connected (a
reconnect, in any process, makes old entries unreachable) and the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from cachetools import TTLCache

from core.calendars import BusyTimes
from core.people import PersonId
from core.time import Interval

Key = tuple[PersonId, datetime, datetime, datetime]


class BusyCache:
    """A :class:`cachetools.TTLCache` (least recently used out first) that can forget a person."""

    def __init__(
        self,
        ttl_seconds: float = 120,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: TTLCache[Key, BusyTimes] | None = (
            TTLCache(max_entries, ttl_seconds, timer=clock) if ttl_seconds > 0 else None
        )  # None: no cache (PAIRTIME_CALENDAR_CACHE_SECONDS=0)

    @staticmethod
    def key(person: PersonId, connected_at: datetime, window: Interval) -> Key:
        return (person, connected_at, window.start, window.end)

    def get(self, key: Key) -> BusyTimes | None:
        return None if self._entries is None else self._entries.get(key)

    def put(self, key: Key, value: BusyTimes) -> None:
        if self._entries is not None:
            self._entries[key] = value

    def forget(self, person: PersonId) -> None:
        """Drop everything about ``person`` (they connected or disconnected)."""
        if self._entries is not None:
            for key in [key for key in self._entries if key[0] == person]:
                self._entries.pop(key, None)
