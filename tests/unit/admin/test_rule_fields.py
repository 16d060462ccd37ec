"""The table of rules the console and the command line show: complete, and read back."""

from __future__ import annotations

import dataclasses

import pytest

from core.admin.programs import RuleChanges, changed_settings
from core.admin.rule_fields import RULE_FIELDS, Kind, changes_from_form, rule_field
from core.errors import InvalidInput
from core.program import ProgramSettings
from core.rules import AllDayEvents
from core.tracks import effective, rules_from_json, rules_to_json


def test_every_rule_an_admin_can_change_has_a_row():
    """A rule added to RuleChanges must be added to RULE_FIELDS: the page shows it then."""
    assert sorted(f.name for f in dataclasses.fields(RuleChanges)) == sorted(
        f.name for f in RULE_FIELDS
    )


def test_each_row_reads_back_what_it_sets():
    settings = ProgramSettings()
    for rule in RULE_FIELDS:
        value = rule.read(settings)
        again = changed_settings(settings, RuleChanges(**{rule.name: value}))
        assert rule.read(again) == value, rule.name
        if rule.kind is not Kind.SERVICES:
            assert rule.parse(rule.entered(value)) == value, rule.name


def test_a_track_form_sets_what_it_overrides_and_inherits_the_rest():
    changes, inherit = changes_from_form(
        {
            "override.earliest": "on",
            "rule.earliest": "09:15",
            "rule.latest": "17:00",  # not overridden: inherited, whatever the field holds
            "override.all_day_events": "on",
            "rule.all_day_events": "as_marked",
            "override.providers": "on",
            "rule.providers.sent": "1",
            "rule.providers.google": "on",
        },
        track=True,
    )

    assert changes == RuleChanges(
        earliest="09:15", all_day_events=AllDayEvents.AS_MARKED, providers="google"
    )
    assert "latest" in inherit
    assert "timezone" not in inherit  # the program's own
    with pytest.raises(InvalidInput, match="duration: is a whole number"):
        changes_from_form({"override.duration": "on", "rule.duration": "half"}, track=True)
    with pytest.raises(InvalidInput, match="weekends: is one of yes, no"):
        changes_from_form({"rule.weekends": "maybe"}, track=False)


def test_overrides_are_stored_as_plain_json_and_a_stale_one_is_dropped():
    changes = RuleChanges(weekends=True, all_day_events=AllDayEvents.AS_MARKED, notice=15)

    stored = rules_to_json(changes)

    assert stored == {"weekends": True, "all_day_events": "as_marked", "notice": 15}
    assert rules_from_json(stored) == changes
    assert rules_from_json({"retired_rule": 1, "all_day_events": "sometimes"}) == RuleChanges()


def test_an_override_the_program_no_longer_admits_is_left_out_alone():
    program = changed_settings(ProgramSettings(), RuleChanges(latest="12:00"))

    settings = effective(program, RuleChanges(earliest="13:00", weekends=True))

    assert str(settings.rules.earliest) == "08:00"  # would end before it starts
    assert settings.rules.weekends is True
    assert rule_field("weekends").shown(value=True) == "offered"
