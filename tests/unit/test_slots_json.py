"""The two readers of `pairtime slots` JSON agree, and every bound answers with one line.

The fast reader (msgspec, busy lists as columns) must never return what the
checking reader would not: on generated requests, valid and broken in many
ways, ``parse_slot_request`` gives exactly the checking reader's answer or
its first problem.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.availability import BusyColumns, BusyStatus, SlotRequest
from core.errors import InvalidInput
from core.slots_json import _fast_request, decode_slot_request, parse_slot_request

NOW = datetime(2026, 3, 1, tzinfo=UTC)

VALID_INSTANTS = [
    "2026-03-02T09:00:00Z",
    "2026-03-02T10:30:00+01:00",
    "2026-03-02T04:15:00-05:00",
    "2026-03-02 12:00:00+00:00",
    "2026-03-02T12:45:00.250Z",
    "2026-03-03T08:00:00-00:00",
]
# Each is refused by one reader or both, or read differently if care is not taken.
ODD_INSTANTS = [
    "2026-03-02T10:00:00z",  # msgspec reads a lowercase z; fromisoformat does not
    "2026-03-02T10:00:00.1234567Z",  # msgspec rounds seven digits; fromisoformat cuts
    "2026-03-02T10:00Z",  # no seconds: only fromisoformat
    "20260302T100000Z",  # basic format: only fromisoformat
    "2026-03-02T10:00:00",  # no offset
    "2026-03-02T10:00:00+01:00:30",
    "0001-01-01T00:00:00+05:00",  # before the first instant datetime can hold
    "9999-12-31T23:59:59-05:00",
    "1899-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "next tuesday",
    "",
]
STATUSES = [status.value for status in BusyStatus]


ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(
        [*ODD_INSTANTS, *VALID_INSTANTS, "²:00", "7pm", "24:00", "Europe", "\ud800", "away"]
    ),
    st.sampled_from([0, -1, 7, 8, 45, 1441, 10**30, "busy", "most", "as_marked", [0, 8]]),
)


@st.composite
def valid_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Requests the checking reader accepts, in every shape it allows."""

    def optional(document: dict[str, Any], key: str, value: st.SearchStrategy[Any]) -> None:
        if draw(st.booleans()):
            document[key] = draw(value)

    def span() -> dict[str, Any]:
        pair = draw(st.lists(st.sampled_from(VALID_INSTANTS), min_size=2, max_size=2))
        start, end = sorted(pair, key=datetime.fromisoformat)
        return {"start": start, "end": end}

    people = []
    for name in draw(
        st.lists(st.sampled_from(["ana", "ben", "cy", "dee"]), min_size=1, unique=True)
    ):
        person: dict[str, Any] = {
            "id": name,
            "timezone": draw(st.sampled_from(["Europe/London", "America/New_York", "UTC"])),
        }
        optional(person, "calendar_connected", st.booleans())
        busy = [span() for _ in range(draw(st.integers(0, 4)))]
        for entry in busy:
            optional(entry, "status", st.sampled_from([*STATUSES, None]))
        optional(person, "busy", st.just(busy))
        hours = {"start": "08:00", "end": draw(st.sampled_from(["17:00", "24:00"]))}
        optional(hours, "days", st.sets(st.integers(1, 7), min_size=1).map(sorted))
        optional(person, "working_hours", st.sampled_from([None, hours]))
        people.append(person)
    rules: dict[str, Any] = {}
    optional(rules, "earliest", st.sampled_from(["07:00", "08:00", None]))
    optional(rules, "latest", st.sampled_from(["18:00", "24:00"]))
    optional(rules, "weekends", st.booleans())
    optional(rules, "granularity_minutes", st.sampled_from([15, 30, 45, 90]))
    optional(rules, "min_notice_minutes", st.sampled_from([0, 60]))
    optional(rules, "buffer_minutes", st.sampled_from([0, 10]))
    optional(rules, "tentative_is_busy", st.booleans())
    optional(rules, "all_day_events", st.sampled_from(["busy", "as_marked"]))
    document: dict[str, Any] = {
        "window": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-05T00:00:00+01:00"},
        "duration_minutes": draw(st.sampled_from([30, 60])),
        "participants": people,
    }
    optional(document, "rules", st.just(rules))
    optional(document, "mode", st.sampled_from(["all", "most", None]))
    optional(document, "limit", st.sampled_from([None, 0, 5]))
    optional(document, "now", st.sampled_from([None, "2026-03-01T12:00:00Z"]))
    optional(document, "note", st.just("a key no reader knows"))
    return document


