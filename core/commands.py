"""What a person asked for, once their words are understood: small frozen commands.

The parser (``core.parsing``) produces a :class:`Command` from text; the
scheduling service carries it out. Chat adapters never build commands from
raw payloads themselves, except through the parser or the same dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.time import DayTime, Interval, local_dates, local_day


class Intent(StrEnum):
    FIND_TIME = "find_time"
    POLL = "poll"
    MY_MEETINGS = "my_meetings"
    CANCEL_MEETING = "cancel_meeting"
    MOVE_MEETING = "move_meeting"
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    STATUS = "status"
    HELP = "help"
    SETTINGS = "settings"
    # Stop (or start again) reading the speaker's calendar through their organisation.
    ORGANISATION_OFF = "organisation_off"
    ORGANISATION_ON = "organisation_on"
    ADMIN = "admin"  # a sign-in link to the admin console, for admins
    FORGET_ME = "forget_me"  # remove everything Pairtime holds about the speaker (asked first)
    UNKNOWN = "unknown"


class Relation(StrEnum):
    """A person named by their role for the speaker: "my mentee", "my circle"."""

    MENTEE = "mentee"
    MENTOR = "mentor"
    PARTNER = "partner"  # a mentee or a mentor, whichever the speaker has
    MENTEES = "mentees"  # all of them
    GROUP = "group"  # the speaker's circle


class Provider(StrEnum):
    """The calendar services a participant can connect."""

    GOOGLE = "google"
    MICROSOFT = "microsoft"
    ICLOUD = "icloud"

    @property
    def label(self) -> str:
        return _PROVIDER_LABELS[self]


_PROVIDER_LABELS = {
    Provider.GOOGLE: "Google",
    Provider.MICROSOFT: "Microsoft 365 / Outlook.com",
    Provider.ICLOUD: "iCloud",
}


@dataclass(frozen=True, slots=True)
class Mention:
    """A chat mention: the platform's user id (``U024BE7LH`` on Slack, an AAD id on Teams)."""

    user_id: str


@dataclass(frozen=True, slots=True)
class Name:
    """A plain ``@maria``: resolved against the people Pairtime knows."""

    name: str


@dataclass(frozen=True, slots=True)
class RelationRef:
    relation: Relation


@dataclass(frozen=True, slots=True)
class Named:
    """A person named in plain words, as typed: "Sam", "Sam Carter", "sam@example.com".

    Unlike a chat mention it names nobody for certain: the scheduling use case
    looks it up among the speaker's partners first, then the program's people.
    """

    text: str

    @property
    def is_email(self) -> bool:
        return "@" in self.text


ParticipantRef = Mention | Name | RelationRef | Named


@dataclass(frozen=True, slots=True)
class TimeOfDay:
    """A daily restriction in the speaker's zone, e.g. afternoons = 12:00 to 17:00."""

    start: DayTime
    end: DayTime


HORIZON = timedelta(days=92)
"""How far into a window ruled-out times are listed: a quarter, so that a message
ruling out mornings over a year costs milliseconds, not tens of them."""


@dataclass(frozen=True, slots=True)
class Weekly:
    """Times ruled out in every week: ``days`` (0 is Monday; none means every day), and of
    those days ``hours`` in the speaker's zone, or the whole day."""

    days: frozenset[int] = frozenset()
    hours: TimeOfDay | None = None


@dataclass(frozen=True, slots=True)
class Exclusions:
    """Times the speaker ruled out, kept as said so that any window can apply them: a
    button that looks further ahead or asks again keeps "not Monday" (``weekly``),
    while "not tomorrow" (``spans``, absolute) stays on its own day."""

    spans: tuple[Interval, ...] = ()
    weekly: tuple[Weekly, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.spans or self.weekly)

    def within(self, window: Interval, zone: ZoneInfo) -> tuple[Interval, ...]:
        """The parts of ``window`` ruled out, sorted and merged.

        Only the window's first :data:`HORIZON` is considered: repeated days and
        hours are listed one by one, and no search looks further ahead.
        """
        if window.duration > HORIZON:
            window = Interval(window.start, window.start + HORIZON)
        pieces = [part for span in self.spans if (part := _clip(span, window)) is not None]
        for rule in self.weekly:
            days = [window]
            if rule.days:
                days = [
                    part
                    for day in local_dates(window, zone)
                    if day.weekday() in rule.days
                    if (part := _clip(local_day(day, zone), window)) is not None
                ]
            if rule.hours is not None:
                days = [part for span in days for part in daily_parts(span, rule.hours, zone)]
            pieces += days
        return merged(pieces)


def daily_parts(span: Interval, hours: TimeOfDay, zone: ZoneInfo) -> list[Interval]:
    """``hours`` on each local day of ``span``, cut to ``span``."""
    parts = []
    for day in local_dates(span, zone):
        try:
            each = Interval(hours.start.on(day, zone), hours.end.on(day, zone))
        except OverflowError:
            continue  # the last day of the calendar, year 9999
        part = _clip(each, span)
        if part is not None:
            parts.append(part)
    return parts


def _clip(span: Interval, window: Interval) -> Interval | None:
    start, end = max(span.start, window.start), min(span.end, window.end)
    return Interval(start, end) if start < end else None


def merged(pieces: list[Interval]) -> tuple[Interval, ...]:
    """``pieces`` sorted, with those that overlap or touch made one."""
    merged: list[Interval] = []
    for piece in sorted(pieces):
        if merged and piece.start <= merged[-1].end:
            if piece.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, piece.end)
        else:
            merged.append(piece)
    return tuple(merged)


