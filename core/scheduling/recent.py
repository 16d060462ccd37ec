"""Answers a process keeps for a short while, for what many requests in a row would read
again: a voter's clashes with a poll's times (read on each of their clicks), the people a
poll's card names (read on every vote).

Per process and never shared: a kept answer may be up to ``seconds`` old, so only answers
that may be that stale belong here (the calendar cache keeps busy times as long).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from core.ports import Clock

T = TypeVar("T")

KEPT_SECONDS = 120.0
KEPT_ANSWERS = 4096


@dataclass
class Recent:
    """Built once per process (``bot.services``); the oldest answers go first."""

    clock: Clock
    seconds: float = KEPT_SECONDS
    limit: int = KEPT_ANSWERS
    _kept: OrderedDict[Hashable, tuple[datetime, Any]] = field(
        default_factory=OrderedDict, init=False
    )

    async def get(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """The answer kept for ``key`` if it is recent enough, else ``read()``'s, kept."""
        now = self.clock.now()
        kept = self._kept.get(key)
        if kept is not None and now - kept[0] < timedelta(seconds=self.seconds):
            return cast("T", kept[1])
        answer = await read()
        self._kept[key] = (now, answer)
        self._kept.move_to_end(key)
        while len(self._kept) > self.limit:
            self._kept.popitem(last=False)
        return answer


async def recently(recent: Recent | None, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """``read()``'s answer, or one kept by ``recent`` (None: nothing is kept, as in tests of
    core alone)."""
    return await read() if recent is None else await recent.get(key, read)
