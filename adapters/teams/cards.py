"""Core views as Adaptive Cards (schema 1.5, what Teams renders on desktop, web and mobile).

Pure: views in, JSON dicts out. Times are formatted here, in the viewer's zone that core
resolved (``Context.zone``), and the zone is named on the card: Adaptive Cards' own
``{{DATE()}}``/``{{TIME()}}`` would use the device's zone, which may not be the one Pairtime
reasons in.

The exception is the poll (:class:`PollView`): one message in a channel, read by people in
many zones. Its times are Adaptive Cards' ``{{DATE()}}``/``{{TIME()}}`` functions over the
UTC time, which every reader's Teams client writes in that device's zone, and the card says
so ("times in your own time zone").

Every button that acts carries core's signed reference as ``{"pt": reference}`` in an
``Action.Execute`` (verb ``pairtime``), with an ``Action.Submit`` fallback for clients
without Universal Actions; links are ``Action.OpenUrl``. Connect links are personal and
single-use, so they are only ever shown in a personal chat. A :class:`TimeInput` is an
``Input.Date`` and an ``Input.Time`` (ids ``translate.DATE_INPUT``/``TIME_INPUT``) whose
values come back in the data of whichever button is pressed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, assert_never
from zoneinfo import ZoneInfo

from adapters.teams.translate import (
    APPLY,
    DATE_INPUT,
    RELEASE_INPUT,
    REQUIRE_INPUT,
    TEXT_INPUT,
    TIME_INPUT,
    VERB,
)
from core import views, wording
from core.polls import PollStatus

JsonDict = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_CARD_BYTES = 28 * 1024  # Teams refuses larger messages
BUTTONS_PER_ROW = 3  # what fits a phone's width; Teams allows 6 actions per set
ROW_CHARACTERS = 36  # button titles (plus padding) that fit one row on a phone
WORKING = "Working on it…"
FRIENDLY_ERROR = (
    "Sorry, something went wrong on my side and I couldn't finish that. Please try again in a "
    "minute; if it keeps happening, tell your program admin."
)
CONNECT_IN_PRIVATE = (
    "Your calendar isn't connected, so your own busy times aren't checked. Say “connect” to me "
    "in a personal chat and I'll send you a private link."
)
WELCOME_LINES = (
    (
        "Hi, I'm Pairtime. I find meeting times for mentoring pairs and circles from everyone's "
        "calendars, reading free/busy times only."
    ),
    (
        "Ask me in plain English: “find a time with my mentee next week”, “status” or “help”. "
        "In a channel or group chat, mention me first."
    ),
)
EN_DASH = "\u2013"  # between the two ends of a time span
CHECK = "\u2713"  # marks the chosen toggle: colour alone does not say it
OWN_ZONE = "times in your own time zone"
EXPANDED_CHOICES = 8  # up to this many people are check boxes; more, a drop-down list
DRAFT_PRIVATE = "Only you see this draft: remove or add times, then post it for everyone."
WELCOME_CONNECT = "Connect your calendar to start:"
WELCOME_CONNECT_SHARED = (
    "Each person connects their own calendar, privately: press the button or say “connect” to me."
)

_TONE_COLOURS = {
    views.Tone.INFO: "Default",
    views.Tone.SUCCESS: "Good",
    views.Tone.WARNING: "Warning",
    views.Tone.ERROR: "Attention",
}
_STYLES = {views.ButtonStyle.PRIMARY: "positive", views.ButtonStyle.DANGER: "destructive"}


@dataclass(frozen=True, slots=True)
class CardOptions:
    """How a card is shown: where (a personal chat or not) and to whom (clock style)."""

    base_url: str
    private: bool = True
    twelve_hour: bool = False


def render(view: views.View, options: CardOptions) -> JsonDict:
    """The Adaptive Card for ``view``."""
    match view:
        case views.SlotPicker():
            return _slot_picker(view, options)
        case views.Confirmation():
            return _confirmation(view, options)
        case views.MeetingList():
            return _meeting_list(view, options)
        case views.ConnectPrompt():
            return _card(_connect_section(view, options))
        case views.ConnectionStatusView():
            return _status(view, options)
        case views.HelpView():
            return _help(view)
        case views.SettingsView():
            return _settings(view)
        case views.Notice():
            return _notice(view)
        case views.Question():
            return _card([_text(view.text), *_button_rows(view.options)])
        case views.PollView():
            return _poll(view, options)
        case views.PollDraftView():
            return _poll_draft(view, options)
        case _:
            assert_never(view)


def summary(view: views.View) -> str:
    """One line for notifications and chat lists, which cannot show a card."""
    match view:
        case views.Confirmation():
            said = view.headline or view.title
        case (
            views.SlotPicker()
            | views.MeetingList()
            | views.SettingsView()
            | views.PollView()
            | views.PollDraftView()
        ):
            said = view.title
        case (
            views.ConnectPrompt()
            | views.ConnectionStatusView()
            | views.HelpView()
            | views.Notice()
            | views.Question()
        ):
            said = view.text
        case _:
            assert_never(view)
    return said or "Pairtime"


def welcome(
    prompt: views.ConnectPrompt | views.Notice | None, options: CardOptions, *, admin: bool = False
) -> JsonDict:
    """The message on install: what Pairtime does in three lines, and how to connect; for
    an admin in the personal chat, "Open the admin console" (it says "admin")."""
    body: list[JsonDict] = [_text(line) for line in WELCOME_LINES]
    if isinstance(prompt, views.ConnectPrompt) and options.private:
        body.append(_text(WELCOME_CONNECT))
        body.extend(_link_rows(prompt.links))
    elif isinstance(prompt, views.Notice):
        body.append(_text(prompt.text, color=_TONE_COLOURS[prompt.tone]))
    else:
        body.append(_text(WELCOME_CONNECT_SHARED))
        body.append(
            {"type": "ActionSet", "actions": [_say_button("Connect my calendar", "connect")]}
        )
    if admin and options.private:
        body.append(
            {"type": "ActionSet", "actions": [_say_button("Open the admin console", "admin")]}
        )
    body[0] |= {"weight": "Bolder"}
    return _card(body)


def working() -> JsonDict:
    """Shown in place of the clicked card while slow work finishes."""
    return _card([_text(WORKING, subtle=True)])


def error() -> JsonDict:
    return _card([_text(FRIENDLY_ERROR, color="Attention")])


def size_of(card: JsonDict) -> int:
    """Bytes on the wire (compact JSON, UTF-8): what Teams' size limit counts, near enough."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode())


