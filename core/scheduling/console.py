"""Signing in to the admin console from chat: "admin" answers an admin, privately, with a
single-use link bound to the chat identity that asked (like a calendar's connect link)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.calendars import ConnectionStatus
from core.commands import ParticipantRef
from core.people import Person, PersonId, ProgramId, identity_in
from core.scheduling.connections import prompt_for
from core.scheduling.context import Context, Ports
from core.scheduling.participants import Ask, Refuse, resolve
from core.views import ConnectPrompt, DirectMessage, LinkButton, Notice, Outcome, Tone

NOT_AN_ADMIN = (
    "You're not an admin of this program, so there is no admin console for you. Your "
    "program's admins can make you one."
)
NO_CONSOLE = "This Pairtime server has no admin console."
SIGN_IN = (
    "Here is your link to the admin console. It works once, for you only, for 10 minutes; "
    "say “admin” again for a new one."
)
SENT = "I've sent you a private message with your link to the admin console."
OPEN_CONSOLE = "Open the admin console"


async def may_open_console(ports: Ports, ctx: Context) -> bool:
    """Whether to offer the speaker "Open the admin console" (an admin, on a server with
    a console)."""
    return ports.console is not None and await ports.console.may_sign_in(ctx.program, ctx.person.id)


async def sign_in_prompt(ports: Ports, ctx: Context) -> Notice:
    """The sign-in link for the speaker, or why there is none."""
    if ports.console is None:
        return Notice(NO_CONSOLE, Tone.WARNING)
    if not await ports.console.may_sign_in(ctx.program, ctx.person.id):
        return Notice(NOT_AN_ADMIN, Tone.WARNING)
    url = await ports.console.link(ctx.program, ctx.identity, ctx.person.id)
    return Notice(SIGN_IN, buttons=(LinkButton(OPEN_CONSOLE, url),))


async def sign_in(ports: Ports, ctx: Context) -> Outcome:
    """A link is personal: asked for in a channel, it is sent in a private message."""
    prompt = await sign_in_prompt(ports, ctx)
    if ctx.private or not prompt.buttons:
        return Outcome(prompt)
    return Outcome(Notice(SENT), direct=(DirectMessage(ctx.person.id, prompt),))


REMINDER = (
    "Your program's admin asks you to connect your calendar, so that your partners can "
    "find times when you're free. "
)


async def connect_reminder(
    ports: Ports, payload: Mapping[str, Any]
) -> tuple[ProgramId, Outcome] | None:
    """An admin's reminder to connect (a ``connect.reminder`` job): the person's own
    single-use connect buttons, privately; nothing when they connected since or cannot be
    reached in chat (known by email only)."""
    program, person = ProgramId(payload["program"]), PersonId(payload["person"])
    identity = identity_in(program, await ports.people.identities(person))
    if identity is None:
        return None
    connection = await ports.connections.get(person)
    if (
        connection is not None
        and connection.status is ConnectionStatus.CONNECTED
        and not connection.misses_free_events
    ):
        return None
    prompt = await prompt_for(ports, program, identity, person, None)
    if not isinstance(prompt, ConnectPrompt):
        return None
    reminder = ConnectPrompt(REMINDER + prompt.text, prompt.links)
    return program, Outcome(None, direct=(DirectMessage(person, reminder),))


ONLY_ADMINS = (
    "Only the program's admins can see someone else's calendar status. Say “status” for your own."
)
MOST_PEOPLE = 10


async def status_of(ports: Ports, ctx: Context, refs: Sequence[ParticipantRef]) -> Outcome:
    """ "status of @Sam": for a program admin, whether Pairtime can read each person's
    calendar and when it last did (never what is in it); privately."""
    if not await ports.programs.is_admin(ctx.program, ctx.person.id):
        return Outcome(Notice(ONLY_ADMINS, Tone.WARNING))
    found = await resolve(ports, ctx, refs)
    if isinstance(found, Refuse):
        return Outcome(Notice(found.text, Tone.WARNING))
    people = found.settled if isinstance(found, Ask) else found.people
    if not people:
        return Outcome(Notice("Whose status? Mention them: “status of @Sam”.", Tone.WARNING))
    lines = [await _status_line(ports, ctx, person) for person in people[:MOST_PEOPLE]]
    notice = Notice("\n".join(lines))
    if ctx.private:
        return Outcome(notice)
    return Outcome(
        Notice("I've sent you their status in a private message."),
        direct=(DirectMessage(ctx.person.id, notice),),
    )


async def _status_line(ports: Ports, ctx: Context, person: Person) -> str:
    connection = await ports.connections.get(person.id)
    if connection is not None and connection.status is ConnectionStatus.CONNECTED:
        state = f"connected with {connection.provider.label}"
        if connection.misses_free_events:
            state += ", but it needs reconnecting to see all-day events"
        return f"{person.name}: {state}; last read {_when(connection.last_sync, ctx.zone)}."
    organisation = await ports.organisations.covering(ctx.program, person)
    if organisation is not None:
        return (
            f"{person.name}: read through {organisation.described}; last read "
            f"{_when(organisation.last_read_at, ctx.zone)}."
        )
    if connection is not None:
        return (
            f"{person.name}: their {connection.provider.label} calendar needs reconnecting; "
            f"last read {_when(connection.last_sync, ctx.zone)}."
        )
    return f"{person.name}: no calendar connected."


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "never"
    local = moment.astimezone(zone)
    return f"{local:%a %d %b %H:%M} ({local.tzname()})"
