"""The JSON form of a slot request and its answer, as ``pairtime slots`` reads and writes it.

Every problem is reported as :class:`InvalidInput` naming the field by its
path (``participants[1].busy[0].end``), so an admin can fix the file.

Two readers keep one contract. The checking reader walks ``json.loads``'
output and names the first problem. A year of calendars is 100,000 busy
intervals, though, and checking each one in Python costs more than the rest
of the work together; so a fast reader goes first: ``msgspec`` decodes the
whole file in one pass into typed structures, the busy intervals into
columns, and the few remaining checks run over whole columns at once. The
fast reader hands each part to the same checks as the checking reader, and
where it cannot vouch for a result (a value of a shape it does not decode, or
any problem at all) it steps aside, and the checking reader gives its answer
and its first problem. So it only ever returns what the checking reader
would, and tests/unit/test_slots_json.py holds the two to that.

Bounds keep the work of one request small: see the ``MAX_`` constants.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import attrgetter, gt, is_
from typing import Any, TypeVar

import msgspec

from core.availability import (
    BusyColumns,
    BusyInterval,
    BusyStatus,
    Mode,
    Participant,
    SlotRequest,
    SlotTable,
)
from core.errors import InvalidInput
from core.rules import AllDayEvents, Rules, WorkingHours
from core.time import MINUTES_PER_DAY, DayTime, Interval, parse_instant, quoted, zone_named

T = TypeVar("T")

MAX_INPUT_BYTES = 64 * 1024 * 1024
MAX_WINDOW = timedelta(days=366)
MAX_PARTICIPANTS = 100
MAX_DURATION_MINUTES = MINUTES_PER_DAY
MAX_NOTICE_MINUTES = 366 * MINUTES_PER_DAY
MAX_BUFFER_MINUTES = MINUTES_PER_DAY
MAX_LIMIT = 1_000_000
# Start times the window holds on the grid: 366 days every 5 minutes. With at
# most MAX_PARTICIPANTS people, a `most` answer stays within ten million names.
MAX_STARTS = 366 * MINUTES_PER_DAY // 5
# Instants lie in [EARLIEST, LATEST): far from the ends of datetime's range,
# where moving an instant by an offset, a notice or a buffer would overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)

_RULE_FIELDS = {
    "earliest",
    "latest",
    "weekends",
    "granularity_minutes",
    "min_notice_minutes",
    "buffer_minutes",
    "tentative_is_busy",
    "all_day_events",
}

BusyReader = Callable[[Any, str], Sequence[BusyInterval]]


def parse_slot_request(data: bytes | str, *, now: datetime) -> SlotRequest:
    """Decode a request; ``now`` is used when the request does not say."""
    if len(data) > MAX_INPUT_BYTES:
        raise InvalidInput("input", f"is larger than {MAX_INPUT_BYTES // 1024 // 1024} MiB")
    fast = _fast_request(data, now)
    if fast is not None:
        return fast
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInput("input", f"not valid UTF-8 (byte {error.start + 1})") from None
    try:
        loaded = json.loads(data)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            "input", f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error
    except RecursionError:
        raise InvalidInput("input", "not valid here: nested too deeply") from None
    except ValueError:  # an integer of more than sys.get_int_max_str_digits() digits
        raise InvalidInput("input", "not valid here: a number is too long") from None
    return decode_slot_request(loaded, now=now)


def decode_slot_request(
    data: Any, *, now: datetime, read_busy: BusyReader | None = None
) -> SlotRequest:
    """The checking reader, over ``json.loads``' output; ``read_busy`` reads each busy list."""
    read_busy = read_busy or _busy_list
    request = _mapping(data, "request")
    for required in ("window", "duration_minutes", "participants"):
        if required not in request:
            raise InvalidInput(required, "is required")
    window = _interval(request["window"], "window")
    if window.duration > MAX_WINDOW:
        raise InvalidInput("window", f"is longer than {MAX_WINDOW.days} days")
    duration = _integer(request["duration_minutes"], "duration_minutes")
    if duration <= 0:
        raise InvalidInput("duration_minutes", "must be a positive number of minutes")
    if duration > MAX_DURATION_MINUTES:
        raise InvalidInput("duration_minutes", f"must be at most {MAX_DURATION_MINUTES} (a day)")
    participants_data = _list(request["participants"], "participants")
    if not participants_data:
        raise InvalidInput("participants", "needs at least one participant")
    if len(participants_data) > MAX_PARTICIPANTS:
        raise InvalidInput("participants", f"can be at most {MAX_PARTICIPANTS} people")
    participants = [
        _participant(item, f"participants[{index}]", read_busy)
        for index, item in enumerate(participants_data)
    ]
    seen: set[str] = set()
    for index, participant in enumerate(participants):
        if participant.id in seen:
            raise InvalidInput(
                f"participants[{index}].id", f"{quoted(participant.id)} appears twice"
            )
        seen.add(participant.id)
    limit = request.get("limit")
    if limit is not None:
        limit = _integer(limit, "limit")
        if limit < 0:
            raise InvalidInput("limit", "cannot be negative")
        if limit > MAX_LIMIT:
            raise InvalidInput("limit", f"must be at most {MAX_LIMIT}")
    mode_text = _optional(request, "mode", _string, default="all")
    try:
        mode = Mode(mode_text)
    except ValueError:
        raise InvalidInput("mode", f"expected 'all' or 'most', got {quoted(mode_text)}") from None
    now_text = request.get("now")
    rules = _rules(request.get("rules", {}))
    starts = window.duration // rules.granularity
    if starts > MAX_STARTS:
        raise InvalidInput(
            "rules.granularity_minutes",
            f"gives {starts} start times in the window, more than {MAX_STARTS} "
            "(366 days every 5 minutes): use a coarser grid or a shorter window",
        )
    return SlotRequest(
        window=window,
        duration=timedelta(minutes=duration),
        participants=participants,
        now=now if now_text is None else _instant(now_text, "now"),
        rules=rules,
        mode=mode,
        limit=limit,
    )


