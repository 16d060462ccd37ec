"""Answers kept a short while: read again once they are older than allowed, on the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.scheduling.recent import Recent, recently
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