def places(document: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in ``document``, the places a change can go."""
    found = []
    children = document.items() if isinstance(document, dict) else enumerate(document)
    for key, value in list(children):
        found.append((document, key))
        if isinstance(value, dict | list):
            found.extend(places(value))
    return found


@st.composite
def requests(draw: st.DrawFn) -> Any:
    """A valid request with up to three things changed: replaced, removed or swapped."""
    document = draw(valid_requests())
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
        spots = places(document)
        # Half the changes go to the bounds and statuses of intervals, where the readers differ.
        bounds = [(c, k) for c, k in spots if k in {"start", "end", "status"}]
        use_bounds = bool(bounds) and draw(st.booleans())
        container, key = draw(st.sampled_from(bounds if use_bounds else spots))
        action = draw(st.sampled_from(["replace", "replace", "remove", "swap"]))
        if action == "remove" and isinstance(container, dict):
            del container[key]
        elif (
            action == "swap" and isinstance(container, dict) and {"start", "end"} <= set(container)
        ):
            container["start"], container["end"] = container["end"], container["start"]
        elif key in {"start", "end", "now"} and draw(st.integers(0, 4)):
            container[key] = draw(st.sampled_from(ODD_INSTANTS))
        else:
            container[key] = draw(ODD_VALUES)
    return document


def encoded(document: Any, ascii_only: bool) -> bytes:
    return json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def comparable(request: SlotRequest) -> tuple[Any, ...]:
    """Everything the engine reads, with instants as instants whatever their offset."""
    people = tuple(
        (
            p.id,
            p.timezone.key,
            p.calendar_connected,
            tuple((b.start, b.end, b.status) for b in p.busy),
            p.working_hours,
        )
        for p in request.participants
    )
    return (
        request.window,
        request.duration,
        people,
        request.now,
        request.rules,
        request.mode,
        request.limit,
    )


def checking_reader(data: bytes) -> tuple[str, Any]:
    """What the checking reader alone answers: a request, or its first problem."""
    try:
        return ("ok", comparable(decode_slot_request(json.loads(data.decode()), now=NOW)))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ("not json", None)
    except InvalidInput as error:
        return ("error", str(error))


def both_readers(data: bytes) -> tuple[str, Any]:
    try:
        return ("ok", comparable(parse_slot_request(data, now=NOW)))
    except InvalidInput as error:
        if error.field == "input":
            return ("not json", None)
        return ("error", str(error))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), st.booleans())
def test_the_fast_reader_never_answers_otherwise_than_the_checking_reader(
    document: Any, ascii_only: bool
):
    data = encoded(document, ascii_only)
    assert both_readers(data) == checking_reader(data)


@pytest.mark.parametrize("instant", ODD_INSTANTS + VALID_INSTANTS)
@pytest.mark.parametrize(
    "places",
    [
        ["window__start"],
        ["window__end"],
        ["now"],
        ["participants__0__busy__0__start"],
        ["participants__0__busy__0__end"],
        ["participants__0__busy__0__start", "participants__0__busy__0__end"],
    ],
)
def test_each_odd_instant_in_each_place_reads_the_same_either_way(places: list[str], instant: str):
    data = encoded(request_with(**dict.fromkeys(places, instant)), ascii_only=True)
    assert both_readers(data) == checking_reader(data)


@st.composite
def common_requests(draw: st.DrawFn) -> dict[str, Any]:
    """The shape calendars export: every field well formed."""
    people = [
        {
            "id": name,
            "timezone": draw(st.sampled_from(["Europe/London", "America/New_York"])),
            "calendar_connected": True,
            "busy": [
                {
                    "start": draw(st.sampled_from(VALID_INSTANTS[:3])),
                    "end": "2026-03-04T10:00:00Z",
                    "status": draw(st.sampled_from(STATUSES)),
                }
                for _ in range(draw(st.integers(0, 5)))
            ],
        }
        for name in draw(st.lists(st.sampled_from(["ana", "ben", "cy"]), min_size=1, unique=True))
    ]
    return {
        "window": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-06T00:00:00Z"},
        "duration_minutes": 30,
        "mode": draw(st.sampled_from(["all", "most"])),
        "participants": people,
    }


@settings(max_examples=100, deadline=None)
@given(common_requests())
def test_the_fast_reader_takes_the_common_shape_itself(document: dict[str, Any]):
    data = encoded(document, ascii_only=True)
    fast = _fast_request(data, NOW)
    assert fast is not None  # not handed on to the checking reader
    assert all(isinstance(p.busy, BusyColumns) for p in fast.participants)
    assert comparable(fast) == checking_reader(data)[1]


def request_with(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "window": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-09T00:00:00Z"},
        "duration_minutes": 30,
        "participants": [
            {
                "id": "ana",
                "timezone": "Europe/London",
                "calendar_connected": True,
                "busy": [{"start": "2026-03-02T10:00:00Z", "end": "2026-03-02T11:00:00Z"}],
            }
        ],
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        target: Any = document
        for key in parents:
            target = target[int(key)] if key.isdigit() else target.setdefault(key, {})
        target[last] = value
    return document


BOUNDS = [
    ({"window__end": "2027-03-04T00:00:00Z"}, "window: is longer than 366 days"),
    ({"window__end": "2126-03-02T00:00:00Z"}, "window: is longer than 366 days"),
    (
        {"window__start": "0001-01-01T00:00:00+05:00"},
        "window.start: '0001-01-01T00:00:00+05:00' is out of range",
    ),
    (
        {"window__end": "9999-12-31T23:59:59-05:00"},
        "window.end: '9999-12-31T23:59:59-05:00' is out of range",
    ),
    (
        {"window__start": "1899-12-31T00:00:00Z"},
        "window.start: must lie between the years 1900 and 2999",
    ),
    ({"now": "3000-01-01T00:00:00Z"}, "now: must lie between the years 1900 and 2999"),
    (
        {"participants__0__busy__0__start": "0001-01-01T00:00:00Z"},
        "participants[0].busy[0].start: must lie between the years 1900",
    ),
    ({"duration_minutes": 10**30}, "duration_minutes: must be at most 1440 (a day)"),
    ({"duration_minutes": 1441}, "duration_minutes: must be at most 1440 (a day)"),
    ({"limit": 10**30}, "limit: must be at most 1000000"),
    ({"rules__min_notice_minutes": 10**30}, "rules.min_notice_minutes: must be at most 527040"),
    ({"rules__buffer_minutes": 10**12}, "rules.buffer_minutes: must be at most 1440"),
    ({"rules__granularity_minutes": 10**30}, "rules.granularity_minutes: must divide a day"),
    ({"rules__granularity_minutes": -30}, "rules.granularity_minutes: must divide a day"),
    (
        {"window__end": "2027-03-02T00:00:00Z", "rules__granularity_minutes": 1},
        "rules.granularity_minutes: gives 525600 start times in the window, more than 105408",
    ),
    (
        {"participants": [{"id": f"p{i}", "timezone": "UTC"} for i in range(101)]},
        "participants: can be at most 100 people",
    ),
    ({"participants__0__id": "\ud800"}, "participants[0].id: is not valid Unicode text"),
    (
        {"participants__0__timezone": "Europe"},
        "participants[0].timezone: unknown time zone 'Europe'",
    ),
    (
        {"participants__0__timezone": "x" * 5000},
        "participants[0].timezone: unknown time zone 'xxxxx",
    ),
    ({"rules__earliest": "²:00"}, "rules.earliest: expected a time of day as HH:MM, got '²:00'"),
    ({"rules__latest": "9" * 5000 + ":00"}, "rules.latest: expected a time of day as HH:MM"),
    ({"rules__line\nbreak": 1}, "rules.'line\\nbreak': is not a known rule"),
]


@pytest.mark.parametrize(("changes", "message"), BOUNDS)
def test_every_bound_is_one_line_naming_its_field(changes: dict[str, Any], message: str):
    with pytest.raises(InvalidInput) as raised:
        parse_slot_request(encoded(request_with(**changes), ascii_only=True), now=NOW)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert len(str(raised.value)) < 300


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "input: not valid here: nested too deeply"),
        (b'{"window": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "input: not valid here: nested"),
        (
            b'{"duration_minutes": ' + b"9" * 5000 + b"}",
            "input: not valid here: a number is too long",
        ),
        (b'{"id": "\xff"}', "input: not valid UTF-8 (byte 9)"),
        (b" " * (64 * 1024 * 1024 + 1), "input: is larger than 64 MiB"),
    ],
)
def test_input_that_is_not_usable_json_is_one_line(data: bytes, message: str):
    with pytest.raises(InvalidInput) as raised:
        parse_slot_request(data, now=NOW)
    assert str(raised.value).startswith(message)


def test_a_busy_list_as_columns_reads_as_intervals_and_keeps_the_invariant():
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    columns = BusyColumns([start, start], [start + timedelta(hours=1), start], [BusyStatus.OOF] * 2)
    assert len(columns) == 2
    assert columns[0].end - columns[0].start == timedelta(hours=1)
    assert columns[0].status is BusyStatus.OOF
    assert list(columns[1:]) == [columns[1]]
    with pytest.raises(ValueError, match="cannot end before it starts"):
        BusyColumns([start], [start - timedelta(minutes=1)], [BusyStatus.BUSY])
