"""Core's views as HTML fragments for the playground page. Pure: no I/O, no state.

The markup is ``templates/views.html``: one Jinja2 macro per view, so every value is
escaped by the template engine (``adapters.templates``), never by hand. Every time is
written in the viewing person's zone, ``<time datetime="…">Tue 1 Dec, 14:00</time>``, and
each message names that zone once. Buttons are ``<button>``s carrying the signed action
reference in ``data-action`` (the page posts it back as it is); a
:class:`~core.views.TimeInput` is a small form whose local ``YYYY-MM-DDTHH:MM`` value goes
back with its reference. Links to this server are made relative, so they open on
whichever address the page itself was loaded from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, assert_never
from urllib.parse import quote
from zoneinfo import ZoneInfo

from markupsafe import Markup

from adapters.templates import environment
from core import wording
from core.time import describe
from core.views import (
    Button,
    Confirmation,
    ConnectionStatusView,
    ConnectPrompt,
    HelpView,
    MeetingList,
    Notice,
    PollDraftView,
    PollView,
    Question,
    SettingsView,
    SlotChoice,
    SlotPicker,
    View,
)

DASH = "\u2013"  # between a start and an end


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: times are shown in ``zone``; links under ``base_url`` become relative."""

    zone: ZoneInfo
    base_url: str = ""


def render(view: View, viewer: Viewer, *, key: str) -> str:
    """``view`` as an HTML fragment; ``key`` (unique on the page) prefixes its element ids."""
    macros = _macros()
    match view:
        case SlotPicker():
            shown = macros.picker(view, viewer, key)
        case Confirmation():
            shown = macros.confirmation(view, viewer, key)
        case MeetingList():
            shown = macros.meetings(view, viewer)
        case ConnectPrompt():
            shown = macros.connect(view, viewer)
        case ConnectionStatusView():
            shown = macros.status(view, viewer)
        case HelpView():
            shown = macros.help(view)
        case SettingsView():
            shown = macros.settings(view)
        case Notice():
            shown = macros.notice(view, viewer)
        case Question():
            shown = macros.question(view, viewer)
        case PollView():
            shown = macros.poll(view, viewer)
        case PollDraftView():
            shown = macros.draft(view, viewer, key)
        case _:
            assert_never(view)
    return str(shown).strip()


def message(
    *,
    key: str,
    author: str,
    at: datetime,
    body: str,
    viewer: Viewer,
    from_pairtime: bool,
    private: bool = False,
) -> str:
    """One message of a conversation: who wrote it, when, and its (already rendered) body.

    ``private`` marks an answer only the viewer sees in a shared channel.
    """
    html = Markup(body)  # noqa: S704 - a body rendered by this module, escaped already
    shown = _macros().message(key, author, at, html, viewer, from_pairtime, private)
    return str(shown).strip()


def said(text: str) -> str:
    """What a person typed, as a message body."""
    return str(_macros().said(text))


@cache
def _macros() -> Any:
    """The macros of ``templates/views.html``, with the helpers they use; built once."""
    template = environment("adapters.web").get_template("views.html")
    return template.make_module(
        {
            "DASH": DASH,
            "stamp": _stamp,
            "clock": _clock,
            "describe": describe,
            "same_day": _same_day,
            "day_label": _day_label,
            "days": _days,
            "zone_name": zone_name,
            "local": local,
            "names": wording.names,
            "duration": wording.duration,
            "tally": wording.tally,
            "quote": lambda text: quote(text, safe=""),
            "is_button": lambda item: isinstance(item, Button),
        }
    )


def _days(slots: Sequence[SlotChoice], zone: ZoneInfo) -> list[tuple[date, list[SlotChoice]]]:
    """The slots grouped by the viewer's local day (which may differ from the view's zone)."""
    grouped: dict[date, list[SlotChoice]] = {}
    for choice in slots:
        grouped.setdefault(choice.start.astimezone(zone).date(), []).append(choice)
    return list(grouped.items())


def local(url: str, base_url: str) -> str:
    """``url`` relative to this server when it points at ``base_url``, else unchanged."""
    base = base_url.rstrip("/")
    if base and (url == base or url.startswith(base + "/")):
        return url.removeprefix(base) or "/"
    return url


def _same_day(start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    return start.astimezone(zone).date() == end.astimezone(zone).date()


def _stamp(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="minutes")


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%H:%M}"


def _day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


zone_name = wording.zone_label  # zones are named as in every chat (core/wording.py)
