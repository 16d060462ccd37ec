"""A mentoring program's settings: the engine's rules plus what admins choose."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.commands import Provider
from core.rules import Rules

ALL_PROVIDERS = frozenset(Provider)


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

    def __post_init__(self) -> None:
        if not 5 <= self.default_duration_minutes <= 8 * 60:
            raise ValueError("the default meeting length lies between 5 minutes and 8 hours")
        if not self.allowed_providers:
            raise ValueError("a program allows at least one calendar service")
