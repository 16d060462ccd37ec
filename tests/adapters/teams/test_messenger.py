"""Coalesced sends: a burst of card updates becomes a few, the newest last, a closed poll's
card is never replaced by an older open one, and nothing queued is lost at shutdown.

Time is a :class:`ManualTimer` the tests move themselves: no test waits on the wall clock.
"""

from __future__ import annotations

import asyncio
import itertools
from itertools import pairwise
from typing import Any, cast

from adapters.teams.messenger import CARD_JOB, Coalescer, DeliveryFailed, Pacer, TeamsMessenger
from core.views import MessageUpdate, Notice

INTERVAL = 10.0


async def ready() -> None:
    """Let every task that can run now run until it waits again."""
    for _ in range(20):
        await asyncio.sleep(0)


class ManualTimer:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.at = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self.at

    async def sleep(self, seconds: float, *, until: asyncio.Event | None = None) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.at + seconds, woken))
        if until is None:
            await woken
            return
        flushed = asyncio.ensure_future(until.wait())
        waits: set[asyncio.Future[Any]] = {woken, flushed}
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        flushed.cancel()
        woken.cancel()

    async def advance(self, seconds: float) -> None:
        self.at += seconds
        for deadline, woken in self._sleepers:
            if deadline <= self.at and not woken.done():
                woken.set_result(None)
        self._sleepers = [(d, w) for d, w in self._sleepers if not w.done()]
        await ready()


class Recorder:
    def __init__(self, timer: ManualTimer, *, fail_first: bool = False) -> None:
        self.timer = timer
        self.sent: list[tuple[float, str]] = []
        self.fail_first = fail_first

    async def send(self, item: str) -> None:
        await asyncio.sleep(0)  # a round trip to Teams
        if self.fail_first:
            self.fail_first = False
            raise DeliveryFailed(502)
        self.sent.append((self.timer.now(), item))

    @property
    def items(self) -> list[str]:
        return [item for _, item in self.sent]


async def test_a_burst_is_sent_at_most_once_an_interval_ending_with_the_newest():
    timer = ManualTimer()
    recorder = Recorder(timer)
    coalescer: Coalescer[str] = Coalescer(recorder.send, interval=INTERVAL, timer=timer)

    for n in range(50):  # a version each second
        coalescer.submit("card", f"v{n}")
        await ready()
        await timer.advance(1)
    await coalescer.idle()

    # The first at once, then the newest each interval, the last one last.
    assert recorder.items == ["v0", "v9", "v19", "v29", "v39", "v49"]
    times = [at for at, _ in recorder.sent]
    assert all(b - a >= INTERVAL for a, b in itertools.pairwise(times))
    assert coalescer.sent == 6


async def test_messages_are_coalesced_each_on_its_own():
    timer = ManualTimer()
    recorder = Recorder(timer)
    coalescer: Coalescer[str] = Coalescer(recorder.send, interval=INTERVAL, timer=timer)

    coalescer.submit("a", "a1")
    coalescer.submit("b", "b1")
    await coalescer.idle()  # both sent
    coalescer.submit("a", "a2")
    coalescer.submit("b", "b2")
    coalescer.submit("a", "a3")  # before a2 could go: a2 is never sent
    await ready()
    assert recorder.items == ["a1", "b1"]  # the interval has not passed
    await timer.advance(INTERVAL)
    await coalescer.idle()

    assert [item for item in recorder.items if item.startswith("a")] == ["a1", "a3"]
    assert [item for item in recorder.items if item.startswith("b")] == ["b1", "b2"]


async def test_a_final_card_is_never_replaced_by_one_submitted_after_it():
    timer = ManualTimer()
    recorder = Recorder(timer)
    coalescer: Coalescer[str] = Coalescer(recorder.send, interval=INTERVAL, timer=timer)

    coalescer.submit("poll", "open 1")
    await coalescer.idle()  # sent
    coalescer.submit("poll", "closed", final=True)
    coalescer.submit("poll", "open 2 (a vote counted just before the close)")
    await timer.advance(INTERVAL)
    await coalescer.idle()
    coalescer.submit("poll", "open 3")
    await timer.advance(INTERVAL)
    await coalescer.idle()

    assert recorder.items == ["open 1", "closed"]


async def test_flush_sends_what_waits_without_waiting_and_a_failure_stops_nothing():
    timer = ManualTimer()
    recorder = Recorder(timer, fail_first=True)
    coalescer: Coalescer[str] = Coalescer(recorder.send, interval=60, timer=timer)

    coalescer.submit("card", "v1")  # fails
    await coalescer.idle()
    coalescer.submit("card", "v2")  # would wait a minute
    await ready()
    assert recorder.items == []
    await coalescer.flush()

    assert recorder.items == ["v2"]
    assert timer.now() == 0  # sent at once, no minute waited


async def test_the_pacer_spaces_the_sends_into_one_conversation_and_no_other():
    # The pacer runs on the event loop's clock (aiolimiter): a fast pace keeps this quick, and
    # only lower bounds are asserted, since a loaded machine may send later, never sooner.
    per_second = 200
    pacer = Pacer(per_second)
    loop = asyncio.get_running_loop()
    started: list[tuple[str, float]] = []

    async def send(conversation: str) -> None:
        await pacer.wait(conversation)
        started.append((conversation, loop.time()))

    await asyncio.gather(*(send("chat") for _ in range(5)), send("other chat"))

    times = [at for c, at in started if c == "chat"]
    assert len(times) == 5
    assert all(later - earlier >= 1 / per_second - 1e-6 for earlier, later in pairwise(times))
    assert [c for c, _ in started].index("other chat") == 1  # its own pace, not behind "chat"


class CardJobs:
    """The inbox's ``keep_newest`` as the messenger calls it for a card: each write, held
    until the test lets it finish (the statement under way)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, int]] = []
        self.done = asyncio.Event()

    @property
    def written(self) -> list[int]:
        return [version for _, _, version in self.writes]

    async def keep_newest(self, kind: str, key: str, payload: Any, version: int) -> bool:
        assert payload["version"] == version
        self.writes.append((kind, key, version))
        await self.done.wait()
        return True


async def test_a_cards_version_is_kept_once_and_each_click_waits_for_that_write():
    """The clicks drawn together share one drawing: its card job is written once, and each
    click returns (its inbox row may complete) only once that write is done. A version at
    or below one kept already is not written again; a newer one is."""
    jobs = CardJobs()
    messenger = TeamsMessenger(
        cast("Any", None),
        cast("Any", None),
        cast("Any", None),
        clock=cast("Any", None),
        base_url="https://pairtime.example",
        inbox=cast("Any", jobs),
    )
    message = {"conversation": "19:c@thread.tacv2", "activity": "1", "service_url": "https://s"}

    def update(version: int) -> MessageUpdate:
        return MessageUpdate(message, Notice(f"state {version}"), version=version)

    drawn_together = update(3)
    clicks = [asyncio.ensure_future(messenger.apply([drawn_together])) for _ in range(5)]
    await ready()
    assert jobs.written == [3]
    assert not any(click.done() for click in clicks)  # the write is still under way
    jobs.done.set()
    await asyncio.gather(*clicks)
    await messenger.apply([update(2)])  # older than the one kept: the job holds newer
    await messenger.apply([update(3)])
    assert jobs.written == [3]
    await messenger.apply([update(4)])
    assert jobs.written == [3, 4]
    assert {(kind, key) for kind, key, _ in jobs.writes} == {
        (CARD_JOB, f"{CARD_JOB}:19:c@thread.tacv2:1")
    }
