"""`pairtime slots`: JSON in, JSON out, one clear line on bad input.

Most tests call the command's ``main`` in this process with its standard
streams swapped, so that hundreds of generated inputs stay fast; a few run
the installed command as a process, for what only a process shows.
"""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.cli import main
from tests.support import run_cli, run_pairtime


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def slots(stdin: str | bytes, *args: str) -> Ran:
    """``pairtime slots ARGS`` run in this process, reading ``stdin``."""
    data = stdin.encode("utf-8", "surrogatepass") if isinstance(stdin, str) else stdin
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    saved, sys.stdin = sys.stdin, io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["slots", *args])
    finally:
        sys.stdin = saved
    out.flush()
    return Ran(code, out.buffer.getvalue().decode(), err.getvalue())


EXAMPLE = {
    "now": "2026-03-02T09:00:00Z",
    "window": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-07T00:00:00Z"},
    "duration_minutes": 30,
    "mode": "all",
    "limit": 10,
    "rules": {
        "earliest": "08:00",
        "latest": "18:00",
        "weekends": False,
        "granularity_minutes": 30,
        "min_notice_minutes": 60,
        "buffer_minutes": 0,
        "tentative_is_busy": True,
        "all_day_events": "busy",
    },
    "participants": [
        {
            "id": "maria",
            "timezone": "Europe/London",
            "calendar_connected": True,
            "working_hours": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"},
            "busy": [
                {"start": "2026-03-02T13:00:00Z", "end": "2026-03-02T14:00:00Z", "status": "busy"}
            ],
        },
        {"id": "sam", "timezone": "America/New_York", "calendar_connected": False, "busy": []},
    ],
}


