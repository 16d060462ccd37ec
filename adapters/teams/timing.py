"""The Teams adapter's sense of time: a monotonic clock and how long a click may take.

Teams gives up on an invoke (a card click) after about 5 seconds, and allows a bot about
7 messages a second per conversation; what the adapter does about both depends on time.
Both are given to it (``start_teams(timing=...)``), so tests decide: a budget no loaded
machine exceeds, or none at all for the slow path, and a clock they move themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Protocol


class Timer(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic clock."""
        ...

    async def sleep(self, seconds: float, *, until: asyncio.Event | None = None) -> None:
        """Return after ``seconds``, or as soon as ``until`` is set."""
        ...


class MonotonicTimer:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float, *, until: asyncio.Event | None = None) -> None:
        if until is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until.wait(), seconds)


@dataclass(frozen=True)
class InvokeBudget:
    """How long a card click keeps Teams waiting for its answer.

    ``seconds``: the click is answered with its result when that is ready this soon, else
    with a "Working on it…" card (or, on a shared card, "Got it") and the result later.
    On a shared card clicks take turns to be counted, then wait for the card's drawing;
    when the ones queued before a click, and a drawing that clicks wait for, would take
    longer than ``quick`` (at the pace clicks on that card took lately, ``pace`` for a card
    not timed yet), it is answered at once, and its receipt comes privately, as it is when,
    counted, it has waited ``quick`` for the card's drawing; with ``quick`` 0, every click
    on a shared card is answered at once.
    """

    seconds: float = 4.0  # Teams gives up after about 5
    quick: float = 0.05
    pace: float = 0.02  # seconds a click is assumed to take on a card not timed yet
    check: float = 0.01  # seconds between two looks at a shared card's queue


@dataclass(frozen=True)
class TeamsTiming:
    timer: Timer = field(default_factory=MonotonicTimer)
    budget: InvokeBudget = field(default_factory=InvokeBudget)
    update_interval: float = 1.0  # seconds between two updates of one posted card
    late_answer_interval: float = 30.0  # between two late answers to one person about a card