# ---------------------------------------------------------------------- views


def _slot_picker(view: views.SlotPicker, options: CardOptions) -> JsonDict:
    body: list[JsonDict] = [
        _heading(view.title),
        _text(
            f"{wording.duration(view.duration_minutes)} · times in "
            f"{wording.zone_label(view.zone, _first(view))}",
            subtle=True,
            spacing="None",
        ),
    ]
    for day, choices in view.days():
        body.append(
            _text(
                day_label(day, twelve_hour=options.twelve_hour), weight="Bolder", spacing="Medium"
            )
        )
        body.extend(_slot_rows(choices, view.zone, options))
    if view.remaining:
        more = (
            f"{view.remaining} more free time{'s' if view.remaining != 1 else ''} in that window."
        )
        body.append(_text(more, subtle=True, size="Small", spacing="Medium"))
    if view.notes:
        body.append(_notes(view.notes))
    if view.connect is not None:
        body.extend(_connect_section(view.connect, options, separator=True))
    actions = [_execute(view.more)] if view.more is not None else []
    return _card(body, actions)


def _slot_rows(
    choices: Sequence[views.SlotChoice], zone: ZoneInfo, options: CardOptions
) -> list[JsonDict]:
    buttons = [
        _execute(
            views.Button(
                time_label(choice.start, zone, twelve_hour=options.twelve_hour), choice.action
            )
        )
        for choice in choices
    ]
    return [{"type": "ActionSet", "spacing": "Small", "actions": row} for row in _rows(buttons)]


def _confirmation(view: views.Confirmation, options: CardOptions) -> JsonDict:
    """A meeting as one person sees it, with what they may do now (accept, decline, other
    times, move, cancel) and, when asked, a field for where it happens."""
    facts = [
        {"title": "What", "value": view.title},
        {"title": "When", "value": when_label(view, twelve_hour=options.twelve_hour)},
        {"title": "Time zone", "value": wording.zone_label(view.zone, view.start)},
    ]
    if view.with_names:
        facts.append({"title": "With", "value": wording.names(view.with_names)})
    if view.location:
        facts.append({"title": "Where", "value": view.location})
    color = "Attention" if view.cancelled else "Accent" if view.pending else "Good"
    body: list[JsonDict] = [
        _heading(view.headline, color=color),
        {"type": "FactSet", "facts": facts},
    ]
    if view.cancelled:
        body.append(_text("This meeting is off.", color="Attention", weight="Bolder"))
    if view.notes:
        body.append(_notes(view.notes))
    if view.place is not None:
        body += _text_input(view.place)
    actions: list[JsonDict] = []
    if view.download:
        label = "Remove from calendar (.ics)" if view.cancelled else "Add to calendar (.ics)"
        actions.append(_open_url(label, invitation_url(options.base_url, view.download)))
    actions += [_execute(item) for item in view.buttons]
    return _card(body, actions)


