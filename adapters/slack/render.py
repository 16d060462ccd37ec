"""Core's views as Block Kit: messages, the App Home tab and the find-a-time modal. Pure.

Times are written with Slack's ``<!date^UNIX^FORMAT|fallback>``, so each
reader sees them in their own time zone; the fallback (shown where Slack
cannot format, e.g. in notifications) is the time in the view's zone.
Button labels are plain text, which Slack never formats, so a picker's times
are section text and its buttons say what they do.

Every payload stays inside Slack's limits (see ``LIMITS``): long texts are
clipped, long lists are cut with a line saying how many were left out, and
a picker with more times than fit one message falls back to compact rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, assert_never
from zoneinfo import ZoneInfo

from adapters.slack import translate
from core import views, wording

JsonDict = dict[str, Any]
Blocks = list[JsonDict]

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100  # App Home and modals
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS = 10
CONTEXT_ELEMENTS = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTON_URL = 3000
ACTION_ID = 255
BLOCK_ID = 255
ACTIONS_ELEMENTS = 25
MODAL_TITLE = 24
FALLBACK_TEXT = 3000  # the notification text; Slack allows far more, people read far less

HOME_MEETINGS = 10
HOME_PARTNERS = 12

DASH = "\u2013"  # between the start and end of a time

FAILURE = "Something went wrong on my side; please try again in a moment."

_TONE_MARK = {
    views.Tone.INFO: "",
    views.Tone.SUCCESS: ":white_check_mark: ",
    views.Tone.WARNING: ":warning: ",
    views.Tone.ERROR: ":x: ",
}


# ---------------------------------------------------------------------- text helpers


def escape(text: str) -> str:
    """Plain text made safe for mrkdwn: no markup, mentions or links can be smuggled in."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _local(when: datetime, zone: ZoneInfo) -> datetime:
    return when.astimezone(zone)


def clock(when: datetime, zone: ZoneInfo) -> str:
    return f"{_local(when, zone):%H:%M}"


def day_name(when: datetime, zone: ZoneInfo) -> str:
    local = _local(when, zone)
    return f"{local:%A} {local.day} {local:%B}"


def short_time(when: datetime, zone: ZoneInfo) -> str:
    local = _local(when, zone)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M}"


def slack_date(when: datetime, pattern: str, fallback: str) -> str:
    """``<!date^…>``: Slack shows ``when`` in the reader's zone; ``fallback`` elsewhere."""
    safe = escape(fallback).replace("|", "/")
    return f"<!date^{int(when.timestamp())}^{pattern}|{safe}>"


def when_text(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """Start and end ("Tomorrow 10:00 to 10:30", dashed) in each reader's own zone."""
    return (
        slack_date(start, "{date_short_pretty} {time}", short_time(start, zone))
        + f" {DASH} "
        + slack_date(end, "{time}", clock(end, zone))
    )


# ---------------------------------------------------------------------- block helpers


def plain(text: str, limit: int = SECTION_TEXT) -> JsonDict:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> JsonDict:
    return {"type": "mrkdwn", "text": clip(text, limit)}


def section(text: str, *, accessory: JsonDict | None = None) -> JsonDict:
    block: JsonDict = {"type": "section", "text": mrkdwn(text or " ")}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(texts: Sequence[str]) -> JsonDict:
    """A context block; more lines than its ten elements are joined into the last one."""
    lines = list(texts)
    if len(lines) > CONTEXT_ELEMENTS:
        lines = [*lines[: CONTEXT_ELEMENTS - 1], "\n".join(lines[CONTEXT_ELEMENTS - 1 :])]
    return {"type": "context", "elements": [mrkdwn(line) for line in lines]}


def header(text: str) -> JsonDict:
    return {"type": "header", "text": plain(text, HEADER_TEXT)}


def divider() -> JsonDict:
    return {"type": "divider"}


def button(
    label: str,
    action_id: str,
    *,
    value: str | None = None,
    url: str | None = None,
    style: views.ButtonStyle = views.ButtonStyle.DEFAULT,
    confirm: JsonDict | None = None,
) -> JsonDict:
    element: JsonDict = {
        "type": "button",
        "action_id": clip(action_id, ACTION_ID),
        "text": plain(label, BUTTON_TEXT),
    }
    if value is not None:
        # A signed reference cannot be shortened; core keeps every one within
        # core.actions.INLINE_LIMIT (1,000), keeping longer requests server-side.
        if len(value) > BUTTON_VALUE:
            raise ValueError("a button value is longer than Slack accepts")
        element["value"] = value
    if url is not None:
        if len(url) > BUTTON_URL:
            raise ValueError("a link is longer than Slack accepts")
        element["url"] = url
    if style is not views.ButtonStyle.DEFAULT:
        element["style"] = style.value
    if confirm is not None:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, yes: str, no: str = "Keep it") -> JsonDict:
    return {
        "title": plain(title, 100),
        "text": plain(text, 300),
        "confirm": plain(yes, 30),
        "deny": plain(no, 30),
        "style": "danger",
    }


