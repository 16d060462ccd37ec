"""A fake Exchange Server EWS endpoint: SOAP over HTTPS, HTTP Basic, ``GetUserAvailability``.

It answers as the EWS reference documents the operation, so exchangelib runs its real
code against it:

    POST /EWS/Exchange.asmx      GetUserAvailability (SOAP 1.1)

    ews = FakeExchange(username="CONTOSO\\\\pairtime", password="...")
    ews.set_events("ana@contoso.com", [EwsEvent(start, end, "Busy")])
    async with running(ews.app, tls=tls) as base:   # f"{base}/EWS/Exchange.asmx"

- The request must carry a ``RequestServerVersion`` header, a ``TimeZone`` (its ``Bias``
  and standard/daylight transitions: times in the answer are wall-clock times of that
  zone, without offsets), a ``TimeWindow`` of at most 42 days, 1 to 100 mailboxes, and a
  ``RequestedView``; otherwise the answer is a SOAP fault (``ErrorInvalidRequest``,
  ``ErrorProxyRequestProcessingFailed``, ``ErrorTimeoutExpired`` shapes as documented).
- Each mailbox gets a ``FreeBusyResponse``: its ``CalendarEvent``s (StartTime, EndTime,
  BusyType Free | Tentative | Busy | OOF | WorkingElsewhere | NoData) and
  ``MergedFreeBusy`` (a digit per interval: 0 free, 1 tentative, 2 busy, 3 OOF, 4 no data),
  or, for a mailbox that shares only merged free/busy (``merged_only``), the digits
  alone; an unknown mailbox gets ``ErrorMailRecipientNotFound``.
- Wrong or missing credentials get 401 with ``WWW-Authenticate: Basic``; every request
  is recorded in ``calls``; ``fail_next(status)`` and ``delay_next(seconds)`` script one.
- ``FakeExchange(auth="ntlm")`` asks for NTLM instead, as Exchange does by default: the
  three-leg handshake on one connection (negotiate, the server's challenge, the client's
  authenticate), verified by pyspnego's NTLM acceptor against ``ntlm_user_file(folder)``,
  which the test names in ``NTLM_USER_FILE`` (pyspnego reads the account from there).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import spnego
import spnego.exceptions
from aiohttp import web

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MESSAGES = "http://schemas.microsoft.com/exchange/services/2006/messages"
TYPES = "http://schemas.microsoft.com/exchange/services/2006/types"
BUSY_TYPES = ("Free", "Tentative", "Busy", "OOF", "WorkingElsewhere", "NoData")
_MERGED = {"Free": 0, "Tentative": 1, "Busy": 2, "OOF": 3, "NoData": 4, "WorkingElsewhere": 0}
MAX_MAILBOXES = 100
MAX_WINDOW = dt.timedelta(days=42)
VIEWS = {"MergedOnly", "FreeBusy", "FreeBusyMerged", "Detailed", "DetailedMerged"}


@dataclass(frozen=True)
class EwsEvent:
    """A calendar item as free/busy shows it; times are aware datetimes."""

    start: dt.datetime
    end: dt.datetime
    busy_type: str = "Busy"

    def __post_init__(self) -> None:
        if self.busy_type not in BUSY_TYPES:
            raise ValueError(f"busy_type must be one of {BUSY_TYPES}")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("EwsEvent needs aware datetimes")


@dataclass(frozen=True)
class EwsCall:
    operation: str
    mailboxes: tuple[str, ...]
    authorization: str
    server_version: str | None
    body: bytes


@dataclass
class FakeExchange:
    username: str = "CONTOSO\\pairtime"
    password: str = "ews-test-password"
    calls: list[EwsCall] = field(default_factory=list)
    mailboxes: dict[str, list[EwsEvent]] = field(default_factory=dict)
    merged_only: set[str] = field(default_factory=set)
    auth: str = "basic"  # or "ntlm"
    _faults: list[int] = field(default_factory=list)
    _delays: list[float] = field(default_factory=list)
    _user_file: Path | None = None
    _handshakes: dict[int, Any] = field(default_factory=dict)  # per connection, for NTLM
    ntlm_logons: list[str] = field(default_factory=list)  # who completed an NTLM handshake

    def ntlm_user_file(self, folder: Path) -> Path:
        """The account as pyspnego's acceptor reads it (``DOMAIN:USER:PASSWORD``)."""
        self._user_file = folder / "ntlm-users"
        self._write_user_file()
        return self._user_file

    def _write_user_file(self) -> None:
        if self._user_file is not None:
            domain, _, user = self.username.rpartition("\\")
            self._user_file.write_text(f"{domain}:{user}:{self.password}\n", encoding="utf-8")

    def set_events(
        self, mailbox: str, events: Iterable[EwsEvent], *, merged_only: bool = False
    ) -> None:
        self.mailboxes[mailbox.lower()] = list(events)
        if merged_only:
            self.merged_only.add(mailbox.lower())

    def change_password(self, password: str) -> None:
        """The account's password changed: every request with the old one gets 401."""
        self.password = password
        self._write_user_file()

    def fail_next(self, status: int) -> None:
        self._faults.append(status)

    def delay_next(self, seconds: float) -> None:
        self._delays.append(seconds)

    @property
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/EWS/Exchange.asmx", self._serve)
        return app

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        authorization = request.headers.get("Authorization", "")
        if self._delays:
            await asyncio.sleep(self._delays.pop(0))
        try:
            envelope = ET.fromstring(body)
        except ET.ParseError:
            return _fault("ErrorSchemaValidation", "The request failed schema validation.")
        operation_element = envelope.find(f"{{{SOAP}}}Body/*")
        operation = (
            operation_element.tag.split("}")[-1].removesuffix("Request")
            if operation_element is not None
            else ""
        )
        version = envelope.find(f"{{{SOAP}}}Header/{{{TYPES}}}RequestServerVersion")
        mailboxes = tuple(
            (e.text or "").strip().lower() for e in envelope.iter(f"{{{TYPES}}}Address")
        )
        self.calls.append(
            EwsCall(
                operation,
                mailboxes,
                authorization,
                version.get("Version") if version is not None else None,
                body,
            )
        )
        if self.auth == "ntlm":
            refused = self._ntlm(request, authorization)
            if refused is not None:
                return refused
        elif not self._authorised(authorization):
            return web.Response(
                status=401, headers={"WWW-Authenticate": 'Basic realm="mail.contoso.com"'}
            )
        if self._faults:
            return web.Response(status=self._faults.pop(0), text="Service Unavailable")
        if operation != "GetUserAvailability" or operation_element is None:
            return _fault("ErrorInvalidRequest", f"The operation {operation} is not served here.")
        if version is None:
            return _fault("ErrorInvalidServerVersion", "RequestServerVersion is required.")
        return self._availability(operation_element, mailboxes)

    def _ntlm(self, request: web.Request, header: str) -> web.Response | None:
        """None once this connection's handshake is complete, else the 401 of its next leg."""
        ask = web.Response(status=401, headers={"WWW-Authenticate": "NTLM"})
        if not header.startswith("NTLM "):
            return ask
        key = id(request.transport)
        token = base64.b64decode(header[5:])
        context = self._handshakes.get(key)
        if context is None or token[8:12] == b"\x01\x00\x00\x00":  # a NEGOTIATE: start over
            context = self._handshakes[key] = spnego.server(protocol="ntlm")
        try:
            answer = context.step(token)
        except spnego.exceptions.SpnegoError:
            self._handshakes.pop(key, None)
            return ask
        if not context.complete:
            challenge = base64.b64encode(answer or b"").decode()
            return web.Response(status=401, headers={"WWW-Authenticate": f"NTLM {challenge}"})
        self._handshakes.pop(key, None)
        self.ntlm_logons.append(str(context.client_principal))
        return None

    def _authorised(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.username and password == self.password

    def _availability(self, request: ET.Element, mailboxes: tuple[str, ...]) -> web.Response:
        zone = request.find(f"{{{TYPES}}}TimeZone")
        options = request.find(f"{{{TYPES}}}FreeBusyViewOptions")
        if zone is None or options is None:
            return _fault("ErrorInvalidRequest", "TimeZone and FreeBusyViewOptions are required.")
        bias = dt.timedelta(minutes=-int(_text(zone, "Bias") or "0"))
        try:
            start = dt.datetime.fromisoformat(_text(options, "TimeWindow/StartTime"))
            end = dt.datetime.fromisoformat(_text(options, "TimeWindow/EndTime"))
            interval = int(_text(options, "MergedFreeBusyIntervalInMinutes") or "30")
        except ValueError:
            return _fault("ErrorInvalidRequest", "The TimeWindow is not valid.")
        view = _text(options, "RequestedView")
        # Wall-clock times in the request's zone (its bias; the tests use UTC's).
        local = dt.timezone(bias)
        start = start.replace(tzinfo=start.tzinfo or local)
        end = end.replace(tzinfo=end.tzinfo or local)
        if view not in VIEWS:
            return _fault("ErrorInvalidRequest", f"RequestedView {view} is not valid.")
        if not 1 <= len(mailboxes) <= MAX_MAILBOXES:
            return _fault(
                "ErrorExceededFindCountLimit",
                f"A request may name 1 to {MAX_MAILBOXES} mailboxes.",
            )
        if end <= start or end - start > MAX_WINDOW:
            return _fault(
                "ErrorInvalidRequest", "The time window must be longer than 0 and at most 42 days."
            )
        responses = "".join(
            self._response(mailbox, start, end, interval, view, local) for mailbox in mailboxes
        )
        return _envelope(
            f'<GetUserAvailabilityResponse xmlns="{MESSAGES}">'
            f"<FreeBusyResponseArray>{responses}</FreeBusyResponseArray>"
            "</GetUserAvailabilityResponse>"
        )

    def _response(  # noqa: PLR0917 - the request's parts, read once by the caller
        self,
        mailbox: str,
        start: dt.datetime,
        end: dt.datetime,
        interval: int,
        view: str,
        local: dt.tzinfo,
    ) -> str:
        if mailbox not in self.mailboxes:
            return (
                "<FreeBusyResponse>"
                '<ResponseMessage ResponseClass="Error">'
                "<MessageText>No mailbox with such guid.</MessageText>"
                "<ResponseCode>ErrorMailRecipientNotFound</ResponseCode>"
                "<DescriptiveLinkKey>0</DescriptiveLinkKey>"
                "</ResponseMessage>"
                f'<FreeBusyView><FreeBusyViewType xmlns="{TYPES}">None</FreeBusyViewType>'
                "</FreeBusyView></FreeBusyResponse>"
            )
        events = sorted(
            (e for e in self.mailboxes[mailbox] if e.start < end and e.end > start),
            key=lambda e: e.start,
        )
        step = dt.timedelta(minutes=interval)
        digits = []
        slot = start
        while slot < end:
            codes = [_MERGED[e.busy_type] for e in events if e.start < slot + step and e.end > slot]
            digits.append(str(max(codes, default=0)))
            slot += step
        merged = "".join(digits)
        merged_only = mailbox in self.merged_only or view == "MergedOnly"
        kind = "MergedOnly" if merged_only else view
        parts = [f'<FreeBusyViewType xmlns="{TYPES}">{kind}</FreeBusyViewType>']
        if "Merged" in kind:
            parts.append(f'<MergedFreeBusy xmlns="{TYPES}">{merged}</MergedFreeBusy>')
        if not merged_only:
            items = "".join(
                "<CalendarEvent>"
                f"<StartTime>{_wall(e.start, local)}</StartTime>"
                f"<EndTime>{_wall(e.end, local)}</EndTime>"
                f"<BusyType>{escape(e.busy_type)}</BusyType>"
                "</CalendarEvent>"
                for e in events
            )
            parts.append(f'<CalendarEventArray xmlns="{TYPES}">{items}</CalendarEventArray>')
        return (
            "<FreeBusyResponse>"
            '<ResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode>'
            "</ResponseMessage>"
            f"<FreeBusyView>{''.join(parts)}</FreeBusyView>"
            "</FreeBusyResponse>"
        )


def _text(element: ET.Element, path: str) -> str:
    found = element.find("/".join(f"{{{TYPES}}}{part}" for part in path.split("/")))
    return (found.text or "").strip() if found is not None else ""


def _wall(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")


def _envelope(body: str) -> web.Response:
    text = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{SOAP}">'
        "<s:Header>"
        '<h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" '
        f'MinorBuildNumber="6" Version="V2017_07_11" xmlns:h="{TYPES}"/>'
        "</s:Header>"
        f"<s:Body>{body}</s:Body>"
        "</s:Envelope>"
    )
    return web.Response(text=text, content_type="text/xml", charset="utf-8")


def _fault(code: str, message: str) -> web.Response:
    text = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault>'
        f'<faultcode xmlns:a="{TYPES}">a:{code}</faultcode>'
        f'<faultstring xml:lang="en-US">{escape(message)}</faultstring>'
        f'<detail><e:ResponseCode xmlns:e="{MESSAGES}">{code}</e:ResponseCode>'
        f'<e:Message xmlns:e="{MESSAGES}">{escape(message)}</e:Message></detail>'
        "</s:Fault></s:Body></s:Envelope>"
    )
    return web.Response(status=500, text=text, content_type="text/xml", charset="utf-8")