def _text_input(field: views.TextInput) -> list[JsonDict]:
    """A one-line field sent with its own button (the value comes back in the click)."""
    return [
        {
            "type": "Input.Text",
            "id": TEXT_INPUT,
            "label": field.label,
            "placeholder": field.placeholder,
            "maxLength": 500,
            "separator": True,
        },
        {
            "type": "ActionSet",
            "spacing": "Small",
            "actions": [_execute(views.Button(field.submit_label, field.action))],
        },
    ]


def _meeting_list(view: views.MeetingList, options: CardOptions) -> JsonDict:
    """Upcoming meetings, each with its state and what this person may do."""
    body: list[JsonDict] = [_heading(view.title)]
    if not view.meetings:
        body.append(_text(view.empty, subtle=True))
        return _card(body)
    body.append(_text(f"Times are in {wording.zone_label(view.zone)}.", subtle=True, size="Small"))
    for item in view.meetings:
        when = span_label(item.start, item.end, view.zone, twelve_hour=options.twelve_hour)
        lines = [f"**{item.title}**", when]
        if item.with_names:
            lines.append(f"With {wording.names(item.with_names)}")
        if item.location:
            lines.append(f"Where: {item.location}")
        lines.append(f"_{item.status}_")
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [_text(line, spacing="None") for line in lines],
            }
        )
        body += [
            {"type": "ActionSet", "spacing": "Small", "actions": row}
            for row in _rows([_execute(b) for b in item.buttons])
        ]
    if view.more:
        body.append(_text(f"…and {view.more} more.", subtle=True))
    return _card(body)


def _status(view: views.ConnectionStatusView, options: CardOptions) -> JsonDict:
    body: list[JsonDict] = [
        _text(view.text, color="Warning" if view.needs_reconnect else "Default", weight="Bolder")
    ]
    if view.connect is not None:
        body.extend(_connect_section(view.connect, options))
    actions = [_execute(view.disconnect)] if view.disconnect is not None else []
    return _card(body, actions)


def _help(view: views.HelpView) -> JsonDict:
    body: list[JsonDict] = []
    if view.hint:
        body.append(_text(view.hint, color="Warning"))
    body.append(_text(view.text))
    body.append(
        {
            "type": "Container",
            "spacing": "Small",
            "items": [_text(f"• {example}", spacing="None") for example in view.examples],
        }
    )
    return _card(body)


def _settings(view: views.SettingsView) -> JsonDict:
    body: list[JsonDict] = [
        _heading(view.title),
        {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in view.lines]},
    ]
    if view.can_edit:
        body.append(
            _text(
                "As an admin, you change these with the pairtime command on the server.",
                subtle=True,
                size="Small",
            )
        )
    return _card(body)


def _notice(view: views.Notice) -> JsonDict:
    color = _TONE_COLOURS[view.tone]
    return _card([_text(view.text, color=color), *_button_rows(view.buttons)])


def _connect_section(
    prompt: views.ConnectPrompt, options: CardOptions, *, separator: bool = False
) -> list[JsonDict]:
    """The prompt and its links; outside a personal chat only a pointer to one, since the
    links are single-use and bound to one person."""
    if not options.private:
        return [_text(CONNECT_IN_PRIVATE, subtle=True, separator=separator)]
    return [_text(prompt.text, separator=separator), *_link_rows(prompt.links)]


def _notes(notes: Iterable[str]) -> JsonDict:
    return {
        "type": "Container",
        "spacing": "Medium",
        "items": [_text(note, subtle=True, size="Small", spacing="Small") for note in notes],
    }


