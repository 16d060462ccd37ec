"""People, the chat identities they are known by, and the circles they belong to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NewType

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
class Person:
    id: PersonId
    name: str
    email: str | None = None
    timezone: str | None = None  # IANA name, from the chat profile; None when it has none


@dataclass(frozen=True, slots=True)
class Group:
    """A mentoring circle: its members and, optionally, the channel it meets in."""

    id: str
    program: ProgramId
    name: str
    members: tuple[PersonId, ...]
    channel: str | None = None


def program_of(identity: ChatIdentity) -> ProgramId:
    """The program a chat identity speaks in: one per platform workspace."""
    return ProgramId(f"{identity.platform.value}:{identity.workspace}")


def identity_in(program: ProgramId, identities: Sequence[ChatIdentity]) -> ChatIdentity | None:
    """Which of a person's identities belongs to ``program``, if any."""
    return next((i for i in identities if program_of(i) == program), None)
