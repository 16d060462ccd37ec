"""Answers kept a short while: read again once they are older than allowed, on the clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.scheduling.recent import Recent, recently, taking_turns, together
from tests.memory import FixedClock

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


async def test_an_answer_is_kept_until_it_is_older_than_allowed_and_the_oldest_goes_first():
    clock = FixedClock(NOW)
    recent = Recent(clock, seconds=10, limit=2)
    reads: list[str] = []

    def reader(key: str):
        async def read() -> str:
            reads.append(key)
            return f"{key}{len(reads)}"

        return read

    assert await recent.get("a", reader("a")) == "a1"
    assert await recent.get("a", reader("a")) == "a1"
    clock.current += timedelta(seconds=11)
    assert await recent.get("a", reader("a")) == "a2"
    await recent.get("b", reader("b"))
    await recent.get("c", reader("c"))  # two kept at most: "a" goes
    assert await recent.get("c", reader("c")) == "c4"
    assert await recent.get("a", reader("a")) == "a5"
    assert reads == ["a", "a", "b", "c", "a"]


async def test_without_a_keeper_every_call_reads():
    count = 0

    async def read() -> int:
        nonlocal count
        count += 1
        return count

    assert [await recently(None, "k", read) for _ in range(2)] == [1, 2]


class Drawings:
    """Drawings held until the test lets each go; numbered as they start."""

    def __init__(self) -> None:
        self.gates: list[asyncio.Event] = []
        self.changed = asyncio.Condition()

    async def draw(self) -> int:
        number = len(self.gates) + 1
        gate = asyncio.Event()
        self.gates.append(gate)
        async with self.changed:
            self.changed.notify_all()
        await gate.wait()
        return number

    async def started(self, count: int) -> None:
        async with self.changed:
            await self.changed.wait_for(lambda: len(self.gates) >= count)


async def test_callers_who_come_while_a_drawing_is_under_way_share_the_next_one():
    """A poll's card after each vote: one drawing for the votes counted meanwhile, and each
    caller's drawing starts after it asked (it shows that caller's vote)."""
    recent = Recent(FixedClock(NOW))
    drawings = Drawings()

    first = asyncio.create_task(recent.together("card", drawings.draw))
    await drawings.started(1)
    later = [asyncio.create_task(recent.together("card", drawings.draw)) for _ in range(3)]
    other = asyncio.create_task(recent.together("another card", drawings.draw))
    await drawings.started(2)  # the other card's
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(drawings.gates) == 2  # the card's next drawing waits for the first to end
    drawings.gates[0].set()
    assert await first == 1
    await drawings.started(3)
    drawings.gates[2].set()
    assert await asyncio.gather(*later) == [3, 3, 3]
    drawings.gates[1].set()
    assert await other == 2
    # Nothing under way: a caller draws at once, alone.
    alone = asyncio.create_task(recent.together("card", drawings.draw))
    await drawings.started(4)
    drawings.gates[3].set()
    assert await alone == 4


async def test_a_failed_drawing_fails_each_caller_who_shared_it():
    recent = Recent(FixedClock(NOW))
    gate = asyncio.Event()

    async def first() -> int:
        await gate.wait()
        return 1

    async def broken() -> int:
        raise RuntimeError("the database went away")

    under_way = asyncio.create_task(recent.together("card", first))
    await asyncio.sleep(0)
    sharing = [asyncio.create_task(recent.together("card", broken)) for _ in range(2)]
    await asyncio.sleep(0)
    gate.set()
    assert await under_way == 1
    for task in sharing:
        with pytest.raises(RuntimeError, match="went away"):
            await task
    assert await together(None, "card", first) == 1  # no keeper: a drawing each


class Pauses:
    """A monotonic clock the test moves, and sleeps that end when the test says."""

    def __init__(self) -> None:
        self.now = 0.0
        self.asked: list[float] = []
        self.over = asyncio.Event()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self.over.wait()


async def test_with_a_gap_drawings_start_that_far_apart_and_the_callers_meanwhile_share_one():
    """A burst of votes on one card: a drawing for the first at once, then one for those of
    the next ``gap`` seconds; alone, a vote is drawn at once."""
    pauses = Pauses()
    recent = Recent(FixedClock(NOW), gap=1.0, monotonic=pauses.monotonic, sleep=pauses.sleep)
    drawings = Drawings()

    first = asyncio.create_task(recent.together("card", drawings.draw))
    await drawings.started(1)
    drawings.gates[0].set()
    assert await first == 1
    pauses.now = 0.25
    soon = [asyncio.create_task(recent.together("card", drawings.draw)) for _ in range(3)]
    other = asyncio.create_task(recent.together("another card", drawings.draw))
    await drawings.started(2)  # the other card's, at once
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(drawings.gates) == 2
    assert pauses.asked == [0.75]  # the card's next drawing waits for the rest of the gap
    pauses.over.set()
    await drawings.started(3)
    drawings.gates[1].set()
    drawings.gates[2].set()
    assert await asyncio.gather(*soon) == [3, 3, 3]
    assert await other == 2
    pauses.now = 5.0  # the gap is over: a caller draws at once
    alone = asyncio.create_task(recent.together("card", drawings.draw))
    await drawings.started(4)
    drawings.gates[3].set()
    assert await alone == 4
    assert pauses.asked == [0.75]


async def test_a_request_taking_turns_ends_its_turn_and_shares_the_drawing_with_the_next():
    """Teams' clicks on one shared card are counted one after the other: each ends its turn
    when it asks for the card's drawing, so the clicks counted meanwhile share it and the
    gap holds (holding the turn through it, each would draw alone, or wait the gap alone)."""
    pauses = Pauses()
    recent = Recent(FixedClock(NOW), gap=1.0, monotonic=pauses.monotonic, sleep=pauses.sleep)
    drawings = Drawings()
    turn = asyncio.Lock()
    ended: list[int] = []

    async def click(number: int) -> int:
        await turn.acquire()

        def end() -> None:
            if number not in ended:
                ended.append(number)
                turn.release()

        with taking_turns(end):
            drawn = await recent.together("card", drawings.draw)
        end()  # as the adapter does: a second call does nothing
        return drawn

    first = asyncio.create_task(click(1))
    await drawings.started(1)
    assert ended == [1]  # alone: drawn at once, its turn ended when it asked
    drawings.gates[0].set()
    assert await first == 1
    pauses.now = 0.25
    clicks = [asyncio.create_task(click(n)) for n in (2, 3, 4)]
    for _ in range(10):
        await asyncio.sleep(0)
    assert ended == [1, 2, 3, 4]  # counted one after the other while the drawing waits
    assert pauses.asked == [0.75]
    pauses.over.set()
    await drawings.started(2)
    drawings.gates[1].set()
    assert await asyncio.gather(*clicks) == [2, 2, 2]
    assert len(drawings.gates) == 2