def _poll(view: views.PollView, _options: CardOptions) -> JsonDict:
    """The poll everyone in the channel sees: times in each reader's own zone, the votes so
    far, how many invitees are busy (never who), and the buttons to vote."""
    is_open = view.status is PollStatus.OPEN
    body: list[JsonDict] = [
        _heading(view.title),
        _text(
            f"A poll by {view.organizer} · {wording.duration(view.duration_minutes)} · {OWN_ZONE}",
            subtle=True,
            spacing="None",
        ),
    ]
    if view.deadline is not None and is_open:
        body.append(_text(f"Voting closes {local_moment(view.deadline)}.", spacing="Small"))
    if view.required:
        body.append(_text(f"Required: {wording.names(view.required)}.", spacing="Small"))
    body.extend(_poll_option(option) for option in view.options)
    body.append(
        _text(
            f"{view.connected} of {view.invitees} invitees have connected calendars.",
            subtle=True,
            size="Small",
            separator=True,
        )
    )
    if view.status is PollStatus.CANCELLED:
        said = view.result or "This poll is cancelled."
        body.append(_text(said, weight="Bolder", color="Attention"))
    elif not is_open:
        body.append(_text(f"This poll is {view.status.value}.", weight="Bolder", color="Good"))
        if view.result:
            body.append(_text(view.result))
    actions = [_execute(b) for b in (view.close, view.cancel, view.connect) if b is not None]
    return _card(body, actions)


def _poll_option(option: views.PollOptionView) -> JsonDict:
    when = f"{local_day(option.start)}, {local_time(option.start)}{EN_DASH}{local_time(option.end)}"
    tally = wording.tally(option.yes, option.if_need_be, option.busy)
    details: list[JsonDict] = [_text(when, weight="Bolder")]
    if option.winner:
        details.append(_text("Winner", color="Good", weight="Bolder", spacing="None"))
    elif option.tied:
        details.append(_text("Tied", weight="Bolder", spacing="None"))
    details.append(_text(tally, subtle=True, size="Small", spacing="None"))
    columns: list[JsonDict] = [
        {
            "type": "Column",
            "width": "stretch",
            "verticalContentAlignment": "Center",
            "items": details,
        }
    ]
    votes = [_execute(b) for b in (option.vote_yes, option.vote_if_need_be) if b is not None]
    if votes:
        columns.append(
            {
                "type": "Column",
                "width": "auto",
                "verticalContentAlignment": "Center",
                "items": [{"type": "ActionSet", "actions": votes}],
            }
        )
    block: JsonDict = {
        "type": "ColumnSet",
        "separator": True,
        "spacing": "Medium",
        "columns": columns,
    }
    if option.winner:
        block["style"] = "good"
    return block


def _poll_draft(view: views.PollDraftView, options: CardOptions) -> JsonDict:
    """The organiser's private draft: times to remove, a field to add one, the deadline and
    the required attendees to choose, then Post or Discard."""
    twelve = options.twelve_hour
    first = view.options[0][0].start if view.options else None
    body: list[JsonDict] = [
        _heading(f"Draft poll: {view.title}"),
        _text(
            f"{wording.duration(view.duration_minutes)} · times in "
            f"{wording.zone_label(view.zone, first)}",
            subtle=True,
            spacing="None",
        ),
        _text(DRAFT_PRIVATE, size="Small", spacing="Small"),
    ]
    for option, remove in view.options:
        start, end = option.start.astimezone(view.zone), option.end.astimezone(view.zone)
        when = (
            f"{short_day(start.date())}, {time_label(start, view.zone, twelve_hour=twelve)}"
            f"{EN_DASH}{time_label(end, view.zone, twelve_hour=twelve)}"
        )
        body.append(
            {
                "type": "ColumnSet",
                "separator": True,
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "verticalContentAlignment": "Center",
                        "items": [
                            _text(when, weight="Bolder"),
                            _text(f"{option.busy} busy", subtle=True, size="Small", spacing="None"),
                        ],
                    },
                    {
                        "type": "Column",
                        "width": "auto",
                        "verticalContentAlignment": "Center",
                        "items": [{"type": "ActionSet", "actions": [_execute(remove)]}],
                    },
                ],
            }
        )
    body.extend(_time_input(view.add_time, view.zone, first))
    body.append(_text(f"Invitees: {wording.names(view.invitees)}.", separator=True))
    deadline = (
        f"{short_day(view.deadline.astimezone(view.zone).date())}, "
        f"{time_label(view.deadline, view.zone, twelve_hour=twelve)}"
        if view.deadline is not None
        else "none"
    )
    body.append(_text(f"Deadline: {deadline}", weight="Bolder", separator=True))
    body.extend(_toggle_rows(view.deadlines))
    body.extend(_required(view))
    if view.notes:
        body.append(_notes(view.notes))
    return _card(body, [_execute(view.post), _execute(view.cancel)])


