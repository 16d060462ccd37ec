"""Two `pairtime serve` processes on PostgreSQL, one killed with SIGKILL in the middle of 200
vote clicks: every click either process acknowledged is counted, exactly once.

The killed process's rows (kept but not yet processed, or claimed and half done) are taken
over by the other process once their lease expires, and by the killed one when it starts
again; Slack's fake is in this process, the servers are real processes."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from storage.database import Database
from tests.fakes import slack_requests as sr
from tests.fakes.server import running
from tests.fakes.slack import FakeSlack
from tests.integration import slack_votes as sv
from tests.integration.serve_processes import (
    SECRET,
    environment,
    fresh_database,
    post_poll,
    prepare,
    serving,
)

POSTGRES_URL = os.environ.get("PAIRTIME_TEST_POSTGRES_URL")
VOTERS, OPTIONS_VOTED, CLICKS = 40, 5, 200
KILL_AFTER = 30  # clicks the doomed process acknowledged before it dies
# Work elsewhere (leases expire 10 s after the kill, then the other process claims): a
# generous bound.
SETTLED_WITHIN = 240.0

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="the kill -9 test needs PostgreSQL: PAIRTIME_TEST_POSTGRES_URL is not set",
    ),
]


async def test_a_process_killed_mid_burst_loses_no_acknowledged_vote(tmp_path: Path):
    slack = FakeSlack()
    people = sv.add_people(slack, VOTERS)
    async with running(slack.app) as slack_base, fresh_database(POSTGRES_URL or "") as url:
        env = environment(url, slack, slack_base)
        prepare(tmp_path, env)
        database = Database(url)
        try:
            with serving(tmp_path, env, ["doomed", "survivor"]) as (doomed, survivor):
                async with aiohttp.ClientSession() as session:
                    card = await post_poll(session, survivor.address, slack, slack_base, people)
                    options = sv.options_of(card.blocks)[:OPTIONS_VOTED]
                    assert len(options) == OPTIONS_VOTED
                    clicks = sv.plan(
                        people, options, CLICKS, datetime.now(UTC), rate=200, once=True
                    )
                    response_url = slack.response_url(slack_base)
                    acked_by_doomed = 0

                    async def post(i: int, request: sr.SlackRequest) -> int:
                        nonlocal acked_by_doomed
                        # Round robin; once the doomed process is gone, a load balancer
                        # sends the rest to the survivor. Clicks in flight to it are lost
                        # unacknowledged (status 0), as Slack would see them.
                        target = doomed if i % 2 == 0 and doomed.alive else survivor
                        status = await sv.http_post(session, target.address, request)
                        if target is doomed and status == 200:
                            acked_by_doomed += 1
                            if acked_by_doomed == KILL_AFTER:
                                doomed.kill()
                        return status

                    sent = await sv.burst(
                        clicks,
                        lambda c: sv.click_request(SECRET, card, c, response_url),
                        post,
                        in_flight=20,
                    )
                    assert not doomed.alive
                    acked = [s.click for s in sent if s.acked]
                    assert len(acked) >= CLICKS - 20  # only the clicks in flight at the kill

                    expected = sv.standing(acked)

                    async def all_counted() -> bool:
                        stored = await sv.stored_votes(database)
                        return (
                            await sv.unfinished(database) == 0
                            and expected.items() <= stored.items()
                        )

                    # The survivor takes over the dead process's rows once their leases expire.
                    await sv.until(
                        all_counted, within=SETTLED_WITHIN, what="every acked vote counted"
                    )

                    # Restarted, the killed process finds nothing left to do twice.
                    with serving(tmp_path, env, ["restarted"]):
                        stored = await sv.stored_votes(database)
                    sent_at_all = sv.standing(s.click for s in sent)
                    assert stored.items() >= expected.items()
                    # Clicks in flight at the kill may or may not have been kept; nothing else.
                    assert stored.items() <= sent_at_all.items()
                    assert await sv.unfinished(database) == 0

                    final = slack.message(sv.CHANNEL, card.ts)
                    assert final is not None
                    assert sv.card_tallies(final.blocks)[:OPTIONS_VOTED] == sv.tallies(
                        stored, options
                    )
                    assert sv.backwards(sv.card_versions(final)) == 0
        finally:
            await database.close()
