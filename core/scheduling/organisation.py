"""Organisation connections as participants meet them (admins: ``core.admin.organisation``).

Participants are covered without doing anything, may opt out for themselves (and
back in), and see whose connection reads their calendar in their status. When the
organisation withdraws the access, the program's admins are told once; covered
people simply read as "not connected".
"""

from __future__ import annotations

from core.organisation import (
    OrganisationConnection,
    OrgProvider,
    OrgStatus,
)
from core.people import ProgramId
from core.scheduling.context import Context, Ports
from core.views import DirectMessage, Notice, Outcome, Tone


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


async def write_refused(
    ports: Ports, program: ProgramId, provider: OrgProvider, reason: str
) -> Outcome:
    """The one message to each of the program's admins when the provider refused the
    program account's events for good: meetings go out by email from then on."""
    current = {c.provider: c for c in await ports.organisations.of_program(program)}
    connection = current.get(provider)
    if connection is None or connection.can_write:
        return Outcome(None)  # disconnected, or connected again with the grant since
    text = (
        f"{connection.described} refused to create meetings on {connection.program_account}'s "
        f"calendar ({reason}). Meetings are emailed as invitations instead; to have the "
        f"program account send them, grant the write access and run `pairtime org connect "
        f"{provider.value} … --write` again. Reading calendars is not affected."
    )
    admins = await ports.programs.admins(program)
    return Outcome(None, direct=tuple(DirectMessage(a, Notice(text, Tone.WARNING)) for a in admins))


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
