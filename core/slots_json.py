"""The JSON form of a slot request and its answer, as ``pairtime slots`` reads and writes it.

Every problem is reported as :class:`InvalidInput` naming the field by its
path (``participants[1].busy[0].end``), so an admin can fix the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from core.availability import BusyInterval, BusyStatus, Mode, Participant, Slot, SlotRequest
from core.errors import InvalidInput
from core.rules import AllDayEvents, Rules, WorkingHours
from core.time import (
    MINUTES_PER_DAY,
    DayTime,
    Interval,
    format_instant,
    parse_instant,
    zone_named,
)

T = TypeVar("T")

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


def parse_slot_request(text: str, *, now: datetime) -> SlotRequest:
    """Decode a request; ``now`` is used when the request does not say."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            "input", f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error
    return decode_slot_request(data, now=now)


def decode_slot_request(data: Any, *, now: datetime) -> SlotRequest:
    request = _mapping(data, "request")
    for required in ("window", "duration_minutes", "participants"):
        if required not in request:
            raise InvalidInput(required, "is required")
    window = _interval(request["window"], "window")
    duration = _integer(request["duration_minutes"], "duration_minutes")
    if duration <= 0:
        raise InvalidInput("duration_minutes", "must be a positive number of minutes")
    participants_data = _list(request["participants"], "participants")
    if not participants_data:
        raise InvalidInput("participants", "needs at least one participant")
    participants = [
        _participant(item, f"participants[{index}]") for index, item in enumerate(participants_data)
    ]
    seen: set[str] = set()
    for index, participant in enumerate(participants):
        if participant.id in seen:
            raise InvalidInput(f"participants[{index}].id", f"{participant.id!r} appears twice")
        seen.add(participant.id)
    limit = request.get("limit")
    if limit is not None:
        limit = _integer(limit, "limit")
        if limit < 0:
            raise InvalidInput("limit", "cannot be negative")
    mode_text = _optional(request, "mode", _string, default="all")
    try:
        mode = Mode(mode_text)
    except ValueError:
        raise InvalidInput("mode", f"expected 'all' or 'most', got {mode_text!r}") from None
    now_text = request.get("now")
    return SlotRequest(
        window=window,
        duration=timedelta(minutes=duration),
        participants=participants,
        now=now if now_text is None else parse_instant(_string(now_text, "now"), field="now"),
        rules=_rules(request.get("rules", {})),
        mode=mode,
        limit=limit,
    )


def encode_slots(slots: list[Slot]) -> dict[str, Any]:
    return {
        "slots": [
            {
                "start": format_instant(slot.start),
                "end": format_instant(slot.end),
                "free": list(slot.free),
                "busy": list(slot.busy),
                "unknown": list(slot.unknown),
            }
            for slot in slots
        ]
    }


def _rules(data: Any) -> Rules:
    rules = _mapping(data, "rules")
    unknown = sorted(set(rules) - _RULE_FIELDS)
    if unknown:
        raise InvalidInput(f"rules.{unknown[0]}", "is not a known rule")
    defaults = Rules()

    def number(name: str, default: int) -> int:
        value = _optional(rules, name, _integer, default=default, prefix="rules.")
        if value < 0:
            raise InvalidInput(f"rules.{name}", "cannot be negative")
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
            "rules.all_day_events", f"expected 'busy' or 'as_marked', got {all_day_text!r}"
        ) from None
    granularity = number("granularity_minutes", defaults.granularity_minutes)
    if granularity == 0 or MINUTES_PER_DAY % granularity:
        raise InvalidInput(
            "rules.granularity_minutes", "must divide a day evenly (for example 15, 30 or 60)"
        )
    return Rules(
        earliest=earliest,
        latest=latest,
        weekends=_optional(rules, "weekends", _boolean, default=defaults.weekends, prefix="rules."),
        granularity_minutes=granularity,
        min_notice_minutes=number("min_notice_minutes", defaults.min_notice_minutes),
        buffer_minutes=number("buffer_minutes", defaults.buffer_minutes),
        tentative_is_busy=_optional(
            rules,
            "tentative_is_busy",
            _boolean,
            default=defaults.tentative_is_busy,
            prefix="rules.",
        ),
        all_day_events=all_day_events,
    )


def _participant(data: Any, path: str) -> Participant:
    item = _mapping(data, path)
    if "id" not in item:
        raise InvalidInput(f"{path}.id", "is required")
    if "timezone" not in item:
        raise InvalidInput(f"{path}.timezone", "is required")
    busy = [
        _busy(entry, f"{path}.busy[{index}]")
        for index, entry in enumerate(_list(item.get("busy", []), f"{path}.busy"))
    ]
    hours_data = item.get("working_hours")
    return Participant(
        id=_string(item["id"], f"{path}.id"),
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
    start = parse_instant(_string(item["start"], f"{path}.start"), field=f"{path}.start")
    end = parse_instant(_string(item["end"], f"{path}.end"), field=f"{path}.end")
    if end < start:
        raise InvalidInput(f"{path}.end", "is before the start")
    return Interval(start, end)


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


def _integer(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(path, "must be a whole number")
    return value


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(path, "must be true or false")
    return value
