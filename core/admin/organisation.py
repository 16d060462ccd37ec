"""Organisation connections as admins manage them: ``pairtime org`` now, the admin console's
"Integrate / Disable" cards later.

Connecting checks the setup with the provider (one token, the program account's
calendar) before anything is stored; each use case answers values the caller prints
or renders, and raises :class:`~core.organisation.OrganisationRefused` with what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from core.organisation import (
    OrganisationConnection,
    OrganisationRefused,
    OrganisationSetup,
    OrgProvider,
    OrgStatus,
    looks_like_address,
    normalised_domain,
)
from core.people import PersonId, ProgramId
from core.ports import Clock, OrganisationAuthority, Organisations


@dataclass(frozen=True, slots=True)
class OrganisationCard:
    """One kind of organisation connection of a program, for ``org status`` and the console."""

    provider: OrgProvider
    connection: OrganisationConnection | None  # None: not connected ("Integrate")
    people_covered: int = 0


def checked(setup: OrganisationSetup) -> OrganisationSetup:
    """``setup`` with its domains normalised; OrganisationRefused names what is wrong."""
    if not looks_like_address(setup.program_account):
        raise OrganisationRefused(
            f"--program-account must be an email address, not {setup.program_account!r}"
        )
    domains: list[str] = []
    for text in setup.domains:
        domain = normalised_domain(text)
        if domain is None:
            raise OrganisationRefused(f"--domain {text!r} is not a domain name")
        if domain not in domains:
            domains.append(domain)
    account_domain = setup.program_account.rsplit("@", 1)[1].lower()
    if domains and account_domain not in domains:
        raise OrganisationRefused(
            f"the program account {setup.program_account} is not in the connected domains "
            f"({', '.join(domains)})"
        )
    return replace(
        setup,
        name=setup.name.strip(),
        program_account=setup.program_account.strip().lower(),
        domains=tuple(domains),
    )


async def connect(
    organisations: Organisations,
    authority: OrganisationAuthority,
    clock: Clock,
    program: ProgramId,
    setup: OrganisationSetup,
    *,
    by: PersonId | None = None,
) -> OrganisationCard:
    """Check ``setup`` with the provider (one token, the program account's calendar), then
    store it. Raises OrganisationRefused, with what to do, when the provider says no."""
    setup = checked(setup)
    verified = await authority.verify(setup)
    if not verified.domains:
        raise OrganisationRefused("no domain to cover: give --domain")
    if not setup.name:
        setup = replace(setup, name=verified.domains[0])
    saved = await organisations.save(program, setup.as_verified(verified), by, clock.now())
    await authority.forget(saved)  # a replaced connection's tokens go with it
    covered = await organisations.people_covered(program, setup.provider)
    return OrganisationCard(setup.provider, saved, covered)


async def cards(organisations: Organisations, program: ProgramId) -> list[OrganisationCard]:
    """Every kind, connected or not, in a fixed order."""
    connected = {c.provider: c for c in await organisations.of_program(program)}
    found: list[OrganisationCard] = []
    for provider in OrgProvider:
        connection = connected.get(provider)
        covered = (
            await organisations.people_covered(program, provider)
            if connection is not None and connection.status is OrgStatus.CONNECTED
            else 0
        )
        found.append(OrganisationCard(provider, connection, covered))
    return found


async def disconnect(
    organisations: Organisations,
    authority: OrganisationAuthority,
    program: ProgramId,
    provider: OrgProvider,
) -> OrganisationConnection | None:
    """Delete the connection and its secret; None when there was none."""
    removed = await organisations.remove(program, provider)
    if removed is not None:
        await authority.forget(removed)
    return removed


def since(moment: datetime | None) -> str:
    return "never" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
