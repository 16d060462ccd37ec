"""Every rule an admin can set, once: its name in :class:`RuleChanges`, its label, how it
is entered and how its current value is read from a program's settings.

The console's Rules page, the audit log and the command line's ``--track`` all read this
table; tests/unit/admin/test_rule_fields.py fails when a rule added to ``RuleChanges`` is
missing here, so each new rule appears on the page the day it lands.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.admin.programs import RuleChanges
from core.commands import Provider
from core.errors import InvalidInput
from core.program import (
    ConfirmationRule,
    LocationMode,
    ProgramSettings,
    VideoRule,
    Visibility,
)
from core.rules import AllDayEvents


class Kind(StrEnum):
    TIME = "time"  # HH:MM
    MINUTES = "minutes"  # a whole number
    CHOICE = "choice"  # one of ``choices``
    SERVICES = "services"  # some of the calendar services
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class RuleField:
    name: str  # the RuleChanges field
    label: str
    kind: Kind
    read: Callable[[ProgramSettings], Any]  # the value, typed as RuleChanges types it
    choices: tuple[tuple[str, str], ...] = ()  # (value as entered, as shown)
    hint: str = ""
    program_only: bool = False  # a track cannot override it
    describe: Callable[[Any], str] | None = None  # how a value reads, when not as entered
    unit: str = "minutes"  # what a whole number (Kind.MINUTES) counts

    def shown(self, value: Any) -> str:
        """``value`` as people read it."""
        if value is None:
            return "not set"
        if self.describe is not None:
            return self.describe(value)
        if self.kind is Kind.SERVICES:
            chosen = {p.strip() for p in str(value).split(",")}
            return ", ".join(p.label for p in Provider if p.value in chosen)
        key = _entered(value)
        for choice, label in self.choices:
            if choice == key:
                return label
        if self.kind is Kind.MINUTES:
            return f"{value} {self.unit}"
        return str(value)

    def entered(self, value: Any) -> str:
        """``value`` as a form field or an option holds it."""
        return "" if value is None else _entered(value)

    def parse(self, text: str) -> Any:
        """What a form sent, typed as RuleChanges types it; InvalidInput names the rule."""
        text = text.strip()
        kind = _types()[self.name]
        if self.kind is Kind.MINUTES:
            try:
                return int(text)
            except ValueError:
                raise InvalidInput(self.name, f"is a whole number of {self.unit}") from None
        if self.kind is Kind.CHOICE:
            if text not in {choice for choice, _ in self.choices}:
                raise InvalidInput(self.name, f"is one of {', '.join(c for c, _ in self.choices)}")
            if kind is bool:
                return text == "yes"
            if issubclass(kind, enum.Enum):
                return kind(text)
        return text


def _entered(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _types() -> Mapping[str, type]:
    found: dict[str, type] = {}
    for name, hint in typing.get_type_hints(RuleChanges).items():
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        found[name] = options[0] if options else hint
    return found


def _location(settings: ProgramSettings) -> str:
    rule = settings.location
    return rule.place or "" if rule.mode is LocationMode.FIXED else rule.mode.value


def _place(value: Any) -> str:
    return {"none": "not said", "ask": "the booker adds one"}.get(str(value), str(value))


def _reminder(value: Any) -> str:
    return "none" if value == 0 else f"{value} minutes before"


RULE_FIELDS: tuple[RuleField, ...] = (
    RuleField(
        "earliest",
        "Earliest start",
        Kind.TIME,
        lambda s: str(s.rules.earliest),
        hint="in each person's own time zone",
    ),
    RuleField(
        "latest",
        "Latest end",
        Kind.TIME,
        lambda s: str(s.rules.latest),
        hint="in each person's own time zone",
    ),
    RuleField(
        "weekends",
        "Weekends",
        Kind.CHOICE,
        lambda s: s.rules.weekends,
        (("yes", "offered"), ("no", "not offered")),
    ),
    RuleField(
        "duration",
        "Default meeting length",
        Kind.MINUTES,
        lambda s: s.default_duration_minutes,
        hint="5 to 480",
    ),
    RuleField(
        "granularity",
        "Start times every",
        Kind.MINUTES,
        lambda s: s.rules.granularity_minutes,
        hint="divides a day: 15, 30, 60",
    ),
    RuleField("notice", "Minimum notice", Kind.MINUTES, lambda s: s.rules.min_notice_minutes),
    RuleField(
        "buffer",
        "Buffer around busy times",
        Kind.MINUTES,
        lambda s: s.rules.buffer_minutes,
    ),
    RuleField(
        "tentative_is_busy",
        "Tentative events",
        Kind.CHOICE,
        lambda s: s.rules.tentative_is_busy,
        (("yes", "count as busy"), ("no", "count as free")),
    ),
    RuleField(
        "all_day_events",
        "All-day events marked free",
        Kind.CHOICE,
        lambda s: s.rules.all_day_events,
        (
            (AllDayEvents.BUSY.value, "count as busy"),
            (AllDayEvents.AS_MARKED.value, "count as their calendar marks them"),
        ),
    ),
    RuleField(
        "providers",
        "Calendar services",
        Kind.SERVICES,
        lambda s: ",".join(p.value for p in Provider if p in s.allowed_providers),
    ),
    RuleField(
        "confirmation",
        "Confirmation",
        Kind.CHOICE,
        lambda s: s.confirmation,
        (
            (ConfirmationRule.PARTNER.value, "the partner accepts a time first"),
            (ConfirmationRule.AUTO.value, "a chosen time is a meeting at once"),
        ),
        hint="pairs only: circles and polls are never asked",
    ),
    RuleField(
        "reminder_minutes",
        "Reminder",
        Kind.MINUTES,
        lambda s: s.reminder_minutes,
        hint="minutes before each meeting; 0 sends none",
        describe=_reminder,
    ),
    RuleField(
        "location",
        "Location",
        Kind.TEXT,
        _location,
        hint="none, ask (the booker adds one), or the program's one link or room",
        describe=_place,
    ),
    RuleField(
        "video",
        "Video meeting",
        Kind.CHOICE,
        lambda s: s.video,
        (
            (VideoRule.NONE.value, "none"),
            (VideoRule.TEAMS.value, "a Teams meeting"),
            (VideoRule.MEET.value, "a Google Meet"),
        ),
        hint="added to meetings the program account creates (an organisation connection "
        "with --write)",
    ),
    RuleField(
        "timezone",
        "Time zone assumed when a profile has none",
        Kind.TEXT,
        lambda s: s.default_timezone,
        hint="an IANA name, such as Europe/Paris",
        program_only=True,
    ),
    RuleField(
        "availability_visible_to",
        "Who can find times with whom",
        Kind.CHOICE,
        lambda s: s.availability_visible_to,
        (
            (Visibility.PARTNERS.value, "their own mentors, mentees and circles (admins: anyone)"),
            (Visibility.PROGRAM.value, "anyone in the program"),
        ),
        program_only=True,
    ),
    RuleField(
        "retention_days",
        "Keep offers and meetings for",
        Kind.MINUTES,
        lambda s: s.retention_days,
        hint="days; older ones are deleted, their counts kept (at least 90)",
        program_only=True,
        unit="days",
    ),
)


def rule_field(name: str) -> RuleField:
    for found in RULE_FIELDS:
        if found.name == name:
            return found
    raise InvalidInput(name, "is not a rule")


def changes_from_form(
    form: Mapping[str, str], *, track: bool
) -> tuple[RuleChanges, frozenset[str]]:
    """A form's rules: ``rule.NAME`` holds a value (``rule.NAME.SERVICE`` a checked
    service, with ``rule.NAME.sent`` saying the boxes were shown). On a track's form a rule
    is the track's own only when ``override.NAME`` is checked, and inherited otherwise; on
    the program's, an empty field changes nothing. The changes, and the names to inherit."""
    values: dict[str, Any] = {}
    inherit = set()
    for rule in RULE_FIELDS:
        if track and rule.program_only:
            continue
        if track and not form.get(f"override.{rule.name}"):
            inherit.add(rule.name)
            continue
        if rule.kind is Kind.SERVICES:
            if f"rule.{rule.name}.sent" not in form:
                continue
            chosen = [p.value for p in Provider if form.get(f"rule.{rule.name}.{p.value}")]
            if not chosen:
                raise InvalidInput(rule.name, "needs at least one calendar service")
            values[rule.name] = ",".join(chosen)
            continue
        text = form.get(f"rule.{rule.name}", "").strip()
        if text:
            values[rule.name] = rule.parse(text)
        elif track:
            raise InvalidInput(rule.name, "needs a value, or leave it to the program")
    return RuleChanges(**values), frozenset(inherit)
