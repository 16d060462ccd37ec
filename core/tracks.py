"""Tracks: the parts of a program ("2026 engineering mentoring", "New managers circles").

Every pair and circle belongs to one track. A track's rules are the program's, except
those it overrides: :class:`~core.admin.programs.RuleChanges` holds the overrides (None:
inherited), so a rule added to the program is a rule a track can override. A search
among people of one pair or one circle runs under that track's rules.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from dataclasses import dataclass, field, replace
from typing import Any, NewType

from core.admin.programs import RuleChanges, changed_settings
from core.errors import InvalidInput
from core.people import ProgramId
from core.program import ProgramSettings

TrackId = NewType("TrackId", str)
DEFAULT_TRACK = "Main"  # the track a program's first pair or circle lands in
MAX_NAME = 200
# Rules that stay the program's: a person's assumed zone is needed before any track is known,
# and who may see whose free times is one promise to everyone in the program.
PROGRAM_ONLY = frozenset({"timezone", "availability_visible_to"})


@dataclass(frozen=True, slots=True)
class Track:
    id: TrackId
    program: ProgramId
    name: str
    rules: RuleChanges = field(default_factory=RuleChanges)  # what it overrides
    archived: bool = False

    def overrides(self) -> frozenset[str]:
        """The names of the rules this track sets itself."""
        return frozenset(
            name for name, value in rule_values(self.rules).items() if value is not None
        )


def rule_values(changes: RuleChanges) -> dict[str, Any]:
    """Every field of ``changes`` by name, None included."""
    return {f.name: getattr(changes, f.name) for f in dataclasses.fields(changes)}


@functools.lru_cache(maxsize=256)
def effective(program: ProgramSettings, track: RuleChanges | None) -> ProgramSettings:
    """The rules a search under ``track`` uses: the program's, with the track's overrides.

    Remembered by its two frozen arguments (a pure function, so never stale): every search
    of a pair with a track runs it, and merging (each rule checked, the settings copied)
    cost twenty times hashing them.

    An override the program's own rules no longer admit (a track's 17:00 start once the
    program ends its days at 16:00) is left out rather than failing every search: the
    program's change is refused first (see ``core.admin.tracks``), so this is a fallback.
    """
    if track is None:
        return program
    values = {k: v for k, v in rule_values(track).items() if k not in PROGRAM_ONLY}
    try:
        return changed_settings(program, RuleChanges(**values))
    except InvalidInput:
        settings = program
        for name, value in values.items():
            if value is None:
                continue
            try:
                settings = changed_settings(settings, RuleChanges(**{name: value}))
            except InvalidInput:
                continue
        return settings


def merged(current: RuleChanges, changes: RuleChanges, reset: frozenset[str]) -> RuleChanges:
    """``current`` overrides, with ``changes`` set and the rules named in ``reset`` inherited
    again."""
    values = rule_values(current)
    for name, value in rule_values(changes).items():
        if value is not None:
            values[name] = value
    for name in reset:
        if name not in values:
            raise InvalidInput(name, "is not a rule")
        values[name] = None
    return RuleChanges(**values)


@functools.cache
def _field_types() -> dict[str, type]:
    """Each rule's type, worked out once: resolving the hints costs more than a search."""
    hints = typing.get_type_hints(RuleChanges)
    found: dict[str, type] = {}
    for name, hint in hints.items():
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            found[name] = options[0]
        else:
            found[name] = hint
    return found


def rules_to_json(changes: RuleChanges) -> dict[str, Any]:
    """The overrides as JSON: only those set, enums by value."""
    return {
        name: value.value if isinstance(value, enum.Enum) else value
        for name, value in rule_values(changes).items()
        if value is not None
    }


def rules_from_json(data: dict[str, Any]) -> RuleChanges:
    """Stored overrides back; a key no longer known (a rule removed) is dropped."""
    kinds = _field_types()
    values: dict[str, Any] = {}
    for name, value in data.items():
        kind = kinds.get(name)
        if kind is None or value is None:
            continue
        if issubclass(kind, enum.Enum):
            try:
                values[name] = kind(value)
            except ValueError:
                continue
        elif isinstance(value, kind):
            values[name] = value
    return replace(RuleChanges(), **values)


def checked_name(name: str) -> str:
    """A track's name, trimmed; InvalidInput when empty or too long."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("name", "cannot be empty")
    if len(name) > MAX_NAME:
        raise InvalidInput("name", f"is at most {MAX_NAME} characters")
    return name
