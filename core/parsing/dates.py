"""Explicit calendar dates: "Dec 3", "3 December", "12/3", "on the 3rd".

The grammar finds where a date is written; dateparser reads what it says,
and is imported only when a message holds one, because importing it costs
more than parsing a whole message. The year is settled here, not by
dateparser: a date without one means its next occurrence, today included,
so "Jan 5" said in November is next January and "Nov 25" said on 25
November is today.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from core.commands import Aspect, Ignored
from core.parsing.text import PLACEHOLDER_CLOSE, PLACEHOLDER_OPEN, starting_with

MOST_DATES = 6
"""Dates read per message; dateparser costs most of a millisecond each, so a message
holding hundreds of them must not cost hundreds of milliseconds. Later ones are ignored."""

MONTHS = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
)
WEEKDAYS = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues|tue|weds|wed|thurs|thur|thu|fri|sat|sun)"
)
_WEEKDAY_FIRST = rf"(?:{WEEKDAYS}s?\.?,?\s+(?:the\s+)?)?"
_DAY = r"[0-9]{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<{name}>[0-9]{{4}})\b)?"
# "may 3pm" is a time, not the 3rd of May.
_NOT_A_TIME = r"(?![0-9]|\s*(?:am|pm|a\.m|p\.m|[:.][0-9]|h\b|hours?\b|hrs?\b|min))"
# A digit, a weekday, a month, "the" or a prefix word starts each one.
_DATE = starting_with(
    "0-9abcdefjmnostuw",
    rf"\b{_WEEKDAY_FIRST}(?P<day_month>(?:the\s+)?{_DAY}\s+(?:of\s+)?{MONTHS}\b\.?)"
    + _YEAR.format(name="year_after_month")
    + rf"|\b{_WEEKDAY_FIRST}(?P<month_day>{MONTHS}\.?\s+(?:the\s+)?{_DAY}\b{_NOT_A_TIME})"
    + _YEAR.format(name="year_after_day")
    + r"|(?<![0-9/.:-])(?P<numeric>[0-9]{1,2}/[0-9]{1,2}(?:/(?P<numeric_year>[0-9]{4}|[0-9]{2}))?)"
    r"(?![0-9/])"
    r"|\b(?P<iso>[0-9]{4}-[0-9]{2}-[0-9]{2})\b"
    rf"|\b{_WEEKDAY_FIRST}the\s+(?P<ordinal>[0-9]{{1,2}})(?:st|nd|rd|th)\b"
    rf"(?!\s+(?:of\s+)?{MONTHS}\b)"
    # "Mon 14th", "w/c 12th", "on 3rd": an ordinal without "the" after a word that
    # makes it a day ("my 2nd meeting" is none). The word is kept for the window grammar.
    rf"|\b{WEEKDAYS}s?\.?,?\s+(?P<weekday_ordinal>[0-9]{{1,2}})(?:st|nd|rd|th)\b"
    rf"(?!\s+(?:of\s+)?{MONTHS}\b)"
    r"|(?P<prefix>\b(?:on|by|before|after|until|till|from|to|and|commencing|beginning|starting"
    r"|ending|of)\s+)(?P<bare_ordinal>[0-9]{1,2})(?:st|nd|rd|th)\b"
    rf"(?!\s+(?:of\s+)?{MONTHS}\b)",
)
# Every date holds a month's first three letters, or a digit before an ordinal's
# suffix, "/" or "-": a message without one skips the pass above.
_DATE_HINT = re.compile(r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|[0-9](?:st|nd|rd|th|/|-)")
_ORDINAL_SUFFIX = re.compile(r"(?<=[0-9])(?:st|nd|rd|th)\b|\bthe\b|\bof\b|[.,]")

# Where "12/3" is the 3rd of December; elsewhere it is the 12th of March.
_MONTH_FIRST_ZONES = ("America/", "US/", "Pacific/Honolulu", "Asia/Manila")
_NOT_MONTH_FIRST = (
    "America/Sao_Paulo",
    "America/Argentina/",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Caracas",
    "America/Montevideo",
)


def date_order(zone: ZoneInfo) -> str:
    """``"MDY"`` where people write the month first (the United States and a few
    others, judged by the zone's name), else ``"DMY"``."""
    name = zone.key or ""
    if name.startswith(_NOT_MONTH_FIRST):
        return "DMY"
    return "MDY" if name.startswith(_MONTH_FIRST_ZONES) else "DMY"


def find_dates(
    text: str, today: date, zone: ZoneInfo, *, ignored: list[Ignored] | None = None
) -> tuple[list[date], str]:
    """The dates written in ``text``, and the text with each replaced by a placeholder
    (its index between ``PLACEHOLDER_OPEN`` and ``PLACEHOLDER_CLOSE``), so the window
    grammar can read "before Dec 3" as "before <date>".

    A date that does not exist ("31/2"), or one after the first :data:`MOST_DATES`,
    is dropped from the text without a placeholder and added to ``ignored``.
    """
    if _DATE_HINT.search(text) is None:
        return [], text
    dates: list[date] = []
    pieces: list[str] = []
    last = 0
    for count, match in enumerate(_DATE.finditer(text)):
        day = _read(match, today, zone) if count < MOST_DATES else None
        start = match.start("bare_ordinal") if match.group("prefix") else match.start()
        pieces.append(text[last:start])
        if day is None:
            pieces.append(" ")
            if ignored is not None:
                ignored.append(Ignored(" ".join(text[start : match.end()].split()), Aspect.DAY))
        else:
            pieces.append(f" {PLACEHOLDER_OPEN}{len(dates)}{PLACEHOLDER_CLOSE} ")
            dates.append(day)
        last = match.end()
    pieces.append(text[last:])
    return dates, "".join(pieces)


def _read(match: re.Match[str], today: date, zone: ZoneInfo) -> date | None:
    ordinal = (
        match.group("ordinal") or match.group("weekday_ordinal") or match.group("bare_ordinal")
    )
    if ordinal is not None:
        return next_day_of_month(int(ordinal), today)
    written = match.group("day_month") or match.group("month_day") or ""
    year = match.group("year_after_month") or match.group("year_after_day")
    if written:
        written = " ".join(_ORDINAL_SUFFIX.sub(" ", written).split())
        if year:
            written = f"{written} {year}"
    else:
        written = match.group("numeric") or match.group("iso")
        year = match.group("numeric_year") or (written[:4] if match.group("iso") else None)
        if year is not None and len(year) == 2:
            # dateparser, preferring the future, would put a past "/26" in 2126.
            written = f"{written[:-2]}20{year}"
    read = _read_with_dateparser(written, date_order(zone))
    if read is None:
        return None
    if year:
        return read
    return next_occurrence(read.month, read.day, today)


def next_occurrence(month: int, day: int, today: date) -> date | None:
    """The first ``month``/``day`` from ``today`` on; 29 February waits for a leap year."""
    for year in range(today.year, min(today.year + 9, 9999)):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= today:
            return date(year, month, day)
    return None


def next_day_of_month(day: int, today: date) -> date | None:
    """The next "the 3rd" from ``today`` on, skipping months too short for it."""
    year, month = today.year, today.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= today:
            return date(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if year > 9999:
            break
    return None


@lru_cache(maxsize=256)
def _read_with_dateparser(text: str, order: str) -> date | None:
    value = _date_parser(order).get_date_data(text).date_obj
    if not isinstance(value, datetime):
        return None
    return value.date()


@cache
def _date_parser(order: str) -> Any:
    """One dateparser per date order, built on first use and kept.

    It is asked only for the month, day and written year of a phrase the
    grammar has already found, so the speaker's zone and the current time do
    not change its answer and it can be shared across messages and zones.
    """
    # Imported here: importing dateparser takes longer than parsing a message.
    from dateparser.date import DateDataParser  # type: ignore[import-untyped]  # noqa: PLC0415

    return DateDataParser(
        languages=["en"],
        try_previous_locales=False,
        settings={
            "DATE_ORDER": order,
            "PARSERS": ["absolute-time"],
            "PREFER_DATES_FROM": "future",
            "REQUIRE_PARTS": ["day", "month"],
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
