"""The parser against a table of real-sounding messages, each with its full expected JSON.

The expectations in utterances.json were worked out by hand from the rules
in the issue (and the choices documented in core/parsing), not copied from
the parser's output. Most rows say "now" is Wednesday 25 November 2026 at
10:00 local time; some are set just before a clock change.

Rows with a "family" were written later, from the documented contract alone,
for the kinds of message that once fell back to a default in silence: a
person named without an @-mention, chat shorthand for days and weeks,
connecting a calendar again, what a message rules out, and words that
could not be read.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.commands import command_json
from core.parsing import parse

ROWS = json.loads((Path(__file__).with_name("utterances.json")).read_text(encoding="utf-8"))


def test_the_table_is_large_and_covers_several_zones():
    assert len(ROWS) >= 150
    assert {row["tz"] for row in ROWS} >= {
        "Europe/London",
        "America/New_York",
        "Asia/Kolkata",
        "Australia/Sydney",
    }


def test_each_family_of_once_missed_messages_has_dozens_of_phrasings():
    families = Counter(row["family"] for row in ROWS if "family" in row)
    assert all(families[family] >= 36 for family in ("names", "shorthand", "reconnect", "negation"))
    assert families["unread"] >= 12


@pytest.mark.parametrize("row", ROWS, ids=[f"{row['tz']}:{row['text']}" for row in ROWS])
def test_utterance(row):
    zone = ZoneInfo(row["tz"])
    command = parse(
        row["text"], zone, datetime.fromisoformat(row["now"]), bot_user_id=row.get("bot_user_id")
    )
    assert command_json(command, zone) == row["expected"]
