"""What a person asked for, once their words are understood: small frozen commands.

The parser (``core.parsing``) produces a :class:`Command` from text; the
scheduling service carries it out. Chat adapters never build commands from
raw payloads themselves, except through the parser or the same dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.time import DayTime, Interval


class Intent(StrEnum):
    FIND_TIME = "find_time"
    POLL = "poll"
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    STATUS = "status"
    HELP = "help"
    SETTINGS = "settings"
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


ParticipantRef = Mention | Name | RelationRef


@dataclass(frozen=True, slots=True)
class TimeOfDay:
    """A daily restriction in the speaker's zone, e.g. afternoons = 12:00 to 17:00."""

    start: DayTime
    end: DayTime


@dataclass(frozen=True, slots=True)
class Command:
    """One understood request.

    ``window`` is absolute (UTC inside); ``time_of_day`` is wall-clock in the
    speaker's zone. ``duration_given`` tells a stated duration from the
    default, so a program's own default can apply. For ``unknown``, ``hint``
    says briefly what was missing.
    """

    intent: Intent
    participants: tuple[ParticipantRef, ...] = ()
    duration_minutes: int = 30
    duration_given: bool = False
    window: Interval | None = None
    time_of_day: TimeOfDay | None = None
    provider: Provider | None = None
    hint: str | None = None


def participant_json(ref: ParticipantRef) -> dict[str, str]:
    match ref:
        case Mention(user_id):
            return {"mention": user_id}
        case Name(name):
            return {"name": name}
        case RelationRef(relation):
            return {"relation": relation.value}


def command_json(command: Command, zone: ZoneInfo) -> dict[str, Any]:
    """The JSON ``pairtime parse`` prints; the window is written with ``zone``'s local offset."""
    window = None
    if command.window is not None:
        window = {
            "start": command.window.start.astimezone(zone).isoformat(),
            "end": command.window.end.astimezone(zone).isoformat(),
        }
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
    if command.hint is not None:
        result["hint"] = command.hint
    return result
