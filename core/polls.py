"""Group polls: proposed times for a circle, votes, and the winner."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.people import PersonId, ProgramId


class PollStatus(StrEnum):
    DRAFT = "draft"  # the organiser's preview, not posted yet
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Choice(StrEnum):
    YES = "yes"
    IF_NEED_BE = "if_need_be"


@dataclass(frozen=True, slots=True)
class PollOption:
    id: int
    start: datetime
    end: datetime
    # Invitees busy then, by their calendar or a Pairtime meeting; never who they are.
    busy_count: int = 0


@dataclass(frozen=True, slots=True)
class Poll:
    ref: str
    program: ProgramId
    organizer: PersonId
    title: str
    duration_minutes: int
    invitees: tuple[PersonId, ...]
    options: tuple[PollOption, ...]
    created_at: datetime
    status: PollStatus = PollStatus.OPEN
    channel: str | None = None
    required: tuple[PersonId, ...] = ()
    deadline: datetime | None = None
    closed_at: datetime | None = None
    window_start: datetime | None = None  # where the options were looked for
    window_end: datetime | None = None
    connected: int = 0  # invitees with a connected calendar, at the last read
    busy_checked_at: datetime | None = None
    posted_at: datetime | None = None
    message: Mapping[str, str] | None = None  # where the adapter posted it
    meeting: str | None = None  # the booked meeting's reference


@dataclass(frozen=True, slots=True)
class Vote:
    option: int
    person: PersonId
    choice: Choice
    at: datetime | None = None


def tally(votes: Sequence[Vote]) -> dict[int, dict[Choice, int]]:
    """Votes per option and choice; options without votes are absent."""
    counts: dict[int, dict[Choice, int]] = {}
    for vote in votes:
        per_choice = counts.setdefault(vote.option, dict.fromkeys(Choice, 0))
        per_choice[vote.choice] += 1
    return counts