def test_the_issue_example_from_standard_input_of_the_installed_command():
    result = run_pairtime(["slots"], stdin=json.dumps(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1  # compact: one line
    slots = json.loads(result.stdout)["slots"]
    assert len(slots) == 10
    assert slots[0] == {
        "start": "2026-03-02T14:00:00Z",  # maria is busy 13:00-14:00
        "end": "2026-03-02T14:30:00Z",
        "free": ["maria"],
        "busy": [],
        "unknown": ["sam"],
    }
    assert [slot["start"] for slot in slots[5:7]] == [
        "2026-03-02T16:30:00Z",
        "2026-03-03T13:00:00Z",  # next day, from sam's 08:00 in New York
    ]


def test_minimal_request_from_a_file_uses_defaults(tmp_path: Path):
    request = {
        "now": "2026-03-01T00:00:00Z",
        "window": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"},
        "duration_minutes": 60,
        "participants": [{"id": "a", "timezone": "UTC"}],
    }
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    result = slots(b"", "--input", str(path))
    assert result.returncode == 0, result.stderr
    starts = [slot["start"][11:16] for slot in json.loads(result.stdout)["slots"]]
    assert starts[0] == "08:00"
    assert starts[-1] == "17:00"
    assert len(starts) == 19  # 08:00 to 17:00 every 30 minutes


@pytest.mark.parametrize(("rule", "blocked"), [(None, True), ("busy", True), ("as_marked", False)])
def test_an_all_day_event_marked_free_counts_as_the_rule_says(rule: str | None, blocked: bool):
    request = json.loads(json.dumps(EXAMPLE))
    del request["limit"]
    rules = request["rules"]
    if rule is None:
        del rules["all_day_events"]  # the default is the program's promise: busy
    else:
        rules["all_day_events"] = rule
    # Tuesday 3 March, all day in London.
    request["participants"][0]["busy"] = [
        {"start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z", "status": "all_day"}
    ]
    result = slots(json.dumps(request))
    assert result.returncode == 0, result.stderr
    days = {slot["start"][:10] for slot in json.loads(result.stdout)["slots"]}
    assert ("2026-03-03" not in days) is blocked
    assert {"2026-03-02", "2026-03-04"} <= days


def broken(change: str) -> str:
    data = json.loads(json.dumps(EXAMPLE))
    exec(change, {"data": data})
    return json.dumps(data)


BAD_INPUTS = [
    ("{not json", "input: not valid JSON (line 1, column 2"),
    (
        broken("data['participants'][1]['timezone'] = 'Mars/Olympus'"),
        "participants[1].timezone: unknown time zone 'Mars/Olympus'",
    ),
    (broken("data['window']['end'] = '2026-03-01T00:00:00Z'"), "window.end: is before the start"),
    (broken("data['duration_minutes'] = -30"), "duration_minutes: must be a positive number"),
    (
        broken("del data['participants'][0]['busy'][0]['end']"),
        "participants[0].busy[0].end: is required",
    ),
    (broken("data['mode'] = 'some'"), "mode: expected 'all' or 'most'"),
    (broken("data['rules']['earliest'] = '8am'"), "rules.earliest: expected a time of day"),
    (
        broken("data['rules']['granularity_minutes'] = 7"),
        "rules.granularity_minutes: must divide a day",
    ),
    (broken("data['rules']['weekend'] = True"), "rules.weekend: is not a known rule"),
    (broken("data['now'] = '2026-03-02 09:00'"), "now: '2026-03-02 09:00' has no UTC offset"),
    (broken("del data['window']"), "window: is required"),
    (
        broken("data['participants'][0]['busy'][0]['status'] = 'away'"),
        "participants[0].busy[0].status: expected one of busy, tentative",
    ),
    (
        broken("data['participants'][1]['id'] = 'maria'"),
        "participants[1].id: 'maria' appears twice",
    ),
    ("[]", "request: must be a JSON object"),
    (
        broken("data['rules']['all_day_events'] = 'free'"),
        "rules.all_day_events: expected 'busy' or 'as_marked', got 'free'",
    ),
]


@pytest.mark.parametrize(("stdin", "message"), BAD_INPUTS)
def test_bad_input_is_one_clear_line_and_no_traceback(stdin: str, message: str):
    result = run_cli(["slots"], stdin=stdin)  # text streams, as a caller without bytes has
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"pairtime slots: {message}")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("name", ["nope.json", "."])
def test_an_input_file_that_cannot_be_read_is_reported(tmp_path: Path, name: str):
    result = slots(b"", "--input", str(tmp_path / name))
    assert result.returncode == 2
    assert result.stderr.startswith("pairtime slots: cannot read")
    assert result.stderr.count("\n") == 1


def test_pretty_output_is_indented_and_says_the_same():
    compact = slots(json.dumps(EXAMPLE))
    pretty = slots(json.dumps(EXAMPLE), "--pretty")
    assert pretty.returncode == 0, pretty.stderr
    assert pretty.stdout.startswith('{\n  "slots": [\n    {\n      "start": ')
    assert json.loads(pretty.stdout) == json.loads(compact.stdout)
    assert compact.stdout.startswith('{"slots":[{"start":"2026-03-02T14:00:00Z","end":')


def test_a_hundred_thousand_deep_document_is_one_line_from_the_installed_command():
    result = run_pairtime(["slots"], stdin="[" * 100_000 + "]" * 100_000)
    assert result.returncode == 2
    assert result.stderr == "pairtime slots: input: not valid here: nested too deeply\n"


def test_a_century_long_window_is_refused_at_once_by_the_installed_command():
    request = json.loads(json.dumps(EXAMPLE))
    request["window"]["end"] = "2126-03-02T00:00:00Z"  # 47 s and 50 MB before the bound
    result = run_pairtime(["slots"], stdin=json.dumps(request))
    assert result.returncode == 2
    assert result.stderr == "pairtime slots: window: is longer than 366 days\n"


# ---------------------------------------------------------------- whatever comes in

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
EXTREMES = st.one_of(
    st.sampled_from(
        [
            0, -1, 1441, 10**18, -(10**18), 10**400, 1e308, 0.5, True, "", "\ud800", "\x00",
            "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1900-01-01T00:00:00Z",
            "2999-12-31T23:59:59Z", "2026-03-08T07:00:00Z", "2026-03-02T10:00:00",
            "24:00", "00:00", "23:59", "Europe", "Australia/Lord_Howe", "x" * 10_000,
            [], {}, [1, 2, 3, 4, 5, 6, 7, 8], {"start": "00:00", "end": "24:00"},
        ]
    ),
    st.integers() | st.text(max_size=20) | JSON_VALUES,
)  # fmt: skip
# Fields that set how much work there is, and the values that make the most.
WORK = {
    "window.end": st.sampled_from(
        ["2026-03-03T00:00:00Z", "2026-06-02T00:00:00Z", "2027-03-02T00:00:00Z"]
    ),
    "rules.granularity_minutes": st.sampled_from([1, 5, 15, 40, 45, 90, 1440]),
    "rules.weekends": st.booleans(),
    "rules.earliest": st.just("00:00"),
    "rules.latest": st.just("24:00"),
    "mode": st.sampled_from(["all", "most"]),
    "duration_minutes": st.sampled_from([1, 15, 1440]),
}


def paths(document: Any, prefix: str = "") -> list[str]:
    found = []
    items = document.items() if isinstance(document, dict) else enumerate(document)
    for key, value in items:
        path = f"{prefix}{key}"
        found.append(path)
        if isinstance(value, dict | list):
            found.extend(paths(value, path + "."))
    return found


def put(document: Any, path: str, value: Any) -> None:
    """Set ``path`` to ``value``, where an earlier change left a place for it."""
    *parents, last = path.split(".")
    for key in parents:
        if isinstance(document, list) and key.isdigit() and int(key) < len(document):
            document = document[int(key)]
        elif isinstance(document, dict) and key in document:
            document = document[key]
        else:
            return
    if isinstance(document, list) and last.isdigit() and int(last) < len(document):
        document[int(last)] = value
    elif isinstance(document, dict):
        document[last] = value


@st.composite
def hostile_inputs(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["changed", "changed", "changed", "json", "bytes", "deep"]))
    if kind == "json":
        return json.dumps(draw(JSON_VALUES)).encode("utf-8", "surrogatepass")
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "deep":
        depth = draw(st.sampled_from([10, 1_000, 100_000]))
        return b'{"window": ' + b"[" * depth + b"]" * depth + b"}"
    document = json.loads(json.dumps(EXAMPLE))
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            path = draw(st.sampled_from(sorted(WORK)))
            value = draw(WORK[path])
        else:
            path, value = draw(st.sampled_from(paths(document))), draw(EXTREMES)
        put(document, path, value)
    ascii_only = draw(st.booleans())
    return json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def changed(**changes: Any) -> bytes:
    document = json.loads(json.dumps(EXAMPLE))
    for path, value in changes.items():
        put(document, path.replace("__", "."), value)
    return json.dumps(document).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_inputs())
# What once ended in a traceback (issue 17), kept as examples so that they are always tried.
@example(b"[" * 100_000 + b"]" * 100_000)
@example(changed(duration_minutes=10**12))
@example(changed(rules__min_notice_minutes=10**18))
@example(changed(window__start="0001-01-01T00:00:00+05:00"))
@example(changed(window__end="9999-12-31T23:59:59-05:00", limit=10**400))
@example(changed(window__end="2126-03-02T00:00:00Z"))
@example(changed(participants__0__timezone="Europe"))
@example(changed(participants__0__busy__0__end="9999-12-31T23:59:59-05:00"))
def test_any_input_gives_slots_or_exactly_one_line_and_exit_2(data: bytes):
    result = slots(data)  # an exception here, a traceback for a user, fails the test
    if result.returncode == 0:
        assert result.stderr == ""
        assert isinstance(json.loads(result.stdout)["slots"], list)
    else:
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.startswith("pairtime slots: ")
        assert result.stderr.endswith("\n")
        assert result.stderr.count("\n") == 1
        assert len(result.stderr) < 400
