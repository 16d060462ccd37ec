"""Two Pairtime apps with Teams on one PostgreSQL database: a poll's card never goes
backwards, whichever app counted which vote and whichever sends the update.

Each app holds its own worker and messenger, as two ``pairtime serve`` processes do, and
both talk to one Bot Framework connector. The first app's updates of the card wait behind
a gate the test opens (its "one update a second" interval, on a timer of the test's), so
that the other app counts a later vote meanwhile: an app sending what it rendered in its
own order would then show an older tally last.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from adapters.teams.timing import TeamsTiming
from storage.crypto import generate_key
from tests.adapters.teams.harness import GENEROUS, NOW, Lasting, TeamsUnderTest, teams_app
from tests.fakes import teams_activities as ta
from tests.fakes.botframework import FakeBotFramework
from tests.fakes.server import running
from tests.integration.test_teams_polls import (
    BEN,
    CIRCLE,
    CY,
    Circle,
    button,
    card_of,
    circle_of_four,
    tallies,
)
from tests.integration.test_two_apps_postgres import POSTGRES_URL, database_of_its_own
from tests.memory import FixedClock

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL, reason="PAIRTIME_TEST_POSTGRES_URL is not set (.ci/run sets it)"
    ),
]


class GateTimer:
    """A clock that stands still and sleeps until the test opens the gate (then not at all)."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.sleeping = 0

    def now(self) -> float:
        return 0.0

    async def sleep(self, seconds: float, *, until: asyncio.Event | None = None) -> None:
        del seconds
        waits = {asyncio.ensure_future(self.gate.wait())}
        if until is not None:
            waits.add(asyncio.ensure_future(until.wait()))
        self.sleeping += 1
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.sleeping -= 1
            for wait in waits:
                wait.cancel()


async def settle(*apps: TeamsUnderTest) -> None:
    """Run what is due in every app until none finds more (see test_two_apps_postgres)."""
    for _ in range(3):
        await asyncio.gather(*(app.settle() for app in apps))


def totals(connector: FakeBotFramework, poll_id: str) -> list[int]:
    """The votes each update of the poll's card showed, in the order the connector got them."""
    shown = []
    for update in connector.of_kind("update"):
        if update.activity_id == poll_id:
            counts = [re.findall(r"\d+", line)[:2] for line in tallies(card_of(update.body))]
            shown.append(sum(int(yes) + int(maybe) for yes, maybe in counts))
    return shown


@asynccontextmanager
async def two_apps(
    tmp_path: Path, url: str, first: TeamsTiming
) -> AsyncIterator[tuple[TeamsUnderTest, TeamsUnderTest]]:
    connector, clock, keys = FakeBotFramework(), FixedClock(NOW), [generate_key()]
    async with running(connector.app) as service_url:
        lasting = Lasting(keys, clock, connector, service_url)

        def app(folder: str, timing: TeamsTiming) -> AbstractAsyncContextManager[TeamsUnderTest]:
            (tmp_path / folder).mkdir()
            return teams_app(
                tmp_path / folder, authenticated=False, members=CIRCLE, lasting=lasting,
                timing=timing, database_url=url,
            )  # fmt: skip

        async with app("a", first) as one, app("b", TeamsTiming(budget=GENEROUS)) as two:
            yield one, two


async def test_a_poll_card_updated_from_two_apps_never_shows_an_older_tally(tmp_path: Path):
    timer = GateTimer()
    first = TeamsTiming(timer=timer, budget=GENEROUS, update_interval=10)
    async with database_of_its_own() as url, two_apps(tmp_path, url, first) as (one, two):
        circle = await circle_of_four(one)
        draft = await circle.draft()
        poll_id = await circle.post(draft.adaptive_cards[0], draft)
        other = Circle(two, circle.people)

        await circle.vote(poll_id, ta.MARIA, 0)  # the first app's first update goes at once
        await settle(one, two)
        assert totals(one.connector, poll_id) == [1]

        # Its next one waits out the interval (the gate), while the second app counts more.
        await circle.vote(poll_id, BEN, 0)
        await other.vote(poll_id, CY, 0)
        await settle(two)
        timer.gate.set()
        await settle(one, two)

        shown = totals(one.connector, poll_id)
        assert shown[-1] == 3, shown
        assert shown == sorted(shown), f"the card went backwards: {shown}"
        card = card_of(one.connector.activity(ta.CHANNEL_ID, poll_id))
        assert tallies(card)[0] == "3 yes, 0 if need be, 0 busy"
        assert button(card, "Yes")  # still open
