"""Plain English to a :class:`core.commands.Command`: "find 45 min with @maria tomorrow afternoon".

A small grammar of regular expressions reads the message in passes, each
removing what it understood so the next does not read it again: people,
then the intent, then spans counted from now ("within 48 hours"), the
meeting length, calendar dates, clock times, and finally days, weeks and
months. Only explicit dates reach dateparser. Nothing here raises on odd
text: what is not understood becomes ``unknown`` with a hint.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.commands import Command, Intent
from core.parsing.dates import find_dates
from core.parsing.durations import find_duration
from core.parsing.intents import intent_named, provider_named, unsupported_request
from core.parsing.participants import find_participants
from core.parsing.text import normalize
from core.parsing.times_of_day import find_time_of_day
from core.parsing.windows import find_calendar_spans, find_relative_spans, window_from

__all__ = ["parse"]

EXAMPLE = "“find a time with my mentee next week”"
UNCLEAR_HINT = f"I didn't catch what you'd like to do. Try {EXAMPLE}."
TIME_ONLY_HINT = f"I caught when, but not what you'd like to do then. Try {EXAMPLE}."
PAST_HINT = f"That time has already passed. Try a day from today on, like {EXAMPLE}."
_SCHEDULING = (Intent.FIND_TIME, Intent.POLL)
_WITH_PROVIDER = (Intent.CONNECT, Intent.DISCONNECT)


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
    participants, rest = find_participants(text, bot_user_id)
    words = normalize(rest)
    hint = unsupported_request(words)
    if hint is not None:
        return Command(Intent.UNKNOWN, duration_minutes=default_duration, hint=hint)
    intent = intent_named(words, has_participants=bool(participants))
    if intent is not None and intent not in _SCHEDULING:
        provider = provider_named(words) if intent in _WITH_PROVIDER else None
        return Command(intent, duration_minutes=default_duration, provider=provider)

    spans, words = find_relative_spans(words, now, zone)
    duration, words = find_duration(words)
    dates, words = find_dates(words, now.astimezone(zone).date(), zone)
    time_of_day, words = find_time_of_day(words, duration or default_duration)
    spans += find_calendar_spans(words, now, zone, dates)

    if intent is None:
        if not participants and duration is None:
            said_when = bool(spans or dates or time_of_day)
            hint = TIME_ONLY_HINT if said_when else UNCLEAR_HINT
            return Command(Intent.UNKNOWN, duration_minutes=default_duration, hint=hint)
        intent = Intent.FIND_TIME  # "45 min with @maria tomorrow" needs no verb
    window = window_from(spans, now, zone)
    if window is None:
        return Command(Intent.UNKNOWN, duration_minutes=default_duration, hint=PAST_HINT)
    return Command(
        intent,
        participants=participants,
        duration_minutes=duration or default_duration,
        duration_given=duration is not None,
        window=window,
        time_of_day=time_of_day,
    )
