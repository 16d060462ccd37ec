"""What core knows of calendars: a connection's summary and the answer to "when is X busy?".

Tokens and passwords never enter core; they stay in the calendar adapters
and storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.availability import BusyInterval, BusyStatus
from core.commands import Provider
from core.people import PersonId
from core.rules import WorkingHours
from core.time import Interval, local_day

LOOK_AHEAD_DAYS = 14
# A day counts as taken when all-day or out-of-office events cover these hours of it.
AWAY_HOURS = (time(9), time(17))


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"  # the grant was revoked or expired
    # None of the configured encryption keys opens the stored secret: an admin can restore the
    # key (the connection then works again), or its owner can connect again.
    KEY_MISSING = "key_missing"


@dataclass(frozen=True, slots=True)
class CalendarConnection:
    person: PersonId
    provider: Provider
    account: str | None  # the account's address masked (m•••@icloud.com), for its owner
    status: ConnectionStatus
    connected_at: datetime
    last_sync: datetime | None = None
    # The grant cannot see events marked free (a Google calendar connected before Pairtime
    # read events): all-day events are missed until its owner reconnects.
    misses_free_events: bool = False
    # Of the next LOOK_AHEAD_DAYS days, how many the last read found taken by all-day or
    # out-of-office events (None until a read).
    away_days: int | None = None


@dataclass(frozen=True, slots=True)
class BusyTimes:
    """A calendar was read: its busy blocks, and working hours where the provider knows them."""

    intervals: tuple[BusyInterval, ...]
    working_hours: WorkingHours | None = None


@dataclass(frozen=True, slots=True)
class NotConnected:
    """The person has no calendar connected (or it needs reconnecting)."""


class ReconnectCause(StrEnum):
    """Why a calendar cannot be read until something changes: what its owner is told."""

    REVOKED = "revoked"  # the grant was revoked or has expired at the provider
    KEY_MISSING = "key_missing"  # this server cannot decrypt what it stored


@dataclass(frozen=True, slots=True)
class NeedsReconnect:
    """The calendar cannot be read until it is connected again (or, for a missing key, the
    key is restored).

    ``tell`` is True for the one read that discovered it, so its owner gets
    one message asking to reconnect, not one per request.
    """

    provider: Provider
    tell: bool = False
    cause: ReconnectCause = ReconnectCause.REVOKED


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A connected calendar could not be read in time; ``reason`` is safe to show."""

    reason: str


BusyResult = BusyTimes | NotConnected | NeedsReconnect | Unreadable


def away_days(
    intervals: Iterable[BusyInterval], zone: ZoneInfo, window: Interval, now: datetime
) -> int:
    """How many of the next :data:`LOOK_AHEAD_DAYS` days, from today in ``zone``, all-day
    or out-of-office events take from 09:00 to 17:00 (today: from now).

    All-day means an all-day event (``all_day``, or a block over the whole local day),
    whatever the program's rule then makes of it. Days whose working hours ``window``
    (what was read) does not cover are not counted: a short read never exaggerates.
    """
    today = now.astimezone(zone).date()
    blocks = list(intervals)
    taken = 0
    for offset in range(LOOK_AHEAD_DAYS):
        day = today + timedelta(days=offset)
        start = max(datetime.combine(day, AWAY_HOURS[0], zone), now)  # today: what is left
        end = datetime.combine(day, AWAY_HOURS[1], zone)
        if end <= start:
            continue  # today's working hours are over
        hours = Interval(start, end)
        if not window.contains(hours):
            continue
        whole = local_day(day, zone)
        spans = sorted(
            (b.start, b.end)
            for b in blocks
            if b.start < hours.end
            and b.end > hours.start
            and (
                b.status in (BusyStatus.OOF, BusyStatus.ALL_DAY)
                or (
                    b.status in (BusyStatus.BUSY, BusyStatus.TENTATIVE)
                    and b.start <= whole.start
                    and b.end >= whole.end
                )
            )
        )
        reached = hours.start
        for start, end in spans:
            if start > reached:
                break
            reached = max(reached, end)
        if reached >= hours.end:
            taken += 1
    return taken
