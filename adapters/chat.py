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


class Sent(Protocol):
    """Which answers of one inbox row went out already, kept with the row.

    A row is run again when its process died before completing it (its lease ran out), and
    that run must not answer again what the first one answered: :func:`deliver` skips each
    step (``answer``, ``broadcast:…``, ``direct:…``) recorded here, and records each one it
    sent, in the row, right after the platform took it, but the last: the row's completion,
    which follows the delivery at once, is that step's record (one write, not two). What can
    still be sent twice is a step whose process died between the platform taking it and its
    record (a round trip to the database): neither Slack nor Teams takes a key that would
    let it drop a resend.

    A process whose event loop stalled for longer than the row's lease may find the row
    taken over by another process, which then answers it: :meth:`ours` turns False, and
    :func:`deliver` sends nothing more of its own (what was on its way during the stall
    may still go twice).
    """

    def already(self, step: str) -> bool: ...

    async def ours(self) -> bool:
        """Whether the row is still this process's to answer."""
        ...

    async def record(self, step: str) -> None: ...


# What the receiving process does with a row it kept, given what to record its answers in.
RowWork = Callable[[Sent], Awaitable[None]]


class _Unkept:
    """For a request with no row of its own (a resent copy, work Pairtime started)."""

    def already(self, step: str) -> bool:
        del step
        return False

    async def ours(self) -> bool:
        return True

    async def record(self, step: str) -> None:
        del step

    async def done(self) -> None:
        pass

    @property
    def sent(self) -> Sent:
        return self


UNKEPT = _Unkept()


class Held(Protocol):
    """An inbox row the process that received it works on itself (:meth:`Inbox.hold`)."""

    @property
    def sent(self) -> Sent: ...

    async def done(self) -> None:
        """The request was handled: the row is complete, and never runs again."""
        ...


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

    async def keep(self, kind: str, key: str, payload: Json, *, work: RowWork) -> bool:
        """Store a row, committed when this returns; False when ``key`` was kept already.

        This process may run the row itself: ``work`` then does what the handler would,
        soon after the acknowledgement, given what to record its answers in, and the handler
        runs the row only if ``work`` fails or this process dies first (or its worker is
        full)."""
        ...

    async def keep_newest(self, kind: str, key: str, payload: Json, version: int) -> bool:
        """Store a row, committed when this returns, that replaces one of the same key
        unless that one holds a higher version, and runs again: the newest render of a
        card, never an older one. It runs in this process, stored already leased to it (no
        claim), unless another process is running the row: that one runs the new version
        next."""
        ...

    async def hold(self, kind: str, key: str, payload: Json) -> Held:
        """Store a row that this process works on itself (an answer Teams waits for), under a
        short lease its worker renews while the row is held; :meth:`Held.done` completes it.
        Only if the process dies first (the lease runs out) does the handler of ``kind`` run
        it, in whichever process claims it then. When ``key`` was kept already (a resent
        request), nothing is stored and the returned row records nothing."""
        ...

    def sent(self, job: Job) -> Sent:
        """What the earlier runs of ``job`` (a row this process's worker is running) sent."""
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
    sent: Sent = UNKEPT,
) -> bool:
    """Deliver ``outcome`` in full through ``transport``; False when a step failed.

    Every effect is attempted whatever happened to the others: other people's messages go
    out even when the answer could not. An answer that cannot go where ``speaker`` spoke
    goes to their private chat. Each failure is logged, and the speaker gets one apology.
    ``posted`` learns where a broadcast landed (core's :meth:`Scheduler.posted`). ``sent``
    is the inbox row's record of what went out: a step an earlier run of the row sent is
    skipped (updates of cards are versioned instead, and always applied), and so is every
    step once the row is found taken over by another process (``Sent.ours``), which answers
    it then.
    """
    complete = True
    named = _named(outcome.effects())
    last = next((name for name, _ in reversed(named) if name is not None), None)
    lost = False
    for step in _steps(named):
        if not lost and any(name is not None for name, _ in step):
            lost = not await sent.ours()
        steps = [
            _once(
                name if name != last else None,
                sent,
                perform(effect, transport, speaker=speaker, posted=posted),
                skip=name is not None and (lost or sent.already(name)),
            )
            for name, effect in step
        ]
        # A lone effect (most answers) is awaited here: a task of its own costs more CPU
        # than sending it.
        done = [await steps[0]] if len(steps) == 1 else await asyncio.gather(*steps)
        complete &= all(done)
    if not complete:
        await _attempt(transport, transport.apologise())
    return complete


async def _once(
    record: str | None, sent: Sent, performed: Coroutine[Any, Any, bool], *, skip: bool
) -> bool:
    """``performed``, unless an earlier run sent it (``skip``); then recorded as ``record``."""
    if skip:
        performed.close()
        return True
    done = await performed
    if done and record is not None:
        await sent.record(record)
    return done


def _named(effects: Iterable[Effect]) -> list[tuple[str | None, Effect]]:
    """Each effect with the name it is recorded under in :class:`Sent` (None: not recorded,
    a versioned card update applied as often as it comes)."""
    named: list[tuple[str | None, Effect]] = []
    seen: dict[str, int] = {}
    for effect in effects:
        match effect:
            case Answer():
                base: str | None = "answer"
            case Broadcast(key=key):
                base = f"broadcast:{key}"
            case DirectMessage(person=person):
                base = f"direct:{person}"
            case MessageUpdate():
                base = None
            case _:
                assert_never(effect)
        if base is None:
            named.append((None, effect))
            continue
        seen[base] = seen.get(base, 0) + 1
        named.append((f"{base}:{seen[base]}" if seen[base] > 1 else base, effect))
    return named


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


Named = tuple[str | None, Effect]


def _steps(effects: Iterable[Named]) -> list[list[Named]]:
    """The effects in order, private messages side by side: they go out concurrently."""
    steps: list[list[Named]] = []
    for named in effects:
        if (
            steps
            and isinstance(named[1], DirectMessage)
            and isinstance(steps[-1][0][1], DirectMessage)
        ):
            steps[-1].append(named)
        else:
            steps.append([named])
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

    async def claim(self, key: str, lease: timedelta) -> bool:
        """``key`` claimed for ``lease`` (see ``EventLog.claim``): :meth:`settle` it once the
        work is done, :meth:`release` it when the work failed."""
        return await self._events.claim(key, self._clock.now(), lease)

    async def settle(self, key: str) -> None:
        await self._events.settle(key)

    async def release(self, key: str) -> None:
        await self._events.release(key)
