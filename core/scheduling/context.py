"""Who is asking, and what the use cases work through."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from core.actions import ActionCodec
from core.people import ChatIdentity, Person, ProgramId
from core.ports import (
    BusyTimeSource,
    CalendarConnections,
    ChannelMembers,
    Clock,
    ConnectLinks,
    ConsoleSignIn,
    Groups,
    Jobs,
    Mailer,
    MeetingPublisher,
    Meetings,
    Offers,
    Organisations,
    Pairings,
    People,
    PersonalData,
    Polls,
    ProgramEvents,
    Programs,
)
from core.scheduling.recent import Recent


@dataclass(frozen=True, slots=True)
class Context:
    """The person speaking, resolved by the chat adapter before core is called."""

    program: ProgramId
    person: Person
    identity: ChatIdentity
    zone: ZoneInfo  # where the speaker's times are shown
    zone_assumed: bool = False  # their profile had no zone; say which one was used
    private: bool = True  # speaking in a one-to-one conversation with the bot
    channel: str | None = None  # the conversation spoken in, when it is not private
    # The interaction as the platform sent it: when (its clock) and its id. A click is
    # decided by these, not by when it is handled; None when the platform gives none.
    sent_at: datetime | None = None
    event_id: str | None = None


def new_reference() -> str:
    """An unguessable reference for offers and meetings (128 bits)."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class Ports:
    clock: Clock
    people: People
    pairings: Pairings
    groups: Groups
    programs: Programs
    connections: CalendarConnections
    busy: BusyTimeSource
    links: ConnectLinks
    offers: Offers
    meetings: Meetings
    polls: Polls
    channel_members: ChannelMembers
    actions: ActionCodec
    jobs: Jobs
    organisations: Organisations
    new_ref: Callable[[], str] = field(default=new_reference)
    mailer: Mailer | None = None  # None: invitations are not emailed (no SMTP configured)
    # The program account's calendar (an organisation connection's write grant); None: the
    # meetings' invitations are always emailed.
    publisher: MeetingPublisher | None = None
    program_events: ProgramEvents | None = None
    console: ConsoleSignIn | None = None  # None: no admin console on this server
    personal_data: PersonalData | None = None  # None: people cannot be forgotten here
    recent: Recent | None = None  # answers kept briefly by this process; None: none kept


def zone_of(name: str | None, fallback: str) -> ZoneInfo:
    """A person's zone by IANA name, or the fallback when it is missing or unknown."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
                continue
    return ZoneInfo("UTC")
