"""Exchange Server on-premises through EWS ``GetUserAvailability``, with exchangelib.

An account allowed to read free/busy asks for the covered mailboxes in batches (of
at most 100, what Exchange allows per request), over the explicit EWS address given
(no autodiscover guessing), with TLS verified against the system's certificates or
``PAIRTIME_CA_BUNDLE``. The answer gives each mailbox's events as busy, tentative,
out of office, working elsewhere or free, and a merged free/busy string when events
are not shared: both are read, and an all-day event marked free is ``all_day``.

exchangelib is synchronous: each batch runs in a thread, bounded by its own timeout and
by the reader's deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from exchangelib import Configuration, Credentials
from exchangelib.errors import (
    EWSError,
    ResponseMessageError,
    TransportError,
    UnauthorizedError,
)
from exchangelib.ewsdatetime import EWSDateTime, EWSTimeZone
from exchangelib.properties import (
    DaylightTime,
    FreeBusyViewOptions,
    MailboxData,
    StandardTime,
    TimeWindow,
)
from exchangelib.properties import TimeZone as EwsTimeZone
from exchangelib.protocol import Protocol
from exchangelib.services import GetUserAvailability
from exchangelib.transport import BASIC, NTLM
from exchangelib.version import EXCHANGE_2013, Version

from adapters.calendars.config import CalendarSettings
from adapters.calendars.errors import ProviderError
from adapters.calendars.http import Deadline
from adapters.calendars.organisation import base
from core.availability import BusyInterval, BusyStatus
from core.calendars import BusyTimes
from core.organisation import (
    OrganisationConnection,
    OrganisationRefused,
    OrganisationSetup,
    OrgProvider,
    Verified,
)
from core.people import PersonId
from core.time import Interval, local_day

AUTH_TYPES = {"ntlm": NTLM, "basic": BASIC}
BATCH = 100  # mailboxes per GetUserAvailability request (Exchange's default limit)
MAX_WINDOW = timedelta(days=42)  # the longest TimeWindow Exchange accepts by default
MERGED_MINUTES = 30
STATUSES = {
    "Busy": BusyStatus.BUSY,
    "Tentative": BusyStatus.TENTATIVE,
    "OOF": BusyStatus.OOF,
    "WorkingElsewhere": BusyStatus.WORKING_ELSEWHERE,
    "NoData": BusyStatus.BUSY,  # nothing known: the careful choice is not to offer it
}
# MergedFreeBusy digits: 0 free, 1 tentative, 2 busy, 3 OOF, 4 no data (5 working elsewhere).
MERGED = {
    "1": BusyStatus.TENTATIVE,
    "2": BusyStatus.BUSY,
    "3": BusyStatus.OOF,
    "4": BusyStatus.BUSY,
    "5": BusyStatus.WORKING_ELSEWHERE,
}
UTC_ZONE = EWSTimeZone("UTC")


def _utc_transition(kind: type[StandardTime | DaylightTime]) -> Any:
    return kind(bias=0, time=time(0), occurrence=1, iso_month=1, weekday=1)


class _Protocol(Protocol):  # type: ignore[misc]  # exchangelib is untyped
    """exchangelib's protocol with this connection's TLS trust: the sessions it makes verify
    certificates against ``PAIRTIME_CA_BUNDLE`` when set, and never take a bundle or proxy
    from the environment instead."""

    ca_bundle: str | None = None

    def create_session(self) -> Any:
        session = super().create_session()
        session.trust_env = False
        session.verify = self.ca_bundle or True
        return session


class ExchangeServer(base.OrganisationClient):
    provider = OrgProvider.EXCHANGE

    def __init__(self, settings: CalendarSettings) -> None:
        super().__init__(settings)
        self._protocols: dict[tuple[str, datetime], _Protocol] = {}

    async def verify(self, setup: OrganisationSetup) -> Verified:
        protocol = self._protocol(setup.settings, json.loads(setup.secret.reveal()))
        try:
            found = await self._ask(
                protocol,
                [setup.program_account],
                self._probe_window(),
                Deadline.after(self._settings.timeout_seconds),
            )
        except base.AccessWithdrawn as error:
            raise OrganisationRefused(f"Exchange refused the account ({error})") from None
        except ProviderError as error:
            raise OrganisationRefused(str(error)) from None
        finally:
            protocol.close()
        result = found[setup.program_account]
        if not isinstance(result, list):
            raise OrganisationRefused(
                f"Exchange did not give {setup.program_account}'s free/busy times ({result})"
            )
        return Verified(setup.domains, can_write=False)

    async def read(self, asked: base.OrgRead) -> Mapping[PersonId, base.OrgResult]:
        stored, window, deadline = asked.stored, asked.window, asked.deadline
        summary = stored.summary
        key = (summary.program, summary.connected_at)
        protocol = self._protocols.get(key)
        if protocol is None:
            protocol = self._protocols[key] = self._protocol(stored.settings, stored.secret)
        by_email = {r.email.lower(): r for r in asked.readings}
        emails = list(by_email)
        answers: dict[str, list[_Block] | base.NotCovered | ProviderError] = {}
        batches = [emails[i : i + BATCH] for i in range(0, len(emails), BATCH)]
        for found in await asyncio.gather(
            *(self._bounded_ask(protocol, batch, window, deadline) for batch in batches)
        ):
            answers |= found
        results: dict[PersonId, base.OrgResult] = {}
        for email, reading in by_email.items():
            answer = answers.get(email, ProviderError("Exchange gave no answer"))
            if isinstance(answer, list):
                results[reading.person] = BusyTimes(
                    tuple(_interval(block, reading.zone) for block in answer)
                )
            else:
                results[reading.person] = answer
        return results

    async def _bounded_ask(
        self, protocol: _Protocol, emails: list[str], window: Interval, deadline: Deadline
    ) -> dict[str, list[_Block] | base.NotCovered | ProviderError]:
        async with self._limit:
            try:
                return await self._ask(protocol, emails, window, deadline)
            except base.AccessWithdrawn:
                raise
            except ProviderError as error:  # this batch's people only
                return dict.fromkeys(emails, error)

    async def _ask(
        self, protocol: _Protocol, emails: list[str], window: Interval, deadline: Deadline
    ) -> dict[str, list[_Block] | base.NotCovered | ProviderError]:
        if window.end - window.start > MAX_WINDOW:
            window = Interval(window.start, window.start + MAX_WINDOW)
        remaining = max(min(deadline.remaining(), self._settings.timeout_seconds), 0.001)
        try:
            views = await asyncio.wait_for(
                asyncio.to_thread(_availability, protocol, emails, window), remaining
            )
        except TimeoutError:
            raise ProviderError("Exchange did not answer in time") from None
        except UnauthorizedError:
            raise base.AccessWithdrawn(
                "Exchange refused the account's user name or password"
            ) from None
        except (TransportError, requests.RequestException) as error:
            if isinstance(error, ResponseMessageError):
                raise ProviderError(
                    f"Exchange refused the request ({type(error).__name__})"
                ) from None
            raise ProviderError("Exchange could not be reached") from None
        except EWSError as error:
            raise ProviderError(
                f"Exchange answered unexpectedly ({type(error).__name__})"
            ) from None
        return dict(zip(emails, views, strict=True))

    def _protocol(self, settings: Mapping[str, str], secret: Mapping[str, Any]) -> _Protocol:
        config = Configuration(
            service_endpoint=settings["ews_url"],
            credentials=Credentials(settings["username"], secret["password"]),
            auth_type=AUTH_TYPES.get(settings.get("auth", "ntlm"), NTLM),
            # Named, so that no request goes out to guess it; every supported Exchange
            # Server (2013 and later) answers 2013's requests.
            version=Version(build=EXCHANGE_2013),
            max_connections=base.IN_FLIGHT,
        )
        protocol = _Protocol(config=config)
        protocol.ca_bundle = self._settings.ca_bundle
        protocol.TIMEOUT = self._settings.timeout_seconds  # this instance only
        return protocol

    def forget(self, connection: OrganisationConnection) -> None:
        for key in [k for k in self._protocols if k[0] == connection.program]:
            self._protocols.pop(key).close()

    async def close(self) -> None:
        for protocol in self._protocols.values():
            protocol.close()
        self._protocols.clear()


_Block = tuple[datetime, datetime, BusyStatus]


def _availability(
    protocol: _Protocol, emails: list[str], window: Interval
) -> list[list[_Block] | base.NotCovered | ProviderError]:
    """One GetUserAvailability call, in this thread. The request's time zone is UTC (so
    no GetServerTimeZones round trip is needed first, as get_free_busy_info makes)."""
    start = EWSDateTime.from_datetime(window.start.astimezone(UTC)).astimezone(UTC_ZONE)
    end = EWSDateTime.from_datetime(window.end.astimezone(UTC)).astimezone(UTC_ZONE)
    zone = EwsTimeZone(
        bias=0,
        standard_time=_utc_transition(StandardTime),
        daylight_time=_utc_transition(DaylightTime),
    )
    views = GetUserAvailability(protocol=protocol).call(
        tzinfo=UTC_ZONE,
        mailbox_data=[
            MailboxData(email=email, attendee_type="Required", exclude_conflicts=False)
            for email in emails
        ],
        timezone=zone,
        free_busy_view_options=FreeBusyViewOptions(
            time_window=TimeWindow(start=start, end=end),
            merged_free_busy_interval=MERGED_MINUTES,
            requested_view="DetailedMerged",
        ),
    )
    found: list[list[_Block] | base.NotCovered | ProviderError] = []
    for view in views:
        if isinstance(view, ResponseMessageError):
            # ErrorMailRecipientNotFound, ErrorNoFreeBusyAccess and the like: this mailbox.
            found.append(base.NotCovered())
        elif isinstance(view, Exception):
            found.append(ProviderError(f"Exchange refused one mailbox ({type(view).__name__})"))
        else:
            found.append(_blocks(view, window))
    return found


def _blocks(view: Any, window: Interval) -> list[_Block]:
    if view.calendar_events:
        blocks: list[_Block] = []
        for event in view.calendar_events:
            begin, finish = _utc(event.start), _utc(event.end)
            busy = event.busy_type
            if busy == "Free":
                blocks.append((begin, finish, BusyStatus.FREE))
            elif busy in STATUSES:
                blocks.append((begin, finish, STATUSES[busy]))
        return blocks
    merged: str = view.merged or ""
    step = timedelta(minutes=MERGED_MINUTES)
    return [
        (window.start + step * index, min(window.start + step * (index + 1), window.end), status)
        for index, digit in enumerate(merged)
        if (status := MERGED.get(digit)) is not None
    ]


def _interval(block: _Block, zone: ZoneInfo) -> BusyInterval:
    """An EWS block as core counts it: an all-day event marked free is ``all_day``, other
    free events leave their owner free (kept out by the caller)."""
    start, end, status = block
    if status is BusyStatus.FREE and _whole_days(start, end, zone):
        status = BusyStatus.ALL_DAY
    return BusyInterval(start, max(start, end), status)


def _whole_days(start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    local = start.astimezone(zone)
    return (
        end > start
        and local_day(local.date(), zone).start == start
        and end.astimezone(zone).time() == time(0)
    )


def _utc(moment: Any) -> datetime:
    value = datetime.fromisoformat(moment.isoformat())
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
