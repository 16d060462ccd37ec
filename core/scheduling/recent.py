"""Answers a process keeps for a short while, for what many requests in a row would read
again: a voter's clashes with a poll's times (read on each of their clicks), the people a
poll's card names (read on every vote).

Per process and never shared: a kept answer may be up to ``seconds`` old, so only answers
that may be that stale belong here (the calendar cache keeps busy times as long).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from cachetools import TTLCache

from core.ports import Clock

T = TypeVar("T")

KEPT_SECONDS = 120.0
KEPT_ANSWERS = 4096


@dataclass
class Recent:
    """Built once per process (``bot.services``); the least recently used answers go first,
    and answers age on ``clock`` (so tests move time themselves)."""

    clock: Clock
    seconds: float = KEPT_SECONDS
    limit: int = KEPT_ANSWERS
    _kept: TTLCache[Hashable, Any] = field(init=False)

    def __post_init__(self) -> None:
        self._kept = TTLCache(self.limit, self.seconds, timer=self._now)

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


async def recently(recent: Recent | None, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """``read()``'s answer, or one kept by ``recent`` (None: nothing is kept, as in tests of
    core alone)."""
    return await read() if recent is None else await recent.get(key, read)
