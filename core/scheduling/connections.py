"""Connecting, checking and disconnecting a person's one calendar."""

from __future__ import annotations

from core.actions import Disconnect
from core.calendars import LOOK_AHEAD_DAYS, CalendarConnection, ConnectionStatus, ReconnectCause
from core.commands import Provider
from core.people import ChatIdentity, PersonId, ProgramId, identity_in, program_of
from core.rules import AllDayEvents, Rules
from core.scheduling.context import Context, Ports
from core.scheduling.organisation import status_line as organisation_status
from core.views import (
    Button,
    ButtonStyle,
    ConnectionStatusView,
    ConnectPrompt,
    DirectMessage,
    LinkButton,
    Notice,
    Outcome,
    Tone,
)

NOT_CONNECTED = "Your calendar is not connected."
PRIVATELY = "Say “connect my calendar” to me in a private chat to connect yours."
MISSES_ALL_DAY = (
    "It was connected before I read all-day events, so I can't see events marked free, "
    "all-day ones included. Please connect it again so that all-day events are counted."
)
ASKED_PER_TICK = 20  # reconnect requests sent per batch (one job): a few a second at most
# Not the person's doing, and not theirs to fix alone: say so, and who can.
KEY_MISSING = (
    "this Pairtime server can no longer read the access you gave it (the key it was stored "
    "with is missing from its configuration). A Pairtime admin must restore that key"
)


async def connect_prompt(
    ports: Ports, ctx: Context, provider: Provider | None
) -> ConnectPrompt | Notice:
    """Links for the allowed services (or the one asked for), each single-use and personal."""
    return await prompt_for(ports, ctx.program, ctx.identity, ctx.person.id, provider)


async def prompt_for(
    ports: Ports,
    program: ProgramId,
    identity: ChatIdentity,
    person: PersonId,
    provider: Provider | None,
) -> ConnectPrompt | Notice:
    """The connect prompt for anyone (the speaker, or a partner asked to reconnect), with
    the services their track allows."""
    settings = await ports.programs.settings(program, among=[person])
    allowed = [
        p for p in Provider if p in settings.allowed_providers and p in ports.links.available
    ]
    if not allowed:
        return Notice(
            "No calendar service is set up on this Pairtime server yet. Please ask your "
            "program admin.",
            Tone.WARNING,
        )
    if provider is not None and provider not in allowed:
        choices = ", ".join(p.label for p in allowed)
        return Notice(
            f"This program doesn't use {provider.label} calendars. You can connect: {choices}.",
            Tone.WARNING,
        )
    offered = [provider] if provider is not None else allowed
    urls = await ports.links.links(identity, person, offered)
    links = [
        LinkButton(f"Connect {service.label}", url)
        for service, url in zip(offered, urls, strict=True)
    ]
    text = (
        "Connect your calendar so I can see when you're busy. I only read free/busy "
        "times, never your events' details. Each link works once, for you only, for 15 minutes."
    )
    return ConnectPrompt(text, tuple(links))


async def connect(ports: Ports, ctx: Context, provider: Provider | None) -> Outcome:
    prompt = await connect_prompt(ports, ctx, provider)
    if isinstance(prompt, Notice) or ctx.private:
        return Outcome(prompt)
    # Links are personal: send them privately, and say so where the person asked.
    return Outcome(
        Notice("I've sent you a private message with the links to connect your calendar."),
        direct=(DirectMessage(ctx.person.id, prompt),),
    )


async def disconnect(ports: Ports, ctx: Context) -> Outcome:
    removed = await ports.connections.disconnect(ctx.person.id)
    if removed is None:
        return Outcome(Notice("You have no calendar connected, so there was nothing to remove."))
    return Outcome(
        Notice(
            f"Your {removed.provider.label} calendar is disconnected, and I deleted the access "
            "I had to it.",
            Tone.SUCCESS,
        )
    )


async def status(ports: Ports, ctx: Context) -> Outcome:
    return Outcome(await status_view(ports, ctx))


