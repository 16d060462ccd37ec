"""Microsoft 365 app-only through the running app: msal's client-credentials grant (secret
or certificate) against the fake identity platform, then Graph for several users."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from adapters.calendars.config import CalendarSettings
from bot.settings import load_settings
from core.admin import organisation
from core.availability import BusyStatus
from core.calendars import BusyTimes, NotConnected, Unreadable
from core.organisation import OrganisationRefused, OrganisationSetup, OrgProvider, OrgStatus
from core.people import ChatIdentity, Person, Platform, Profile, ProgramId
from core.secret import Secret
from core.time import Interval
from tests.fakes.microsoft import FakeEvent, FakeMicrosoft
from tests.fakes.server import TestCertificate, running
from tests.memory import FixedClock
from tests.support import PROVIDER_TIMEOUT, AppUnderTest, running_app

PROGRAM = ProgramId("teams:contoso")
WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
ACCOUNT = "mentoring@contoso.com"


def z(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    running: AppUnderTest
    microsoft: FakeMicrosoft

    async def person(self, user: str, email: str) -> Person:
        identity = ChatIdentity(Platform.TEAMS, "contoso", user)
        await self.running.storage.programs.ensure(PROGRAM, "Contoso")
        profile = Profile(user, email=email, timezone="Europe/London")
        return await self.running.storage.people.remember(PROGRAM, identity, profile)

    def setup(
        self,
        *,
        secret: dict[str, str] | None = None,
        domains: tuple[str, ...] = ("contoso.com",),
        **settings: str,
    ) -> OrganisationSetup:
        return OrganisationSetup(
            OrgProvider.MICROSOFT,
            "Contoso",
            ACCOUNT,
            domains,
            {"tenant": self.microsoft.tenant_id, "client_id": self.microsoft.client_id, **settings},
            Secret(json.dumps(secret or {"client_secret": self.microsoft.client_secret})),
        )

    async def connect(
        self, setup: OrganisationSetup | None = None
    ) -> organisation.OrganisationCard:
        await self.running.storage.programs.ensure(PROGRAM, "Contoso")
        return await organisation.connect(
            self.running.storage.organisations,
            self.running.services.organisations,
            self.running.services.clock,
            PROGRAM,
            setup or self.setup(),
        )

    async def busy(self, *people: Person, fresh: bool = True) -> dict[str, object]:
        found = await self.running.services.reader.busy_times(
            [p.id for p in people], WEEK, fresh=fresh
        )
        return {str(person): result for person, result in found.items()}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    tls = TestCertificate.create(tmp_path)
    microsoft = FakeMicrosoft(
        application_permissions=frozenset({"Calendars.ReadBasic", "Organization.Read.All"}),
        verified_domains=("contoso.com",),
    )
    microsoft.add_account(ACCOUNT)
    async with running(microsoft.app, tls=tls) as base:
        settings = replace(
            load_settings({}, dotenv_path=None),
            calendars=CalendarSettings(
                microsoft_authority_url=base,
                microsoft_graph_url=f"{base}/v1.0",
                ca_bundle=str(tls.ca_path),
                timeout_seconds=PROVIDER_TIMEOUT,
            ),
        )
        clock = FixedClock(datetime(2026, 11, 27, 9, tzinfo=UTC))
        async with running_app(settings, tmp_path, clock=clock) as app:
            yield World(app, microsoft)


async def test_several_users_are_read_and_one_outside_the_rbac_scope_is_not_covered(world: World):
    people = [await world.person(f"aad-{n}", f"{n}@contoso.com") for n in ("ana", "ben", "cy")]
    world.microsoft.set_events(
        "ana@contoso.com",
        [
            FakeEvent(z(1, 9), z(1, 10), show_as="busy"),
            FakeEvent(z(2, 9), z(2, 12), show_as="oof"),
            FakeEvent(date(2026, 12, 3), date(2026, 12, 4), show_as="free", all_day=True),
        ],
    )
    world.microsoft.set_events(
        "ben@contoso.com", [FakeEvent(z(1, 11), z(1, 12), show_as="tentative")]
    )
    world.microsoft.add_account("cy@contoso.com")
    world.microsoft.app_scope = frozenset({ACCOUNT, "ana@contoso.com", "ben@contoso.com"})
    card = await world.connect(world.setup(domains=()))  # domains: the tenant's verified ones
    assert card.connection is not None
    assert card.connection.domains == ("contoso.onmicrosoft.com", "contoso.com")
    # Graph answers one 429 with Retry-After: 0 somewhere among the three reads.
    world.microsoft.fail_next(429, on="calendarView", retry_after=0)

    ana, ben, cy = people
    found = await world.busy(ana, ben, cy)

    first = found[ana.id]
    assert isinstance(first, BusyTimes)
    assert {(b.start, b.end, b.status) for b in first.intervals} == {
        (z(1, 9), z(1, 10), BusyStatus.BUSY),
        (z(2, 9), z(2, 12), BusyStatus.OOF),
        (z(3, 0), z(4, 0), BusyStatus.ALL_DAY),
    }
    second = found[ben.id]
    assert isinstance(second, BusyTimes)
    assert [b.status for b in second.intervals] == [BusyStatus.TENTATIVE]
    assert isinstance(found[cy.id], NotConnected)  # outside the scope: no error
    views = world.microsoft.calls_to("calendarView")
    read = [c.path for c in views[1:]]  # after the program account's check on connecting
    assert sorted(set(read)) == [
        "/v1.0/users/ana@contoso.com/calendarView",
        "/v1.0/users/ben@contoso.com/calendarView",
        "/v1.0/users/cy@contoso.com/calendarView",
    ]
    assert len(read) == 4  # the one throttled read was asked again, once
    assert await world.running.storage.organisations.covering(PROGRAM, cy) is None
    # One token for the app, kept: no user's token, no refresh token.
    tokens = world.microsoft.calls_to("token")
    assert {c.form["grant_type"] for c in tokens} == {"client_credentials"}
    assert all(c.form["scope"] == "https://graph.microsoft.com/.default" for c in tokens)


async def test_a_long_retry_after_gives_up_at_once_instead_of_outliving_the_answer(world: World):
    ana = await world.person("aad-ana", "ana@contoso.com")
    world.microsoft.add_account("ana@contoso.com")
    await world.connect()
    world.microsoft.fail_next(429, on="calendarView", retry_after=2 * PROVIDER_TIMEOUT)
    found = await world.busy(ana)
    assert isinstance(found[ana.id], Unreadable)
    assert len(world.microsoft.calls_to("calendarView")) == 2  # the check, then one attempt


async def test_a_certificate_credential_signs_the_client_assertion(world: World, tmp_path: Path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pairtime-org")])
    now = dt.datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    setup = world.setup(secret={"private_key": key_pem}, certificate=certificate_pem)
    with pytest.raises(OrganisationRefused, match="invalid_client"):
        await world.connect(setup)  # not uploaded to the app registration yet
    world.microsoft.add_certificate(world.microsoft.client_id, certificate_pem)
    await world.connect(setup)

    ana = await world.person("aad-ana", "ana@contoso.com")
    world.microsoft.set_events("ana@contoso.com", [FakeEvent(z(1, 9), z(1, 10))])
    assert isinstance((await world.busy(ana))[ana.id], BusyTimes)
    last = world.microsoft.calls_to("token")[-1]
    assert last.form["client_assertion_type"] == (
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )
    assert "client_secret" not in last.form


@pytest.mark.parametrize("withdraw", ["consent", "secret"])
async def test_withdrawn_consent_or_an_expired_secret_marks_the_connection(
    world: World, withdraw: str
):
    ana = await world.person("aad-ana", "ana@contoso.com")
    world.microsoft.set_events("ana@contoso.com", [FakeEvent(z(1, 9), z(1, 10))])
    await world.connect()
    assert isinstance((await world.busy(ana))[ana.id], BusyTimes)

    if withdraw == "consent":
        world.microsoft.application_permissions = frozenset()
    else:
        world.microsoft.expire_client_secret()
    world.microsoft.expire_access_tokens()
    assert isinstance((await world.busy(ana))[ana.id], NotConnected)
    [stored] = await world.running.storage.organisations.of_program(PROGRAM)
    assert stored.status is OrgStatus.REVOKED
    assert (
        await world.running.storage.organisations.people_covered(PROGRAM, OrgProvider.MICROSOFT)
        == 0
    )
