"""An empty search, in words: the window searched (in the reader's zone) and the engine's
reasons (``core.explain``), so that "no time" is never a dead end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core import wording
from core.explain import Away, Full, HoursApart, OffDays, Reason, Restricted, TooSoon
from core.time import Interval

_MOMENT = timedelta(microseconds=1)
DASH = "\u2013"  # an en dash between the ends of a range


def day(value: date) -> str:
    """``Mon 30 Nov``."""
    return f"{value:%a} {value.day} {value:%b}"


def window_words(window: Interval, zone: ZoneInfo) -> str:
    """``on Mon 30 Nov`` or ``from Mon 30 Nov to Sun 6 Dec``, in ``zone``."""
    first = window.start.astimezone(zone).date()
    last = (window.end - _MOMENT).astimezone(zone).date()
    if first >= last:
        return f"on {day(first)}"
    return f"from {day(first)} to {day(last)}"


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%H:%M}"


def _days(days: Sequence[date]) -> str:
    """Consecutive days as ranges: ``Mon 30 Nov`` to ``Wed 2 Dec`` joined by a dash."""
    runs: list[tuple[date, date]] = []
    for value in sorted(days):
        if runs and value - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return wording.names(
        [day(a) if a == b else f"{day(a)}{DASH}{day(b)}" for a, b in runs],
    )


def reasons_text(
    reasons: Sequence[Reason],
    *,
    names: Mapping[str, str],
    speaker: str,
    zone: ZoneInfo,
) -> list[str]:
    """A sentence per reason; ``names`` are the participants' names by engine id."""
    others = [name for pid, name in names.items() if pid != speaker]
    sentences = []
    away = False
    for reason in reasons:
        match reason:
            case TooSoon(notice):
                sentences.append(
                    "That is too soon: the program asks for at least "
                    f"{wording.duration(int(notice.total_seconds() // 60))} of notice."
                )
            case OffDays():
                sentences.append("Those days are a weekend, and the program doesn't meet then.")
            case HoursApart(None):
                whose = "Your hours" if len(others) != 1 else f"Your hours and {others[0]}'s"
                sentences.append(
                    f"{whose} don't overlap then (the program's hours and working hours, "
                    "each in their own time zone)."
                )
            case HoursApart(Interval() as longest):
                whose = "Everyone's hours" if len(others) != 1 else f"Your hours and {others[0]}'s"
                sentences.append(
                    f"{whose} overlap only {_clock(longest.start, zone)}{DASH}"
                    f"{_clock(longest.end, zone)} {zone.key} time, which is too short."
                )
            case Restricted():
                sentences.append("The times of day or days you ruled out leave too little room.")
            case Away(person, days):
                away = True
                who = "You are" if person == speaker else f"{names.get(person, 'Someone')} is"
                sentences.append(f"{who} out of office or away {_days(days)}.")
            case Full():
                if not away:
                    sentences.append("Calendars and meetings fill the hours you share.")
    return sentences
