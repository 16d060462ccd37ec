"""A program's rules as an admin changes them: what may change, and the checks.

Tracks override the same :class:`RuleChanges` (``core.tracks``); the use cases that
save them are in ``core.admin.rules``, admins in ``core.admin.admins``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from core import program
from core.commands import Provider
from core.errors import InvalidInput
from core.rules import AllDayEvents
from core.slots_json import MAX_BUFFER_MINUTES, MAX_NOTICE_MINUTES
from core.time import DayTime, zone_named


@dataclass(frozen=True, slots=True)
class RuleChanges:
    """What an admin changes; None leaves a rule as it is."""

    earliest: str | None = None  # HH:MM
    latest: str | None = None
    weekends: bool | None = None
    granularity: int | None = None  # minutes between two starts
    notice: int | None = None  # minutes
    buffer: int | None = None  # minutes
    tentative_is_busy: bool | None = None
    all_day_events: AllDayEvents | None = None
    duration: int | None = None  # the default meeting length, minutes
    providers: str | None = None  # "google,microsoft,icloud"
    timezone: str | None = None  # IANA
    confirmation: program.ConfirmationRule | None = None
    reminder_minutes: int | None = None  # 0: no reminders
    location: str | None = None  # "none", "ask", or the program's one link or room
    video: program.VideoRule | None = None  # an online meeting on the program account's events
    availability_visible_to: program.Visibility | None = None
    retention_days: int | None = None  # offers and meetings older than this are deleted


def _as_is(name: str) -> str:
    return name


def changed_settings(
    current: program.ProgramSettings, changes: RuleChanges, *, field: Callable[[str], str] = _as_is
) -> program.ProgramSettings:
    """``current`` with ``changes``; :class:`InvalidInput` names a bad one."""
    rules = current.rules
    earliest = (
        DayTime.parse(changes.earliest, field=field("earliest"))
        if changes.earliest
        else rules.earliest
    )
    latest = (
        DayTime.parse(changes.latest, field=field("latest")) if changes.latest else rules.latest
    )
    if latest <= earliest:
        raise InvalidInput(field("latest"), f"must be later than {field('earliest')}")
    numbers = {
        "granularity": changes.granularity,
        "notice": changes.notice,
        "buffer": changes.buffer,
        "duration": changes.duration,
    }
    for name, value in numbers.items():
        if value is not None and value < 0:
            raise InvalidInput(field(name), "cannot be negative")
    # The bounds of `pairtime slots`: past them every search would overflow or crawl.
    for name, most in (("notice", MAX_NOTICE_MINUTES), ("buffer", MAX_BUFFER_MINUTES)):
        value = numbers[name]
        if value is not None and value > most:
            raise InvalidInput(field(name), f"must be at most {most} minutes")
    if changes.granularity is not None and (changes.granularity == 0 or 1440 % changes.granularity):
        raise InvalidInput(field("granularity"), "must divide a day (for example 15, 30 or 60)")
    if changes.duration is not None and not 5 <= changes.duration <= 480:
        raise InvalidInput(field("duration"), "must be between 5 and 480 minutes")
    providers = current.allowed_providers
    if changes.providers:
        try:
            providers = frozenset(Provider(p.strip()) for p in changes.providers.split(","))
        except ValueError:
            raise InvalidInput(
                field("providers"), "is a comma-separated list of google, microsoft and icloud"
            ) from None
    if changes.timezone:
        zone_named(changes.timezone, field=field("timezone"))
    reminder = current.reminder_minutes
    if changes.reminder_minutes is not None:
        if not 0 <= changes.reminder_minutes <= program.MAX_REMINDER_MINUTES:
            raise InvalidInput(
                field("reminder_minutes"),
                f"must be between 0 (none) and {program.MAX_REMINDER_MINUTES}",
            )
        reminder = changes.reminder_minutes
    retention = current.retention_days
    if changes.retention_days is not None:
        if not program.MIN_RETENTION_DAYS <= changes.retention_days <= program.MAX_RETENTION_DAYS:
            raise InvalidInput(
                field("retention_days"),
                f"must be between {program.MIN_RETENTION_DAYS} and "
                f"{program.MAX_RETENTION_DAYS} days",
            )
        retention = changes.retention_days
    location = (
        current.location
        if changes.location is None
        else location_rule(changes.location, field("location"))
    )
    return replace(
        current,
        rules=replace(
            rules,
            earliest=earliest,
            latest=latest,
            weekends=rules.weekends if changes.weekends is None else changes.weekends,
            granularity_minutes=changes.granularity or rules.granularity_minutes,
            min_notice_minutes=rules.min_notice_minutes
            if changes.notice is None
            else changes.notice,
            buffer_minutes=rules.buffer_minutes if changes.buffer is None else changes.buffer,
            tentative_is_busy=rules.tentative_is_busy
            if changes.tentative_is_busy is None
            else changes.tentative_is_busy,
            all_day_events=changes.all_day_events or rules.all_day_events,
        ),
        default_duration_minutes=changes.duration or current.default_duration_minutes,
        allowed_providers=providers,
        default_timezone=changes.timezone or current.default_timezone,
        confirmation=changes.confirmation or current.confirmation,
        reminder_minutes=reminder,
        location=location,
        video=changes.video or current.video,
        availability_visible_to=changes.availability_visible_to or current.availability_visible_to,
        retention_days=retention,
    )


def location_rule(text: str, field: str = "location") -> program.LocationRule:
    """``none``, ``ask``, or the program's one link or room; InvalidInput when unusable."""
    place = " ".join(text.split())
    if place.lower() in ("none", "ask"):
        return program.LocationRule(program.LocationMode(place.lower()))
    if not place:
        raise InvalidInput(field, "is none, ask, or a link or room")
    if len(place) > program.MAX_PLACE:
        raise InvalidInput(field, f"is at most {program.MAX_PLACE} characters")
    return program.LocationRule(program.LocationMode.FIXED, place)
