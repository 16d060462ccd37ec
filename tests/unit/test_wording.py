"""One way of saying lengths, names, tallies and zones, whichever chat shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core import wording

WINTER = datetime(2026, 1, 12, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 13, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        (1, "1 minute"),
        (15, "15 minutes"),
        (60, "1 hour"),
        (61, "1 hour 1 minute"),
        (90, "1 hour 30 minutes"),
        (120, "2 hours"),
        (135, "2 hours 15 minutes"),
        (0, "0 minutes"),
    ],
)
def test_durations(minutes, said):
    assert wording.duration(minutes) == said


def test_names():
    assert wording.names([]) == ""
    assert wording.names([], none="nobody") == "nobody"
    assert wording.names(["Ana"]) == "Ana"
    assert wording.names(["Ana", "Ben"]) == "Ana and Ben"
    assert wording.names(["Ana", "Ben", "Cy"]) == "Ana, Ben and Cy"


def test_tallies():
    assert wording.tally(2, 1, 0) == "2 yes, 1 if need be, 0 busy"
    assert wording.tally(0, 0, 3) == "0 yes, 0 if need be, 3 busy"


@pytest.mark.parametrize(
    ("zone", "at", "label"),
    [
        ("Europe/Berlin", WINTER, "Europe/Berlin (UTC+01:00)"),
        ("Europe/Berlin", SUMMER, "Europe/Berlin (UTC+02:00)"),  # summer time
        ("Asia/Kathmandu", WINTER, "Asia/Kathmandu (UTC+05:45)"),
        ("America/St_Johns", WINTER, "America/St_Johns (UTC\u221203:30)"),
        ("UTC", WINTER, "UTC"),
        ("Europe/London", WINTER, "Europe/London (UTC+00:00)"),
    ],
)
def test_zones_are_named_with_their_offset_at_the_moment_shown(zone, at, label):
    assert wording.zone_label(ZoneInfo(zone), at) == label
