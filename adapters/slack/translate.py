"""Slack payloads in, neutral values out: text for the parser, user ids, the find-a-time form.

Pure functions over the JSON Slack sends (no I/O, no slack_sdk), tested on
recorded payloads. What Slack escapes or marks up in message text is turned
into what a person meant before the parser reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.commands import Command, Intent, Mention, TimeOfDay
from core.people import Platform, Profile, ProgramId, platform_of, program_id, workspace_of
from core.scheduling.context import zone_of
from core.time import DayTime, Interval

JsonDict = dict[str, Any]

COMMAND = "/pairtime"
ACTION_PREFIX = "pt:"
FIND_TIME_CALLBACK = "pt_find_time"  # the global shortcut and its modal
HOME_CONNECT = "pt:home:connect"
HOME_CONSOLE = "pt:home:console"  # "Open the admin console": a sign-in link, in the DM
HOME_FIND = "pt:home:find:"  # + the partner's position; value = their Slack user id
LINK_ACTION = "pt:link:"  # link buttons: Slack still sends a click, which needs only an ack
TIME_ACTION = "pt:time"  # a date-time field; its block id carries the reference
TEXT_ACTION = "pt:text"  # a text field sent with Enter; its block id carries the reference

# The modal's blocks and elements (block id -> action id).
PEOPLE_BLOCK, PEOPLE_ACTION = "people", "users"
DURATION_BLOCK, DURATION_ACTION = "duration", "minutes"
FROM_BLOCK, UNTIL_BLOCK, DATE_ACTION = "from", "until", "date"
PART_BLOCK, PART_ACTION = "time_of_day", "part"

DURATIONS = (15, 30, 45, 60, 90, 120)
MAX_PEOPLE = 8
MAX_MENTIONS = 50  # people looked up per message; more than any meeting or poll asks for
# Slack's own limit for a message; a signed request holding more (a 900 KB slash command) is
# cut here, before anything reads it.
MAX_TEXT = 40_000
MAX_RANGE_DAYS = 62
# The same spans the parser gives "morning", "afternoon" and "evening" (core.parsing.times_of_day).
PARTS_OF_DAY: Mapping[str, TimeOfDay | None] = {
    "any": None,
    "morning": TimeOfDay(DayTime.of(8), DayTime.of(12)),
    "afternoon": TimeOfDay(DayTime.of(12), DayTime.of(17)),
    "evening": TimeOfDay(DayTime.of(17), DayTime.of(21)),
}

_TOKEN = re.compile(r"<([^<>]*)>")
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")


def program_for(team_id: str) -> ProgramId:
    """One program per Slack workspace."""
    return program_id(Platform.SLACK, team_id)


def team_of(program: ProgramId) -> str | None:
    return workspace_of(program) if platform_of(program) is Platform.SLACK else None


# ---------------------------------------------------------------------- text


def plain_text(raw: str) -> str:
    """Message text as the person meant it, with user mentions kept as ``<@U…>``.

    Slack escapes ``&``, ``<`` and ``>`` that people type and writes its own
    markup between angle brackets: ``<@U123|maria>``, ``<#C123|general>``,
    ``<!here>``, ``<https://…|label>``. Only real markup can mention someone:
    a typed ``&lt;@U123&gt;`` stays text and names nobody.
    """
    parts: list[str] = []
    position = 0
    for match in _TOKEN.finditer(raw):
        parts.append(_unescape(raw[position : match.start()]))
        parts.append(_token(match.group(1)))
        position = match.end()
    parts.append(_unescape(raw[position:]))
    return " ".join("".join(parts).split())


def _unescape(text: str) -> str:
    # Angle brackets a person typed become look-alikes, so they can never form markup again.
    return text.replace("&lt;", "\u2039").replace("&gt;", "\u203a").replace("&amp;", "&")


def _token(inner: str) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f"<{target}>"
    if target.startswith("#"):
        return f"#{_unescape(label)}" if label else "#channel"
    if target.startswith("!"):
        keyword = target[1:].split("^", 1)[0]
        if keyword in {"here", "channel", "everyone"}:
            return f"@{keyword}"
        return _unescape(label)
    return _unescape(label or target.removeprefix("mailto:"))


def mentioned_users(text: str, *, bot_user_id: str | None = None) -> list[str]:
    """The Slack user ids mentioned in ``text``, in order, each once, without the bot: at most
    :data:`MAX_MENTIONS`, since each is looked up in Slack before core reads the message (a
    40,000-character message can mention thousands)."""
    found: dict[str, None] = {}
    for match in _USER_MENTION.finditer(text):
        user_id = match.group(1)
        if user_id != bot_user_id:
            found[user_id] = None
            if len(found) == MAX_MENTIONS:
                break
    return list(found)


def profile_of(user: Mapping[str, Any]) -> Profile:
    """A ``users.info`` user as Pairtime keeps it: name, email, time zone and @handle."""
    profile: Mapping[str, Any] = user.get("profile") or {}
    handle = profile.get("display_name") or user.get("name") or None
    name = (
        profile.get("real_name")
        or user.get("real_name")
        or profile.get("display_name")
        or user.get("name")
        or user.get("id")
        or "Someone"
    )
    return Profile(
        name=str(name),
        email=profile.get("email") or None,
        timezone=user.get("tz") or None,
        handle=str(handle) if handle else None,
    )


# ---------------------------------------------------------------------- payloads


@dataclass(frozen=True, slots=True)
class SlashCommand:
    team_id: str
    user_id: str
    channel_id: str
    text: str
    response_url: str | None


def slash_command(body: Mapping[str, Any]) -> SlashCommand:
    return SlashCommand(
        team_id=str(body.get("team_id", "")),
        user_id=str(body.get("user_id", "")),
        channel_id=str(body.get("channel_id", "")),
        text=plain_text(str(body.get("text") or "")[:MAX_TEXT]),
        response_url=body.get("response_url") or None,
    )


@dataclass(frozen=True, slots=True)
class Message:
    """A message to the bot: a mention in a channel or a direct message."""

    user_id: str
    channel_id: str
    text: str
    thread_ts: str | None


def message(event: Mapping[str, Any]) -> Message:
    return Message(
        user_id=str(event.get("user", "")),
        channel_id=str(event.get("channel", "")),
        text=plain_text(str(event.get("text") or "")[:MAX_TEXT]),
        thread_ts=event.get("thread_ts") or None,
    )


def is_direct_message(event: Mapping[str, Any]) -> bool:
    """A person's own new message in their DM with the bot (no edits, bots or joins)."""
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
    )