class _SlotOut(msgspec.Struct, gc=False):
    start: datetime
    end: datetime
    free: tuple[str, ...]
    busy: tuple[str, ...]
    unknown: tuple[str, ...]


class _AnswerOut(msgspec.Struct, gc=False):
    slots: list[_SlotOut]


_ENCODER = msgspec.json.Encoder()


def encode_slots(table: SlotTable, *, pretty: bool = False) -> bytes:
    """The answer as UTF-8 JSON ending in a newline: compact, or indented when ``pretty``.

    Times are UTC with a ``Z``, to the second: the engine's starts are UTC and
    on a grid of whole minutes from offsets in whole seconds.
    """
    rows = list(map(_SlotOut, table.starts, table.ends, table.free, table.busy, table.unknown))
    body = _ENCODER.encode(_AnswerOut(rows))
    if pretty:
        body = msgspec.json.format(body, indent=2)
    return body + b"\n"


def _rules(data: Any) -> Rules:
    rules = _mapping(data, "rules")
    unknown = sorted(set(rules) - _RULE_FIELDS)
    if unknown:
        name = unknown[0]
        shown = name if name.isprintable() and len(name) <= 60 else quoted(name)
        raise InvalidInput(f"rules.{shown}", "is not a known rule")
    defaults = Rules()

    def number(name: str, default: int, most: int) -> int:
        value = _optional(rules, name, _integer, default=default, prefix="rules.")
        if value < 0:
            raise InvalidInput(f"rules.{name}", "cannot be negative")
        if value > most:
            raise InvalidInput(f"rules.{name}", f"must be at most {most}")
        return value

    earliest = DayTime.parse(
        _optional(rules, "earliest", _string, default=str(defaults.earliest)),
        field="rules.earliest",
    )
    latest = DayTime.parse(
        _optional(rules, "latest", _string, default=str(defaults.latest)), field="rules.latest"
    )
    if latest <= earliest:
        raise InvalidInput("rules.latest", "must be later than rules.earliest")
    all_day_text = _optional(
        rules, "all_day_events", _string, default=defaults.all_day_events.value, prefix="rules."
    )
    try:
        all_day_events = AllDayEvents(all_day_text)
    except ValueError:
        raise InvalidInput(
            "rules.all_day_events", f"expected 'busy' or 'as_marked', got {quoted(all_day_text)}"
        ) from None
    granularity = _optional(
        rules,
        "granularity_minutes",
        _integer,
        default=defaults.granularity_minutes,
        prefix="rules.",
    )
    if granularity <= 0 or MINUTES_PER_DAY % granularity:
        raise InvalidInput(
            "rules.granularity_minutes", "must divide a day evenly (for example 15, 30 or 60)"
        )
    return Rules(
        earliest=earliest,
        latest=latest,
        weekends=_optional(rules, "weekends", _boolean, default=defaults.weekends, prefix="rules."),
        granularity_minutes=granularity,
        min_notice_minutes=number(
            "min_notice_minutes", defaults.min_notice_minutes, MAX_NOTICE_MINUTES
        ),
        buffer_minutes=number("buffer_minutes", defaults.buffer_minutes, MAX_BUFFER_MINUTES),
        tentative_is_busy=_optional(
            rules,
            "tentative_is_busy",
            _boolean,
            default=defaults.tentative_is_busy,
            prefix="rules.",
        ),
        all_day_events=all_day_events,
    )


