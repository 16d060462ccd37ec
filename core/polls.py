"""Group polls: proposed times for a circle, votes, and the winner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.people import PersonId, ProgramId


class PollStatus(StrEnum):
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
    # Invitees with a connected calendar who are busy then; never who they are.
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


@dataclass(frozen=True, slots=True)
class Vote:
    option: int
    person: PersonId
    choice: Choice


def tally(votes: Sequence[Vote]) -> dict[int, dict[Choice, int]]:
    """Votes per option and choice; options without votes are absent."""
    counts: dict[int, dict[Choice, int]] = {}
    for vote in votes:
        per_choice = counts.setdefault(vote.option, dict.fromkeys(Choice, 0))
        per_choice[vote.choice] += 1
    return counts
