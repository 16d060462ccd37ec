"""Single flight: one run for concurrent requests, and nobody's cancellation stops it."""

from __future__ import annotations

import asyncio

import pytest

from adapters.flight import InFlight


class Work:
    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()

    async def __call__(self) -> str:
        self.runs += 1
        await self.release.wait()
        return f"run {self.runs}"


async def test_concurrent_requests_share_one_run_and_the_next_starts_another():
    flights: InFlight[str, str] = InFlight()
    work = Work()
    waiting = [asyncio.ensure_future(flights.run("ana", work)) for _ in range(3)]
    await asyncio.sleep(0)  # every request has joined, none finished
    assert "ana" in flights
    work.release.set()

    assert await asyncio.gather(*waiting) == ["run 1"] * 3
    assert "ana" not in flights
    assert await flights.run("ana", work) == "run 2"


async def test_a_caller_who_gives_up_leaves_the_run_to_the_others():
    flights: InFlight[str, str] = InFlight()
    work = Work()
    first = asyncio.ensure_future(flights.run("ana", work))
    second = asyncio.ensure_future(flights.run("ana", work))
    await asyncio.sleep(0)
    first.cancel()
    work.release.set()

    assert await second == "run 1"
    assert first.cancelled()


async def test_a_failure_reaches_every_waiter_and_is_not_kept():
    flights: InFlight[str, str] = InFlight()

    async def fails() -> str:
        await asyncio.sleep(0)
        raise LookupError("nobody")

    waiting = [asyncio.ensure_future(flights.run("ana", fails)) for _ in range(2)]
    for request in waiting:
        with pytest.raises(LookupError):
            await request
    assert flights.get("ana") is None


async def test_one_batch_run_stands_for_several_keys():
    flights: InFlight[str, dict[str, int]] = InFlight()
    release = asyncio.Event()

    async def read() -> dict[str, int]:
        await release.wait()
        return {"ana": 1, "ben": 2}

    running = flights.start(["ana", "ben"], read())
    assert flights.get("ben") is running
    release.set()
    assert await running == {"ana": 1, "ben": 2}
    await asyncio.sleep(0)  # done callbacks run on the next turn of the loop
    assert flights.get("ana") is None
    assert flights.get("ben") is None
