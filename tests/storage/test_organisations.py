"""Organisation connections in storage: who is covered, opt-outs, and a withdrawn grant
marked once with its message enqueued in the same transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from core.organisation import OrganisationSetup, OrgProvider, OrgStatus, Verified
from core.people import ChatIdentity, Person, Platform, Profile, ProgramId
from core.secret import Secret
from storage.repositories.organisations import OUT_OF_REACH_FOR, REVOKED_JOB
from storage.store import Storage

PROGRAM = ProgramId("slack:T1")
NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


async def person(storage: Storage, user: str, email: str | None) -> Person:
    await storage.programs.ensure(PROGRAM, "Example")
    identity = ChatIdentity(Platform.SLACK, "T1", user)
    return await storage.people.remember(PROGRAM, identity, Profile(user, email=email))


async def connect(storage: Storage) -> None:
    setup = OrganisationSetup(
        OrgProvider.MICROSOFT,
        "Example Org",
        "mentoring@example.org",
        (),
        {"tenant": "t", "client_id": "c"},
        Secret(json.dumps({"client_secret": "s3cr3t-value"})),
    )
    verified = setup.as_verified(Verified(("example.org", "example.com")))
    await storage.organisations.save(PROGRAM, verified, None, NOW)


async def test_who_is_covered_opted_out_and_out_of_reach(storage: Storage):
    ana = await person(storage, "UANA", "ana@Example.ORG")
    ben = await person(storage, "UBEN", "ben@example.com")
    cy = await person(storage, "UCY", "cy@other.org")
    dee = await person(storage, "UDEE", None)
    await connect(storage)

    covered = await storage.organisations.covering_many([ana.id, ben.id, cy.id, dee.id], NOW)
    assert set(covered) == {ana.id, ben.id}
    assert covered[ana.id].described == "Example Org (Microsoft 365)"
    assert await storage.organisations.people_covered(PROGRAM, OrgProvider.MICROSOFT) == 2

    assert await storage.organisations.opt_out(PROGRAM, ana.id, NOW)
    assert not await storage.organisations.opt_out(PROGRAM, ana.id, NOW)  # already
    assert await storage.organisations.opted_out(PROGRAM, ana.id)
    await storage.organisations.out_of_reach(PROGRAM, ben.id, NOW)
    assert await storage.organisations.covering_many([ana.id, ben.id], NOW) == {}
    assert await storage.organisations.covering(PROGRAM, ana) is None
    # A day later Ben's mailbox is tried again (an admin may have widened the scope).
    later = NOW + OUT_OF_REACH_FOR + timedelta(minutes=1)
    assert set(await storage.organisations.covering_many([ana.id, ben.id], later)) == {ben.id}
    assert await storage.organisations.opt_in(PROGRAM, ana.id)
    assert not await storage.organisations.opt_in(PROGRAM, ana.id)
    assert await storage.organisations.covering(PROGRAM, ana) is not None


async def test_the_secret_is_sealed_and_a_withdrawn_grant_is_marked_once(storage: Storage):
    ana = await person(storage, "UANA", "ana@example.org")
    await connect(storage)
    assert set(await storage.organisations.covering_many([ana.id], NOW)) == {ana.id}
    stored = await storage.organisations.load(PROGRAM, OrgProvider.MICROSOFT)
    assert stored is not None
    assert stored.secret == {"client_secret": "s3cr3t-value"}
    assert "s3cr3t" not in repr(stored)

    connection = stored.summary
    assert await storage.organisations.revoked(connection, "invalid_client: expired", NOW)
    assert not await storage.organisations.revoked(connection, "invalid_client: expired", NOW)
    [after] = await storage.organisations.of_program(PROGRAM)
    assert (after.status, after.last_error) == (OrgStatus.REVOKED, "invalid_client: expired")
    job = await storage.jobs.state(
        f"{REVOKED_JOB}:{PROGRAM}:microsoft:{int(connection.connected_at.timestamp())}"
    )
    assert job is not None
    assert await storage.organisations.covering_many([ana.id], NOW) == {}
    assert await storage.organisations.people_covered(PROGRAM, OrgProvider.MICROSOFT) == 0

    removed = await storage.organisations.remove(PROGRAM, OrgProvider.MICROSOFT)
    assert removed is not None
    assert await storage.organisations.load(PROGRAM, OrgProvider.MICROSOFT) is None


async def test_an_exchange_user_name_is_sealed_with_the_password(storage: Storage):
    """The account that came with the credential is stored sealed, and the reader gets it
    back among the settings."""
    setup = OrganisationSetup(
        OrgProvider.EXCHANGE,
        "Example Org",
        "mentoring@example.org",
        ("example.org",),
        {"ews_url": "https://mail.example.org/EWS/Exchange.asmx", "username": "svc-mentoring"},
        Secret(json.dumps({"password": "hunter2"})),
    )
    await storage.programs.ensure(PROGRAM, "Example")
    await storage.organisations.save(
        PROGRAM, setup.as_verified(Verified(("example.org",))), None, NOW
    )

    async with storage.database.reading() as session:
        stored = (
            await session.execute(text("SELECT settings, secret FROM organization_grants"))
        ).one()
    settings = stored.settings if isinstance(stored.settings, dict) else json.loads(stored.settings)
    assert "svc-mentoring" not in json.dumps(settings) + stored.secret
    opened = await storage.organisations.load(PROGRAM, OrgProvider.EXCHANGE)
    assert opened is not None
    assert opened.settings["username"] == "svc-mentoring"
    assert opened.secret == {"password": "hunter2"}
