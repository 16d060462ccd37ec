"""Work that runs after Slack has its acknowledgement: tracked tasks, with a bound.

Bolt's lazy listeners would do the same, but bolt deep-copies each request
for them, Web API client included, and that client holds the process's
shared aiohttp session, which cannot be copied (``TypeError: cannot pickle
'_contextvars.Context'``); the copy would also cost every request. Tasks
started here share the request's objects instead, can be awaited (tests,
benchmarks) and are given time to finish at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

MAX_CONCURRENT = 32  # requests worked on at once; more wait their turn
SHUTDOWN_GRACE_SECONDS = 10


class BackgroundWork:
    def __init__(self, *, limit: int = MAX_CONCURRENT) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(limit)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` soon; it must handle its own errors (they are logged here too)."""
        task = asyncio.get_running_loop().create_task(self._run(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, work: Coroutine[Any, Any, None]) -> None:
        async with self._slots:
            try:
                await work
            except Exception:
                log.exception("Slack work failed after its acknowledgement")

    async def idle(self) -> None:
        """Return once no work is left (work started meanwhile is waited for too)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        if not self._tasks:
            return
        _, unfinished = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in unfinished:
            task.cancel()
        if unfinished:
            log.warning("stopped %d unfinished Slack request(s) at shutdown", len(unfinished))
            await asyncio.gather(*unfinished, return_exceptions=True)