def _participant(data: Any, path: str, read_busy: BusyReader) -> Participant:
    item = _mapping(data, path)
    if "id" not in item:
        raise InvalidInput(f"{path}.id", "is required")
    if "timezone" not in item:
        raise InvalidInput(f"{path}.timezone", "is required")
    busy = read_busy(item.get("busy", []), f"{path}.busy")
    hours_data = item.get("working_hours")
    return Participant(
        id=_text(item["id"], f"{path}.id"),
        timezone=zone_named(
            _string(item["timezone"], f"{path}.timezone"), field=f"{path}.timezone"
        ),
        calendar_connected=_optional(
            item, "calendar_connected", _boolean, default=False, prefix=f"{path}."
        ),
        busy=busy,
        working_hours=None
        if hours_data is None
        else _working_hours(hours_data, f"{path}.working_hours"),
    )


def _working_hours(data: Any, path: str) -> WorkingHours:
    hours = _mapping(data, path)
    for required in ("start", "end"):
        if required not in hours:
            raise InvalidInput(f"{path}.{required}", "is required")
    start = DayTime.parse(_string(hours["start"], f"{path}.start"), field=f"{path}.start")
    end = DayTime.parse(_string(hours["end"], f"{path}.end"), field=f"{path}.end")
    if end <= start:
        raise InvalidInput(f"{path}.end", "must be later than the start")
    days = [
        _integer(day, f"{path}.days")
        for day in _list(hours.get("days", [1, 2, 3, 4, 5]), f"{path}.days")
    ]
    if any(not 1 <= day <= 7 for day in days):
        raise InvalidInput(f"{path}.days", "are ISO weekdays from 1 (Monday) to 7 (Sunday)")
    return WorkingHours(start=start, end=end, days=frozenset(days))


def _busy_list(data: Any, path: str) -> list[BusyInterval]:
    return [_busy(entry, f"{path}[{index}]") for index, entry in enumerate(_list(data, path))]


def _busy(data: Any, path: str) -> BusyInterval:
    span = _interval(data, path)
    status_text = _optional(
        _mapping(data, path), "status", _string, default="busy", prefix=f"{path}."
    )
    try:
        status = BusyStatus(status_text)
    except ValueError:
        choices = ", ".join(status.value for status in BusyStatus)
        raise InvalidInput(f"{path}.status", f"expected one of {choices}") from None
    return BusyInterval(span.start, span.end, status)


def _interval(data: Any, path: str) -> Interval:
    item = _mapping(data, path)
    for bound in ("start", "end"):
        if bound not in item:
            raise InvalidInput(f"{path}.{bound}", "is required")
    start = _instant(item["start"], f"{path}.start")
    end = _instant(item["end"], f"{path}.end")
    if end < start:
        raise InvalidInput(f"{path}.end", "is before the start")
    return Interval(start, end)


def _instant(value: Any, path: str) -> datetime:
    instant = parse_instant(_string(value, path), field=path)
    if not EARLIEST <= instant < LATEST:
        raise InvalidInput(
            path, f"must lie between the years {EARLIEST.year} and {LATEST.year - 1}"
        )
    return instant


