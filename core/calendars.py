"""What core knows of calendars: a connection's summary and the answer to "when is X busy?".

Tokens and passwords never enter core; they stay in the calendar adapters
and storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.availability import BusyInterval
from core.commands import Provider
from core.people import PersonId
from core.rules import WorkingHours


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"  # the grant was revoked or expired


@dataclass(frozen=True, slots=True)
class CalendarConnection:
    person: PersonId
    provider: Provider
    account: str | None  # the calendar's account address, shown back to its owner only
    status: ConnectionStatus
    connected_at: datetime
    last_sync: datetime | None = None


@dataclass(frozen=True, slots=True)
class BusyTimes:
    """A calendar was read: its busy blocks, and working hours where the provider knows them."""

    intervals: tuple[BusyInterval, ...]
    working_hours: WorkingHours | None = None


@dataclass(frozen=True, slots=True)
class NotConnected:
    """The person has no calendar connected (or it needs reconnecting)."""


@dataclass(frozen=True, slots=True)
class NeedsReconnect:
    """The calendar's grant was revoked or has expired.

    ``tell`` is True for the one read that discovered it, so its owner gets
    one message asking to reconnect, not one per request.
    """

    provider: Provider
    tell: bool = False


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A connected calendar could not be read in time; ``reason`` is safe to show."""

    reason: str


BusyResult = BusyTimes | NotConnected | NeedsReconnect | Unreadable
