"""What every chat adapter (Slack, Teams, the web playground) is given and must provide, and
the one way a core :class:`~core.views.Outcome` reaches people.

``bot.server`` builds a :class:`ChatContext` once the event loop runs, asks each
configured adapter for its :class:`ChatEndpoint`, forwards that platform's HTTP
requests to it, and registers its messenger for messages Pairtime sends first and its
channel members for polls that invite a whole channel.

Delivering: each platform implements :class:`Transport` (answer where the person spoke,
replace the clicked message, write to a person privately, post for everyone and say where
it landed, update an earlier message, apologise) and :func:`deliver` decides the rest the
same way everywhere. An outcome is a list of effects (:meth:`Outcome.effects`), each
performed on its own by :func:`perform`: a durable outbox can keep them and replay them
through the same transports.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar, assert_never

import aiohttp
from aiohttp import web

from core.errors import ServiceError
from core.jobs import Job, Json
from core.people import PersonId
from core.ports import ChannelMembers, ChatAddresses, Clock, EventLog, Messenger
from core.scheduling import Ports, Scheduler
from core.views import Answer, Broadcast, DirectMessage, Effect, MessageUpdate, Outcome, View

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ChatContext:
    scheduler: Scheduler  # the use cases; ``ports`` are what they work with
    events: EventLog  # chat events seen before, for deduplication across processes
    addresses: ChatAddresses  # how to reach people and channels later (Teams' references)
    clock: Clock
    base_url: str  # the public address, for links
    http: aiohttp.ClientSession  # the shared outbound session
    inbox: Inbox  # interactions kept before they are acknowledged; card renders in order

    @property
    def ports(self) -> Ports:
        return self.scheduler.ports


# Slack's and Teams' payloads nest about a dozen levels (rich text in blocks in a message,
# cards in attachments); far deeper nesting is nothing a chat platform sends, and would cost
# recursion (deserialising, copying, serialising) further in.
MAX_NESTING = 40


def nested_deeper_than(value: object, levels: int = MAX_NESTING) -> bool:
    """Whether parsed JSON ``value`` has more than ``levels`` levels of lists and objects.

    Level by level, without recursion, in time linear in the size of ``value``.
    """
    level: list[object] = [value]
    for _ in range(levels):
        inner: list[object] = []
        for item in level:
            if isinstance(item, dict):
                inner.extend(item.values())
            elif isinstance(item, list):
                inner.extend(item)
        if not inner:
            return False
        level = inner
    return True


InboxHandler = Callable[[Job], Awaitable[None]]


class Inbox(Protocol):
    """What Pairtime acknowledges is first a row in the database, processed from there once.

    An adapter ``keep``s an interaction (a JSON payload, under a key that names it once:
    Slack's ``event_id`` or ``trigger_id``, Teams' activity id) and acknowledges only after
    that returned; the handler it registered for the ``kind`` then runs it in some process,
    once. A process that dies leaves its rows to another, or to itself on restart.
    """

    def handle(self, kind: str, handler: InboxHandler) -> None:
        """Run ``handler`` for each kept row of ``kind`` (registered once per process)."""
        ...

    async def keep(
        self,
        kind: str,
        key: str,
        payload: Json,
        *,
        version: int | None = None,
        after: timedelta | None = None,
        work: Callable[[], Awaitable[None]] | None = None,
    ) -> bool:
        """Store a row, committed when this returns; False when ``key`` was kept already.

        With ``work`` (and neither ``version`` nor ``after``), this process may run the row
        itself: ``work`` then does what the handler would, soon after the acknowledgement,
        and the handler runs the row only if ``work`` fails or this process dies first.

        With ``version`` the row replaces one of the same key unless that one holds a
        higher version, and runs again: the newest render of a card, never an older one.
        With ``after``, the row is a safety net: the adapter works on the request itself
        (an answer Teams waits for) and drops the row when done (:meth:`forget`); only a row
        still there ``after`` that long (its process died) is run by the handler.
        """
        ...

    async def forget(self, key: str) -> None:
        """The request of a row kept with ``after`` was handled: the handler never runs it."""
        ...

    async def idle(self) -> None:
        """Return once every row due now has been processed (tests, benchmarks)."""
        ...

    def receiving(self) -> AbstractContextManager[None]:
        """Around the receiving of a request, up to its acknowledgement: meanwhile the rows
        wait, so that acknowledgements go first under a burst."""
        ...


class ChatEndpoint(Protocol):
    @property
    def messenger(self) -> Messenger:
        """Delivers direct messages on this platform."""
        ...

    @property
    def channel_members(self) -> ChannelMembers:
        """Lists a channel's people on this platform (a poll with nobody named)."""
        ...

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one HTTP request for this platform's paths."""
        ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------- delivering


class Transport(Protocol):
    """Where one conversation's answers go, on one platform. Each step raises when the
    platform refused it; :func:`deliver` logs that (see :meth:`describe`) and carries on."""

    async def answer(self, view: View, *, replace: bool) -> None:
        """Answer where the person spoke (only they see it, where the platform allows);
        with ``replace``, in place of the message they clicked, when there is one."""
        ...

    async def direct(self, person: PersonId, view: View) -> None:
        """Write to ``person`` privately; logs and returns when they cannot be reached."""
        ...

    async def broadcast(self, view: View, channel: str | None) -> Mapping[str, str] | None:
        """Post ``view`` for everyone in ``channel`` (None: where the person spoke) and
        return where it landed, as core keeps it; None when it could not be posted there
        and the person was told why."""
        ...

    async def update(self, update: MessageUpdate) -> None:
        """Replace a message posted earlier; may coalesce, and return once it is queued."""
        ...

    async def apologise(self) -> None:
        """Tell the person something went wrong, where they spoke or else privately."""
        ...

    def describe(self, error: Exception) -> str | None:
        """One line for a refusal the platform explains (its error code, never a payload),
        or None for an unexpected error, which is logged with its traceback."""
        ...


