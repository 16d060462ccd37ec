"""A program's scheduling rules and a person's working hours.

Both speak in wall-clock terms ("08:00 to 18:00, no weekends") and are
applied in each participant's own time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.time import MINUTES_PER_DAY, DayTime, Interval, intersect, local_dates

ISO_WEEKDAYS = frozenset(range(1, 8))
WORKWEEK = frozenset(range(1, 6))


class AllDayEvents(StrEnum):
    """How an all-day event that its owner marked free (status ``all_day``) counts.

    Programs promise that an all-day event means "not available", yet Google and
    Outlook create all-day events marked free by default: ``busy`` keeps the
    promise, ``as_marked`` respects the event's own free/busy.
    """

    BUSY = "busy"
    AS_MARKED = "as_marked"


@dataclass(frozen=True, slots=True)
class Rules:
    """The engine's program settings. Defaults are those a new program gets."""

    earliest: DayTime = DayTime.of(8)
    latest: DayTime = DayTime.of(18)
    weekends: bool = False
    granularity_minutes: int = 30
    min_notice_minutes: int = 60
    buffer_minutes: int = 0
    tentative_is_busy: bool = True
    all_day_events: AllDayEvents = AllDayEvents.BUSY

    def __post_init__(self) -> None:
        if self.latest <= self.earliest:
            raise ValueError("the latest end of day must come after the earliest start")
        if self.granularity_minutes <= 0 or MINUTES_PER_DAY % self.granularity_minutes:
            raise ValueError("granularity must be a positive number of minutes dividing a day")
        if self.min_notice_minutes < 0 or self.buffer_minutes < 0:
            raise ValueError("notice and buffer cannot be negative")

    @property
    def granularity(self) -> timedelta:
        return timedelta(minutes=self.granularity_minutes)

    @property
    def min_notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """When a person works, on ISO weekdays (1 is Monday).

    In their own zone, unless ``zone`` says otherwise: a calendar may keep
    working hours in another zone than the one their chat profile gives.
    """

    start: DayTime
    end: DayTime
    days: frozenset[int] = field(default=WORKWEEK)
    zone: ZoneInfo | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("working hours must end after they start")
        if not self.days <= ISO_WEEKDAYS:
            raise ValueError("working days are ISO weekdays, 1 (Monday) to 7 (Sunday)")


def allowed_hours(
    span: Interval, zone: ZoneInfo, rules: Rules, working_hours: WorkingHours | None
) -> list[Interval]:
    """The parts of ``span`` a person may meet in, by the rules and their own hours.

    One interval per allowed local day, sorted; computed day by day in the
    person's zone, so a day on which the clocks change has its true length.
    """
    days = WORKWEEK if not rules.weekends else ISO_WEEKDAYS
    own_zone = working_hours.zone if working_hours is not None else None
    if working_hours is not None and own_zone is not None and own_zone != zone:
        return intersect(
            _daily(span, zone, days, rules.earliest, rules.latest),
            _daily(span, own_zone, working_hours.days, working_hours.start, working_hours.end),
        )
    start_of_day, end_of_day = rules.earliest, rules.latest
    if working_hours is not None:
        days = days & working_hours.days
        start_of_day = max(start_of_day, working_hours.start)
        end_of_day = min(end_of_day, working_hours.end)
    return _daily(span, zone, days, start_of_day, end_of_day)


def _daily(
    span: Interval, zone: ZoneInfo, days: frozenset[int], start_of_day: DayTime, end_of_day: DayTime
) -> list[Interval]:
    """``start_of_day`` to ``end_of_day`` in ``zone`` on each of ``days``, within ``span``."""
    if end_of_day <= start_of_day:
        return []
    result: list[Interval] = []
    for day in local_dates(span, zone):
        if day.isoweekday() not in days:
            continue
        start = max(start_of_day.on(day, zone), span.start)
        end = min(end_of_day.on(day, zone), span.end)
        if start < end:
            result.append(Interval(start, end))
    return result