def _optional(
    data: Mapping[str, Any],
    key: str,
    read: Callable[[Any, str], T],
    *,
    default: T,
    prefix: str = "",
) -> T:
    return default if data.get(key) is None else read(data[key], prefix + key)


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(path, "must be a JSON object")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(path, "must be a JSON array")
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(path, "must be a string")
    return value


def _text(value: Any, path: str) -> str:
    """A string that can be written back out: JSON lets ``\\ud800`` through, UTF-8 does not."""
    text = _string(value, path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(path, "is not valid Unicode text") from None
    return text


def _integer(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(path, "must be a whole number")
    return value


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(path, "must be true or false")
    return value


# ---------------------------------------------------------------- the fast reader


class _BusyIn(msgspec.Struct, frozen=True, gc=False):
    start: str
    end: str
    status: BusyStatus = BusyStatus.BUSY


class _ParticipantIn(msgspec.Struct, frozen=True):
    # Everything but the busy list is handed to the checking reader as decoded.
    id: Any = msgspec.UNSET
    timezone: Any = msgspec.UNSET
    calendar_connected: Any = msgspec.UNSET
    working_hours: Any = msgspec.UNSET
    busy: list[_BusyIn] = []  # msgspec copies a default empty list


class _RequestIn(msgspec.Struct, frozen=True):
    participants: list[_ParticipantIn]
    window: Any = msgspec.UNSET
    duration_minutes: Any = msgspec.UNSET
    mode: Any = msgspec.UNSET
    limit: Any = msgspec.UNSET
    now: Any = msgspec.UNSET
    rules: Any = msgspec.UNSET


class _StepAside(Exception):
    """The fast reader cannot vouch for this input: the checking reader decides."""


_DECODER = msgspec.json.Decoder(_RequestIn)
_REQUEST_KEYS = [f for f in _RequestIn.__struct_fields__ if f != "participants"]
_PARTICIPANT_KEYS = [f for f in _ParticipantIn.__struct_fields__ if f != "busy"]
_BUSY_START = attrgetter("start")
_BUSY_END = attrgetter("end")
_BUSY_STATUS = attrgetter("status")
_TZINFO = attrgetter("tzinfo")


def _fast_request(data: bytes | str, now: datetime) -> SlotRequest | None:
    """The request, when the fast reader can vouch that the checking reader agrees; else None."""
    try:
        decoded = _DECODER.decode(data)
    # DecodeError covers ValidationError; RecursionError is msgspec's answer to deep nesting.
    except (msgspec.DecodeError, RecursionError):
        return None
    request = _present(decoded, _REQUEST_KEYS)
    request["participants"] = [
        _present(item, _PARTICIPANT_KEYS) | {"busy": item.busy} for item in decoded.participants
    ]
    try:
        return decode_slot_request(request, now=now, read_busy=_busy_columns)
    except (InvalidInput, _StepAside):
        return None  # the checking reader names the first problem, in its own order


def _present(struct: msgspec.Struct, keys: list[str]) -> dict[str, Any]:
    """The fields that the JSON object had, as json.loads would have given them."""
    return {key: value for key in keys if (value := getattr(struct, key)) is not msgspec.UNSET}


def _busy_columns(data: Any, _path: str) -> BusyColumns:
    """The busy list as columns, with every check of :func:`_busy` run over whole columns.

    msgspec has checked the shape (objects with string bounds and a known or
    absent status); what is left are the bounds' values.
    """
    entries: list[_BusyIn] = data
    try:
        starts = list(map(datetime.fromisoformat, map(_BUSY_START, entries)))
        ends = list(map(datetime.fromisoformat, map(_BUSY_END, entries)))
    except ValueError:
        raise _StepAside from None
    if any(map(is_, map(_TZINFO, starts), repeat(None))) or any(
        map(is_, map(_TZINFO, ends), repeat(None))
    ):
        raise _StepAside
    if any(map(gt, starts, ends)):
        raise _StepAside
    # Every start is at most its end: the earliest start and the latest end bound them all.
    if starts and not (min(starts) >= EARLIEST and max(ends) < LATEST):
        raise _StepAside
    return BusyColumns(starts, ends, list(map(_BUSY_STATUS, entries)))