@dataclass(frozen=True, slots=True)
class Click:
    """A button clicked in a message (with a response_url) or in a view (App Home, modal)."""

    user_id: str
    action_id: str
    value: str | None
    response_url: str | None
    channel_id: str | None
    message_ts: str | None
    in_view: bool
    trigger_id: str | None
    block_id: str = ""
    picked: datetime | None = None  # a date-time field's choice
    sent_at: datetime | None = None  # when the person clicked, by Slack's clock (action_ts)

    @property
    def reference(self) -> str | None:
        """The signed reference the click carries: a button's value, or a field's block id."""
        if self.action_id in (TIME_ACTION, TEXT_ACTION):
            return self.block_id.removeprefix(ACTION_PREFIX) or None
        return self.value

    @property
    def typed(self) -> str | None:
        """What was written in a text field (None for a button)."""
        return self.value if self.action_id == TEXT_ACTION else None


def click(body: Mapping[str, Any]) -> Click | None:
    actions = body.get("actions") or []
    if not actions:
        return None
    action: Mapping[str, Any] = actions[0]
    container: Mapping[str, Any] = body.get("container") or {}
    channel: Mapping[str, Any] = body.get("channel") or {}
    picked = action.get("selected_date_time")
    return Click(
        user_id=str((body.get("user") or {}).get("id", "")),
        action_id=str(action.get("action_id", "")),
        value=action.get("value") or None,
        response_url=body.get("response_url") or None,
        channel_id=channel.get("id") or container.get("channel_id") or None,
        message_ts=container.get("message_ts") or None,
        in_view=container.get("type") == "view",
        trigger_id=body.get("trigger_id") or None,
        block_id=str(action.get("block_id") or ""),
        picked=datetime.fromtimestamp(picked, UTC) if isinstance(picked, int) else None,
        sent_at=slack_time(action.get("action_ts")),
    )


def slack_time(stamp: object) -> datetime | None:
    """Slack's ``"1733400000.123456"`` (seconds since the epoch) as a UTC time."""
    try:
        seconds = float(str(stamp))
    except ValueError:
        return None
    if not 0 < seconds < 1e11:  # neither missing nor absurd (nan fails this too)
        return None
    return datetime.fromtimestamp(seconds, UTC)