def _required(view: views.PollDraftView) -> list[JsonDict]:
    """Required attendees as two multi-select lists whose values are core's toggles: the
    ones ticked are toggled when any button of the draft is pressed. Compact: a button per
    invitee would not fit Teams' 28 KB for a circle of fifty."""
    required = wording.names(view.required_names, none="nobody")
    blocks: list[JsonDict] = [
        _text(f"Required attendees: {required}", weight="Bolder", separator=True),
        _text(
            "The winning time must suit every required attendee.",
            subtle=True,
            size="Small",
            spacing="None",
        ),
    ]
    chosen = [b for b in view.required if b.style is views.ButtonStyle.PRIMARY]
    others = [b for b in view.required if b.style is not views.ButtonStyle.PRIMARY]
    for input_id, label, buttons in (
        (REQUIRE_INPUT, "Make required", others),
        (RELEASE_INPUT, "No longer required", chosen),
    ):
        if buttons:
            blocks.append(
                {
                    "type": "Input.ChoiceSet",
                    "id": input_id,
                    "label": label,
                    "isMultiSelect": True,
                    "style": "expanded" if len(buttons) <= EXPANDED_CHOICES else "compact",
                    "placeholder": "Choose people",
                    "choices": [{"title": b.label, "value": b.action} for b in buttons],
                }
            )
    data = {APPLY: 1}
    blocks.append(
        {
            "type": "ActionSet",
            "spacing": "Small",
            "actions": [
                {
                    "type": "Action.Execute",
                    "title": "Update required attendees",
                    "verb": VERB,
                    "data": data,
                    "fallback": {
                        "type": "Action.Submit",
                        "title": "Update required attendees",
                        "data": data,
                    },
                }
            ],
        }
    )
    return blocks


def _time_input(field: views.TimeInput, zone: ZoneInfo, at: datetime | None) -> list[JsonDict]:
    """A date and a time, in the organiser's zone, sent with ``field``'s button."""
    return [
        _text(field.label, weight="Bolder", separator=True),
        {
            "type": "ColumnSet",
            "spacing": "Small",
            "columns": [
                {
                    "type": "Column",
                    "width": "stretch",
                    "items": [{"type": "Input.Date", "id": DATE_INPUT, "label": "Day"}],
                },
                {
                    "type": "Column",
                    "width": "stretch",
                    "items": [
                        {
                            "type": "Input.Time",
                            "id": TIME_INPUT,
                            "label": f"Time ({wording.zone_label(zone, at)})",
                        }
                    ],
                },
            ],
        },
        {
            "type": "ActionSet",
            "spacing": "Small",
            "actions": [_execute(views.Button(field.submit_label, field.action))],
        },
    ]


def _toggle_rows(buttons: Sequence[views.Button]) -> list[JsonDict]:
    """Choices as buttons; the chosen ones (core's primary style) are ticked."""
    marked = [
        views.Button(f"{CHECK} {b.label}", b.action, b.style)
        if b.style is views.ButtonStyle.PRIMARY
        else b
        for b in buttons
    ]
    return [
        {"type": "ActionSet", "spacing": "Small", "actions": row}
        for row in _rows([_execute(b) for b in marked])
    ]


# ---------------------------------------------------------------------- formatting


def local_moment(moment: datetime) -> str:
    """``Tue, Dec 1, 2026 at 2:00 PM`` as each reader's Teams client writes it, in the
    reader's own zone (Adaptive Cards' DATE and TIME functions)."""
    return f"{local_day(moment)} at {local_time(moment)}"


def local_day(moment: datetime) -> str:
    return f"{{{{DATE({_rfc3339(moment)}, SHORT)}}}}"


def local_time(moment: datetime) -> str:
    return f"{{{{TIME({_rfc3339(moment)})}}}}"