Posted = Callable[[str, Mapping[str, str]], Awaitable[None]]


async def deliver(
    outcome: Outcome,
    transport: Transport,
    *,
    speaker: PersonId | None = None,
    posted: Posted | None = None,
) -> bool:
    """Deliver ``outcome`` in full through ``transport``; False when a step failed.

    Every effect is attempted whatever happened to the others: other people's messages go
    out even when the answer could not. An answer that cannot go where ``speaker`` spoke
    goes to their private chat. Each failure is logged, and the speaker gets one apology.
    ``posted`` learns where a broadcast landed (core's :meth:`Scheduler.posted`).
    """
    complete = True
    for step in _steps(outcome.effects()):
        done = await asyncio.gather(
            *(perform(effect, transport, speaker=speaker, posted=posted) for effect in step)
        )
        complete &= all(done)
    if not complete:
        await _attempt(transport, transport.apologise())
    return complete


async def perform(
    effect: Effect,
    transport: Transport,
    *,
    speaker: PersonId | None = None,
    posted: Posted | None = None,
) -> bool:
    """Perform one effect; False (logged) when it failed."""
    match effect:
        case Answer(view=view, replaces_original=replace):
            if await _attempt(transport, transport.answer(view, replace=replace)):
                return True
            if speaker is None:
                return False
            return await _attempt(transport, transport.direct(speaker, view))
        case Broadcast():
            return await _attempt(transport, _broadcast(effect, transport, posted))
        case DirectMessage(person=person, view=view):
            return await _attempt(transport, transport.direct(person, view))
        case MessageUpdate():
            return await _attempt(transport, transport.update(effect))
        case _:
            assert_never(effect)


async def _broadcast(broadcast: Broadcast, transport: Transport, posted: Posted | None) -> None:
    where = await transport.broadcast(broadcast.view, broadcast.channel)
    if where is not None and posted is not None:
        await posted(broadcast.key, where)


def _steps(effects: Iterable[Effect]) -> list[list[Effect]]:
    """The effects in order, private messages side by side: they go out concurrently."""
    steps: list[list[Effect]] = []
    for effect in effects:
        if steps and isinstance(effect, DirectMessage) and isinstance(steps[-1][0], DirectMessage):
            steps[-1].append(effect)
        else:
            steps.append([effect])
    return steps


async def _attempt(transport: Transport, step: Awaitable[None]) -> bool:
    try:
        await step
    except Exception as error:
        said = transport.describe(error)
        if said is None and isinstance(error, ServiceError):  # it says what failed
            said = f"{type(error).__name__}: {error}"
        if said is None:
            log.exception("a chat delivery step failed", exc_info=error)
        else:
            log.warning("%s", said)
        return False
    return True


# ---------------------------------------------------------------- after the acknowledgement

MAX_CONCURRENT = 32  # requests worked on at once; more wait their turn
SHUTDOWN_GRACE_SECONDS = 10.0


class BackgroundWork:
    """Work that runs after the platform has its acknowledgement: tracked tasks, bounded.

    Slack resends what is not acknowledged within 3 seconds, Teams soon after; reading
    calendars can take longer. Tasks started here can be awaited (:meth:`idle`: tests and
    benchmarks), and are given time to finish at shutdown. ``limit`` bounds the work that
    runs at once (``limited=False`` work, such as a click whose answer someone is waiting
    for, does not queue behind it).
    """

    def __init__(self, platform: str, *, limit: int = MAX_CONCURRENT) -> None:
        self._platform = platform
        self._tasks: set[asyncio.Future[Any]] = set()
        self._slots = asyncio.Semaphore(limit)

    def spawn(
        self,
        work: Coroutine[Any, Any, T],
        *,
        limited: bool = True,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> asyncio.Future[T]:
        """Run ``work`` soon, and return its future; an error that escapes it is logged
        (by ``on_error`` when given), never lost."""
        task: asyncio.Future[T] = asyncio.ensure_future(self._limited(work) if limited else work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda done: self._escaped(done, on_error))
        return task

    async def _limited(self, work: Coroutine[Any, Any, T]) -> T:
        async with self._slots:
            return await work

    def _escaped(
        self, task: asyncio.Future[Any], on_error: Callable[[BaseException], None] | None
    ) -> None:
        if task.cancelled() or (error := task.exception()) is None:
            return
        if on_error is not None:
            on_error(error)
        else:
            log.error("%s work failed after its acknowledgement", self._platform, exc_info=error)

    async def idle(self) -> None:
        """Return once no work is left (work started meanwhile is waited for too)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Let running work finish for ``grace`` seconds, then cancel the rest."""
        if not self._tasks:
            return
        _, unfinished = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in unfinished:
            task.cancel()
        if unfinished:
            log.warning(
                "stopped %d unfinished %s request(s) at shutdown", len(unfinished), self._platform
            )
            await asyncio.gather(*unfinished, return_exceptions=True)


# ---------------------------------------------------------------- each event once


class Deduplicator:
    """Each chat event acted on once, across processes: Slack and Teams resend what they
    think was lost. ``key`` names the event (``slack:{event_id}``); the first caller
    anywhere gets True, every later one False."""

    def __init__(self, events: EventLog, clock: Clock) -> None:
        self._events = events
        self._clock = clock

    async def first_time(self, key: str) -> bool:
        return await self._events.first_time(key, self._clock.now())
