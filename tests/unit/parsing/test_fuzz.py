"""Any text at all, in any zone at any moment, gives a sensible command and never an exception."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.commands import Intent, Mention, Truncated, command_json
from core.parsing import parse
from core.parsing.text import READ_LIMIT

ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "Europe/London",
        "America/New_York",
        "Asia/Kolkata",
        "Australia/Sydney",
        "Australia/Lord_Howe",  # a 30-minute clock change
        "America/Santiago",  # clocks change at midnight, so some days have no 00:00
        "Pacific/Kiritimati",  # UTC+14
        "Pacific/Pago_Pago",  # UTC-11
    )
]
# Words the grammar knows, so random messages reach deep into it, not only
# the "unknown" answer that most random text gets.
WORDS = (
    "find schedule poll connect disconnect status help settings time with my mentee mentor "
    "mentees partner circle group the @maria <@U024BE7LH> <@UBOT> <@U1|sam> @pairtime today "
    "tonight tomorrow yesterday day after next this last week weekend month monday tue wed "
    "thursday fri saturday sunday before by until after from between and to in within over "
    "the next few couple of a an one two three twelve forty-five 0 1 2 3 9 10 11 12 13 23 24 "
    "25 29 30 31 45 90 99 9999 1.5 min mins minutes h hr hours quarter half and a half 3pm "
    "10am 12am 12pm noon midnight lunch 2-4pm 10:30 9.30 morning afternoon evening at around "
    "dec december jan feb 29 3rd 1st the 31st 12/3 31/2 2026-12-03 9999-12-31 0001-01-01 "
    "days weeks fortnight google outlook icloud ? ! , . 🙏 - / : \ue000 \ue001 \ue002 \ue003 "
    "\ue004 Sam Priya sam@example.com not no except without but don't anything avoid I'm busy "
    "is out tmrw nxt wk w/c w/e eow thurs fri pm am reconnect re-auth again blursday 25:00 "
    "3ish the 32nd Jan van Dijk Dr. O'Brien & + and or me I"
)
VOCABULARY = WORDS.split()
texts = st.one_of(
    st.text(max_size=2000),
    st.lists(st.sampled_from(VOCABULARY), max_size=400).map(" ".join),
    st.lists(st.sampled_from(VOCABULARY), max_size=400).map(lambda words: " ".join(words)[:2000]),
    st.lists(st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=5)), max_size=40).map(
        " ".join
    ),
)
nows = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(
    text=texts,
    zone=st.sampled_from(ZONES),
    now=nows,
    default_duration=st.sampled_from([15, 30, 60]),
)
# Found by this test in CI: a move asked for by a typed name searches a window too.
@example(text="@A:MOVE", zone=ZONES[0], now=datetime(2000, 1, 1, tzinfo=UTC), default_duration=15)
def test_any_text_gives_a_well_formed_command(
    text: str, zone: ZoneInfo, now: datetime, default_duration: int
):
    command = parse(text, zone, now, default_duration=default_duration, bot_user_id="UBOT")

    json.dumps(command_json(command, zone))
    # Moving and cancelling search a window too: for the new time, for the meeting meant.
    searches = (Intent.FIND_TIME, Intent.POLL, Intent.MOVE_MEETING, Intent.CANCEL_MEETING)
    assert (command.window is not None) == (command.intent in searches)
    assert (command.hint is not None) == (command.intent is Intent.UNKNOWN)
    if command.window is not None:
        assert now <= command.window.start < command.window.end
    if command.time_of_day is not None:
        assert command.time_of_day.start < command.time_of_day.end
    if command.duration_given:
        assert 5 <= command.duration_minutes <= 24 * 60
    else:
        assert command.duration_minutes == default_duration
    assert Mention("UBOT") not in command.participants
    assert len(set(command.participants)) == len(command.participants)
    assert (Truncated(READ_LIMIT, len(text)) in command.assumptions) == (len(text) > READ_LIMIT)
    assert len(command.assumptions) <= 6
    if command.excluded:
        assert command.window is not None
        assert all(command.window.contains(span) for span in command.excluded)
        assert all(a.end < b.start for a, b in itertools.pairwise(command.excluded))
