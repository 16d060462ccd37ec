"""Exchange Server on-premises: the real exchangelib against a fake EWS endpoint over TLS."""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.calendars.config import CalendarSettings
from adapters.calendars.errors import ProviderError
from adapters.calendars.http import Deadline
from adapters.calendars.organisation.base import AccessWithdrawn, NotCovered, OrgRead, OrgReading
from adapters.calendars.organisation.exchange import ExchangeServer
from core.availability import BusyStatus
from core.calendars import BusyTimes
from core.organisation import (
    OrganisationConnection,
    OrganisationRefused,
    OrganisationSetup,
    OrgProvider,
    OrgStatus,
)
from core.people import PersonId, ProgramId
from core.secret import Secret
from core.time import Interval
from storage.repositories.organisations import StoredOrganisation
from tests.fakes.ews import EwsEvent, FakeExchange
from tests.fakes.server import TestCertificate, running

PROGRAM = ProgramId("slack:T1")
LONDON = ZoneInfo("Europe/London")
WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))


def z(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


class Exchange:
    def __init__(self, fake: FakeExchange, url: str, client: ExchangeServer) -> None:
        self.fake = fake
        self.url = url
        self.client = client
        self.password = fake.password  # what was stored when the organisation connected

    def setup(self, password: str | None = None) -> OrganisationSetup:
        return OrganisationSetup(
            OrgProvider.EXCHANGE,
            "Contoso",
            "mentoring@contoso.com",
            ("contoso.com",),
            {"ews_url": self.url, "username": self.fake.username, "auth": "basic"},
            Secret(json.dumps({"password": password or self.password})),
        )

    def stored(self) -> StoredOrganisation:
        setup = self.setup()
        summary = OrganisationConnection(
            PROGRAM,
            OrgProvider.EXCHANGE,
            "Contoso",
            ("contoso.com",),
            setup.program_account,
            OrgStatus.CONNECTED,
            datetime(2026, 11, 1, tzinfo=UTC),
        )
        return StoredOrganisation(1, summary, dict(setup.settings), {"password": self.password})

    async def read(self, *emails: str) -> dict[str, object]:
        readings = [OrgReading(PersonId(e), e, LONDON) for e in emails]
        found = await self.client.read(OrgRead(self.stored(), readings, WEEK, Deadline.after(10)))
        return {str(person): result for person, result in found.items()}


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[Exchange]:
    tls = TestCertificate.create(tmp_path)
    fake = FakeExchange()
    fake.set_events("mentoring@contoso.com", [])
    async with running(fake.app, tls=tls) as base:
        client = ExchangeServer(CalendarSettings(ca_bundle=str(tls.ca_path), timeout_seconds=10))
        try:
            yield Exchange(fake, f"{base}/EWS/Exchange.asmx", client)
        finally:
            await client.close()


async def test_busy_oof_tentative_all_day_and_merged_free_busy_are_read(exchange: Exchange):
    exchange.fake.set_events(
        "ana@contoso.com",
        [
            EwsEvent(z(1, 9), z(1, 10), "Busy"),
            EwsEvent(z(1, 11), z(1, 12), "Tentative"),
            EwsEvent(z(2, 0), z(3, 0), "OOF"),
            # An all-day event marked free, on Ana's own (London) day: the rule decides.
            EwsEvent(z(4, 0), z(5, 0), "Free"),
            EwsEvent(z(4, 14), z(4, 15), "Free"),  # a free hour leaves her free
        ],
    )
    exchange.fake.set_events(
        "ben@contoso.com", [EwsEvent(z(1, 13), z(1, 14), "Busy")], merged_only=True
    )
    found = await exchange.read("ana@contoso.com", "ben@contoso.com", "gone@contoso.com")

    ana = found["ana@contoso.com"]
    assert isinstance(ana, BusyTimes)
    blocks = {(b.start, b.end, b.status) for b in ana.intervals if b.status is not BusyStatus.FREE}
    assert blocks == {
        (z(1, 9), z(1, 10), BusyStatus.BUSY),
        (z(1, 11), z(1, 12), BusyStatus.TENTATIVE),
        (z(2, 0), z(3, 0), BusyStatus.OOF),
        (z(4, 0), z(5, 0), BusyStatus.ALL_DAY),
    }
    # Only merged free/busy is shared for Ben: its digits become half-hour blocks.
    ben = found["ben@contoso.com"]
    assert isinstance(ben, BusyTimes)
    assert [(b.start, b.end, b.status) for b in ben.intervals] == [
        (z(1, 13), z(1, 13, 30), BusyStatus.BUSY),
        (z(1, 13, 30), z(1, 14), BusyStatus.BUSY),
    ]
    assert isinstance(found["gone@contoso.com"], NotCovered)

    # One batch, one request: no autodiscover, no time zone list, no version guessing.
    assert [c.operation for c in exchange.fake.calls] == ["GetUserAvailability"]
    assert exchange.fake.calls[0].mailboxes == (
        "ana@contoso.com",
        "ben@contoso.com",
        "gone@contoso.com",
    )
    assert exchange.fake.calls[0].server_version == "Exchange2013"


async def test_a_changed_password_withdraws_the_access(exchange: Exchange):
    exchange.fake.set_events("ana@contoso.com", [])
    exchange.fake.change_password("rotated")
    with pytest.raises(AccessWithdrawn):
        await exchange.read("ana@contoso.com")


async def test_connecting_checks_the_program_account_and_refuses_a_wrong_password(
    exchange: Exchange,
):
    verified = await exchange.client.verify(exchange.setup())
    assert verified.domains == ("contoso.com",)
    with pytest.raises(OrganisationRefused, match="user name or password"):
        await exchange.client.verify(exchange.setup(password="wrong"))
    assert "wrong" not in repr(exchange.setup(password="wrong"))


async def test_an_untrusted_certificate_is_refused(tmp_path: Path):
    tls = TestCertificate.create(tmp_path)
    fake = FakeExchange()
    async with running(fake.app, tls=tls) as base:
        client = ExchangeServer(CalendarSettings(timeout_seconds=10))  # no PAIRTIME_CA_BUNDLE
        stored = StoredOrganisation(
            1,
            OrganisationConnection(
                PROGRAM, OrgProvider.EXCHANGE, "Contoso", ("contoso.com",),
                "mentoring@contoso.com", OrgStatus.CONNECTED, datetime(2026, 11, 1, tzinfo=UTC),
            ),
            {"ews_url": f"{base}/EWS/Exchange.asmx", "username": fake.username, "auth": "basic"},
            {"password": fake.password},
        )  # fmt: skip
        try:
            readings = [OrgReading(PersonId("a"), "a@contoso.com", LONDON)]
            found = await client.read(OrgRead(stored, readings, WEEK, Deadline.after(10)))
        finally:
            await client.close()
    assert isinstance(found[PersonId("a")], ProviderError)
    assert fake.calls == []  # the TLS handshake failed before any request


# requests_ntlm answers each challenge on a connection it then leaves to the garbage
# collector (exchangelib's sessions close only the pooled ones): collected below, while
# this filter applies.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_ntlm_as_exchange_asks_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The three-leg NTLM handshake, through exchangelib's requests_ntlm, against a server
    that verifies it (pyspnego's acceptor), for connecting and for reading."""
    tls = TestCertificate.create(tmp_path)
    fake = FakeExchange(auth="ntlm")
    monkeypatch.setenv("NTLM_USER_FILE", str(fake.ntlm_user_file(tmp_path)))
    fake.set_events("mentoring@contoso.com", [])
    fake.set_events("ana@contoso.com", [EwsEvent(z(1, 9), z(1, 10), "Busy")])
    async with running(fake.app, tls=tls) as base:
        client = ExchangeServer(CalendarSettings(ca_bundle=str(tls.ca_path), timeout_seconds=10))
        try:
            exchange = Exchange(fake, f"{base}/EWS/Exchange.asmx", client)
            ntlm = OrganisationSetup(
                OrgProvider.EXCHANGE,
                "Contoso",
                "mentoring@contoso.com",
                ("contoso.com",),
                {"ews_url": exchange.url, "username": fake.username, "auth": "ntlm"},
                Secret(json.dumps({"password": fake.password})),
            )
            assert (await client.verify(ntlm)).domains == ("contoso.com",)
            summary = exchange.stored().summary
            stored = StoredOrganisation(
                2, summary, dict(ntlm.settings), {"password": fake.password}
            )
            readings = [OrgReading(PersonId("ana"), "ana@contoso.com", LONDON)]
            found = await client.read(OrgRead(stored, readings, WEEK, Deadline.after(10)))
            ana = found[PersonId("ana")]
            assert isinstance(ana, BusyTimes)
            assert [(b.start, b.end) for b in ana.intervals] == [(z(1, 9), z(1, 10))]
            assert fake.ntlm_logons  # each handshake verified, as CONTOSO\pairtime
            assert all(logon.lower().endswith("pairtime") for logon in fake.ntlm_logons)
        finally:
            await client.close()
            gc.collect()
