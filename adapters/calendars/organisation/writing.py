"""Meetings as events on the program account's calendar, over each provider's API.

Google Calendar: ``events.insert`` / ``events.patch`` / ``events.delete`` on the program
account's primary calendar, impersonated with the ``calendar.events`` scope, with
``sendUpdates=all`` (Google emails the attendees) and ``conferenceDataVersion=1`` (a Meet
through ``conferenceData.createRequest``). The event's id is derived from the meeting's
ref, so a create sent twice makes one event (the second answers 409).

Microsoft Graph: ``POST /users/{program account}/events`` (Exchange sends the invitations;
``isOnlineMeeting`` with ``onlineMeetingProvider: teamsForBusiness`` adds a Teams meeting),
``PATCH`` for changes, ``POST .../cancel`` to cancel (the attendees get a cancellation).
``transactionId`` is the meeting's ref, so a create sent twice makes one event.

:class:`OrganisationPublisher` is core's :class:`~core.ports.MeetingPublisher`: it finds
the program's connection with the write grant and hands the event to its client.
Exchange on-premises writes nothing here: its programs get the email invitations.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

import aiohttp

from adapters.calendars.errors import ProviderError
from adapters.calendars.http import Deadline, Reply, request_json
from core.errors import PublishRefused
from core.organisation import OrganisationConnection, OrgProvider, OrgStatus
from core.people import ProgramId
from core.ports import Clock
from core.program import VideoRule
from core.publishing import ProgramEvent, PublishedEvent
from storage.repositories.organisations import SqlOrganisations, StoredOrganisation

log = logging.getLogger(__name__)

WRITE_SECONDS = 30.0  # one create, update or cancel, retries within it included
CANCELLED_NOTE = "This meeting was cancelled in Pairtime."
# The kinds whose client writes events (Exchange on-premises: email invitations).
WRITERS = frozenset({OrgProvider.GOOGLE, OrgProvider.MICROSOFT})


class GrantWithdrawn(PublishRefused):
    """The organisation withdrew the whole grant (a deleted key, removed consent, an expired
    secret): found by a write as a read would find it, and handled the same way."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)


class WriteNotAllowed(PublishRefused):
    """The provider refused the program account's events themselves (a 403, the write
    scope not delegated): the connection stops writing and the admins are told once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)


@runtime_checkable
class EventWriter(Protocol):
    async def write(
        self, stored: StoredOrganisation, event: ProgramEvent, previous: PublishedEvent | None
    ) -> PublishedEvent | None:
        """Create, update or cancel (``event.active`` False) the program account's event."""
        ...


class OrganisationPublisher:
    """The program account's calendar, through the program's organisation connection."""

    def __init__(
        self,
        store: SqlOrganisations,
        clients: Callable[[OrgProvider], object | None],
        clock: Clock,
    ) -> None:
        self._store = store
        self._clients = clients
        self._clock = clock

    async def can_publish(self, program: ProgramId) -> bool:
        return await self._writing(program) is not None

    async def _writing(
        self, program: ProgramId, provider: OrgProvider | None = None
    ) -> OrganisationConnection | None:
        for connection in await self._store.of_program(program):
            if (
                connection.can_write
                and connection.status is OrgStatus.CONNECTED
                and connection.provider in WRITERS
                and (provider is None or connection.provider is provider)
            ):
                return connection
        return None

    async def publish(
        self, event: ProgramEvent, previous: PublishedEvent | None
    ) -> PublishedEvent | None:
        connection = await self._writing(
            event.program, previous.provider if previous is not None else None
        )
        if connection is None:
            raise PublishRefused(
                "no organisation connection may write the program account's calendar",
                permanent=True,
            )
        stored = await self._store.load(connection.program, connection.provider)
        client = self._clients(connection.provider)
        if stored is None or not isinstance(client, EventWriter):
            raise PublishRefused(
                f"the {connection.provider.label} connection cannot be used here", permanent=True
            )
        try:
            return await client.write(stored, event, previous)
        except GrantWithdrawn as error:
            # The one message to the program's admins, as when a read finds it.
            if await self._store.revoked(connection, error.reason, self._clock.now()):
                log.warning(
                    "the %s organisation connection of %s stopped working: %s",
                    connection.provider.value,
                    connection.program,
                    error.reason,
                )
            raise
        except WriteNotAllowed as error:
            if await self._store.write_refused(connection, error.reason, self._clock.now()):
                log.warning(
                    "the %s organisation connection of %s may not write the program "
                    "account's calendar: %s",
                    connection.provider.value,
                    connection.program,
                    error.reason,
                )
            raise


