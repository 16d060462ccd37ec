"""People, the chat identities they are known by, and the circles they belong to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, NewType

if TYPE_CHECKING:  # core.admin.programs imports this module
    from core.admin.programs import RuleChanges

PersonId = NewType("PersonId", str)
ProgramId = NewType("ProgramId", str)  # one per Slack workspace, Teams tenant or the web playground


class Platform(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    WEB = "web"


@dataclass(frozen=True, slots=True)
class ChatIdentity:
    """Who is speaking, in the platform's own terms. One person may have several."""

    platform: Platform
    workspace: str  # Slack team id, Teams tenant id, "demo" on the web
    user_id: str


@dataclass(frozen=True, slots=True)
class Profile:
    """What a chat platform tells Pairtime about a user; any field but the name may be
    missing (None: not known, never "none")."""

    name: str
    email: str | None = None
    timezone: str | None = None  # IANA name
    handle: str | None = None  # the user's short name on the platform (@maria)


@dataclass(frozen=True, slots=True)
class Person:
    id: PersonId
    name: str
    email: str | None = None
    timezone: str | None = None  # IANA name, from the chat profile; None when it has none


@dataclass(frozen=True, slots=True)
class Acquaintances:
    """Whom a person knows in a program, read at once because every search needs it: their
    mentees and mentors (each by name), the other members of their circles (circle by
    circle, by id), the chat user ids all of these have in the program, and whether the
    person is one of its admins (who may see anyone's free times).

    ``pair_tracks`` holds, for each mentee and mentor, the rule overrides of the track their
    pair with the person is in (None: the program's own rules), as ``Programs.settings``
    would find them for a search among the two: a search with one partner needs no other
    read. Empty when the source does not know tracks."""

    mentees: tuple[Person, ...] = ()
    mentors: tuple[Person, ...] = ()
    co_members: tuple[Person, ...] = ()
    user_ids: Mapping[str, PersonId] = field(default_factory=dict)
    admin: bool = False
    pair_tracks: Mapping[PersonId, RuleChanges | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Listing:
    """A person as others may name them in a program: their chat handle (Slack's display
    name, the Teams e-mail's local part) beside their name and e-mail."""

    person: Person
    handle: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """A mentoring circle: its members and, optionally, the channel it meets in."""

    id: str
    program: ProgramId
    name: str
    members: tuple[PersonId, ...]
    channel: str | None = None
    track: str | None = None  # a core.tracks.TrackId


@dataclass(frozen=True, slots=True)
class CrowdedChannel:
    """A channel with more members than a poll may invite: only how many is known.

    ``members`` may count the apps in it too, as the platform's own member count does;
    ``at_least`` says counting stopped there (a very large channel is not counted to the end).
    """

    members: int
    at_least: bool = False


def program_id(platform: Platform, workspace: str) -> ProgramId:
    """The program of one Slack workspace, Teams tenant or playground: ``slack:T0123``.

    Programs are named so everywhere; :func:`platform_of` and :func:`workspace_of` read
    such a name back, so no other code splits it.
    """
    return ProgramId(f"{platform.value}:{workspace}")


def platform_of(program: ProgramId | str) -> Platform | None:
    """The chat platform ``program`` lives on; None when it names none (``teams`` alone,
    ``irc:x``)."""
    name, _, workspace = program.partition(":")
    try:
        platform = Platform(name)
    except ValueError:
        return None
    return platform if workspace else None


def workspace_of(program: ProgramId) -> str:
    """The Slack team id, Teams tenant id or playground name in ``program``'s name."""
    return program.partition(":")[2]


def program_of(identity: ChatIdentity) -> ProgramId:
    """The program a chat identity speaks in: one per platform workspace."""
    return program_id(identity.platform, identity.workspace)


def program_name(identity: ChatIdentity) -> str:
    """How a program created on first contact is named, until an admin names it."""
    match identity.platform:
        case Platform.SLACK:
            return f"Slack workspace {identity.workspace}"
        case Platform.TEAMS:
            return f"Microsoft Teams ({identity.workspace})"
        case Platform.WEB:
            return f"Web playground ({identity.workspace})"


def identity_in(program: ProgramId, identities: Sequence[ChatIdentity]) -> ChatIdentity | None:
    """Which of a person's identities belongs to ``program``, if any."""
    return next((i for i in identities if program_of(i) == program), None)
