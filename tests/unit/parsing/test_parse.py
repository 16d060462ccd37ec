"""parse() as a whole: defaults, stated durations and what it refuses."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.commands import Intent, Mention
from core.parsing import TIME_ONLY_HINT, UNCLEAR_HINT, parse

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 25, 10, tzinfo=LONDON)


def test_a_stated_duration_is_marked_as_stated():
    stated = parse("find 30 min with my mentee", LONDON, NOW, default_duration=60)
    assert (stated.duration_minutes, stated.duration_given) == (30, True)
    default = parse("find a time with my mentee", LONDON, NOW, default_duration=60)
    assert (default.duration_minutes, default.duration_given) == (60, False)


def test_other_intents_carry_no_window_and_the_default_duration():
    command = parse("connect my google calendar for an hour next week", LONDON, NOW)
    assert command.intent is Intent.CONNECT
    assert command.window is None
    assert (command.duration_minutes, command.duration_given) == (30, False)


def test_finding_a_time_without_anyone_leaves_the_question_to_the_use_case():
    command = parse("schedule something tomorrow", LONDON, NOW)
    assert command.intent is Intent.FIND_TIME
    assert command.participants == ()


def test_people_or_a_duration_without_a_verb_mean_finding_a_time():
    assert parse("<@U1> tomorrow?", LONDON, NOW).intent is Intent.FIND_TIME
    assert parse("45 min next week", LONDON, NOW).intent is Intent.FIND_TIME


def test_unknown_says_what_was_missing():
    assert parse("tomorrow at 3pm", LONDON, NOW).hint == TIME_ONLY_HINT
    assert parse("the quick brown fox", LONDON, NOW).hint == UNCLEAR_HINT


def test_the_bot_mention_is_dropped_wherever_it_is():
    command = parse("find <@U1> a slot, <@UBOT>", LONDON, NOW, bot_user_id="UBOT")
    assert command.participants == (Mention("U1"),)


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        parse("help", LONDON, datetime(2026, 11, 25, 10))