async def status_view(ports: Ports, ctx: Context, *, links: bool = True) -> ConnectionStatusView:
    """The speaker's calendar status; connect links only in private and with ``links``."""
    links = links and ctx.private
    connection = await ports.connections.get(ctx.person.id)
    disconnect_button = Button(
        "Disconnect", ports.actions.seal(Disconnect(ctx.person.id)), ButtonStyle.DANGER
    )
    if connection is None or connection.status is ConnectionStatus.NEEDS_RECONNECT:
        # Read through the organisation instead, unless its owner connects their own.
        organisation = await ports.organisations.covering(ctx.program, ctx.person)
        if organisation is not None:
            return ConnectionStatusView(organisation_status(organisation), None)
    if connection is None:
        if not ctx.private:
            return ConnectionStatusView(f"Your calendar is not connected. {PRIVATELY}", None)
        if not links:
            return ConnectionStatusView(NOT_CONNECTED, None)
        prompt = await connect_prompt(ports, ctx, None)
        return ConnectionStatusView(
            NOT_CONNECTED,
            None,
            connect=prompt if isinstance(prompt, ConnectPrompt) else None,
        )
    label = connection.provider.label
    account = f" ({connection.account})" if connection.account else ""
    if connection.status is not ConnectionStatus.CONNECTED:
        again = await connect_prompt(ports, ctx, connection.provider) if links else None
        text = (
            f"Your {label} calendar{account} can't be read: {KEY_MISSING}, or you can connect "
            "it again."
            if connection.status is ConnectionStatus.KEY_MISSING
            else f"Your {label} calendar{account} needs to be reconnected: its access was "
            "revoked or has expired."
        )
        return ConnectionStatusView(
            text,
            connection.provider,
            needs_reconnect=True,
            connect=again if isinstance(again, ConnectPrompt) else None,
            disconnect=disconnect_button,
        )
    if connection.misses_free_events:
        again = await connect_prompt(ports, ctx, connection.provider) if links else None
        return ConnectionStatusView(
            f"Your {label} calendar{account} is connected. {MISSES_ALL_DAY}",
            connection.provider,
            needs_reconnect=True,
            connect=again if isinstance(again, ConnectPrompt) else None,
            disconnect=disconnect_button,
        )
    rules = (await ports.programs.settings(ctx.program)).rules
    return ConnectionStatusView(
        f"Your {label} calendar{account} is connected.{_away_note(connection, rules)}",
        connection.provider,
        disconnect=disconnect_button,
    )


def _away_note(connection: CalendarConnection, rules: Rules) -> str:
    """Why partners may never find this person free: most of the next two weeks taken."""
    days = connection.away_days
    if days is None or days * 2 <= LOOK_AHEAD_DAYS:
        return ""
    if rules.all_day_events is AllDayEvents.BUSY:
        rule = "In this program an all-day event counts as busy even when it's marked free."
    else:
        rule = "All-day events marked free don't count in this program; the others do."
    return (
        f" The last time I read it, all-day or out-of-office events took {days} of the next "
        f"{LOOK_AHEAD_DAYS} days, so your partners may find few times with you. {rule} If "
        "you're around on some of those days, change or remove those events."
    )


async def reconnect_request(
    ports: Ports,
    program: ProgramId,
    person: PersonId,
    provider: Provider,
    cause: ReconnectCause = ReconnectCause.REVOKED,
) -> DirectMessage | None:
    """A private message telling ``person`` their calendar can't be read, and why."""
    identity = identity_in(program, await ports.people.identities(person))
    if identity is None:
        return None
    prompt = await prompt_for(ports, program, identity, person, provider)
    if not isinstance(prompt, ConnectPrompt):
        return None
    match cause:
        case ReconnectCause.KEY_MISSING:
            text = (
                f"I can't read your {provider.label} calendar just now: {KEY_MISSING}; once "
                "they do, it works again. Meanwhile you can connect it again, so your partners "
                "see when you're busy."
            )
        case ReconnectCause.REVOKED:
            text = (
                f"I can no longer read your {provider.label} calendar: its access was revoked "
                "or has expired. Please connect it again so your partners see when you're busy."
            )
    return DirectMessage(person, ConnectPrompt(text, prompt.links))


async def reconnect_requests(ports: Ports) -> list[tuple[ProgramId, Outcome]]:
    """One message to the owner of each connection that misses events marked free, asking
    them to connect again: once per connection, whichever process gets there first."""
    outcomes: list[tuple[ProgramId, Outcome]] = []
    for connection in await ports.connections.to_ask_to_reconnect(ASKED_PER_TICK):
        person, provider = connection.person, connection.provider
        identities = await ports.people.identities(person)
        if not identities:
            continue  # nobody to write to
        identity = identities[0]
        program = program_of(identity)
        settings = await ports.programs.settings(program, among=[person])
        if provider not in settings.allowed_providers or provider not in ports.links.available:
            continue  # no link to offer here; the status says it all the same
        if not await ports.connections.asked_to_reconnect(person, ports.clock.now()):
            continue  # another process asked
        prompt = await prompt_for(ports, program, identity, person, provider)
        if not isinstance(prompt, ConnectPrompt):
            continue
        account = f" ({connection.account})" if connection.account else ""
        text = (
            f"I now read all-day events, but your {provider.label} calendar{account} was "
            "connected before, so I can't see events marked free, all-day ones included. "
            "Please connect it again so that all-day events are counted. (The link works "
            "for 15 minutes; say “connect my calendar” for a new one any time.)"
        )
        message = DirectMessage(person, ConnectPrompt(text, prompt.links))
        outcomes.append((program, Outcome(None, direct=(message,))))
    return outcomes


def calendar_connected(person: PersonId, provider: Provider, account: str | None) -> Outcome:
    """The confirmation a person gets in chat once their connection succeeded."""
    account_text = f" ({account})" if account else ""
    return Outcome(
        None,
        direct=(
            DirectMessage(
                person,
                Notice(
                    f"Your {provider.label} calendar{account_text} is connected. I'll use its "
                    "free/busy times from now on.",
                    Tone.SUCCESS,
                ),
            ),
        ),
    )
