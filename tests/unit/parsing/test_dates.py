"""Explicit dates: what dateparser reads, the year we settle, and when dateparser is loaded."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from core.parsing.dates import date_order, find_dates, next_day_of_month, next_occurrence
from core.parsing.text import PLACEHOLDER_CLOSE, PLACEHOLDER_OPEN
from tests.support import ROOT

TODAY = date(2026, 11, 25)
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dec 3", date(2026, 12, 3)),
        ("dec. 3rd", date(2026, 12, 3)),
        ("3 december", date(2026, 12, 3)),
        ("the 3rd of december", date(2026, 12, 3)),
        ("december the 3rd", date(2026, 12, 3)),
        ("thursday, december 3", date(2026, 12, 3)),
        ("thu 3 dec", date(2026, 12, 3)),
        ("sept 3", date(2027, 9, 3)),
        ("jan 5", date(2027, 1, 5)),
        ("nov 25", date(2026, 11, 25)),
        ("nov 24", date(2027, 11, 24)),
        ("dec 3 2027", date(2027, 12, 3)),
        ("3 december, 2025", date(2025, 12, 3)),
        ("12/3", date(2027, 3, 12)),
        ("12/3/26", date(2026, 3, 12)),
        ("2026-12-03", date(2026, 12, 3)),
        ("the 3rd", date(2026, 12, 3)),
        ("the 25th", date(2026, 11, 25)),
        ("the 31st", date(2026, 12, 31)),
        ("feb 29", date(2028, 2, 29)),
    ],
)
def test_dates(text, expected):
    dates, rest = find_dates(text, TODAY, LONDON)
    assert dates == [expected]
    assert rest.strip() == f"{PLACEHOLDER_OPEN}0{PLACEHOLDER_CLOSE}"


@pytest.mark.parametrize("text", ["may 3pm", "march on", "at 10", "1:1", "31/2", "the 3 of us"])
def test_not_dates(text):
    assert find_dates(text, TODAY, LONDON)[0] == []


def test_month_first_in_the_united_states():
    assert find_dates("12/3", TODAY, ZoneInfo("America/Chicago"))[0] == [date(2026, 12, 3)]
    assert date_order(ZoneInfo("America/Indiana/Indianapolis")) == "MDY"
    assert date_order(ZoneInfo("America/Sao_Paulo")) == "DMY"
    assert date_order(ZoneInfo("Asia/Kolkata")) == "DMY"


def test_the_next_occurrence_waits_for_a_day_that_exists():
    assert next_day_of_month(31, date(2027, 2, 1)) == date(2027, 3, 31)
    assert next_day_of_month(30, date(2027, 1, 31)) == date(2027, 3, 30)
    assert next_occurrence(2, 29, date(2028, 3, 1)) == date(2032, 2, 29)
    assert next_occurrence(2, 30, TODAY) is None


def test_dateparser_is_imported_only_for_a_date():
    script = (
        "import sys\n"
        "from datetime import datetime, UTC\n"
        "from zoneinfo import ZoneInfo\n"
        "from core.parsing import parse\n"
        "now = datetime(2026, 11, 25, 10, tzinfo=UTC)\n"
        "parse('find 45 min with my mentee next Thursday after 3pm', ZoneInfo('UTC'), now)\n"
        "print('dateparser' in sys.modules)\n"
        "parse('find a time on Dec 3', ZoneInfo('UTC'), now)\n"
        "print('dateparser' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]
