"""events.insert, events.patch and events.delete as the Calendar API v3 reference documents
them, for FakeGoogle: the program account's calendar that organisation connections write.

Checked as Google checks them: a bearer token with a scope that allows writing events,
the caller's own calendar (``primary`` or its address), ``sendUpdates`` one of ``all``,
``externalOnly``, ``none``, ``conferenceDataVersion`` 0 or 1, a JSON body with only the
Event resource's fields (400 "Invalid JSON payload received. Unknown name ..."), ``start``
and ``end`` with a ``dateTime`` (an offset, or a ``timeZone``) or a ``date``, end after
start (400 ``timeRangeEmpty``), attendees with valid addresses, a client-chosen ``id`` of
base32hex characters (400 ``invalid``; 409 ``duplicate`` when taken). A conference
``createRequest`` is honoured only with ``conferenceDataVersion=1`` (version 0 ignores
conference data), and gets a Meet at once (``statusCode: success``, ``hangoutLink``), or
first ``pending`` without a link while ``fake.meet_pending`` counts down (the same
createRequest sent again then makes it).
Patching an event that moves raises its ``sequence``; a deleted event answers 410.

What Google would email is recorded in ``fake.notifications`` (one ``Notified`` per write
with ``sendUpdates=all``, naming the attendees); the events in ``fake.written[account]``.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from tests.fakes.google_events import _EVENT_SCHEMA

if TYPE_CHECKING:
    from tests.fakes.google import FakeGoogle

WRITE_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/calendar",
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/calendar.events.owned",
    }
)
SEND_UPDATES = frozenset({"all", "externalOnly", "none"})
SOLUTIONS = frozenset({"hangoutsMeet", "eventHangout", "eventNamedHangout", "addOn"})
_ID = re.compile(r"^[a-v0-9]{5,1024}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# What a client may send (read-only fields such as htmlLink or creator are ignored by Google).
_WRITABLE = frozenset(_EVENT_SCHEMA) | {"conferenceData"}


@dataclass(frozen=True)
class Notified:
    """What Google would have emailed: ``kind`` invitation, update or cancellation."""

    kind: str
    event_id: str
    attendees: tuple[str, ...]


def routes(fake: FakeGoogle) -> list[tuple[str, str, str, Any]]:
    base = "/calendar/v3/calendars/{calendar}/events"
    return [
        ("POST", base, "events.insert", lambda r: _insert(fake, r)),
        ("PATCH", base + "/{event}", "events.patch", lambda r: _patch(fake, r)),
        ("DELETE", base + "/{event}", "events.delete", lambda r: _delete(fake, r)),
    ]


async def _insert(fake: FakeGoogle, request: web.Request) -> web.StreamResponse:
    checked = await _checked(fake, request, body=True)
    if isinstance(checked, web.Response):
        return checked
    account, body, query = checked
    problem = _invalid_event(body, complete=True)
    if problem is not None:
        return problem
    calendar = fake.written.setdefault(account, {})
    event_id = body.get("id") or secrets.token_hex(13)
    if not _ID.match(str(event_id)):
        return _error(400, "invalid", "Invalid resource id value.")
    if event_id in calendar:
        return _error(409, "duplicate", "The requested identifier already exists.")
    now = _now()
    event = {
        **{k: v for k, v in body.items() if k != "conferenceData"},
        "kind": "calendar#event",
        "etag": f'"{secrets.randbelow(10**16)}"',
        "id": event_id,
        "status": body.get("status", "confirmed"),
        "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
        "created": now,
        "updated": now,
        "creator": {"email": account, "self": True},
        "organizer": {"email": account, "self": True},
        "iCalUID": f"{event_id}@google.com",
        "sequence": 0,
        "attendees": _attendees(body.get("attendees", [])),
        "reminders": body.get("reminders", {"useDefault": True}),
        "eventType": body.get("eventType", "default"),
    }
    _conference(fake, event, body, query)
    calendar[event_id] = event
    _notify(fake, query, "invitation", event)
    return web.json_response(event)


async def _patch(fake: FakeGoogle, request: web.Request) -> web.StreamResponse:
    checked = await _checked(fake, request, body=True)
    if isinstance(checked, web.Response):
        return checked
    account, body, query = checked
    event = fake.written.get(account, {}).get(request.match_info["event"])
    if event is None:
        return _error(404, "notFound", "Not Found", domain="global")
    if event["status"] == "cancelled":
        return _error(410, "deleted", "Resource has been deleted", domain="global")
    merged = {**event, **{k: v for k, v in body.items() if k != "conferenceData"}}
    problem = _invalid_event(merged, complete=True)
    if problem is not None:
        return problem
    if "attendees" in body:
        merged["attendees"] = _attendees(body["attendees"])
    if merged["start"] != event["start"] or merged["end"] != event["end"]:
        merged["sequence"] = event["sequence"] + 1
    merged["updated"] = _now()
    if "conferenceData" in body and "hangoutLink" not in event:
        _conference(fake, merged, body, query)
    fake.written[account][event["id"]] = merged
    _notify(fake, query, "update", merged)
    return web.json_response(merged)


async def _delete(fake: FakeGoogle, request: web.Request) -> web.StreamResponse:
    checked = await _checked(fake, request, body=False)
    if isinstance(checked, web.Response):
        return checked
    account, _, query = checked
    event = fake.written.get(account, {}).get(request.match_info["event"])
    if event is None:
        return _error(404, "notFound", "Not Found", domain="global")
    if event["status"] == "cancelled":
        return _error(410, "deleted", "Resource has been deleted", domain="global")
    event["status"] = "cancelled"
    _notify(fake, query, "cancellation", event)
    return web.Response(status=204)


async def _checked(
    fake: FakeGoogle, request: web.Request, *, body: bool
) -> tuple[str, dict[str, Any], dict[str, str]] | web.Response:
    from tests.fakes.google import _insufficient_scopes, _unauthenticated  # noqa: PLC0415 - cycle

    token = fake._bearer(request)
    if token is None:
        return _unauthenticated()
    if not token.scopes & WRITE_SCOPES:
        return _insufficient_scopes()
    calendar = request.match_info["calendar"]
    if calendar not in ("primary", token.account) or token.account not in fake.accounts:
        return _error(404, "notFound", "Not Found", domain="global")
    query = dict(request.query)
    if query.get("sendUpdates", "none") not in SEND_UPDATES:
        return _error(400, "invalid", "Invalid value for: sendUpdates", location="sendUpdates")
    if query.get("conferenceDataVersion", "0") not in ("0", "1"):
        return _error(
            400, "invalid", "Invalid conference data version", location="conferenceDataVersion"
        )
    data: dict[str, Any] = {}
    if body:
        try:
            parsed: Any = await request.json()
        except ValueError:
            return _error(400, "parseError", "Parse Error", domain="global")
        if not isinstance(parsed, dict):
            return _error(400, "badRequest", "Invalid JSON payload received.", domain="global")
        data = parsed
        unknown = sorted(set(data) - _WRITABLE)
        if unknown:
            return _error(
                400,
                "badRequest",
                f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.',
                domain="global",
            )
    return token.account, data, query


def _invalid_event(event: dict[str, Any], *, complete: bool) -> web.Response | None:
    if complete and ("start" not in event or "end" not in event):
        return _error(
            400, "required", "Missing end time." if "start" in event else "Missing start time."
        )
    try:
        start, end = _moment(event["start"]), _moment(event["end"])
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError):
        return _error(400, "invalid", "Invalid start or end time.")
    if end <= start:
        return _error(400, "timeRangeEmpty", "The specified time range is empty.")
    for attendee in event.get("attendees", []):
        if not isinstance(attendee, dict) or not _ADDRESS.match(str(attendee.get("email", ""))):
            return _error(400, "invalid", "Invalid attendee email.")
    if not isinstance(event.get("summary", ""), str):
        return _error(400, "invalid", "Invalid value for: summary")
    request = (event.get("conferenceData") or {}).get("createRequest")
    if request is not None:
        solution = (request.get("conferenceSolutionKey") or {}).get("type")
        if not request.get("requestId") or solution not in SOLUTIONS:
            return _error(400, "invalid", "Invalid conference type value.")
    return None


def _moment(value: dict[str, Any]) -> dt.datetime:
    if "date" in value:
        return dt.datetime.combine(dt.date.fromisoformat(value["date"]), dt.time(), dt.UTC)
    moment = dt.datetime.fromisoformat(str(value["dateTime"]))
    if moment.tzinfo is None:
        if not value.get("timeZone"):
            raise ValueError("a dateTime without an offset needs a timeZone")
        moment = moment.replace(tzinfo=ZoneInfo(value["timeZone"]))
    elif value.get("timeZone"):
        ZoneInfo(value["timeZone"])
    return moment


def _attendees(attendees: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**a, "responseStatus": a.get("responseStatus", "needsAction")} for a in attendees]


def _conference(
    fake: FakeGoogle, event: dict[str, Any], body: dict[str, Any], query: dict[str, str]
) -> None:
    """A Meet for a createRequest, only with conferenceDataVersion=1 (0 ignores it)."""
    request = (body.get("conferenceData") or {}).get("createRequest")
    if request is None or query.get("conferenceDataVersion") != "1":
        return
    if fake.meet_pending > 0:  # Google answers before the Meet exists
        fake.meet_pending -= 1
        event["conferenceData"] = {
            "createRequest": {**request, "status": {"statusCode": "pending"}}
        }
        return
    code = "-".join(
        "".join(secrets.choice("abcdefghijkmnopqrstuvwxyz") for _ in range(n)) for n in (3, 4, 3)
    )
    uri = f"https://meet.google.com/{code}"
    event["hangoutLink"] = uri
    event["conferenceData"] = {
        "createRequest": {**request, "status": {"statusCode": "success"}},
        "entryPoints": [{"entryPointType": "video", "uri": uri, "label": uri[8:]}],
        "conferenceSolution": {
            "key": {"type": "hangoutsMeet"},
            "name": "Google Meet",
            "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
        },
        "conferenceId": code,
    }


def _notify(fake: FakeGoogle, query: dict[str, str], kind: str, event: dict[str, Any]) -> None:
    if query.get("sendUpdates", "none") == "none":
        return
    emails = tuple(str(a["email"]) for a in event.get("attendees", []))
    fake.notifications.append(Notified(kind, str(event["id"]), emails))


def _error(
    status: int, reason: str, message: str, *, domain: str = "calendar", location: str | None = None
) -> web.Response:
    from tests.fakes.google import _api_error  # noqa: PLC0415 - cycle

    error = {"domain": domain, "reason": reason, "message": message}
    if location:
        error |= {"locationType": "parameter", "location": location}
    return _api_error(status, message, [error])


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
