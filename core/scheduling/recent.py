"""Answers a process keeps for a short while, for what many requests in a row would read
again: a voter's clashes with a poll's times (read on each of their clicks), the people a
poll's card names (read on every vote).

Per process and never shared: a kept answer may be up to ``seconds`` old, so only answers
that may be that stale belong here (the calendar cache keeps busy times as long).

Also answers drawn for several requests at once (:meth:`Recent.together`): a poll's card,
drawn after each vote, is drawn once for the votes counted while the last drawing was under
way, or, with a ``gap``, in the ``gap`` seconds after it started. Never stale: each caller's
drawing starts after it asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from cachetools import TTLCache

from core.ports import Clock

T = TypeVar("T")

# Set while the caller's request holds its turn (see ``taking_turns``): ends that turn.
_END_TURN: ContextVar[Callable[[], None] | None] = ContextVar("pairtime_end_turn", default=None)

KEPT_SECONDS = 120.0
KEPT_ANSWERS = 4096
# A poll's card is drawn at most this often per process: under a burst of votes, one drawing
# (its tally read, its card job written and completed) for the votes of a quarter second,
# not one each. A vote waits for it at most this long (its answer goes after the card's),
# and alone, not at all. Slack and Teams take an update of a message about once a second.
DRAWING_GAP_SECONDS = 0.25


@dataclass
class Recent:
    """Built once per process (``bot.services``); the least recently used answers go first,
    and answers age on ``clock`` (so tests move time themselves). Drawings ``together`` start
    at least ``gap`` seconds apart per key, timed by ``monotonic`` and waited for by
    ``sleep`` (tests pass their own)."""

    clock: Clock
    seconds: float = KEPT_SECONDS
    limit: int = KEPT_ANSWERS
    gap: float = 0.0
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _kept: TTLCache[Hashable, Any] = field(init=False)
    _drawing: dict[Hashable, asyncio.Future[Any]] = field(default_factory=dict, init=False)
    # A drawing waiting for its start (``gap``): the callers who come meanwhile share it.
    _starting: dict[Hashable, asyncio.Future[Any]] = field(default_factory=dict, init=False)
    _started: TTLCache[Hashable, float] = field(init=False)  # when each key's drawing started
    # The drawing that starts when the one under way ends, and what it runs.
    _next: dict[Hashable, tuple[asyncio.Future[Any], Callable[[], Awaitable[Any]]]] = field(
        default_factory=dict, init=False
    )

    def __post_init__(self) -> None:
        self._kept = TTLCache(self.limit, self.seconds, timer=self._now)
        self._started = TTLCache(self.limit, max(self.gap, 1e-6), timer=self.monotonic)

    def _now(self) -> float:
        return self.clock.now().timestamp()

    async def get(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """The answer kept for ``key`` if it is recent enough, else ``read()``'s, kept."""
        try:
            return cast("T", self._kept[key])
        except KeyError:
            answer = await read()
            self._kept[key] = answer
            return answer

    async def together(self, key: Hashable, draw: Callable[[], Awaitable[T]]) -> T:
        """An answer of ``draw()`` started after this call, shared: with no drawing for
        ``key`` under way, one starts now (or once ``gap`` seconds have passed since the
        last one started: the callers who come until then share it); else the callers who
        come meanwhile share the one that starts when it ends (run with the first of them's
        ``draw``). Under a burst that is one drawing for many callers, each seeing a state
        at least as new as when it asked; alone, a drawing each. A caller ``taking_turns``
        ends its turn first: the next one can then come to share the drawing."""
        end_turn = _END_TURN.get()
        if end_turn is not None:
            end_turn()
        starting = self._starting.get(key)
        if starting is not None:
            return cast("T", await asyncio.shield(starting))
        if key not in self._drawing:
            return cast("T", await asyncio.shield(self._start(key, draw)))
        waiting = self._next.get(key)
        if waiting is None:
            waiting = self._next[key] = (asyncio.get_running_loop().create_future(), draw)
        return cast("T", await asyncio.shield(waiting[0]))

    def _start(self, key: Hashable, draw: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any]:
        last = self._started.get(key)
        wait = 0.0 if last is None else last + self.gap - self.monotonic()
        drawing = asyncio.ensure_future(self._draw(key, draw, wait))
        self._drawing[key] = drawing
        if wait > 0:
            self._starting[key] = drawing
        drawing.add_done_callback(lambda done: self._ended(key, done))
        return drawing

    async def _draw(self, key: Hashable, draw: Callable[[], Awaitable[Any]], wait: float) -> Any:
        if wait > 0:
            try:
                await self.sleep(wait)
            finally:
                self._starting.pop(key, None)
        # No await since the callers stopped joining: each of them asked before this start.
        if self.gap > 0:
            self._started[key] = self.monotonic()
        return await draw()

    def _ended(self, key: Hashable, done: asyncio.Future[Any]) -> None:
        if self._drawing.get(key) is done:
            del self._drawing[key]
        waiting = self._next.pop(key, None)
        if waiting is None:
            return
        shared, draw = waiting
        self._start(key, draw).add_done_callback(lambda drawn: _pass_on(drawn, shared))


@contextlib.contextmanager
def taking_turns(end_turn: Callable[[], None]) -> Iterator[None]:
    """Around a request that holds a turn (Teams' clicks on one shared card are counted one
    after the other): ``end_turn`` is called when it asks for a drawing ``together``, its
    counting done, so that the next request is counted meanwhile and shares the drawing.
    Holding the turn through the drawing, the requests could share none: each would draw
    alone (a tally, a card job and its completion a vote), or wait the whole gap alone.
    ``end_turn`` may be called again by the caller: it must do nothing the second time."""
    token = _END_TURN.set(end_turn)
    try:
        yield
    finally:
        _END_TURN.reset(token)


def _pass_on(drawn: asyncio.Future[Any], shared: asyncio.Future[Any]) -> None:
    if shared.done():
        return
    if drawn.cancelled():
        shared.cancel()
    elif (error := drawn.exception()) is not None:
        shared.set_exception(error)
    else:
        shared.set_result(drawn.result())


async def together(recent: Recent | None, key: Hashable, draw: Callable[[], Awaitable[T]]) -> T:
    """``draw()``'s answer, shared with the callers who come while it is drawn (see
    :meth:`Recent.together`; None: each caller draws its own)."""
    return await draw() if recent is None else await recent.together(key, draw)


async def recently(recent: Recent | None, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """``read()``'s answer, or one kept by ``recent`` (None: nothing is kept, as in tests of
    core alone)."""
    return await read() if recent is None else await recent.get(key, read)
