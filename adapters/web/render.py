"""Core's views as HTML fragments for the playground page. Pure: no I/O, no state.

Every text is escaped with :func:`html.escape`. Every time is written in the
viewing person's zone, ``<time datetime="…">Tue 1 Dec, 14:00</time>``, and each
message names that zone once. Buttons are ``<button>``s carrying the signed
action reference in ``data-action`` (the page posts it back as it is); a
:class:`~core.views.TimeInput` is a small form whose local ``YYYY-MM-DDTHH:MM``
value goes back with its reference. Links to this server are made relative, so
they open on whichever address the page itself was loaded from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import assert_never
from urllib.parse import quote
from zoneinfo import ZoneInfo

from core.time import describe
from core.views import (
    Button,
    ButtonStyle,
    Confirmation,
    ConnectionStatusView,
    ConnectPrompt,
    HelpView,
    LinkButton,
    MeetingList,
    Notice,
    PollDraftView,
    PollOptionView,
    PollView,
    Question,
    SettingsView,
    SlotChoice,
    SlotPicker,
    TextInput,
    TimeInput,
    Tone,
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
    match view:
        case SlotPicker():
            return _picker(view, viewer, key)
        case Confirmation():
            return _confirmation(view, viewer, key)
        case MeetingList():
            return _meetings(view, viewer)
        case ConnectPrompt():
            return _div("view connect", _prompt(view, viewer))
        case ConnectionStatusView():
            return _status(view, viewer)
        case HelpView():
            return _help(view)
        case SettingsView():
            return _settings(view)
        case Notice():
            return _notice(view, viewer)
        case Question():
            return _div("view question", _p(view.text) + _actions(view.options, viewer))
        case PollView():
            return _poll(view, viewer)
        case PollDraftView():
            return _draft(view, viewer, key)
        case _:
            assert_never(view)


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
    classes = "message " + ("from-pairtime" if from_pairtime else "from-person")
    if private:
        classes += " private"
    note = ' <span class="private-note">Only visible to you</span>' if private else ""
    return (
        f'<li class="{classes}" id="{escape(key)}" tabindex="-1">'
        f'<p class="byline"><span class="author">{escape(author)}</span> '
        f"{_time(at, viewer.zone, _clock(at, viewer.zone))}{note}</p>"
        f'<div class="body">{body}</div></li>'
    )


def said(text: str) -> str:
    """What a person typed, as a message body."""
    return _p(text, "said")


# ---------------------------------------------------------------- views


def _picker(view: SlotPicker, viewer: Viewer, key: str) -> str:
    zone = viewer.zone
    parts = [
        _h3(view.title),
        _p(f"{view.duration_minutes} minutes. Choose a time to book it.", "meta"),
        _zone_line(zone, view.slots[0].start if view.slots else None),
        _notes(view.notes),
    ]
    for index, (day, choices) in enumerate(_days(view.slots, zone)):
        heading = f"{key}-day{index}"
        slots = "".join(_slot_button(choice, zone) for choice in choices)
        parts.append(
            f'<div class="day" role="group" aria-labelledby="{heading}">'
            f'<h4 id="{heading}"><time datetime="{day.isoformat()}">'
            f"{escape(_day_label(day))}</time></h4>"
            f'<div class="slots">{slots}</div></div>'
        )
    if not view.slots:
        parts.append(_p("No free times to offer.", "meta"))
    if view.remaining:
        parts.append(_p(f"{view.remaining} more free times are not shown yet.", "meta"))
    if view.more is not None:
        parts.append(_actions([view.more], viewer))
    if view.connect is not None:
        parts.append(_div("connect", _prompt(view.connect, viewer)))
    return _div("view picker", "".join(parts))


def _days(slots: Sequence[SlotChoice], zone: ZoneInfo) -> list[tuple[date, list[SlotChoice]]]:
    """The slots grouped by the viewer's local day (which may differ from the view's zone)."""
    grouped: dict[date, list[SlotChoice]] = {}
    for choice in slots:
        grouped.setdefault(choice.start.astimezone(zone).date(), []).append(choice)
    return list(grouped.items())


def _slot_button(choice: SlotChoice, zone: ZoneInfo) -> str:
    start = _time(choice.start, zone, _clock(choice.start, zone))
    end = _time(choice.end, zone, _clock(choice.end, zone))
    hidden = _hidden(f"Book {_day_label(choice.start.astimezone(zone).date())}, ")
    return (
        f'<button type="button" class="button slot" data-action="{escape(choice.action)}">'
        f"{hidden}{start}{DASH}{end}</button>"
    )


def _confirmation(view: Confirmation, viewer: Viewer, key: str) -> str:
    zone = viewer.zone
    parts = [
        _p(view.headline, "headline"),
        _h3(view.title),
        f'<p class="when">{_span(view.start, view.end, zone)}</p>',
        _zone_line(zone, view.start),
    ]
    if view.with_names:
        parts.append(_p("With " + _names(view.with_names) + "."))
    if view.location:
        parts.append(f'<p class="where">Where: {_place(view.location)}</p>')
    if view.pending and not view.cancelled:
        parts.append(_p("Waiting for an answer.", "pending-note"))
    if view.cancelled:
        parts.append(_p("This meeting is off.", "cancelled-note"))
    if view.notes:
        parts.append(_notes(view.notes))
    links: list[str] = []
    if view.download is not None:
        address = f"/invitations/{quote(view.download, safe='')}.ics"
        label = "Download cancellation (.ics)" if view.cancelled else "Download invitation (.ics)"
        links.append(f'<a class="button" href="{escape(address)}" download>{escape(label)}</a>')
    links += [_button(item) for item in view.buttons]
    if links:
        parts.append(f'<div class="actions">{"".join(links)}</div>')
    if view.place is not None:
        parts.append(_text_input(view.place, f"{key}-place"))
    css = "view confirmation"
    if view.cancelled:
        css += " cancelled"
    elif view.pending:
        css += " pending"
    return _div(css, "".join(parts))


def _place(place: str) -> str:
    """A link as a link that opens in a new tab, anything else as text."""
    if place.startswith(("https://", "http://")):
        return (
            f'<a href="{escape(place)}" target="_blank" rel="noopener noreferrer">'
            f"{escape(place)}</a>"
        )
    return escape(place)


def _text_input(field: TextInput, element: str) -> str:
    return (
        f'<form class="text-input" data-action="{escape(field.action)}">'
        f'<label for="{element}">{escape(field.label)}</label>'
        f'<input id="{element}" name="value" type="text" maxlength="500" required '
        f'placeholder="{escape(field.placeholder)}">'
        f'<button type="submit" class="button">{escape(field.submit_label)}</button></form>'
    )


def _meetings(view: MeetingList, viewer: Viewer) -> str:
    if not view.meetings:
        return _div("view meetings", _h3(view.title) + _p(view.empty))
    items = []
    for item in view.meetings:
        lines = [
            f'<p class="meeting-title"><strong>{escape(item.title)}</strong></p>',
            f'<p class="when">{_span(item.start, item.end, viewer.zone)}</p>',
        ]
        if item.with_names:
            lines.append(_p("With " + _names(item.with_names) + "."))
        if item.location:
            lines.append(f'<p class="where">Where: {_place(item.location)}</p>')
        lines.append(_p(item.status, "status"))
        lines.append(_actions(item.buttons, viewer))
        css = "meeting pending" if item.pending else "meeting"
        items.append(f'<li class="{css}">{"".join(lines)}</li>')
    more = _p(f"…and {view.more} more.") if view.more else ""
    return _div(
        "view meetings",
        _h3(view.title)
        + _zone_line(viewer.zone, None)
        + f'<ul class="meeting-list">{"".join(items)}</ul>'
        + more,
    )


def _prompt(prompt: ConnectPrompt, viewer: Viewer) -> str:
    return _p(prompt.text) + _actions(prompt.links, viewer)


def _status(view: ConnectionStatusView, viewer: Viewer) -> str:
    parts = [_p(view.text)]
    if view.connect is not None:
        parts.append(_prompt(view.connect, viewer))
    if view.disconnect is not None:
        parts.append(_actions([view.disconnect], viewer))
    tone = Tone.WARNING if view.needs_reconnect else Tone.INFO
    return _div(f"view status tone-{tone.value}", "".join(parts))


def _help(view: HelpView) -> str:
    parts = []
    if view.hint:
        parts.append(_p(view.hint, "hint"))
    parts.append(_p(view.text))
    examples = "".join(
        f'<li><button type="button" class="button example" data-say="{escape(text)}">'
        f"{escape(text)}</button></li>"
        for text in view.examples
    )
    parts.append(f'<ul class="examples">{examples}</ul>')
    return _div("view help", "".join(parts))


def _settings(view: SettingsView) -> str:
    rows = "".join(
        f"<div><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>"
        for label, value in view.lines
    )
    note = _p("You are an admin of this program.", "meta") if view.can_edit else ""
    return _div("view settings", f"{_h3(view.title)}<dl>{rows}</dl>{note}")


def _notice(view: Notice, viewer: Viewer) -> str:
    prefix = {Tone.WARNING: "Warning: ", Tone.ERROR: "Error: "}.get(view.tone, "")
    text = f"<p>{_hidden(prefix) if prefix else ''}{escape(view.text)}</p>"
    return _div(f"view notice tone-{view.tone.value}", text + _actions(view.buttons, viewer))


def _poll(view: PollView, viewer: Viewer) -> str:
    zone = viewer.zone
    first = view.options[0].start if view.options else None
    parts = [
        _h3(view.title),
        _p(f"A poll by {view.organizer}: {view.duration_minutes} minutes.", "meta"),
        _zone_line(zone, first),
    ]
    if view.deadline is not None:
        parts.append(f"<p>Closes {_time(view.deadline, zone, describe(view.deadline, zone))}.</p>")
    if view.required:
        parts.append(_p("Required: " + _names(view.required) + "."))
    options = "".join(_poll_option(option, zone) for option in view.options)
    parts.append(f'<ol class="options" aria-label="Times">{options}</ol>')
    parts.append(
        _p(f"{view.connected} of {view.invitees} invitees have connected calendars.", "meta")
    )
    if view.status != "open":
        parts.append(_p(f"This poll is {view.status}.", "poll-status"))
    if view.result:
        parts.append(_p(view.result, "result"))
    buttons = [b for b in (view.close, view.cancel, view.connect) if b is not None]
    parts.append(_actions(buttons, viewer))
    return _div(f"view poll poll-{escape(view.status)}", "".join(parts))


def _poll_option(option: PollOptionView, zone: ZoneInfo) -> str:
    when = describe(option.start, zone)
    winner = ' <strong class="winner-note">Winner</strong>' if option.winner else ""
    if option.tied:
        winner = ' <strong class="tied-note">Tied</strong>'
    tally = f"{option.yes} yes, {option.if_need_be} if need be, {option.busy} busy (from calendars)"
    votes = "".join(
        f'<button type="button" class="button vote" data-action="{escape(button.action)}">'
        f"{escape(button.label)}{_hidden(f' for {when}')}</button>"
        for button in (option.vote_yes, option.vote_if_need_be)
        if button is not None
    )
    css = "option winner" if option.winner else "option"
    return (
        f'<li class="{css}"><p class="when">{_span(option.start, option.end, zone)}{winner}</p>'
        f'<p class="tally">{escape(tally)}</p>'
        + (f'<div class="actions">{votes}</div>' if votes else "")
        + "</li>"
    )


def _draft(view: PollDraftView, viewer: Viewer, key: str) -> str:
    zone = viewer.zone
    first = view.options[0][0].start if view.options else None
    parts = [
        _h3(f"Draft poll: {view.title}"),
        _p(
            f"{view.duration_minutes} minutes. Only you see this draft: remove or add times, "
            "then post it.",
            "meta",
        ),
        _zone_line(zone, first),
    ]
    rows = "".join(
        f'<li class="option"><p class="when">{_span(option.start, option.end, zone)}</p>'
        f'<p class="tally">{option.busy} busy (from calendars)</p>'
        f'<div class="actions"><button type="button" class="button" '
        f'data-action="{escape(remove.action)}">{escape(remove.label)}'
        f"{_hidden(' ' + describe(option.start, zone))}</button></div></li>"
        for option, remove in view.options
    )
    parts.append(f'<ol class="options" aria-label="Times">{rows}</ol>')
    parts.append(_p("Invitees: " + _names(view.invitees) + "."))
    parts.append(_time_input(view.add_time, zone, f"{key}-add"))
    deadline = (
        _time(view.deadline, zone, describe(view.deadline, zone))
        if view.deadline is not None
        else "none"
    )
    parts.append(_toggles(f"{key}-deadline", f"Deadline: {deadline}", view.deadlines))
    required = _names(view.required_names) if view.required_names else "nobody"
    parts.append(
        _toggles(f"{key}-required", f"Required attendees: {escape(required)}", view.required)
    )
    parts.append(_notes(view.notes))
    parts.append(_actions([view.post, view.cancel], viewer))
    return _div("view poll-draft", "".join(parts))


def _time_input(field: TimeInput, zone: ZoneInfo, element: str) -> str:
    return (
        f'<form class="time-input" data-action="{escape(field.action)}">'
        f'<label for="{element}">{escape(field.label)} ({escape(zone_name(zone, None))} '
        f"time)</label>"
        f'<input id="{element}" name="value" type="datetime-local" required>'
        f'<button type="submit" class="button">{escape(field.submit_label)}</button></form>'
    )


def _toggles(element: str, label_html: str, buttons: Sequence[Button]) -> str:
    """Buttons that show a choice: the primary one is the chosen (``aria-pressed``)."""
    items = "".join(
        f'<button type="button" class="button toggle" '
        f'aria-pressed="{"true" if b.style is ButtonStyle.PRIMARY else "false"}" '
        f'data-action="{escape(b.action)}">{escape(b.label)}</button>'
        for b in buttons
    )
    return (
        f'<div class="choice" role="group" aria-labelledby="{element}">'
        f'<p id="{element}">{label_html}</p><div class="actions">{items}</div></div>'
    )


# ---------------------------------------------------------------- pieces


def _actions(buttons: Iterable[Button | LinkButton], viewer: Viewer) -> str:
    html = "".join(
        _button(b) if isinstance(b, Button) else _link(b, viewer.base_url) for b in buttons
    )
    return f'<div class="actions">{html}</div>' if html else ""


def _button(button: Button) -> str:
    return (
        f'<button type="button" class="button {button.style.value}" '
        f'data-action="{escape(button.action)}">{escape(button.label)}</button>'
    )


def _link(link: LinkButton, base_url: str) -> str:
    return (
        f'<a class="button link" href="{escape(local(link.url, base_url))}" target="_blank" '
        f'rel="noopener">{escape(link.label)}{_hidden(" (opens in a new tab)")}</a>'
    )


def local(url: str, base_url: str) -> str:
    """``url`` relative to this server when it points at ``base_url``, else unchanged."""
    base = base_url.rstrip("/")
    if base and (url == base or url.startswith(base + "/")):
        return url.removeprefix(base) or "/"
    return url


def _span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    same_day = start.astimezone(zone).date() == end.astimezone(zone).date()
    end_text = _clock(end, zone) if same_day else describe(end, zone)
    return f"{_time(start, zone, describe(start, zone))}{DASH}{_time(end, zone, end_text)}"


def _time(moment: datetime, zone: ZoneInfo, text: str) -> str:
    stamp = moment.astimezone(zone).isoformat(timespec="minutes")
    return f'<time datetime="{stamp}">{escape(text)}</time>'


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%H:%M}"


def _day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _zone_line(zone: ZoneInfo, at: datetime | None) -> str:
    return _p(f"Times in {zone_name(zone, at)}.", "zone")


def zone_name(zone: ZoneInfo, at: datetime | None = None) -> str:
    """``Asia/Kolkata (UTC+05:30)``: the zone's name and its offset at ``at`` (or now)."""
    moment = (at or datetime.now(zone)).astimezone(zone)
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    return f"{zone.key} (UTC{sign}{hours:02d}:{rest:02d})"


def _names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    return '<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>"


def _hidden(text: str) -> str:
    """Words for screen readers only (what a short visible label leaves implicit)."""
    return f'<span class="visually-hidden">{escape(text)}</span>'


def _h3(text: str) -> str:
    return f"<h3>{escape(text)}</h3>"


def _p(text: str, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<p{attribute}>{escape(text)}</p>"


def _div(css: str, inner: str) -> str:
    return f'<div class="{css}">{inner}</div>'