# ---------------------------------------------------------------- Google Calendar


def google_event_id(meeting: str) -> str:
    """An id Google accepts (base32hex: a-v and 0-9, 5 to 1024 characters), one per meeting."""
    encoded = base64.b32hexencode(meeting.encode()).decode().rstrip("=").lower()
    return f"pt{encoded}"


def google_body(event: ProgramEvent, *, meet: bool) -> dict[str, Any]:
    """The Event resource (Calendar API v3) for ``event``; ``meet`` asks for a Meet."""
    body: dict[str, Any] = {
        "summary": event.title,
        "description": event.description,
        "start": {"dateTime": _instant(event.start), "timeZone": "UTC"},
        "end": {"dateTime": _instant(event.end), "timeZone": "UTC"},
        "attendees": [{"email": a.address, "displayName": a.name} for a in event.attendees],
        "location": event.location or "",
        "status": "tentative" if event.tentative else "confirmed",
        "transparency": "opaque",
        "guestsCanModify": False,
        "guestsCanInviteOthers": False,
    }
    if meet:
        body["conferenceData"] = {
            "createRequest": {
                "requestId": f"pairtime-{event.meeting}",
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        }
    return body


async def google_write(
    http: aiohttp.ClientSession,
    api_url: str,
    token: str,
    event: ProgramEvent,
    previous: PublishedEvent | None,
) -> PublishedEvent | None:
    """One create, update or cancel on the token's primary calendar."""
    deadline = Deadline.after(WRITE_SECONDS)
    events = f"{api_url}/calendars/primary/events"
    headers = {"Authorization": f"Bearer {token}"}

    async def send(method: str, url: str, body: dict[str, Any] | None) -> Reply:
        query = {"sendUpdates": "all"}
        if body is not None:
            query["conferenceDataVersion"] = "1"
        return await _sent(
            http, method, url, deadline=deadline, service="Google Calendar",
            retry_also=_google_rate_limited, headers=headers, params=query, json=body,
        )  # fmt: skip

    if not event.active:
        if previous is None:
            return None
        reply = await send("DELETE", f"{events}/{quote(previous.event_id)}", None)
        if reply.status in (200, 204, 404, 410):  # gone already is gone
            return None
        raise _google_refused(reply)
    meet = event.video is VideoRule.MEET
    if previous is None:
        event_id = google_event_id(event.meeting)
        reply = await send("POST", events, {"id": event_id, **google_body(event, meet=meet)})
        if reply.status == 409:  # created by an earlier attempt whose answer was lost
            reply = await send("PATCH", f"{events}/{event_id}", google_body(event, meet=meet))
    else:
        ask = meet and previous.join_url is None  # the rule asked for one since
        reply = await send(
            "PATCH", f"{events}/{quote(previous.event_id)}", google_body(event, meet=ask)
        )
    if reply.status != 200 or not isinstance(reply.data, dict) or "id" not in reply.data:
        raise _google_refused(reply)
    data = reply.data
    if _meet_pending(data):
        # Google makes the Meet after answering; the next attempt sends the same request
        # (the same event id and requestId), which then finds it made.
        raise PublishRefused("Google is still creating the Meet")
    return PublishedEvent(
        event.meeting,
        OrgProvider.GOOGLE,
        str(data["id"]),
        _meet_link(data) or (previous.join_url if previous is not None else None),
    )


def _meet_pending(data: dict[str, Any]) -> bool:
    request = (data.get("conferenceData") or {}).get("createRequest") or {}
    return bool((request.get("status") or {}).get("statusCode") == "pending")


def _meet_link(data: dict[str, Any]) -> str | None:
    link = data.get("hangoutLink")
    if isinstance(link, str) and link:
        return link
    for entry in (data.get("conferenceData") or {}).get("entryPoints", []):
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return None


def _google_rate_limited(reply: Reply) -> bool:
    return reply.status == 403 and _google_reason(reply) in (
        "rateLimitExceeded",
        "userRateLimitExceeded",
    )


def _google_reason(reply: Reply) -> str:
    try:
        return str(reply.data["error"]["errors"][0]["reason"])
    except (KeyError, IndexError, TypeError):
        return ""


def _google_refused(reply: Reply) -> PublishRefused:
    reason = _google_reason(reply)
    text = f"Google Calendar answered {reply.status}{f' ({reason})' if reason else ''}"
    if reply.status == 403 and reason in ("insufficientPermissions", "forbidden"):
        return WriteNotAllowed(text)
    # 401: a token Google stopped honouring; the next attempt fetches another.
    return PublishRefused(text, permanent=reply.status in (400, 403, 404, 410))


# ---------------------------------------------------------------- Microsoft Graph


def graph_body(event: ProgramEvent, *, create: bool) -> dict[str, Any]:
    """The event resource (Graph v1.0) for ``event``; on create, its online meeting."""
    body: dict[str, Any] = {
        "subject": event.title,
        "body": {"contentType": "text", "content": event.description},
        "start": {"dateTime": _wall(event.start), "timeZone": "UTC"},
        "end": {"dateTime": _wall(event.end), "timeZone": "UTC"},
        "attendees": [
            {"emailAddress": {"address": a.address, "name": a.name}, "type": "required"}
            for a in event.attendees
        ],
        "location": {"displayName": event.location or ""},
        "showAs": "tentative" if event.tentative else "busy",
        "allowNewTimeProposals": False,
        "responseRequested": True,
    }
    if create:
        body["transactionId"] = event.meeting
        if event.video is VideoRule.TEAMS:
            body["isOnlineMeeting"] = True
            body["onlineMeetingProvider"] = "teamsForBusiness"
    return body


async def graph_write(
    http: aiohttp.ClientSession,
    mailbox_url: str,
    token: str,
    event: ProgramEvent,
    previous: PublishedEvent | None,
) -> PublishedEvent | None:
    """One create, update or cancel in the program account's mailbox (``mailbox_url`` is
    ``.../users/{address}``)."""
    deadline = Deadline.after(WRITE_SECONDS)
    headers = {"Authorization": f"Bearer {token}"}

    async def send(method: str, url: str, body: dict[str, Any]) -> Reply:
        return await _sent(
            http, method, url, deadline=deadline, service="Microsoft Graph",
            headers=headers, json=body,
        )  # fmt: skip

    if not event.active:
        if previous is None:
            return None
        url = f"{mailbox_url}/events/{quote(previous.event_id, safe='')}/cancel"
        reply = await send("POST", url, {"comment": CANCELLED_NOTE})
        if reply.status in (200, 202, 204, 404):
            return None
        raise _graph_refused(reply)
    if previous is None:
        reply = await send("POST", f"{mailbox_url}/events", graph_body(event, create=True))
        done = reply.status in (200, 201)
    else:
        url = f"{mailbox_url}/events/{quote(previous.event_id, safe='')}"
        reply = await send("PATCH", url, graph_body(event, create=False))
        done = reply.status == 200
    if not done or not isinstance(reply.data, dict) or "id" not in reply.data:
        raise _graph_refused(reply)
    meeting = reply.data.get("onlineMeeting") or {}
    link = meeting.get("joinUrl") if isinstance(meeting, dict) else None
    return PublishedEvent(
        event.meeting,
        OrgProvider.MICROSOFT,
        str(reply.data["id"]),
        str(link) if link else (previous.join_url if previous is not None else None),
    )


def _graph_refused(reply: Reply) -> PublishRefused:
    code = ""
    if isinstance(reply.data, dict) and isinstance(reply.data.get("error"), dict):
        code = str(reply.data["error"].get("code", ""))
    text = f"Microsoft Graph answered {reply.status}{f' ({code})' if code else ''}"
    if reply.status == 403:
        text += ": the app needs Calendars.ReadWrite on the program account's mailbox"
        return WriteNotAllowed(text)
    return PublishRefused(text, permanent=reply.status in (400, 403, 404))


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _wall(moment: datetime) -> str:
    """Graph's dateTimeTimeZone: a wall-clock time, its zone given apart."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


async def _sent(
    http: aiohttp.ClientSession, method: str, url: str, *, deadline: Deadline, **options: Any
) -> Reply:
    """One write; no answer in time is the write refused (the worker tries it again later)."""
    try:
        return await request_json(http, method, url, deadline=deadline, **options)
    except ProviderError as error:
        raise PublishRefused(str(error)) from None