def actions(elements: Sequence[JsonDict]) -> Blocks:
    """Actions blocks of at most 25 elements each."""
    return [
        {"type": "actions", "elements": list(elements[i : i + ACTIONS_ELEMENTS])}
        for i in range(0, len(elements), ACTIONS_ELEMENTS)
    ]


def core_button(item: views.Button | views.LinkButton, action_id: str) -> JsonDict:
    """A core button: a signed reference as value, or a link (which still sends a click)."""
    if isinstance(item, views.LinkButton):
        return button(item.label, f"{translate.LINK_ACTION}{action_id}", url=item.url)
    return button(
        item.label, f"{translate.ACTION_PREFIX}{action_id}", value=item.action, style=item.style
    )


def fit(blocks: Blocks, limit: int) -> Blocks:
    """At most ``limit`` blocks; what is cut is said, not silently dropped."""
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: limit - 1]
    return [*kept, context([f"…and {len(blocks) - len(kept)} more lines not shown here."])]


def message_payload(text: str, blocks: Blocks) -> JsonDict:
    return {"text": clip(text, FALLBACK_TEXT), "blocks": fit(blocks, MESSAGE_BLOCKS)}


# ---------------------------------------------------------------------- views


def message(view: views.View) -> JsonDict:
    """A core view as a Slack message: ``{"text": fallback, "blocks": [...]}``."""
    match view:
        case views.SlotPicker():
            return slot_picker(view)
        case views.Confirmation():
            return confirmation(view)
        case views.MeetingList():
            return meeting_list(view)
        case views.ConnectPrompt():
            return message_payload(view.text, connect_prompt_blocks(view))
        case views.ConnectionStatusView():
            return message_payload(view.text, status_blocks(view))
        case views.HelpView():
            return message_payload(view.hint or view.text, help_blocks(view))
        case views.SettingsView():
            return message_payload(view.title, settings_blocks(view))
        case views.Notice():
            return notice(view)
        case views.Question():
            return question(view)
        case views.PollView():
            return poll(view)
        case views.PollDraftView():
            return poll_draft(view)
        case _:
            assert_never(view)


def failure() -> JsonDict:
    return notice(views.Notice(FAILURE, views.Tone.ERROR))


def notice(view: views.Notice) -> JsonDict:
    blocks: Blocks = [section(_TONE_MARK[view.tone] + escape(view.text))]
    blocks += actions([core_button(item, f"btn:{i}") for i, item in enumerate(view.buttons)])
    return message_payload(view.text, blocks)


def question(view: views.Question) -> JsonDict:
    blocks: Blocks = [section(escape(view.text))]
    blocks += actions([core_button(item, f"opt:{i}") for i, item in enumerate(view.options)])
    return message_payload(view.text, blocks)


def connect_prompt_blocks(view: views.ConnectPrompt) -> Blocks:
    links = [core_button(link, f"{i}") for i, link in enumerate(view.links)]
    if links:
        links[0]["style"] = views.ButtonStyle.PRIMARY.value
    return [section(escape(view.text)), *actions(links)]


def status_blocks(view: views.ConnectionStatusView) -> Blocks:
    elements = (
        [core_button(link, f"{i}") for i, link in enumerate(view.connect.links)]
        if (view.connect)
        else []
    )
    if view.disconnect is not None:
        elements.append(_disconnect_button(view.disconnect))
    return [section(escape(view.text)), *actions(elements)]


def _disconnect_button(item: views.Button) -> JsonDict:
    return button(
        item.label,
        f"{translate.ACTION_PREFIX}disconnect",
        value=item.action,
        style=views.ButtonStyle.DANGER,
        confirm=confirm_dialog(
            "Disconnect your calendar?",
            "I'll delete my access to it. You can connect it again at any time.",
            "Disconnect",
        ),
    )