def _rfc3339(moment: datetime) -> str:
    """The strict form the DATE/TIME functions accept: UTC, seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def short_day(day: date) -> str:
    """``Tue 1 Dec``: the draft lists up to eight, one a line."""
    return f"{day:%a} {day.day} {day:%b}"


def day_label(day: date, *, twelve_hour: bool) -> str:
    """``Tuesday 3 March``, or ``Tuesday, March 3`` where 12-hour clocks are read."""
    if twelve_hour:
        return f"{day:%A}, {day:%B} {day.day}"
    return f"{day:%A} {day.day} {day:%B}"


def time_label(moment: datetime, zone: ZoneInfo, *, twelve_hour: bool) -> str:
    local = moment.astimezone(zone)
    if twelve_hour:
        hour = local.hour % 12 or 12
        return f"{hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    return f"{local:%H:%M}"


def when_label(view: views.Confirmation, *, twelve_hour: bool) -> str:
    return span_label(view.start, view.end, view.zone, twelve_hour=twelve_hour)


def span_label(start: datetime, end: datetime, zone: ZoneInfo, *, twelve_hour: bool) -> str:
    start = start.astimezone(zone)
    end = end.astimezone(zone)
    day = day_label(start.date(), twelve_hour=twelve_hour)
    span = (
        f"{time_label(start, zone, twelve_hour=twelve_hour)}{EN_DASH}"
        f"{time_label(end, zone, twelve_hour=twelve_hour)}"
    )
    if end.date() != start.date():
        span += f" ({day_label(end.date(), twelve_hour=twelve_hour)})"
    return f"{day}, {span}"


def invitation_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/invitations/{token}.ics"


def _first(view: views.SlotPicker) -> datetime | None:
    return view.slots[0].start if view.slots else None


# ---------------------------------------------------------------------- elements


def _card(body: list[JsonDict], actions: list[JsonDict] | None = None) -> JsonDict:
    card: JsonDict = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    return card


def _heading(text: str, *, color: str = "Default") -> JsonDict:
    block = _text(text, size="Medium", weight="Bolder", color=color)
    block["style"] = "heading"
    return block


def _text(
    text: str,
    *,
    subtle: bool = False,
    size: str | None = None,
    weight: str | None = None,
    color: str = "Default",
    spacing: str | None = None,
    separator: bool = False,
) -> JsonDict:
    block: JsonDict = {"type": "TextBlock", "text": text, "wrap": True}
    if subtle:
        block["isSubtle"] = True
    if size:
        block["size"] = size
    if weight:
        block["weight"] = weight
    if color != "Default":
        block["color"] = color
    if spacing:
        block["spacing"] = spacing
    if separator:
        block["separator"] = True
    return block


def _execute(button: views.Button) -> JsonDict:
    data = {"pt": button.action}
    action: JsonDict = {"type": "Action.Execute", "title": button.label, "verb": VERB, "data": data}
    fallback: JsonDict = {"type": "Action.Submit", "title": button.label, "data": data}
    if button.style in _STYLES:
        action["style"] = fallback["style"] = _STYLES[button.style]
    action["fallback"] = fallback
    return action


def _say_button(label: str, words: str) -> JsonDict:
    """A button that acts as if its presser typed ``words`` (nothing signed is needed: it can
    only do what that person could ask for themselves)."""
    data = {"say": words}
    return {
        "type": "Action.Execute",
        "title": label,
        "verb": VERB,
        "data": data,
        "fallback": {"type": "Action.Submit", "title": label, "data": data},
    }


def _open_url(label: str, url: str) -> JsonDict:
    return {"type": "Action.OpenUrl", "title": label, "url": url}


def _button_rows(buttons: Sequence[views.Button | views.LinkButton]) -> list[JsonDict]:
    actions = [
        _open_url(b.label, b.url) if isinstance(b, views.LinkButton) else _execute(b)
        for b in buttons
    ]
    return [{"type": "ActionSet", "actions": row} for row in _rows(actions)]


def _link_rows(links: Sequence[views.LinkButton]) -> list[JsonDict]:
    """One link a row: provider names are long ("Connect Microsoft 365 / Outlook.com")."""
    return [
        {"type": "ActionSet", "spacing": "Small", "actions": [_open_url(link.label, link.url)]}
        for link in links
    ]


def _rows(actions: list[JsonDict]) -> list[list[JsonDict]]:
    """Buttons in rows that fit a phone: at most three, and long titles alone."""
    rows: list[list[JsonDict]] = []
    width = 0
    for action in actions:
        needed = len(str(action.get("title", ""))) + 4
        if not rows or len(rows[-1]) == BUTTONS_PER_ROW or width + needed > ROW_CHARACTERS:
            rows.append([])
            width = 0
        rows[-1].append(action)
        width += needed
    return rows
