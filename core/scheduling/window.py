"""Where the speaker allows a meeting inside a window: their time of day ("afternoons"),
less the times they ruled out ("not Monday", "I'm busy Thursday")."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from core.commands import TimeOfDay
from core.time import Interval, local_dates


def allowed(
    window: Interval,
    time_of_day: TimeOfDay | None,
    excluded: Sequence[Interval],
    zone: ZoneInfo,
) -> list[Interval] | None:
    """The engine's ``within`` for such a request; None when the speaker set no limit."""
    if time_of_day is None and not excluded:
        return None
    spans = [window] if time_of_day is None else daily(window, time_of_day, zone)
    for out in sorted(excluded, key=lambda span: span.start):
        kept: list[Interval] = []
        for span in spans:
            if not span.overlaps(out):
                kept.append(span)
                continue
            if span.start < out.start:
                kept.append(Interval(span.start, out.start))
            if out.end < span.end:
                kept.append(Interval(out.end, span.end))
        spans = kept
    return spans


def daily(window: Interval, tod: TimeOfDay, zone: ZoneInfo) -> list[Interval]:
    """``tod`` on each local day of ``window``, in ``zone``."""
    spans = []
    for day in local_dates(window, zone):
        start, end = tod.start.on(day, zone), tod.end.on(day, zone)
        if start < end:
            spans.append(Interval(start, end))
    return spans
