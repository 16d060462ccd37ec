"""Coalesced sends: a burst of card updates becomes a few, the newest last, a closed poll's
card is never replaced by an older open one, and nothing queued is lost at shutdown."""

from __future__ import annotations

import asyncio
import itertools
import time

from adapters.teams.messenger import Coalescer, DeliveryFailed

INTERVAL = 0.1


class Recorder:
    def __init__(self, *, fail_first: bool = False) -> None:
        self.sent: list[tuple[float, str]] = []
        self.fail_first = fail_first

    async def send(self, item: str) -> None:
        await asyncio.sleep(0.005)  # a round trip to Teams
        if self.fail_first:
            self.fail_first = False
            raise DeliveryFailed(502)
        self.sent.append((time.monotonic(), item))


async def test_a_burst_is_sent_at_most_once_an_interval_ending_with_the_newest():
    recorder = Recorder()
    coalescer: Coalescer[str] = Coalescer(recorder.send, interval=INTERVAL)

    for n in range(50):
        coalescer.submit("card", f"v{n}")
        await asyncio.sleep(0.01)  # 50 versions over half a second
    await asyncio.sleep(INTERVAL * 2)

    items = [item for _, item in recorder.sent]
    assert items[0] == "v0"  # the first goes at once
    assert items[-1] == "v49"  # the last is the newest
    assert 3 <= len(items) <= 8  # about one an interval over half a second, not 50
    times = [at for at, _ in recorder.sent]
    assert all(b - a >= INTERVAL * 0.9 for a, b in itertools.pairwise(times))
    assert coalescer.sent == len(items)


async def test_messages_are_coalesced_each_on_its_own():
    recorder = Recorder()
    coalescer: Coalescer[str] = Coalescer(recorder.send, interval=INTERVAL)

    coalescer.submit("a", "a1")
    coalescer.submit("b", "b1")
    await asyncio.sleep(0.02)  # both sent
    coalescer.submit("a", "a2")
    coalescer.submit("b", "b2")
    coalescer.submit("a", "a3")  # before a2 could go: a2 is never sent
    await asyncio.sleep(INTERVAL * 2)

    sent = [item for _, item in recorder.sent]
    assert [item for item in sent if item.startswith("a")] == ["a1", "a3"]
    assert [item for item in sent if item.startswith("b")] == ["b1", "b2"]


async def test_a_final_card_is_never_replaced_by_one_submitted_after_it():
    recorder = Recorder()
    coalescer: Coalescer[str] = Coalescer(recorder.send, interval=INTERVAL)

    coalescer.submit("poll", "open 1")
    await asyncio.sleep(0.02)  # sent
    coalescer.submit("poll", "closed", final=True)
    coalescer.submit("poll", "open 2 (a vote counted just before the close)")
    await asyncio.sleep(INTERVAL * 2)
    coalescer.submit("poll", "open 3")
    await asyncio.sleep(INTERVAL * 2)

    assert [item for _, item in recorder.sent] == ["open 1", "closed"]


async def test_flush_sends_what_waits_without_waiting_and_a_failure_stops_nothing():
    recorder = Recorder(fail_first=True)
    coalescer: Coalescer[str] = Coalescer(recorder.send, interval=60)

    coalescer.submit("card", "v1")  # fails
    await asyncio.sleep(0.02)
    coalescer.submit("card", "v2")  # would wait a minute
    started = time.monotonic()
    await coalescer.flush()

    assert [item for _, item in recorder.sent] == ["v2"]
    assert time.monotonic() - started < 1
