"""`pairtime parse`: a message in, the understood command out as JSON."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import ROOT, run_cli


def test_the_issue_example():
    result = run_cli(
        [
            "parse",
            "@pairtime can you find 45 min with <@U024BE7LH> and my mentee tomorrow afternoon?",
            "--tz",
            "UTC",
            "--now",
            "2026-11-23T09:30:00Z",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "intent": "find_time",
        "participants": [{"mention": "U024BE7LH"}, {"relation": "mentee"}],
        "duration_minutes": 45,
        "window": {"start": "2026-11-24T00:00:00+00:00", "end": "2026-11-25T00:00:00+00:00"},
        "time_of_day": {"start": "12:00", "end": "17:00"},
        "provider": None,
    }


def test_the_readme_example():
    text = "find 45 min with Sam Carter and my mentee next week, not Monday"
    result = run_cli(["parse", text, "--tz", "Europe/London", "--now", "2026-11-25T10:00:00Z"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "intent": "find_time",
        "participants": [{"named": "Sam Carter"}, {"relation": "mentee"}],
        "duration_minutes": 45,
        "window": {"start": "2026-11-30T00:00:00+00:00", "end": "2026-12-07T00:00:00+00:00"},
        "time_of_day": None,
        "provider": None,
        "excluded": [{"start": "2026-11-30T00:00:00+00:00", "end": "2026-12-01T00:00:00+00:00"}],
    }


def test_what_was_not_understood_is_printed_with_what_was_assumed():
    text = "find a time with Sam on blursday " + "please " * 200
    result = run_cli(["parse", text, "--now", "2026-11-25T10:00:00Z"])
    assert result.returncode == 0, result.stderr
    assert [note["kind"] for note in json.loads(result.stdout)["assumptions"]] == [
        "truncated",
        "ignored",
        "default_window",
    ]
    assert json.loads(result.stdout)["assumptions"][0]["text"] == (
        "Your message was long, so I read only its first 1,000 characters."
    )


def test_the_window_is_written_in_the_speakers_offset():
    words = ["find", "a", "time", "next", "week"]
    result = run_cli(["parse", *words, "--tz", "Asia/Kolkata", "--now", "2026-11-25T04:30:00Z"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["window"] == {
        "start": "2026-11-30T00:00:00+05:30",
        "end": "2026-12-07T00:00:00+05:30",
    }


def test_defaults_to_utc_and_the_clock():
    result = run_cli(["parse", "find a time tomorrow"])
    assert result.returncode == 0, result.stderr
    window = json.loads(result.stdout)["window"]
    assert window["start"].endswith("T00:00:00+00:00")


def test_not_understood_is_still_an_answer():
    result = run_cli(["parse", "lorem ipsum"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["intent"] == "unknown"
    assert "find a time" in json.loads(result.stdout)["hint"]


def test_an_unknown_zone_is_one_line_naming_the_option():
    result = run_cli(["parse", "help", "--tz", "Mars/Olympus_Mons"])
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "pairtime parse: --tz: unknown time zone 'Mars/Olympus_Mons'\n"


def test_a_bad_now_is_one_line_naming_the_option():
    for now in ("next tuesday", "2026-11-25T10:00"):
        result = run_cli(["parse", "help", "--now", now])
        assert result.returncode == 2
        assert result.stderr.startswith("pairtime parse: --now: ")
        assert result.stderr.count("\n") == 1


def test_help_does_not_import_dateparser():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot.cli", "parse", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["intent"] == "help"
    assert "dateparser" not in result.stderr
    assert "core.parsing" in result.stderr  # the check would notice the import
