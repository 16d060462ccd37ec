"""Plain English to a :class:`core.commands.Command`: "find 45 min with @maria tomorrow afternoon".

A small grammar of regular expressions reads the message in passes, each
removing what it understood so the next does not read it again: people
(mentions, e-mail addresses, names, roles), chat shorthand written out,
what the message rules out ("not Monday"), then the intent, spans counted
from now ("within 48 hours"), the meeting length, calendar dates, clock
times, and finally days, weeks and months. Only explicit dates reach
dateparser. Most messages hold no phrase for most passes, so each of the
big ones first runs a cheap search for what every match of its own must hold
(a unit after a number, a month's first letters, a word of a negation) and
is skipped when that finds nothing; ``tests/unit/parsing/test_hints.py``
keeps each such hint true to its pattern.

Nothing here raises on odd text: what is not understood becomes
``unknown`` with a hint, and a word that looked like a day, a time or a
person but was not understood is reported in the command's
``assumptions``, so the answer says what was assumed instead of guessing
in silence. Only the first :data:`~core.parsing.text.READ_LIMIT`
characters are read, and every pattern runs in time linear in its input,
so a message of any length costs a few milliseconds at most.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.commands import (
    Aspect,
    Assumption,
    Command,
    DefaultWindow,
    Ignored,
    Intent,
    ReadAs,
    Truncated,
)
from core.parsing.dates import find_dates
from core.parsing.durations import find_duration
from core.parsing.exclusions import exclusions, read_ruled_out
from core.parsing.intents import (
    asks_for_nothing,
    intent_named,
    meeting_change,
    names_a_meeting,
    organisation_choice,
    provider_named,
    unsupported_request,
)
from core.parsing.leftovers import leftovers
from core.parsing.negation import split_negations
from core.parsing.participants import find_people, read_up_to
from core.parsing.shorthand import expand
from core.parsing.text import READ_LIMIT, normalize
from core.parsing.times_of_day import find_time_of_day
from core.parsing.windows import DEFAULT_DAYS, find_relative_spans, find_spans, window_from

__all__ = ["parse"]

EXAMPLE = "“find a time with my mentee next week”"
UNCLEAR_HINT = f"I didn't catch what you'd like to do. Try {EXAMPLE}."
TIME_ONLY_HINT = f"I caught when, but not what you'd like to do then. Try {EXAMPLE}."
PAST_HINT = f"That time has already passed. Try a day from today on, like {EXAMPLE}."
NOTHING_HINT = f"Understood, I won't. Tell me what you'd like instead, like {EXAMPLE}."
# Intents that name people and a window (moving searches it for the new time).
_SCHEDULING = (Intent.FIND_TIME, Intent.POLL, Intent.CANCEL_MEETING, Intent.MOVE_MEETING)
_WITH_PROVIDER = (Intent.CONNECT, Intent.DISCONNECT)
_MOST_ASSUMPTIONS = 6
_MOST_RULED_OUT = 8  # clauses read: each costs a pass of the grammar
# Mentions read in a long message: more than a poll invites, and each may be a lookup.
_MOST_MENTIONS = 60


def parse(
    text: str,
    zone: ZoneInfo,
    now: datetime,
    *,
    default_duration: int = 30,
    bot_user_id: str | None = None,
) -> Command:
    """The command ``text`` asks for, read in the speaker's ``zone`` at ``now`` (aware).

    ``default_duration`` applies when no length is stated; mentions of
    ``bot_user_id`` (the bot itself) and a typed ``@pairtime`` name nobody to meet.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    notes: list[Assumption] = []
    if (cut := read_up_to(text, READ_LIMIT, _MOST_MENTIONS)) is not None:
        mentions = _MOST_MENTIONS if cut.by_mentions else None
        notes.append(Truncated(READ_LIMIT, len(text), mentions))
        text = text[: cut.at]
    people = find_people(text, bot_user_id)
    words, read_as = expand(normalize(people.rest))
    notes += [ReadAs(written, meaning.capitalize()) for written, meaning in read_as]
    choice = organisation_choice(words)
    if choice is not None:
        return Command(choice, duration_minutes=default_duration, assumptions=tuple(notes))
    negations = split_negations(words)
    words = negations.kept

    def unknown(hint: str) -> Command:
        return Command(
            Intent.UNKNOWN, duration_minutes=default_duration, hint=hint, assumptions=tuple(notes)
        )

    hint = unsupported_request(words)
    if hint is not None:
        return unknown(hint)
    ruled_out_all = bool(negations.clauses) and asks_for_nothing(words)
    if ruled_out_all:
        # Nothing is asked but what is ruled out: "don't book Friday", "not Monday".
        intent: Intent | None = None
    else:
        has_people = bool(people.named)
        intent = meeting_change(words, has_participants=has_people) or intent_named(
            words, has_participants=has_people
        )
    if intent is not None and intent not in _SCHEDULING:
        provider = provider_named(words) if intent in _WITH_PROVIDER else None
        return Command(
            intent,
            # "status of @sam": whose (an admin may ask about anyone in the program)
            participants=people.named if intent is Intent.STATUS else (),
            duration_minutes=default_duration,
            provider=provider,
            assumptions=tuple(notes),
        )

    ignored: list[Ignored] = []
    spans, words = find_relative_spans(words, now, zone)
    duration, words = find_duration(words, ignored=ignored)
    dates, words = find_dates(words, now.astimezone(zone).date(), zone, ignored=ignored)
    time_of_day, words = find_time_of_day(words, duration or default_duration, ignored=ignored)
    found, words = find_spans(words, now, zone, dates, ignored=ignored)
    spans += [item.span for item in found]
    ruled_out = [
        read_ruled_out(clause, now, zone, duration or default_duration)
        for clause in negations.clauses[:_MOST_RULED_OUT]
    ]
    for clause in ruled_out:
        spans += clause.frames
    ignored += leftovers(words)
    ignored += [Ignored(words, Aspect.PERSON) for words in people.unclear]

    if intent is None:
        meeting = any(names_a_meeting(clause) for clause in negations.clauses)
        if not people.named and duration is None and not meeting:
            said_when = bool(spans or dates or time_of_day) or any(
                clause.says_when for clause in ruled_out
            )
            if said_when:
                return unknown(TIME_ONLY_HINT)
            # "Don't connect my calendar": everything asked was ruled out.
            return unknown(NOTHING_HINT if ruled_out_all else UNCLEAR_HINT)
        intent = Intent.FIND_TIME  # "45 min with @maria tomorrow" needs no verb
    window = window_from(spans, now, zone)
    if window is None:
        return unknown(PAST_HINT)
    notes += ignored
    if not spans and any(item.about is Aspect.DAY for item in ignored):
        notes.append(DefaultWindow(DEFAULT_DAYS))
    ruled = exclusions(ruled_out, zone)
    return Command(
        intent,
        participants=people.named,
        duration_minutes=duration or default_duration,
        duration_given=duration is not None,
        window=window,
        time_of_day=time_of_day,
        excluded=ruled.within(window, zone),
        ruled_out=ruled,
        without=people.without,
        assumptions=tuple(notes[:_MOST_ASSUMPTIONS]),
    )
