"""parse() as a whole: defaults, stated durations and what it refuses."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.commands import (
    Aspect,
    DefaultWindow,
    Ignored,
    Intent,
    Mention,
    Named,
    Truncated,
    assumption_text,
)
from core.parsing import NOTHING_HINT, TIME_ONLY_HINT, UNCLEAR_HINT, parse
from core.parsing.text import READ_LIMIT

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


def test_only_the_first_characters_are_read_and_the_rest_is_reported():
    padding = "please " * (READ_LIMIT // 7)
    command = parse(f"find a time with my mentee {padding} tomorrow", LONDON, NOW)
    assert command.assumptions == (Truncated(READ_LIMIT, len(padding) + 36),)
    assert command.window is not None
    assert command.window.duration.days == 14  # "tomorrow" lay beyond what was read


def test_a_message_within_the_limit_is_read_whole():
    text = "find a time with my mentee " + "x" * (READ_LIMIT - 36) + " tomorrow"
    assert len(text) == READ_LIMIT
    command = parse(text, LONDON, NOW)
    assert command.assumptions == ()
    assert command.window is not None
    assert command.window.duration.days == 1


def test_a_day_not_understood_says_the_window_was_assumed():
    command = parse("find a time with Sam on blursday", LONDON, NOW)
    assert command.participants == (Named("Sam"),)
    assert command.assumptions == (Ignored("blursday", Aspect.DAY), DefaultWindow(14))


def test_a_day_not_understood_beside_one_understood_keeps_the_one_understood():
    command = parse("find a time with Sam on blursday next week", LONDON, NOW)
    assert command.assumptions == (Ignored("blursday", Aspect.DAY),)


def test_a_time_not_understood_is_reported_and_not_guessed():
    command = parse("find a time with Sam at 25:00", LONDON, NOW)
    assert command.time_of_day is None
    assert command.assumptions == (Ignored("at 25:00", Aspect.TIME),)


def test_ruling_out_all_that_was_asked_leaves_nothing_to_do():
    assert parse("don't connect my calendar", LONDON, NOW).hint == NOTHING_HINT
    assert parse("not Monday", LONDON, NOW).hint == TIME_ONLY_HINT
    assert parse("don't book Friday", LONDON, NOW).intent is Intent.FIND_TIME


def teams_mention(number: int) -> str:
    """A mention as the Teams adapter hands it over: an AAD object id, 36 characters."""
    return f"<@29:{number:032d}-abc>"


def test_a_mention_counts_as_one_character_however_long_its_id():
    mentioned = [teams_mention(n) for n in range(49)]
    text = "poll 30 min next week with " + " ".join(mentioned)
    assert len(text) > 2 * READ_LIMIT
    command = parse(text, LONDON, NOW)
    assert command.participants == tuple(Mention(f"29:{n:032d}-abc") for n in range(49))
    assert command.assumptions == ()


def test_mentions_past_the_characters_read_are_not_read_and_the_cut_is_reported():
    text = "poll with " + "please " * 140 + " ".join(teams_mention(n) for n in range(49))
    command = parse(text, LONDON, NOW)
    # 10 + 980 characters leave 10: five mentions of one character and a space each
    assert command.participants == tuple(Mention(f"29:{n:032d}-abc") for n in range(5))
    assert command.assumptions[0] == Truncated(READ_LIMIT, len(text))


def test_no_more_mentions_are_read_than_a_poll_could_invite():
    text = "poll with " + " ".join(teams_mention(n) for n in range(READ_LIMIT))
    command = parse(text, LONDON, NOW)
    assert len(command.participants) == 60
    assert command.participants[-1] == Mention(f"29:{59:032d}-abc")
    assert command.assumptions[0] == Truncated(READ_LIMIT, len(text), mentions=60)
    assert assumption_text(command.assumptions[0]) == (
        "Your message named more than 60 people, so I read only the first 60."
    )
