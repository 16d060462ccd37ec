"""A mentoring program's settings: the engine's rules plus what admins choose."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from core.commands import Provider
from core.rules import Rules

ALL_PROVIDERS = frozenset(Provider)
MAX_REMINDER_MINUTES = 24 * 60
DEFAULT_RETENTION_DAYS = 400
# At least the console's twelve weeks of activity; at most ten years.
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 90, 3650
MAX_PLACE = 500  # characters of a link or a room


class ConfirmationRule(StrEnum):
    """Whether a time one person of a pair chose is a meeting at once (``auto``) or once the
    other accepts it (``partner``). Circles and polls are never asked."""

    AUTO = "auto"
    PARTNER = "partner"


class LocationMode(StrEnum):
    """Where meetings happen: nowhere said, the program's one link or room, or as each
    booker says (``ask``)."""

    NONE = "none"
    FIXED = "fixed"
    ASK = "ask"


class VideoRule(StrEnum):
    """An online meeting on the events the program account creates (an organisation
    connection with the write grant): none, a Teams meeting (Microsoft 365) or a Google
    Meet (Google Workspace). Without such a connection it changes nothing."""

    NONE = "none"
    TEAMS = "teams"
    MEET = "meet"


class Visibility(StrEnum):
    """Whose free times a person may look for: their own partners (mentors, mentees and
    circle co-members; admins anyone) or anyone in the program."""

    PARTNERS = "partners"
    PROGRAM = "program"


@dataclass(frozen=True, slots=True)
class LocationRule:
    mode: LocationMode = LocationMode.NONE
    place: str | None = None  # the link or room, for ``fixed``

    def __post_init__(self) -> None:
        if (self.mode is LocationMode.FIXED) != bool(self.place):
            raise ValueError("a fixed location needs its link or room, and only it has one")
        if self.place is not None and len(self.place) > MAX_PLACE:
            raise ValueError(f"a link or room is at most {MAX_PLACE} characters")

    def describe(self) -> str:
        match self.mode:
            case LocationMode.NONE:
                return "none"
            case LocationMode.FIXED:
                return self.place or ""
            case LocationMode.ASK:
                return "the booker adds one"


@dataclass(frozen=True, slots=True)
class ProgramSettings:
    rules: Rules = field(default_factory=Rules)
    default_duration_minutes: int = 30
    allowed_providers: frozenset[Provider] = ALL_PROVIDERS
    # Zone assumed for a person whose chat profile has none.
    default_timezone: str = "UTC"
    # The scheduling assistant is the organiser of every invitation.
    assistant_name: str = "Pairtime"
    assistant_email: str = "scheduling@pairtime.invalid"
    confirmation: ConfirmationRule = ConfirmationRule.PARTNER
    # One direct message this long before each meeting; 0 sends none.
    reminder_minutes: int = 15
    location: LocationRule = field(default_factory=LocationRule)
    video: VideoRule = VideoRule.NONE
    availability_visible_to: Visibility = Visibility.PARTNERS
    # Offers and meetings older than this are deleted by the hourly tidy-up (their counts
    # kept as weekly tallies); see docs/privacy.md.
    retention_days: int = DEFAULT_RETENTION_DAYS

    def __post_init__(self) -> None:
        if not MIN_RETENTION_DAYS <= self.retention_days <= MAX_RETENTION_DAYS:
            raise ValueError(
                f"records are kept between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days"
            )
        if not 0 <= self.reminder_minutes <= MAX_REMINDER_MINUTES:
            raise ValueError("a reminder comes between 0 (none) and 1,440 minutes before")
        if not 5 <= self.default_duration_minutes <= 8 * 60:
            raise ValueError("the default meeting length lies between 5 minutes and 8 hours")
        if not self.allowed_providers:
            raise ValueError("a program allows at least one calendar service")
