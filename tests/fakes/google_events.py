"""Google Calendar events as ``events.list`` returns them: the model FakeGoogle serves.

Shapes follow the Calendar API v3 reference (Events and Event resources):
timed events carry ``dateTime`` with an offset (and the event's ``timeZone``),
all-day events only a ``date`` whose ``end`` is exclusive; ``transparency`` is
left out when it is the default ``opaque``; ``eventType`` is always there;
the user's own attendee entry has ``self: true``. ``singleEvents=true``
expands a series into instances (``recurringEventId``, ``originalStartTime``,
ids ``{series}_{start}``). A ``fields`` mask (Google's partial-response
syntax: ``a,b(c,d),e/f``) keeps only what it names, and an unknown name is
400 "Invalid field selection", as Google answers it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

EVENT_TYPES = frozenset(
    {"default", "outOfOffice", "focusTime", "workingLocation", "birthday", "fromGmail"}
)
RESPONSES = frozenset({"needsAction", "declined", "tentative", "accepted"})
ORGANIZER = "organizer@example.net"
_MAX_INSTANCES = 1000

Tree = dict[str, "Tree | None"]  # a parsed fields mask: name -> sub-selection (None: all)

_DATETIME = {"date": None, "dateTime": None, "timeZone": None}
_PERSON = {"id": None, "email": None, "displayName": None, "self": None}
# What each resource holds, for validating masks (Calendar API v3 reference).
_EVENT_SCHEMA: dict[str, Any] = {
    **dict.fromkeys(
        [
            "kind",
            "etag",
            "id",
            "status",
            "htmlLink",
            "created",
            "updated",
            "summary",
            "description",
            "location",
            "colorId",
            "endTimeUnspecified",
            "recurrence",
            "recurringEventId",
            "transparency",
            "visibility",
            "iCalUID",
            "sequence",
            "attendeesOmitted",
            "extendedProperties",
            "hangoutLink",
            "conferenceData",
            "gadget",
            "anyoneCanAddSelf",
            "guestsCanInviteOthers",
            "guestsCanModify",
            "guestsCanSeeOtherGuests",
            "privateCopy",
            "locked",
            "reminders",
            "source",
            "attachments",
            "workingLocationProperties",
            "outOfOfficeProperties",
            "focusTimeProperties",
            "birthdayProperties",
            "eventType",
        ]
    ),
    "creator": _PERSON,
    "organizer": _PERSON,
    "start": _DATETIME,
    "end": _DATETIME,
    "originalStartTime": _DATETIME,
    "attendees": dict.fromkeys(
        [
            "id",
            "email",
            "displayName",
            "organizer",
            "self",
            "resource",
            "optional",
            "responseStatus",
            "comment",
            "additionalGuests",
        ]
    ),
}
EVENTS_SCHEMA: dict[str, Any] = {
    **dict.fromkeys(
        [
            "kind",
            "etag",
            "summary",
            "description",
            "updated",
            "timeZone",
            "accessRole",
            "defaultReminders",
            "nextPageToken",
            "nextSyncToken",
        ]
    ),
    "items": _EVENT_SCHEMA,
}


class InvalidFields(ValueError):
    """A fields mask Google would refuse; ``str()`` is the offending selection."""


@dataclass
class GoogleEvent:
    """An event on someone's primary calendar.

    ``start``/``end``: dates make an all-day event (end exclusive), naive
    datetimes are read in ``time_zone`` (the calendar's zone when None).
    ``response``: the calendar owner's own answer as an invited guest
    (``needsAction``, ``declined``, ``tentative``, ``accepted``); None for
    events they organise alone. ``recurrence``: RFC 5545 lines, as Google
    keeps them (``["RRULE:FREQ=WEEKLY;COUNT=4", "EXDATE;...:..."]``).
    """

    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    summary: str = "Busy"
    description: str = ""
    status: str = "confirmed"
    transparency: str = "opaque"
    event_type: str = "default"
    time_zone: str | None = None
    response: str | None = None
    guests: tuple[str, ...] = ()
    recurrence: tuple[str, ...] = ()
    id: str = field(default_factory=lambda: secrets.token_hex(13))

    def __post_init__(self) -> None:
        if self.event_type not in EVENT_TYPES:
            raise ValueError(f"event_type must be one of {sorted(EVENT_TYPES)}")
        if self.response is not None and self.response not in RESPONSES:
            raise ValueError(f"response must be one of {sorted(RESPONSES)}")
        if self.status not in ("confirmed", "tentative", "cancelled"):
            raise ValueError("status must be confirmed, tentative or cancelled")
        if self.transparency not in ("opaque", "transparent"):
            raise ValueError("transparency must be opaque or transparent")
        if isinstance(self.start, dt.datetime) != isinstance(self.end, dt.datetime):
            raise ValueError("start and end must both be dates or both datetimes")

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, dt.datetime)

    def zone(self, calendar_zone: str) -> ZoneInfo:
        return ZoneInfo(self.time_zone or calendar_zone)

    def span(self, calendar_zone: str) -> tuple[dt.datetime, dt.datetime]:
        """The instants it covers; an all-day event covers the calendar's local days."""
        zone = self.zone(calendar_zone)
        return _instant(self.start, zone), _instant(self.end, zone)


@dataclass(frozen=True)
class Instance:
    """One event, or one occurrence of a series (``series`` set), as listed."""

    event: GoogleEvent
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    series: GoogleEvent | None = None

    def span(self, calendar_zone: str) -> tuple[dt.datetime, dt.datetime]:
        zone = self.event.zone(calendar_zone)
        return _instant(self.start, zone), _instant(self.end, zone)


def instances(
    events: Iterable[GoogleEvent],
    calendar_zone: str,
    time_min: dt.datetime | None,
    time_max: dt.datetime | None,
    *,
    single_events: bool,
    show_deleted: bool,
) -> list[Instance]:
    """What events.list returns for the range, in a stable order (start, then id).

    As documented: ``timeMin`` bounds an event's end (exclusive), ``timeMax`` its
    start (exclusive); a series is listed whole unless ``single_events``.
    """
    found: list[Instance] = []
    for event in events:
        if event.status == "cancelled" and not show_deleted:
            continue
        listed: Iterable[Instance]
        if event.recurrence and single_events:
            listed = _occurrences(event, calendar_zone)
        else:
            listed = [Instance(event, event.start, event.end)]
        for instance in listed:
            start, end = instance.span(calendar_zone)
            if instance.series is not None or not event.recurrence:
                if time_min is not None and end <= time_min:
                    continue
                if time_max is not None and start >= time_max:
                    continue
            found.append(instance)
    return sorted(found, key=lambda i: (i.span(calendar_zone)[0], i.event.id))


def _occurrences(event: GoogleEvent, calendar_zone: str) -> Iterator[Instance]:
    zone = event.zone(calendar_zone)
    first = _instant(event.start, zone)
    length = _instant(event.end, zone) - first
    rules = "\n".join(event.recurrence)
    # dateutil wants the series' first start as DTSTART, on the wall clock of its zone.
    rule = rrulestr(rules, dtstart=first.astimezone(zone), forceset=True)
    for count, start in enumerate(rule):
        if count >= _MAX_INSTANCES:
            break
        local_start = start.astimezone(zone)
        if event.all_day:
            day = local_start.date()
            yield Instance(event, day, day + dt.timedelta(days=length.days), series=event)
        else:
            yield Instance(event, local_start, local_start + length, series=event)


def event_json(
    instance: Instance,
    *,
    owner: str,
    calendar_zone: str,
    response_zone: ZoneInfo,
    max_attendees: int | None,
    single_events: bool,
) -> dict[str, Any]:
    """The full Event resource (before any fields mask)."""
    event = instance.event
    zone = event.zone(calendar_zone)
    event_id = event.id
    if instance.series is not None:
        event_id = f"{event.id}_{_instance_suffix(instance.start, zone)}"
    stamp = "2026-01-05T09:30:00.000Z"
    body: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": f'"{int(hashlib.sha256(event_id.encode()).hexdigest()[:12], 16)}"',
        "id": event_id,
        "status": event.status,
        "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
        "created": stamp,
        "updated": stamp,
        "summary": event.summary,
        "creator": {"email": owner, "self": True},
        "organizer": {"email": owner, "self": True},
        "start": _when(instance.start, zone, response_zone, event.time_zone),
        "end": _when(instance.end, zone, response_zone, event.time_zone),
        "iCalUID": f"{event.id}@google.com",
        "sequence": 0,
        "reminders": {"useDefault": not instance.event.all_day},
        "eventType": event.event_type,
    }
    if event.description:
        body["description"] = event.description
    if event.transparency == "transparent":
        body["transparency"] = "transparent"  # opaque, the default, is left out
    if instance.series is not None:
        body["recurringEventId"] = event.id
        body["originalStartTime"] = body["start"]
    elif event.recurrence and not single_events:
        body["recurrence"] = list(event.recurrence)
    if event.response is not None:
        organizer = event.guests[0] if event.guests else ORGANIZER
        body["organizer"] = {"email": organizer}
        attendees: list[dict[str, Any]] = [
            {"email": organizer, "organizer": True, "responseStatus": "accepted"},
            {"email": owner, "self": True, "responseStatus": event.response},
            *({"email": guest, "responseStatus": "needsAction"} for guest in event.guests[1:]),
        ]
        if max_attendees is not None and len(attendees) > max_attendees:
            # "If there are more than the specified number of attendees, only the
            # participant is returned."
            attendees = [a for a in attendees if a.get("self")]
            body["attendeesOmitted"] = True
        body["attendees"] = attendees
    if event.event_type == "outOfOffice":
        body["outOfOfficeProperties"] = {
            "autoDeclineMode": "declineAllConflictingInvitations",
            "declineMessage": "I'm away.",
        }
    elif event.event_type == "workingLocation":
        body["visibility"] = "public"
        body["workingLocationProperties"] = {"type": "homeOffice", "homeOffice": {}}
    elif event.event_type == "focusTime":
        body["focusTimeProperties"] = {"chatStatus": "doNotDisturb"}
    return body


