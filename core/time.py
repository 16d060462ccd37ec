"""Time primitives: half-open UTC intervals, wall-clock times of day, local days.

Everything Pairtime computes is in UTC. Local time enters only through
``zoneinfo`` when a rule speaks of a person's day ("not before 08:00") and when
a time is shown to a reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import InvalidInput

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """A half-open span of time ``[start, end)`` in UTC.

    Half-open means adjacent intervals do not overlap: a meeting may start at
    the very minute a busy block ends.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("interval bounds must be timezone-aware")
        if self.end < self.start:
            raise ValueError("interval ends before it starts")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True, slots=True, order=True)
class DayTime:
    """A wall-clock time of day as minutes after local midnight, 0 to 1440.

    Unlike :class:`datetime.time` it can say ``24:00``, the end of a day, which
    rules such as "after 3pm" (15:00 to 24:00) need.
    """

    minutes: int

    def __post_init__(self) -> None:
        if not 0 <= self.minutes <= MINUTES_PER_DAY:
            raise ValueError("a time of day lies between 00:00 and 24:00")

    @classmethod
    def parse(cls, text: str, *, field: str = "time") -> DayTime:
        """Read ``HH:MM`` (``24:00`` allowed), raising :class:`InvalidInput` naming ``field``."""
        hours, sep, minutes = text.strip().partition(":")
        if (
            not sep
            or not (_ascii_digits(hours) and _ascii_digits(minutes))
            or len(hours) > 2
            or len(minutes) != 2
            or int(minutes) >= 60
            or int(hours) * 60 + int(minutes) > MINUTES_PER_DAY
        ):
            raise InvalidInput(field, f"expected a time of day as HH:MM, got {quoted(text)}")
        return cls(int(hours) * 60 + int(minutes))

    @classmethod
    def of(cls, hour: int, minute: int = 0) -> DayTime:
        return cls(hour * 60 + minute)

    def on(self, day: date, zone: ZoneInfo) -> datetime:
        """This wall-clock time on ``day`` in ``zone``, as a UTC instant.

        A time the clocks skip (02:30 on a spring-forward night) or repeat
        resolves as ``zoneinfo`` does with ``fold=0``: the offset in force
        before the change.
        """
        whole_days, minute_of_day = divmod(self.minutes, MINUTES_PER_DAY)
        local = datetime.combine(
            day + timedelta(days=whole_days),
            time(minute_of_day // 60, minute_of_day % 60),
            tzinfo=zone,
        )
        return local.astimezone(UTC)

    def __str__(self) -> str:
        return f"{self.minutes // 60:02d}:{self.minutes % 60:02d}"


def _ascii_digits(text: str) -> bool:
    # str.isdigit() also takes "²" and other digits int() refuses.
    return text.isascii() and text.isdigit()


def quoted(text: str, limit: int = 60) -> str:
    """``text`` as a message shows it: quoted, escaped, and cut short if long."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def zone_named(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The IANA zone ``name``, or :class:`InvalidInput` naming ``field``."""
    try:
        return ZoneInfo(name)
    # OSError: a folder of the database ("Europe") or a name too long for a file.
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as error:
        raise InvalidInput(field, f"unknown time zone {quoted(name)}") from error


def parse_instant(text: str, *, field: str) -> datetime:
    """An ISO-8601 instant with an offset (``Z`` allowed), converted to UTC."""
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError) as error:
        raise InvalidInput(
            field, f"expected an ISO-8601 date and time, got {quoted(text)}"
        ) from error
    if value.tzinfo is None:
        raise InvalidInput(field, f"{quoted(text)} has no UTC offset; add Z or +HH:MM")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 is before the first representable instant
        raise InvalidInput(field, f"{quoted(text)} is out of range") from None


def format_instant(value: datetime) -> str:
    """UTC, second precision, with a ``Z`` suffix: the form every JSON output uses."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_day(day: date, zone: ZoneInfo) -> Interval:
    """The UTC span of one calendar day in ``zone``: 23 or 25 hours on clock-change days.

    All-day events become busy intervals over exactly this span.
    """
    return Interval(DayTime(0).on(day, zone), DayTime(MINUTES_PER_DAY).on(day, zone))


def local_dates(span: Interval, zone: ZoneInfo) -> list[date]:
    """Every calendar date in ``zone`` that ``span`` touches, in order."""
    first = span.start.astimezone(zone).date()
    last = span.end.astimezone(zone).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def intersect(left: list[Interval], right: list[Interval]) -> list[Interval]:
    """The intersection of two sorted lists of disjoint intervals, sorted and disjoint."""
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i].start, right[j].start)
        end = min(left[i].end, right[j].end)
        if start < end:
            result.append(Interval(start, end))
        if left[i].end <= right[j].end:
            i += 1
        else:
            j += 1
    return result


def describe(moment: datetime, zone: ZoneInfo) -> str:
    """A time for text shown to one reader, in their zone: "Tue 1 Dec, 14:00"."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"
