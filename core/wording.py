"""The words every chat says the same way: lengths, lists of names, vote tallies, time zones.

Slack, Teams and the web each draw a view in their own markup, but a meeting of 90 minutes is
"1 hour 30 minutes" in all three, three people are "Ana, Ben and Cy", and a zone is named with
its offset at the moment shown ("Europe/Berlin (UTC+01:00)"): an abbreviation such as "CST"
names three zones, and many zones have none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

MINUS = "\u2212"  # a true minus sign in offsets: a hyphen reads as a dash


def duration(minutes: int) -> str:
    """``45 minutes``, ``1 hour``, ``1 hour 30 minutes``, ``2 hours``."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest or not hours:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def names(items: Sequence[str], *, none: str = "") -> str:
    """``Ana``, ``Ana and Ben``, ``Ana, Ben and Cy``; ``none`` when there is nobody."""
    if not items:
        return none
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} and {items[-1]}"


def tally(yes: int, if_need_be: int, busy: int) -> str:
    """A poll time's votes and how many are busy then: ``2 yes, 1 if need be, 3 busy``."""
    return f"{yes} yes, {if_need_be} if need be, {busy} busy"


def zone_label(zone: ZoneInfo, at: datetime | None = None) -> str:
    """``Asia/Kolkata (UTC+05:30)``: the zone's name and its offset at ``at`` (or now)."""
    if zone.key in {"UTC", "Etc/UTC"}:
        return "UTC"
    moment = (at or datetime.now(zone)).astimezone(zone)
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else MINUS
    hours, rest = divmod(abs(minutes), 60)
    return f"{zone.key} (UTC{sign}{hours:02d}:{rest:02d})"
