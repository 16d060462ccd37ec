"""Rules as admins set them: the program's defaults, and each track's overrides.

A track inherits every rule it does not set. Each change is checked whole (a track's
earliest start against the latest end it inherits), saved, and recorded in the audit log
rule by rule, old → new. The next search reads them: nothing is kept elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.admin.access import Scope
from core.admin.ports import AdminPorts
from core.admin.programs import RuleChanges, changed_settings
from core.admin.rule_fields import RULE_FIELDS, RuleField
from core.admin.tracks import find_track
from core.audit import Change
from core.errors import InvalidInput
from core.program import ProgramSettings
from core.tracks import Track, effective, merged


@dataclass(frozen=True, slots=True)
class RuleRow:
    rule: RuleField
    value: Any  # as RuleChanges types it
    inherited: bool  # the track does not set it (always False for the program's own)
    program_value: Any  # the program's, which an inherited rule follows

    @property
    def shown(self) -> str:
        return self.rule.shown(self.value)


@dataclass(frozen=True, slots=True)
class RulesPage:
    track: Track | None  # None: the program's defaults
    rows: tuple[RuleRow, ...]
    settings: ProgramSettings  # what a search under them uses


def _as_is(name: str) -> str:
    return name


async def rules_page(ports: AdminPorts, scope: Scope, track: str | None) -> RulesPage:
    """The rules of ``track`` (a name or an id), or the program's when None."""
    program = await ports.programs.settings(scope.program)
    if track is None:
        scope.check(None)
        return _page(None, program, program)
    found = await find_track(ports, scope, track)
    return _page(found, program, effective(program, found.rules))


def _page(track: Track | None, program: ProgramSettings, settings: ProgramSettings) -> RulesPage:
    overridden = track.overrides() if track is not None else frozenset()
    rows = tuple(
        RuleRow(
            rule,
            rule.read(settings),
            inherited=track is not None and rule.name not in overridden,
            program_value=rule.read(program),
        )
        for rule in RULE_FIELDS
        if track is None or not rule.program_only
    )
    return RulesPage(track, rows, settings)


async def change_program_rules(
    ports: AdminPorts,
    scope: Scope,
    changes: RuleChanges,
    *,
    field: Callable[[str], str] = _as_is,
) -> RulesPage:
    """Change the program's defaults; refused (InvalidInput) when a track's own rules would
    then contradict them, naming the track."""
    scope.check(None)
    before = await ports.programs.settings(scope.program)
    after = changed_settings(before, changes, field=field)
    for track in await ports.tracks.all(scope.program):
        try:
            changed_settings(after, track.rules)
        except InvalidInput as error:
            raise InvalidInput(
                error.field, f"{error.message} (in the track {track.name!r}, which sets its own)"
            ) from None
    await ports.programs.save_settings(scope.program, after)
    recorded = _differences(before, after, None)
    await ports.audit.record(scope.program, scope.actor, recorded, ports.clock.now())
    return _page(None, after, after)


async def change_track_rules(
    ports: AdminPorts,
    scope: Scope,
    track: str,
    changes: RuleChanges,
    *,
    inherit: frozenset[str] = frozenset(),
    field: Callable[[str], str] = _as_is,
) -> RulesPage:
    """Set some of a track's rules and let those in ``inherit`` follow the program again."""
    found = await find_track(ports, scope, track)
    for rule in RULE_FIELDS:
        if rule.program_only and (getattr(changes, rule.name) is not None):
            raise InvalidInput(field(rule.name), "is the program's, for every track")
    program = await ports.programs.settings(scope.program)
    overrides = merged(found.rules, changes, inherit)
    before = effective(program, found.rules)
    after = changed_settings(program, overrides, field=field)  # refused here, whole
    await ports.tracks.save_rules(found.id, overrides)
    updated = Track(found.id, found.program, found.name, overrides, found.archived)
    recorded = _differences(before, after, found, updated)
    await ports.audit.record(scope.program, scope.actor, recorded, ports.clock.now())
    return _page(updated, program, after)


def _differences(
    before: ProgramSettings,
    after: ProgramSettings,
    track: Track | None,
    updated: Track | None = None,
) -> list[Change]:
    old_own = track.overrides() if track is not None else frozenset()
    new_own = updated.overrides() if updated is not None else frozenset()
    found = []
    for rule in RULE_FIELDS:
        old, new = rule.read(before), rule.read(after)
        was, now = rule.name in old_own, rule.name in new_own
        if old == new and was == now:
            continue
        found.append(
            Change(
                rule.label,
                _described(rule, old, inherited=track is not None and not was),
                _described(rule, new, inherited=track is not None and not now),
                track.id if track is not None else None,
            )
        )
    return found


def _described(rule: RuleField, value: Any, *, inherited: bool) -> str:
    return rule.shown(value) + (" (the program's)" if inherited else "")
