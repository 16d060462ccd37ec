"""`pairtime slots`: JSON in, JSON out, one clear line on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import run_cli, run_pairtime

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


def test_the_issue_example_from_standard_input():
    # The README's `echo ... | pairtime slots`, through the installed command and a pipe.
    result = run_pairtime(["slots"], stdin=json.dumps(EXAMPLE))
    assert result.returncode == 0, result.stderr
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
    result = run_cli(["slots", "--input", str(path)])
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
    result = run_cli(["slots"], stdin=json.dumps(request))
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
    result = run_cli(["slots"], stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"pairtime slots: {message}")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_a_missing_input_file_is_reported(tmp_path: Path):
    result = run_cli(["slots", "--input", str(tmp_path / "nope.json")])
    assert result.returncode == 2
    assert "cannot read" in result.stderr
    assert "nope.json" in result.stderr
