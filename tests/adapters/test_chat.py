"""What every chat adapter shares: work after the acknowledgement (awaited when asked,
bounded, ended at shutdown), one way of delivering an outcome, and each event once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.chat import BackgroundWork, Deduplicator, deliver
from core.people import PersonId
from core.views import Broadcast, DirectMessage, MessageUpdate, Notice, Outcome, View
from tests.memory import FixedClock


async def test_idle_waits_for_work_started_meanwhile():
    work = BackgroundWork("Slack")
    done: list[str] = []

    async def second() -> None:
        done.append("second")

    async def first() -> None:
        await asyncio.sleep(0)  # work that yields once; no timer, so no machine is too slow
        work.spawn(second())
        done.append("first")

    work.spawn(first())
    await work.idle()

    assert done == ["first", "second"]


async def test_no_more_than_the_limit_run_at_once():
    work = BackgroundWork("Slack", limit=2)
    running = 0
    most = 0

    async def job() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)
        running -= 1

    for _ in range(6):
        work.spawn(job())
    await work.idle()

    assert most == 2


async def test_shutdown_gives_work_time_then_stops_it(caplog: pytest.LogCaptureFixture):
    work = BackgroundWork("Slack")
    finished: list[str] = []

    async def quick() -> None:
        # Yields once and is done: a timer of its own could fall due after the grace's on a
        # machine that paused the loop for longer than the grace.
        await asyncio.sleep(0)
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
    work = BackgroundWork("Slack")

    async def broken() -> None:
        raise RuntimeError("boom")

    work.spawn(broken())
    await work.idle()

    assert "Slack work failed after its acknowledgement" in caplog.text


# ---------------------------------------------------------------- deliver


class Refused(Exception):
    """A platform's refusal, which the transport can name."""


class Recording:
    """A transport that records each step, failing the ones it is told to."""

    def __init__(self, *, fail: set[str] | None = None, where: dict[str, str] | None = None):
        self.steps: list[tuple[str, object]] = []
        self.fail = fail or set()
        self.where = where

    async def _step(self, name: str, detail: object) -> None:
        await asyncio.sleep(0)
        if name in self.fail or f"{name}:{detail}" in self.fail:
            raise Refused(name)
        self.steps.append((name, detail))

    async def answer(self, view: View, *, replace: bool) -> None:
        await self._step("replace" if replace else "answer", text(view))

    async def direct(self, person: PersonId, view: View) -> None:
        await self._step("direct", f"{person}={text(view)}")

    async def broadcast(self, view: View, channel: str | None) -> dict[str, str] | None:
        await self._step("broadcast", f"{text(view)} in {channel}")
        return self.where

    async def update(self, update: MessageUpdate) -> None:
        await self._step("update", text(update.view))

    async def apologise(self) -> None:
        await self._step("apologise", None)

    def describe(self, error: Exception) -> str | None:
        return f"the platform refused: {error}" if isinstance(error, Refused) else None


def text(view: View) -> str:
    assert isinstance(view, Notice)
    return view.text


ANA, BEN, CY = PersonId("ana"), PersonId("ben"), PersonId("cy")
OUTCOME = Outcome(
    Notice("booked"),
    direct=(DirectMessage(ANA, Notice("yours")), DirectMessage(BEN, Notice("theirs"))),
    replaces_original=True,
    broadcast=Broadcast(Notice("poll"), key="poll:1", channel="C1"),
    updates=(MessageUpdate({"ts": "1"}, Notice("tally")),),
)


async def test_an_outcome_is_delivered_in_order_and_a_broadcast_says_where_it_landed():
    transport = Recording(where={"channel": "C1", "ts": "9"})
    posted: list[tuple[str, object]] = []

    async def record(key: str, where: object) -> None:
        posted.append((key, where))

    assert await deliver(OUTCOME, transport, speaker=ANA, posted=record)

    assert transport.steps == [
        ("update", "tally"),
        ("replace", "booked"),
        ("broadcast", "poll in C1"),
        ("direct", "ana=yours"),
        ("direct", "ben=theirs"),
    ]
    assert posted == [("poll:1", {"channel": "C1", "ts": "9"})]


class Ledger:
    """An inbox row's record of what was sent, in memory."""

    def __init__(self) -> None:
        self.steps: list[str] = []

        self.held_for = 1_000  # checks of ``ours`` answered True, then the row is lost

    def already(self, step: str) -> bool:
        return step in self.steps

    async def ours(self) -> bool:
        self.held_for -= 1
        return self.held_for >= 0

    async def record(self, step: str) -> None:
        self.steps.append(step)