class Aspect(StrEnum):
    """What a phrase the parser could not read seemed to be about."""

    DAY = "day"
    TIME = "time"
    LENGTH = "length"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class Truncated:
    """The message was longer than the parser reads: only the first ``read`` of its
    ``length`` characters were read, or, when ``mentions`` is set, only its first
    ``mentions`` chat mentions (each counts as one character)."""

    read: int
    length: int
    mentions: int | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """Words that looked like a day, a time, a length or a person, and were not understood."""

    words: str
    about: Aspect


@dataclass(frozen=True, slots=True)
class ReadAs:
    """A word read as something close to it: "thrusday" as Thursday."""

    written: str
    meaning: str


@dataclass(frozen=True, slots=True)
class DefaultWindow:
    """No day was understood, so the usual ``days`` from now were searched."""

    days: int


Assumption = Truncated | Ignored | ReadAs | DefaultWindow
"""What the parser assumed or left out, for the answer to say so."""


@dataclass(frozen=True, slots=True)
class Command:
    """One understood request.

    ``window`` is absolute (UTC inside); ``time_of_day`` is wall-clock in the
    speaker's zone. ``duration_given`` tells a stated duration from the
    default, so a program's own default can apply. For ``unknown``, ``hint``
    says briefly what was missing.

    ``excluded`` are times the speaker ruled out ("not Monday", "no
    afternoons"), absolute and within the window: ``ruled_out`` within
    ``window``, which buttons carry to other windows; ``without`` are people ruled
    out ("my circle except Sam"). ``assumptions`` say what was read loosely or
    not at all, so the answer can tell the speaker instead of silently
    widening the search.
    """

    intent: Intent
    participants: tuple[ParticipantRef, ...] = ()
    duration_minutes: int = 30
    duration_given: bool = False
    window: Interval | None = None
    time_of_day: TimeOfDay | None = None
    provider: Provider | None = None
    hint: str | None = None
    excluded: tuple[Interval, ...] = ()
    ruled_out: Exclusions = Exclusions()
    without: tuple[ParticipantRef, ...] = ()
    assumptions: tuple[Assumption, ...] = ()


def participant_json(ref: ParticipantRef) -> dict[str, str]:
    match ref:
        case Mention(user_id):
            return {"mention": user_id}
        case Name(name):
            return {"name": name}
        case RelationRef(relation):
            return {"relation": relation.value}
        case Named(text):
            return {"named": text}


_IGNORED = {
    Aspect.DAY: "I didn't understand “{words}” as a day, so I left it out.",
    Aspect.TIME: "I didn't understand “{words}” as a time of day, so I left it out.",
    Aspect.LENGTH: "I didn't understand “{words}” as a meeting length, so I used the usual one.",
    Aspect.PERSON: "I didn't understand who “{words}” is; mention them, like @maria.",
}


def assumption_text(assumption: Assumption) -> str:
    """The sentence an answer (and ``pairtime parse``) gives for ``assumption``."""
    match assumption:
        case Truncated(read, _, None):
            return f"Your message was long, so I read only its first {read:,} characters."
        case Truncated(_, _, mentions):
            return (
                f"Your message named more than {mentions} people, "
                f"so I read only the first {mentions}."
            )
        case Ignored(words, about):
            return _IGNORED[about].format(words=words)
        case ReadAs(written, meaning):
            return f"I read “{written}” as {meaning}."
        case DefaultWindow(days):
            span = "two weeks" if days == 14 else f"{days} days"
            return f"I looked over the next {span}; say “next week” or a date to narrow it."


def _assumption_json(assumption: Assumption) -> dict[str, Any]:
    match assumption:
        case Truncated(read, length, mentions):
            fields: dict[str, Any] = {"kind": "truncated", "read": read, "length": length}
            if mentions is not None:
                fields["mentions"] = mentions
        case Ignored(words, about):
            fields = {"kind": "ignored", "words": words, "about": about.value}
        case ReadAs(written, meaning):
            fields = {"kind": "read_as", "written": written, "meaning": meaning}
        case DefaultWindow(days):
            fields = {"kind": "default_window", "days": days}
    return {**fields, "text": assumption_text(assumption)}


def _interval_json(interval: Interval, zone: ZoneInfo) -> dict[str, str]:
    return {
        "start": interval.start.astimezone(zone).isoformat(),
        "end": interval.end.astimezone(zone).isoformat(),
    }


def command_json(command: Command, zone: ZoneInfo) -> dict[str, Any]:
    """The JSON ``pairtime parse`` prints; times are written with ``zone``'s local offset.

    ``excluded``, ``without``, ``assumptions`` and ``hint`` appear only when
    there is something to say.
    """
    window = None if command.window is None else _interval_json(command.window, zone)
    time_of_day = None
    if command.time_of_day is not None:
        time_of_day = {"start": str(command.time_of_day.start), "end": str(command.time_of_day.end)}
    result: dict[str, Any] = {
        "intent": command.intent.value,
        "participants": [participant_json(ref) for ref in command.participants],
        "duration_minutes": command.duration_minutes,
        "window": window,
        "time_of_day": time_of_day,
        "provider": command.provider.value if command.provider else None,
    }
    if command.excluded:
        result["excluded"] = [_interval_json(span, zone) for span in command.excluded]
    if command.without:
        result["without"] = [participant_json(ref) for ref in command.without]
    if command.assumptions:
        result["assumptions"] = [_assumption_json(item) for item in command.assumptions]
    if command.hint is not None:
        result["hint"] = command.hint
    return result