def help_blocks(view: views.HelpView) -> Blocks:
    blocks: Blocks = []
    if view.hint:
        blocks.append(section(escape(view.hint)))
    examples = "\n".join(f"• `{escape(example)}`" for example in view.examples)
    blocks.append(section(escape(view.text)))
    blocks.append(section(examples))
    blocks.append(
        context(
            [
                (
                    f"Type `{translate.COMMAND} …`, mention me in a channel, or write to me "
                    "here. The *Find a time* shortcut opens a form instead."
                )
            ]
        )
    )
    return blocks


def settings_blocks(view: views.SettingsView) -> Blocks:
    fields = [
        mrkdwn(f"*{escape(label)}*\n{escape(value)}", FIELD_TEXT) for label, value in view.lines
    ]
    blocks: Blocks = [section(f"*{escape(view.title)}*")]
    blocks += [
        {"type": "section", "fields": fields[i : i + FIELDS]} for i in range(0, len(fields), FIELDS)
    ]
    return blocks


def confirmation(view: views.Confirmation) -> JsonDict:
    """A meeting as one person sees it: what, when, with whom, where; then what they may do
    (accept, decline, other times, move, cancel), and a field for its place when asked."""
    when = when_text(view.start, view.end, view.zone)
    if view.cancelled:
        when = f"~{when}~"
    with_names = wording.names(view.with_names, none="just you")
    length = int((view.end - view.start).total_seconds() // 60)
    mark = ":x: " if view.cancelled else ":hourglass: " if view.pending else ":calendar: "
    fields = [
        mrkdwn(f"*When*\n{when}", FIELD_TEXT),
        mrkdwn(f"*With*\n{escape(with_names)}", FIELD_TEXT),
        mrkdwn(f"*Length*\n{wording.duration(length)}", FIELD_TEXT),
        mrkdwn(f"*Meeting*\n{escape(view.title)}", FIELD_TEXT),
    ]
    if view.location:
        fields.append(mrkdwn(f"*Where*\n{_place(view.location)}", FIELD_TEXT))
    blocks: Blocks = [
        section(f"{mark}*{escape(view.headline)}*"),
        {"type": "section", "fields": fields},
    ]
    notes = list(view.notes)
    if view.invitation is not None:
        what = "cancellation" if view.cancelled else "invitation"
        notes.append(f"The calendar {what} is attached below: open it to update your calendar.")
    if notes:
        blocks.append(context([escape(note) for note in notes]))
    blocks += actions(
        [core_button(item, f"meeting:{index}") for index, item in enumerate(view.buttons)]
    )
    if view.place is not None:
        blocks += text_input(view.place)
    fallback = (
        f"{view.headline} {short_time(view.start, view.zone)}{DASH}{clock(view.end, view.zone)}"
    )
    return message_payload(fallback, blocks)


def _place(place: str) -> str:
    """A link as a link (Slack shows its host), anything else as text."""
    if place.startswith(("https://", "http://")) and not any(c in place for c in "<>|"):
        return f"<{place}>"
    return escape(place)


def text_input(field: views.TextInput) -> Blocks:
    """A one-line field sent with Enter: an input block that dispatches its action, its
    block id carrying the reference (as a date-time field's does)."""
    block_id = f"{translate.ACTION_PREFIX}{field.action}"
    if len(block_id) > BLOCK_ID:
        return []  # cannot happen with core's references; never send what Slack refuses
    element: JsonDict = {
        "type": "plain_text_input",
        "action_id": translate.TEXT_ACTION,
        "max_length": 500,
        "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
    }
    if field.placeholder:
        element["placeholder"] = plain(field.placeholder, 150)
    return [
        {
            "type": "input",
            "block_id": block_id,
            "dispatch_action": True,
            "label": plain(field.label, 2000),
            "hint": plain(f"Press Enter to {field.submit_label.lower()} it.", 2000),
            "element": element,
        }
    ]


def meeting_list(view: views.MeetingList) -> JsonDict:
    """Upcoming meetings, each with its state and what this person may do."""
    return message_payload(view.title, meeting_list_blocks(view))


def meeting_list_blocks(view: views.MeetingList, *, limit: int = MESSAGE_BLOCKS) -> Blocks:
    blocks: Blocks = [section(f"*{escape(view.title)}*")]
    if not view.meetings:
        return [*blocks, context([escape(view.empty)])]
    for index, item in enumerate(view.meetings):
        with_names = f" · with {escape(', '.join(item.with_names))}" if item.with_names else ""
        where = f"\n{_place(item.location)}" if item.location else ""
        mark = ":hourglass: " if item.pending else ""
        entry: Blocks = [
            section(
                f"{mark}*{escape(item.title)}*{with_names}\n"
                f"{when_text(item.start, item.end, view.zone)}\n_{escape(item.status)}_{where}"
            ),
            *actions(
                [
                    core_button(button_, f"meeting:{index}:{position}")
                    for position, button_ in enumerate(item.buttons)
                ]
            ),
        ]
        if len(blocks) + len(entry) > limit - 1:  # keep room for the line saying what is left
            left = len(view.meetings) - index + view.more
            blocks.append(context([f"…and {left} more. Say “my meetings” in our DM."]))
            return blocks
        blocks += entry
    if view.more:
        blocks.append(context([f"…and {view.more} more."]))
    return blocks


def slot_picker(picker: views.SlotPicker) -> JsonDict:
    """Times grouped by day, each with its own button; then "more times" and the notes."""
    zone = picker.zone
    top: Blocks = [
        section(
            f"*{escape(picker.title)}*\nA meeting of {wording.duration(picker.duration_minutes)}. "
            "Choose a time to book it; times are shown in your time zone."
        )
    ]
    tail: Blocks = []
    if picker.more is not None:
        more_label = picker.more.label
        if picker.remaining:
            more_label = f"{more_label} ({picker.remaining} left)"
        tail += actions(
            [button(more_label, f"{translate.ACTION_PREFIX}more", value=picker.more.action)]
        )
    if picker.notes:
        tail.append(context([escape(note) for note in picker.notes]))
    if picker.connect is not None:
        tail += connect_prompt_blocks(picker.connect)
    room = MESSAGE_BLOCKS - len(top) - len(tail)
    days = picker.days()
    rows = _slot_rows(days, zone)
    if len(rows) > room:
        rows = _compact_rows(days, zone)
    if len(rows) > room:
        shown = rows[: room - 1]
        rows = [
            *shown,
            context(["More times were found than fit here; ask for a narrower window."]),
        ]
    times = ", ".join(short_time(choice.start, zone) for choice in picker.slots[:5])
    fallback = f"{picker.title}: {times}" if times else picker.title
    return {"text": clip(fallback, FALLBACK_TEXT), "blocks": [*top, *rows, *tail]}


def _slot_rows(days: Sequence[tuple[date, list[views.SlotChoice]]], zone: ZoneInfo) -> Blocks:
    rows: Blocks = []
    index = 0
    for _, choices in days:
        first = choices[0].start
        rows.append(section(f"*{slack_date(first, '{date_long_pretty}', day_name(first, zone))}*"))
        for choice in choices:
            text = (
                slack_date(choice.start, "{time}", clock(choice.start, zone))
                + f" {DASH} "
                + slack_date(choice.end, "{time}", clock(choice.end, zone))
            )
            rows.append(
                section(
                    text,
                    accessory=button(
                        "Choose",
                        f"{translate.ACTION_PREFIX}pick:{index}",
                        value=choice.action,
                        style=views.ButtonStyle.PRIMARY,
                    ),
                )
            )
            index += 1
    return rows


def _compact_rows(days: Sequence[tuple[date, list[views.SlotChoice]]], zone: ZoneInfo) -> Blocks:
    """One line per day and a row of time buttons (labels in the viewer's zone)."""
    rows: Blocks = []
    index = 0
    for _, choices in days:
        first = choices[0].start
        rows.append(section(f"*{slack_date(first, '{date_long_pretty}', day_name(first, zone))}*"))
        elements = []
        for choice in choices:
            elements.append(
                button(
                    clock(choice.start, zone),
                    f"{translate.ACTION_PREFIX}pick:{index}",
                    value=choice.action,
                )
            )
            index += 1
        rows += actions(elements)
    return rows


def _poll_option_text(option: views.PollOptionView, zone: ZoneInfo) -> str:
    tally = wording.tally(option.yes, option.if_need_be, option.busy)
    if option.tied:
        tally += " · tied"
    mark = ":trophy: " if option.winner else ""
    return f"{mark}{when_text(option.start, option.end, zone)}\n{tally}"


def poll(view: views.PollView) -> JsonDict:
    """A poll for everyone in its channel: one line per time, with the votes so far."""
    blocks: Blocks = [
        section(
            f"*{escape(view.title)}*\nA meeting of {wording.duration(view.duration_minutes)}, "
            f"proposed by {escape(view.organizer)}. {view.invitees} invited, "
            f"{view.connected} with a calendar connected."
        )
    ]
    for option in view.options:
        blocks.append(section(_poll_option_text(option, view.zone)))
        votes = [
            button(
                item.label,
                f"{translate.ACTION_PREFIX}poll:{kind}:{option.option}",
                value=item.action,
            )
            for kind, item in (("yes", option.vote_yes), ("maybe", option.vote_if_need_be))
            if item is not None
        ]
        blocks += actions(votes)
    lines = []
    if view.deadline is not None:
        lines.append(
            "Voting closes "
            + slack_date(
                view.deadline, "{date_short_pretty} {time}", short_time(view.deadline, view.zone)
            )
        )
    if view.required:
        lines.append(f"Required: {escape(wording.names(view.required))}")
    if view.result:
        lines.append(escape(view.result))
    if lines:
        blocks.append(context(lines))
    controls = [
        core_button(item, f"poll:{name}")
        for name, item in (
            ("connect", view.connect),
            ("close", view.close),
            ("cancel", view.cancel),
        )
        if item is not None
    ]
    blocks += actions(controls)
    return message_payload(view.result or view.title, blocks)


def time_input(field: views.TimeInput) -> Blocks:
    """A date-time field; Slack sends the choice at once, with the block id carrying the
    reference (an element's action id must stay the same for every such field)."""
    block_id = f"{translate.ACTION_PREFIX}{field.action}"
    if len(block_id) > BLOCK_ID:
        return []  # cannot happen with core's references; never send what Slack refuses
    picker = {"type": "datetimepicker", "action_id": translate.TIME_ACTION}
    return [
        section(f"*{escape(field.label)}*"),
        {"type": "actions", "block_id": block_id, "elements": [picker]},
    ]


def poll_draft(view: views.PollDraftView) -> JsonDict:
    """The organiser's preview of a poll: remove times, add one, set a deadline, post."""
    invited = wording.names(view.invitees, none="nobody yet")
    blocks: Blocks = [
        section(
            f"*{escape(view.title)}* (draft, only you see it)\nA meeting of "
            f"{wording.duration(view.duration_minutes)} with {escape(invited)}; "
            f"{view.connected} of them have a calendar connected."
        )
    ]
    for option, remove in view.options:
        blocks.append(
            section(
                _poll_option_text(option, view.zone),
                accessory=core_button(remove, f"poll:remove:{option.option}"),
            )
        )
    if view.notes:
        blocks.append(context([escape(note) for note in view.notes]))
    deadline = (
        slack_date(
            view.deadline, "{date_short_pretty} {time}", short_time(view.deadline, view.zone)
        )
        if view.deadline is not None
        else "no deadline"
    )
    blocks += time_input(view.add_time)
    blocks.append(section(f"*Deadline:* {deadline}"))
    blocks += actions(
        [core_button(item, f"poll:deadline:{i}") for i, item in enumerate(view.deadlines)]
    )
    required = wording.names(view.required_names, none="nobody")
    blocks.append(section(f"*Required:* {escape(required)}"))
    blocks += actions(
        [core_button(item, f"poll:required:{i}") for i, item in enumerate(view.required)]
    )
    blocks += actions(
        [core_button(view.post, "poll:post"), core_button(view.cancel, "poll:cancel")]
    )
    return message_payload(view.title, blocks)


# ---------------------------------------------------------------------- App Home


OPEN_CONSOLE = "Open the admin console"


def home(content: views.HomeView) -> JsonDict:
    """The App Home tab: calendar status, upcoming meetings, partners, help (and rules)."""
    status = content.status
    elements: list[JsonDict] = []
    if status.provider is None or status.needs_reconnect:
        label = "Reconnect your calendar" if status.needs_reconnect else "Connect a calendar"
        elements.append(button(label, translate.HOME_CONNECT, style=views.ButtonStyle.PRIMARY))
    if status.disconnect is not None:
        elements.append(_disconnect_button(status.disconnect))
    mark = ":white_check_mark: " if status.provider and not status.needs_reconnect else ""
    blocks: Blocks = [
        header("Pairtime"),
        section(f"{mark}{escape(status.text)}"),
        *actions(elements),
        divider(),
    ]
    if content.console:  # near the top: a long home is cut from the end
        blocks += [
            section(
                "*Admin console*: tracks, rules, people, pairs, circles and activity.",
                accessory=button(OPEN_CONSOLE, translate.HOME_CONSOLE),
            ),
            divider(),
        ]
    # Two blocks a meeting (it, then its buttons): the first ones, the rest counted.
    blocks += meeting_list_blocks(content.meetings, limit=2 * HOME_MEETINGS + 2)
    blocks += [divider(), section("*Your mentoring partners*")]
    blocks += _home_partners(content.partners)
    blocks += [divider(), section("*How to ask me*"), *help_blocks(content.help)]
    if content.rules is not None:
        blocks += [divider(), *settings_blocks(content.rules)]
        blocks.append(context(["You see these rules because you are an admin of this program."]))
    return {"type": "home", "blocks": fit(blocks, VIEW_BLOCKS)}


def _home_partners(partners: Sequence[views.PartnerView]) -> Blocks:
    if not partners:
        return [
            context(
                [
                    (
                        "You have no mentoring partner in this program yet. Your program admin "
                        "pairs people; meanwhile you can mention anyone you'd like to meet."
                    )
                ]
            )
        ]
    blocks = []
    for index, partner in enumerate(partners[:HOME_PARTNERS]):
        accessory = None
        if partner.chat_user:
            accessory = button(
                "Find a time", f"{translate.HOME_FIND}{index}", value=partner.chat_user
            )
        blocks.append(
            section(f"*{escape(partner.name)}* · {escape(partner.role)}", accessory=accessory)
        )
    if len(partners) > HOME_PARTNERS:
        blocks.append(context([f"…and {len(partners) - HOME_PARTNERS} more."]))
    return blocks


# ---------------------------------------------------------------------- the modal


def _option(text: str, value: str) -> JsonDict:
    return {"text": plain(text, 75), "value": value}


def find_time_modal(
    *,
    zone: ZoneInfo,
    today: date,
    default_duration: int,
    people: Iterable[str] = (),
) -> JsonDict:
    """The "Find a time" form: people, length, first and last day, time of day."""
    durations = list(translate.DURATIONS)
    if default_duration not in durations:
        default_duration = 30
    duration_options = [_option(wording.duration(minutes), str(minutes)) for minutes in durations]
    part_labels = {
        "any": "Any time",
        "morning": f"Mornings (8:00{DASH}12:00)",
        "afternoon": f"Afternoons (12:00{DASH}17:00)",
        "evening": f"Evenings (17:00{DASH}21:00)",
    }
    part_options = [_option(part_labels[key], key) for key in translate.PARTS_OF_DAY]
    users: JsonDict = {
        "type": "multi_users_select",
        "action_id": translate.PEOPLE_ACTION,
        "placeholder": plain("Who would you like to meet?", 150),
        "max_selected_items": translate.MAX_PEOPLE,
    }
    initial = list(people)[: translate.MAX_PEOPLE]
    if initial:
        users["initial_users"] = initial
    last = today + timedelta(days=13)
    return {
        "type": "modal",
        "callback_id": translate.FIND_TIME_CALLBACK,
        "title": plain("Find a time", MODAL_TITLE),
        "submit": plain("Find times", MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "private_metadata": translate.modal_metadata(zone),
        "blocks": [
            _input(translate.PEOPLE_BLOCK, "People", users),
            _input(
                translate.DURATION_BLOCK,
                "Length",
                {
                    "type": "static_select",
                    "action_id": translate.DURATION_ACTION,
                    "options": duration_options,
                    "initial_option": duration_options[durations.index(default_duration)],
                },
            ),
            _input(translate.FROM_BLOCK, "From", _datepicker(today)),
            _input(translate.UNTIL_BLOCK, "Until (the last day included)", _datepicker(last)),
            _input(
                translate.PART_BLOCK,
                "Time of day",
                {
                    "type": "static_select",
                    "action_id": translate.PART_ACTION,
                    "options": part_options,
                    "initial_option": part_options[0],
                },
            ),
            context([f"Days and times are read in your time zone ({escape(zone.key)})."]),
        ],
    }


def _datepicker(initial: date) -> JsonDict:
    return {
        "type": "datepicker",
        "action_id": translate.DATE_ACTION,
        "initial_date": initial.isoformat(),
        "placeholder": plain("Choose a day", 150),
    }


def _input(block_id: str, label: str, element: JsonDict) -> JsonDict:
    return {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element}