async def test_a_second_run_of_one_row_sends_only_what_the_first_did_not():
    """A row run again after its process died: what went out is not sent again, what
    failed is; card updates (versioned elsewhere) always go."""
    sent = Ledger()
    twice = Outcome(
        Notice("booked"),
        direct=(
            DirectMessage(ANA, Notice("yours")),
            DirectMessage(ANA, Notice("and this")),
            DirectMessage(BEN, Notice("theirs")),
        ),
        broadcast=Broadcast(Notice("poll"), key="poll:1", channel="C1"),
        updates=(MessageUpdate({"ts": "1"}, Notice("tally")),),
    )
    first = Recording(fail={"direct:ben=theirs"})
    assert not await deliver(twice, first, sent=sent)
    assert sorted(sent.steps) == ["answer", "broadcast:poll:1", "direct:ana", "direct:ana:2"]

    again = Recording()
    assert await deliver(twice, again, sent=sent)
    assert again.steps == [("update", "tally"), ("direct", "ben=theirs")]
    # The last step is not recorded: the row's completion, which follows, is its record.
    assert "direct:ben" not in sent.steps


async def test_a_row_taken_over_by_another_process_is_answered_no_further_here():
    """This process stalled past the row's lease and another took it over: from the step
    where that shows (``Sent.ours``), the rest is the other's to send. Card updates, which
    are versioned, still go; nobody is apologised to."""
    sent = Ledger()
    sent.held_for = 1  # the answer goes, then the row is found taken
    outcome = Outcome(
        Notice("booked"),
        direct=(DirectMessage(ANA, Notice("yours")), DirectMessage(BEN, Notice("theirs"))),
        broadcast=Broadcast(Notice("poll"), key="poll:1", channel="C1"),
        updates=(MessageUpdate({"ts": "1"}, Notice("tally")),),
    )
    transport = Recording()

    assert await deliver(outcome, transport, sent=sent)

    assert [name for name, _ in transport.steps if name != "update"] == ["answer"]
    assert ("update", "tally") in transport.steps
    assert sent.steps == ["answer"]


async def test_an_answer_that_cannot_go_where_the_person_spoke_goes_to_them_privately(
    caplog: pytest.LogCaptureFixture,
):
    transport = Recording(fail={"replace"})

    assert await deliver(OUTCOME, transport, speaker=ANA)

    assert ("direct", "ana=booked") in transport.steps
    assert ("direct", "ben=theirs") in transport.steps
    assert "apologise" not in [name for name, _ in transport.steps]
    assert "the platform refused: replace" in caplog.text


async def test_other_peoples_messages_go_out_whatever_failed_and_one_apology_follows(
    caplog: pytest.LogCaptureFixture,
):
    transport = Recording(fail={"replace", "direct:ana=booked", "broadcast", "update"})

    assert not await deliver(OUTCOME, transport, speaker=ANA)

    assert transport.steps == [
        ("direct", "ana=yours"),
        ("direct", "ben=theirs"),
        ("apologise", None),
    ]
    assert caplog.text.count("the platform refused") == 4


async def test_an_unexpected_failure_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
):
    class Broken(Recording):
        async def update(self, update: MessageUpdate) -> None:
            raise KeyError(update.message)  # a bug

    transport = Broken()
    assert not await deliver(Outcome(None, updates=OUTCOME.updates), transport)

    (record,) = [r for r in caplog.records if r.name == "adapters.chat"]
    assert record.levelname == "ERROR"
    assert record.exc_info is not None
    assert transport.steps == [("apologise", None)]


async def test_without_a_speaker_a_failed_answer_is_not_sent_elsewhere():
    transport = Recording(fail={"answer"})

    assert not await deliver(Outcome(Notice("hello")), transport)

    assert transport.steps == [("apologise", None)]


async def test_a_broadcast_that_could_not_be_posted_is_not_reported():
    transport = Recording(where=None)
    posted: list[str] = []

    async def record(key: str, where: object) -> None:
        posted.append(key)

    assert await deliver(Outcome(None, broadcast=OUTCOME.broadcast), transport, posted=record)
    assert posted == []


class EventLog:
    def __init__(self) -> None:
        self.keys: set[str] = set()

    async def first_time(self, key: str, now: datetime) -> bool:
        assert now.tzinfo is not None
        if key in self.keys:
            return False
        self.keys.add(key)
        return True

    async def claim(self, key: str, now: datetime, lease: timedelta) -> bool:
        del lease
        return await self.first_time(key, now)

    async def settle(self, key: str) -> None:
        del key

    async def release(self, key: str) -> None:
        self.keys.discard(key)


async def test_an_event_is_first_seen_once():
    seen = Deduplicator(EventLog(), FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))

    assert [await seen.first_time(key) for key in ("slack:E1", "teams:x", "slack:E1")] == [
        True,
        True,
        False,
    ]