def local_value(when: datetime, zone: ZoneInfo) -> str:
    """A picked date-time as core reads a field's value: ``YYYY-MM-DDTHH:MM``, local."""
    return f"{when.astimezone(zone):%Y-%m-%dT%H:%M}"


def user_of(body: Mapping[str, Any]) -> str:
    return str((body.get("user") or {}).get("id", ""))


# ---------------------------------------------------------------------- the modal


@dataclass(frozen=True, slots=True)
class FindTimeForm:
    """The shortcut modal's fields as submitted (any may be missing)."""

    people: tuple[str, ...]
    duration_minutes: int | None
    first_day: date | None
    last_day: date | None
    part_of_day: str


def modal_metadata(zone: ZoneInfo) -> str:
    """What the modal carries back: the zone its dates are read in."""
    return json.dumps({"tz": zone.key})


def modal_zone(private_metadata: str, fallback: str = "UTC") -> ZoneInfo:
    try:
        data = json.loads(private_metadata or "{}")
    except ValueError:
        data = {}
    name = data.get("tz") if isinstance(data, dict) else None
    return zone_of(name if isinstance(name, str) else None, fallback)


def find_time_form(values: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> FindTimeForm:
    """Read ``view.state.values``; unreadable fields come back as None."""

    def field(block: str, action: str) -> Mapping[str, Any]:
        return (values.get(block) or {}).get(action) or {}

    people = tuple(str(u) for u in field(PEOPLE_BLOCK, PEOPLE_ACTION).get("selected_users") or ())
    duration = _option_value(field(DURATION_BLOCK, DURATION_ACTION))
    part = _option_value(field(PART_BLOCK, PART_ACTION)) or "any"
    return FindTimeForm(
        people=people,
        duration_minutes=int(duration) if duration and duration.isdigit() else None,
        first_day=_date(field(FROM_BLOCK, DATE_ACTION).get("selected_date")),
        last_day=_date(field(UNTIL_BLOCK, DATE_ACTION).get("selected_date")),
        part_of_day=part,
    )


def _option_value(state: Mapping[str, Any]) -> str | None:
    option = state.get("selected_option") or {}
    value = option.get("value") if isinstance(option, Mapping) else None
    return str(value) if value is not None else None


def _date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def form_errors(form: FindTimeForm, *, submitter: str, today: date) -> dict[str, str]:
    """Slack's inline errors for the modal, by block id; empty when the form is usable."""
    errors: dict[str, str] = {}
    others = [user for user in form.people if user != submitter]
    if not others:
        errors[PEOPLE_BLOCK] = "Choose at least one person other than yourself."
    elif len(others) > MAX_PEOPLE:
        errors[PEOPLE_BLOCK] = f"Choose at most {MAX_PEOPLE} people."
    if form.duration_minutes not in DURATIONS:
        errors[DURATION_BLOCK] = "Choose how long the meeting is."
    if form.part_of_day not in PARTS_OF_DAY:
        errors[PART_BLOCK] = "Choose a time of day."
    first, last = form.first_day, form.last_day
    if first is None:
        errors[FROM_BLOCK] = "Choose the first day."
    elif first < today:
        errors[FROM_BLOCK] = "That day has passed. Choose today or a later day."
    if last is None:
        errors[UNTIL_BLOCK] = "Choose the last day."
    elif last < today:
        errors[UNTIL_BLOCK] = "That day has passed. Choose today or a later day."
    elif first is not None and last < first:
        errors[UNTIL_BLOCK] = "The last day must be on or after the first day."
    elif first is not None and (last - first).days >= MAX_RANGE_DAYS:
        errors[UNTIL_BLOCK] = f"Choose at most {MAX_RANGE_DAYS} days."
    return errors


def find_time_command(
    form: FindTimeForm, *, submitter: str, zone: ZoneInfo, now: datetime
) -> Command:
    """The command a valid form asks for: days are whole days in the submitter's zone."""
    assert form.first_day is not None
    assert form.last_day is not None
    assert form.duration_minutes is not None
    start = max(DayTime(0).on(form.first_day, zone), now)
    end = DayTime(0).on(form.last_day + timedelta(days=1), zone)
    people: Sequence[str] = [user for user in form.people if user != submitter]
    return Command(
        Intent.FIND_TIME,
        participants=tuple(Mention(user) for user in people),
        duration_minutes=form.duration_minutes,
        duration_given=True,
        window=Interval(start, max(start, end)),
        time_of_day=PARTS_OF_DAY.get(form.part_of_day),
    )
