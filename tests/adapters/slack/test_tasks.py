"""Work after the acknowledgement: awaited when asked, bounded, and ended at shutdown."""

from __future__ import annotations

import asyncio

import pytest

from adapters.slack.tasks import BackgroundWork


async def test_idle_waits_for_work_started_meanwhile():
    work = BackgroundWork()
    done: list[str] = []

    async def second() -> None:
        done.append("second")

    async def first() -> None:
        await asyncio.sleep(0.01)
        work.spawn(second())
        done.append("first")

    work.spawn(first())
    await work.idle()

    assert done == ["first", "second"]


async def test_no_more_than_the_limit_run_at_once():
    work = BackgroundWork(limit=2)
    running = 0
    most = 0

    async def job() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    for _ in range(6):
        work.spawn(job())
    await work.idle()

    assert most == 2


async def test_shutdown_gives_work_time_then_stops_it(caplog: pytest.LogCaptureFixture):
    work = BackgroundWork()
    finished: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0.01)
        finished.append("quick")

    async def stuck() -> None:
        await asyncio.sleep(60)
        finished.append("stuck")

    work.spawn(quick())
    work.spawn(stuck())
    await work.close(grace=0.2)

    assert finished == ["quick"]
    assert "stopped 1 unfinished Slack request(s) at shutdown" in caplog.text


async def test_an_escaping_error_is_logged_not_lost(caplog: pytest.LogCaptureFixture):
    work = BackgroundWork()

    async def broken() -> None:
        raise RuntimeError("boom")

    work.spawn(broken())
    await work.idle()

    assert "Slack work failed after its acknowledgement" in caplog.text
