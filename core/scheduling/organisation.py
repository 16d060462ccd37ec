"""Organisation connections as admins and participants meet them.

Admins connect, check and disconnect them (``pairtime org``; the admin console
later shows the same as "Integrate / Disable" cards). Participants are covered
without doing anything, may opt out for themselves (and back in), and see whose
connection reads their calendar in their status. When the organisation withdraws
the access, the program's admins are told once; covered people simply read as
"not connected".
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
from core.scheduling.context import Context, Ports
from core.views import DirectMessage, Notice, Outcome, Tone


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
    saved = await organisations.save(program, setup, verified, by, clock.now())
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


def status_line(connection: OrganisationConnection) -> str:
    """What a covered person's status says."""
    return (
        f"Your calendar is connected through {connection.described}: I read only when "
        "you're busy, never your events' details. Say “don't use my organisation calendar” "
        "to stop, or connect your own calendar instead."
    )


async def opt_out(ports: Ports, ctx: Context) -> Outcome:
    changed = await ports.organisations.opt_out(ctx.program, ctx.person.id, ports.clock.now())
    connections = await ports.organisations.of_program(ctx.program)
    if not any(c.covers(ctx.person.email) for c in connections):
        text = (
            "Noted: I won't read your calendar through your organisation. (No organisation "
            "connection covers your address at the moment.)"
        )
    elif changed:
        text = (
            "Done: I no longer read your calendar through your organisation. Your partners "
            "won't see when you're busy unless you connect a calendar yourself (say “connect "
            "my calendar”), and “use my organisation calendar” undoes this."
        )
    else:
        text = "I already don't read your calendar through your organisation."
    return Outcome(Notice(text, Tone.SUCCESS))


async def opt_in(ports: Ports, ctx: Context) -> Outcome:
    changed = await ports.organisations.opt_in(ctx.program, ctx.person.id)
    connection = await ports.organisations.covering(ctx.program, ctx.person)
    if connection is None:
        text = (
            "No organisation connection of this program covers your address, so there is "
            "nothing to turn on. Say “connect my calendar” to connect yours."
        )
        return Outcome(Notice(text, Tone.WARNING))
    personal = await ports.connections.get(ctx.person.id)
    own = (
        f" Your own {personal.provider.label} calendar stays connected and is read first."
        if personal is not None
        else ""
    )
    start = "Done: " if changed else ""
    return Outcome(Notice(f"{start}{status_line(connection).split(':', 1)[0]}.{own}", Tone.SUCCESS))


async def revoked(ports: Ports, program: ProgramId, provider: OrgProvider) -> Outcome:
    """The one message to each of the program's admins when the organisation withdrew
    the access."""
    current = {c.provider: c for c in await ports.organisations.of_program(program)}
    connection = current.get(provider)
    if connection is None or connection.status is not OrgStatus.REVOKED:
        return Outcome(None)  # disconnected or connected again since
    reason = f" ({connection.last_error})" if connection.last_error else ""
    text = (
        f"The {connection.described} connection stopped working{reason}: the organisation "
        "withdrew or changed the access. Until it is connected again with `pairtime org "
        f"connect {provider.value}`, the people it covered show as not connected and are "
        "offered times without their calendars."
    )
    admins = await ports.programs.admins(program)
    return Outcome(None, direct=tuple(DirectMessage(a, Notice(text, Tone.WARNING)) for a in admins))


def since(moment: datetime | None) -> str:
    return "never" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
