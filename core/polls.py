"""Group polls: proposed times for a circle, votes, and the winner.

A vote is decided by the clicks as they were sent, not as they were handled: each person's
clicks on an option are folded in the order of their own timestamps (``Ballot``), and a
click handled twice (a retry after a crash) counts once. However late or out of order the
clicks are handled, the tally comes out the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeAlias

from core.jobs import NewJob
from core.meetings import Meeting
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


# A second identical click this soon after the one before (by the clicks' own times, as
# the chat platform sent them) is the same click: a double-click counts once.
DOUBLE_CLICK = timedelta(seconds=2)
KEPT_CLICKS = 20  # per person and option; older ones are folded into the ballot's base


@dataclass(frozen=True, slots=True)
class Click:
    """One click on a vote button, as the chat platform sent it."""

    choice: Choice
    at: datetime  # when the person clicked, by the platform's clock, not when it was handled
    id: str  # the platform's id of the interaction: handled twice, it counts once


@dataclass(frozen=True, slots=True)
class Ballot:
    """One person's clicks on one option, and the vote they add up to.

    Clicks are folded in the order they were sent, whatever the order they are handled in
    (two processes, a backlog, a retry after a crash): a click on a time already chosen
    withdraws the vote, unless it comes within ``DOUBLE_CLICK`` of an identical click
    before it (the same click twice). ``choice`` and ``last`` are the vote and the last
    click before the clicks kept; at most ``KEPT_CLICKS`` are kept, so a click handled
    more than that many clicks late is folded as if it came last.
    """

    choice: Choice | None = None
    last: Click | None = None
    clicks: tuple[Click, ...] = ()

    def with_click(self, click: Click) -> Ballot | None:
        """This ballot with ``click`` in its place; None when it was counted already."""
        if any(c.id == click.id for c in self.clicks) or (
            self.last is not None and self.last.id == click.id
        ):
            return None
        clicks = sorted((*self.clicks, click), key=lambda c: (c.at, c.id))
        choice, last = self.choice, self.last
        while len(clicks) > KEPT_CLICKS:
            choice, last = _fold(choice, last, clicks.pop(0))
        return Ballot(choice, last, tuple(clicks))

    @property
    def vote(self) -> Choice | None:
        """The choice the clicks add up to; None when there is no vote."""
        choice, last = self.choice, self.last
        for click in self.clicks:
            choice, last = _fold(choice, last, click)
        return choice

    @property
    def at(self) -> datetime | None:
        """When the last click was sent."""
        if self.clicks:
            return self.clicks[-1].at
        return self.last.at if self.last is not None else None


def _fold(choice: Choice | None, last: Click | None, click: Click) -> tuple[Choice | None, Click]:
    if last is not None and last.choice is click.choice and click.at - last.at < DOUBLE_CLICK:
        return choice, click  # the same click again
    if choice is click.choice:
        return None, click  # clicked again: withdrawn
    return click.choice, click


@dataclass(frozen=True, slots=True)
class Counted:
    """A poll's tally as read in one snapshot, with the poll's status and version then: a
    view made from a higher version shows a later state."""

    version: int
    status: PollStatus
    tallies: Mapping[int, tuple[int, int]]  # option id -> (yes, if need be); absent: none
    busy_checked_at: datetime | None = None  # of the options' busy counts, then

    def tally(self, option: int) -> tuple[int, int]:
        """(yes, if need be) for ``option``."""
        return self.tallies.get(option, (0, 0))


@dataclass(frozen=True, slots=True)
class PollBooking:
    """What a poll's close books, stored in the close's own transaction (``Polls.close``):
    the meeting, and the work it asks for (its private messages, invitations, reminders)."""

    meeting: Meeting
    jobs: Sequence[NewJob] = ()


# What a poll's close books, decided from the poll and its final votes inside the close's
# transaction (``Polls.close``), so it calls no port: None books nothing.
BookOnClose: TypeAlias = Callable[[Poll, Sequence[Vote]], PollBooking | None]
