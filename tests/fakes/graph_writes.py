"""Creating, updating and cancelling events as Graph v1.0 documents it, for FakeMicrosoft:
the program account's mailbox that organisation connections write.

``POST /users/{id}/events`` (201), ``PATCH /users/{id}/events/{event}`` (200),
``POST /users/{id}/events/{event}/cancel`` (202, organiser only; the event leaves the
organiser's calendar) and ``DELETE /users/{id}/events/{event}`` (204). Checked as Graph
checks them: ``Calendars.ReadWrite`` (an app token's role, or a user's scope) and the
RBAC scope (403 ``ErrorAccessDenied``), a JSON body with only the event resource's
writable properties (400 ``RequestBodyRead``), ``start``/``end`` as dateTimeTimeZone with
a zone Graph knows, attendees with an address and a type ``required``, ``optional`` or
``resource``, ``onlineMeetingProvider`` from the enumeration. ``isOnlineMeeting`` with
``teamsForBusiness`` gets a Teams ``onlineMeeting.joinUrl``. A create repeating an existing
``transactionId`` answers the event made first, as Graph does for a client's retry.

What Exchange would send the attendees is recorded in ``fake.notifications``; the events
in ``fake.written[mailbox]``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.microsoft import FakeMicrosoft

WRITE = frozenset({"Calendars.ReadWrite"})
PROVIDERS = frozenset({"unknown", "teamsForBusiness", "skypeForBusiness", "skypeForConsumer"})
ATTENDEE_TYPES = frozenset({"required", "optional", "resource"})
WRITABLE = frozenset(
    {
        "subject",
        "body",
        "start",
        "end",
        "attendees",
        "location",
        "locations",
        "showAs",
        "isAllDay",
        "isOnlineMeeting",
        "onlineMeetingProvider",
        "allowNewTimeProposals",
        "responseRequested",
        "transactionId",
        "importance",
        "sensitivity",
        "isReminderOn",
        "reminderMinutesBeforeStart",
        "categories",
        "hideAttendees",
        "recurrence",
    }
)
SHOW_AS = frozenset({"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"})
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Notified:
    """What Exchange would have sent: ``kind`` invitation, update or cancellation."""

    kind: str
    event_id: str
    attendees: tuple[str, ...]


def routes(fake: FakeMicrosoft) -> list[tuple[str, str, str, Any]]:
    events = "/v1.0/users/{user}/events"
    return [
        ("POST", events, "events.create", lambda r: _create(fake, r)),
        ("PATCH", events + "/{event}", "events.update", lambda r: _update(fake, r)),
        ("POST", events + "/{event}/cancel", "events.cancel", lambda r: _cancel(fake, r)),
        ("DELETE", events + "/{event}", "events.delete", lambda r: _delete(fake, r)),
    ]


async def _create(fake: FakeMicrosoft, request: web.Request) -> web.StreamResponse:
    checked = await _checked(fake, request)
    if isinstance(checked, web.Response):
        return checked
    owner, body = checked
    problem = _invalid(fake, body, complete=True)
    if problem is not None:
        return problem
    mailbox = fake.written.setdefault(owner, {})
    transaction = body.get("transactionId")
    if transaction:
        for made in mailbox.values():
            if made.get("transactionId") == transaction:
                return _event_response(request, owner, made, status=201)
    event_id = "AAMkAG" + secrets.token_urlsafe(90).replace("-", "+").replace("_", "/") + "="
    now = _now()
    event: dict[str, Any] = {
        "id": event_id,
        "createdDateTime": now,
        "lastModifiedDateTime": now,
        "iCalUId": "040000008200E00074C5B7101A82E008" + secrets.token_hex(28).upper(),
        "subject": body.get("subject", ""),
        "body": body.get("body", {"contentType": "text", "content": ""}),
        "start": body["start"],
        "end": body["end"],
        "location": body.get("location", {"displayName": ""}),
        "attendees": _attendees(body.get("attendees", [])),
        "organizer": {"emailAddress": {"name": owner.split("@")[0], "address": owner}},
        "isOrganizer": True,
        "isCancelled": False,
        "showAs": body.get("showAs", "busy"),
        "responseRequested": body.get("responseRequested", True),
        "allowNewTimeProposals": body.get("allowNewTimeProposals", True),
        "transactionId": transaction,
        "isOnlineMeeting": bool(body.get("isOnlineMeeting", False)),
        "onlineMeetingProvider": body.get("onlineMeetingProvider", "unknown"),
        "onlineMeeting": None,
        "webLink": f"https://outlook.office365.com/owa/?itemid={event_id}&exvsurl=1&path=/calendar/item",
    }
    if event["isOnlineMeeting"] and event["onlineMeetingProvider"] == "teamsForBusiness":
        thread = f"19%3ameeting_{secrets.token_urlsafe(40)}%40thread.v2"
        event["onlineMeeting"] = {
            "joinUrl": f"https://teams.microsoft.com/l/meetup-join/{thread}/0?context=%7b%22Tid"
            f"%22%3a%22{fake.tenant_id}%22%7d"
        }
    mailbox[event_id] = event
    _notify(fake, "invitation", event)
    return _event_response(request, owner, event, status=201)


async def _update(fake: FakeMicrosoft, request: web.Request) -> web.StreamResponse:
    checked = await _checked(fake, request)
    if isinstance(checked, web.Response):
        return checked
    owner, body = checked
    event = fake.written.get(owner, {}).get(request.match_info["event"])
    if event is None:
        return _not_found()
    if "transactionId" in body:
        return _error(400, "ErrorInvalidPropertyForOperation", "transactionId cannot be updated.")
    merged = {**event, **body}
    problem = _invalid(fake, merged, complete=True)
    if problem is not None:
        return problem
    if "attendees" in body:
        merged["attendees"] = _attendees(body["attendees"])
    merged["lastModifiedDateTime"] = _now()
    fake.written[owner][event["id"]] = merged
    _notify(fake, "update", merged)
    return _event_response(request, owner, merged, status=200)


async def _cancel(fake: FakeMicrosoft, request: web.Request) -> web.StreamResponse:
    checked = await _checked(fake, request)
    if isinstance(checked, web.Response):
        return checked
    owner, body = checked
    if set(body) - {"comment"}:
        return _error(400, "RequestBodyRead", "The request body may hold only a comment.")
    event = fake.written.get(owner, {}).pop(request.match_info["event"], None)
    if event is None:
        return _not_found()
    fake.cancelled.setdefault(owner, {})[event["id"]] = {**event, "isCancelled": True}
    _notify(fake, "cancellation", event)
    return web.Response(status=202)


async def _delete(fake: FakeMicrosoft, request: web.Request) -> web.StreamResponse:
    token = fake._caller(request)
    if isinstance(token, web.Response):
        return token
    owner = fake._target(request, token, WRITE)
    if isinstance(owner, web.Response):
        return owner
    if fake.written.get(owner.email.lower(), {}).pop(request.match_info["event"], None) is None:
        return _not_found()
    return web.Response(status=204)


async def _checked(
    fake: FakeMicrosoft, request: web.Request
) -> tuple[str, dict[str, Any]] | web.Response:
    token = fake._caller(request)
    if isinstance(token, web.Response):
        return token
    owner = fake._target(request, token, WRITE)
    if isinstance(owner, web.Response):
        return owner
    if not request.content_type.startswith("application/json"):
        return _error(415, "UnsupportedMediaType", "A JSON body is expected.")
    try:
        raw = await request.read()  # cached: the recorder read it first
        parsed: Any = json.loads(raw) if raw else {}
    except ValueError:
        return _error(400, "RequestBodyRead", "Invalid JSON.")
    if not isinstance(parsed, dict):
        return _error(400, "RequestBodyRead", "The request body must be an object.")
    unknown = sorted(set(parsed) - WRITABLE)
    if unknown and not request.path.endswith("/cancel"):
        return _error(
            400,
            "RequestBodyRead",
            f"The property '{unknown[0]}' does not exist on type 'microsoft.graph.event'.",
        )
    return owner.email.lower(), parsed


def _invalid(fake: FakeMicrosoft, event: dict[str, Any], *, complete: bool) -> web.Response | None:
    from tests.fakes.microsoft import windows_or_iana_zone  # noqa: PLC0415 - cycle

    del fake
    moments = []
    for name in ("start", "end"):
        value = event.get(name)
        if complete and not isinstance(value, dict):
            return _error(400, "ErrorInvalidRequest", f"The {name} of an event is required.")
        try:
            zone = windows_or_iana_zone(str(value.get("timeZone", "")))  # type: ignore[union-attr]
            moment = dt.datetime.fromisoformat(str(value["dateTime"]))  # type: ignore[index]
        except (KeyError, ValueError, TypeError):
            return _error(
                400,
                "TimeZoneNotSupportedException",
                f"A valid TimeZone value must be specified. The following TimeZone value is not "
                f"supported: '{(value or {}).get('timeZone', '')}'.",
            )
        moments.append(moment.replace(tzinfo=zone) if moment.tzinfo is None else moment)
    if moments[1] < moments[0]:
        return _error(400, "ErrorInvalidParameter", "The end of the event is before its start.")
    for attendee in event.get("attendees", []):
        address = (attendee.get("emailAddress") or {}).get("address", "")
        if not _ADDRESS.match(str(address)) or attendee.get("type", "required") not in (
            ATTENDEE_TYPES
        ):
            return _error(400, "ErrorInvalidRecipients", "An attendee is not valid.")
    if event.get("onlineMeetingProvider", "unknown") not in PROVIDERS:
        return _error(400, "RequestBodyRead", "onlineMeetingProvider is not a known value.")
    if event.get("showAs", "busy") not in SHOW_AS:
        return _error(400, "RequestBodyRead", "showAs is not a known value.")
    if not isinstance(event.get("isOnlineMeeting", False), bool):
        return _error(400, "RequestBodyRead", "isOnlineMeeting is a boolean.")
    return None


def _attendees(attendees: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "type": a.get("type", "required"),
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": a["emailAddress"],
        }
        for a in attendees
    ]


def _event_response(
    request: web.Request, owner: str, event: dict[str, Any], *, status: int
) -> web.Response:
    base = f"{request.scheme}://{request.host}"
    body = {
        "@odata.context": f"{base}/v1.0/$metadata#users('{owner}')/events/$entity",
        "@odata.etag": f'W/"{uuid.uuid4().hex}"',
        **event,
    }
    return web.json_response(body, status=status)


def _notify(fake: FakeMicrosoft, kind: str, event: dict[str, Any]) -> None:
    emails = tuple(str(a["emailAddress"]["address"]) for a in event.get("attendees", []))
    fake.notifications.append(Notified(kind, str(event["id"]), emails))


def _not_found() -> web.Response:
    return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def _error(status: int, code: str, message: str) -> web.Response:
    from tests.fakes.microsoft import _graph_error  # noqa: PLC0415 - cycle

    return _graph_error(status, code, message)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