def _when(
    value: dt.datetime | dt.date, zone: ZoneInfo, response_zone: ZoneInfo, named: str | None
) -> dict[str, str]:
    if not isinstance(value, dt.datetime):
        return {"date": value.isoformat()}
    moment = _instant(value, zone).astimezone(response_zone)
    when = {"dateTime": moment.isoformat(timespec="seconds").replace("+00:00", "Z")}
    if named:
        when["timeZone"] = named
    return when


def _instance_suffix(start: dt.datetime | dt.date, zone: ZoneInfo) -> str:
    if not isinstance(start, dt.datetime):
        return start.strftime("%Y%m%d")
    return _instant(start, zone).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _instant(value: dt.datetime | dt.date, zone: ZoneInfo) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(), zone)
    return value if value.tzinfo else value.replace(tzinfo=zone)


# -------------------------------------------------------------------- fields masks


def parse_fields(text: str, schema: Mapping[str, Any] = EVENTS_SCHEMA) -> Tree:
    """Google's partial-response syntax, checked against ``schema``."""
    position, tree = _parse_list(text, 0, schema)
    if position != len(text):
        raise InvalidFields(text)
    return tree


def _parse_list(text: str, position: int, schema: Mapping[str, Any]) -> tuple[int, Tree]:
    tree: Tree = {}
    while True:
        position, path = _parse_name_path(text, position)
        node, node_schema = tree, schema
        for depth, name in enumerate(path):
            if not isinstance(node_schema, Mapping) or name not in node_schema:
                raise InvalidFields("/".join(path))
            last = depth == len(path) - 1
            if last:
                break
            child = node.get(name)
            if child is None:
                child = node[name] = {}
            node, node_schema = child, node_schema[name]
        name = path[-1]
        child_schema = node_schema[name]
        if position < len(text) and text[position] == "(":
            if not isinstance(child_schema, Mapping):
                raise InvalidFields(name)
            position, sub = _parse_list(text, position + 1, child_schema)
            if position >= len(text) or text[position] != ")":
                raise InvalidFields(text)
            position += 1
            existing = node.get(name)
            node[name] = _merge(existing, sub) if name in node else sub
        else:
            node[name] = None
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        return position, tree


def _parse_name_path(text: str, position: int) -> tuple[int, list[str]]:
    path: list[str] = []
    while True:
        start = position
        while position < len(text) and (text[position].isalnum() or text[position] in "_@"):
            position += 1
        if start == position:
            raise InvalidFields(text)
        path.append(text[start:position])
        if position < len(text) and text[position] == "/":
            position += 1
            continue
        return position, path


def _merge(first: Tree | None, second: Tree) -> Tree | None:
    if first is None:
        return None  # everything already selected
    merged: Tree = dict(first)
    for key, value in second.items():
        if key in merged and merged[key] is not None and value is not None:
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = None if key in merged and merged[key] is None else value
    return merged


def select(value: Any, tree: Tree | None) -> Any:
    """``value`` with only what ``tree`` selects (lists are selected element by element)."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [select(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    chosen = {key: select(value[key], sub) for key, sub in tree.items() if key in value}
    return {key: item for key, item in chosen.items() if item != {}}
