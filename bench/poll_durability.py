"""Votes on a Slack poll that must not be lost: a kill -9 in the middle of a burst, and an
overload. Run through ``bench/poll_load.py --slack`` (or directly).

    .venv/bin/python bench/poll_load.py --slack [--clicks 1000] [--rate 200] [--postgres]

Slack's fake runs in this process; `pairtime serve` processes are real, against a new
database (SQLite in a temporary folder, or a new database on the local PostgreSQL).

- **kill -9** (PostgreSQL, always): two processes; 200 clicks, each on its own (person,
  time) so that the result is the set of clicks counted, sent round robin 20 at a time;
  after the first process acknowledged 30 it gets SIGKILL, and the rest go to the other.
  Then: how many clicks were acknowledged, how many of those are counted (each once: a
  click counted twice would withdraw its vote), how many counted that were never
  acknowledged (in flight at the kill: kept, or not), how long until the other process had
  counted them all (its leases expire 10 s after the kill), and whether the card went backwards.
- **overload**: ``--clicks`` clicks at ``--rate`` per second, open loop (click i leaves at
  i/rate s whatever came back), on one process (SQLite) or two (``--postgres``). Each
  person's clicks on a time are 3 s apart by Slack's clock, so the final votes are known.
  Then: acknowledged, whether the tally in the database and on the card is exact, the card's
  updates and how many went backwards, the acknowledgement latency from the due time, and
  the servers' CPU time and SQL statements per vote (from the poll posted to every click
  processed, all processes summed; targets 5 ms and 4).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.support import POSTGRES, cpu_seconds, summary
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

VOTERS = 40
KILL_CLICKS, KILL_AFTER, KILL_OPTIONS = 200, 30, 5
SETTLE_WITHIN = 600.0
TARGET_VOTE_CPU_MS, TARGET_VOTE_STATEMENTS = 5, 4


def postgres_url() -> str:
    return POSTGRES.replace("postgresql://", "postgresql+asyncpg://", 1)


async def kill9(folder: Path) -> dict[str, Any]:
    slack = FakeSlack()
    people = sv.add_people(slack, VOTERS)
    async with running(slack.app) as slack_base, fresh_database(postgres_url()) as url:
        env = environment(url, slack, slack_base)
        prepare(folder, env)
        database = Database(url)
        try:
            with serving(folder, env, ["doomed", "survivor"]) as (doomed, survivor):
                async with aiohttp.ClientSession() as session:
                    card = await post_poll(session, survivor.address, slack, slack_base, people)
                    options = sv.options_of(card.blocks)[:KILL_OPTIONS]
                    clicks = sv.plan(
                        people, options, KILL_CLICKS, datetime.now(UTC), rate=200, once=True
                    )
                    response_url = slack.response_url(slack_base)
                    acked_by_doomed = 0
                    killed_at = 0.0

                    async def post(i: int, request: sr.SlackRequest) -> int:
                        nonlocal acked_by_doomed, killed_at
                        target = doomed if i % 2 == 0 and doomed.alive else survivor
                        status = await sv.http_post(session, target.address, request)
                        if target is doomed and status == 200:
                            acked_by_doomed += 1
                            if acked_by_doomed == KILL_AFTER:
                                doomed.kill()
                                killed_at = time.monotonic()
                        return status

                    sent = await sv.burst(
                        clicks,
                        lambda c: sv.click_request(SECRET, card, c, response_url),
                        post,
                        in_flight=20,
                    )
                    acked = [s.click for s in sent if s.acked]
                    expected = sv.standing(acked)

                    async def settled() -> bool:
                        stored = await sv.stored_votes(database)
                        done = await sv.unfinished(database) == 0
                        return done and expected.items() <= stored.items()

                    await sv.until(settled, within=SETTLE_WITHIN, what="every acked vote counted")
                    takeover = time.monotonic() - killed_at
                    stored = await sv.stored_votes(database)
            final = slack.message(sv.CHANNEL, card.ts)
            versions = sv.card_versions(final) if final is not None else []
            return {
                "processes": 2,
                "database": "PostgreSQL",
                "sent": len(clicks),
                "acked": len(acked),
                "acked_by_the_killed_process": acked_by_doomed,
                "acked_counted": sum(1 for k, v in expected.items() if stored.get(k) == v),
                "acked_lost": sum(1 for k, v in expected.items() if stored.get(k) != v),
                "counted_not_acked": len(stored.keys() - expected.keys()),
                "seconds_from_kill_to_all_counted": round(takeover, 1),
                "card_updates": len(versions),
                "cards_backwards": sv.backwards(versions),
                "card_tally_exact": final is not None
                and sv.card_tallies(final.blocks)[: len(options)] == sv.tallies(stored, options),
                "ack_ms": summary([s.seconds for s in sent if s.acked]),
            }
        finally:
            await database.close()


async def overload(folder: Path, clicks_count: int, rate: float, postgres: bool) -> dict[str, Any]:
    slack = FakeSlack()
    people = sv.add_people(slack, VOTERS)
    async with running(slack.app) as slack_base:
        if postgres:
            url_context = fresh_database(postgres_url())
            url = await url_context.__aenter__()
        else:
            url_context = None
            url = f"sqlite+aiosqlite:///{folder / 'pairtime.db'}"
        try:
            env = environment(url, slack, slack_base) | {"PAIRTIME_COUNT_SQL": "1"}
            prepare(folder, env)
            database = Database(url)
            names = ["one", "two"] if postgres else ["one"]
            try:
                with serving(folder, env, names) as servers:
                    async with aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(limit=0)
                    ) as session:
                        card = await post_poll(
                            session, servers[0].address, slack, slack_base, people
                        )
                        options = sv.options_of(card.blocks)
                        clicks = sv.plan(
                            people, options, clicks_count, datetime.now(UTC), rate=rate
                        )
                        response_url = slack.response_url(slack_base)
                        cpu_before = sum(cpu_seconds(s.process.pid) for s in servers)
                        sql_before = await statements(session, servers)

                        async def post(i: int, request: sr.SlackRequest) -> int:
                            server = servers[i % len(servers)]
                            return await sv.http_post(session, server.address, request)

                        started = time.monotonic()
                        sent = await sv.burst(
                            clicks,
                            lambda c: sv.click_request(SECRET, card, c, response_url),
                            post,
                            in_flight=clicks_count,
                            rate=rate,
                        )
                        acked = [s.click for s in sent if s.acked]
                        expected = sv.standing(acked)

                        async def settled() -> bool:
                            return await sv.unfinished(database) == 0

                        await sv.until(settled, within=SETTLE_WITHIN, what="every click processed")
                        seconds = time.monotonic() - started
                        cpu = sum(cpu_seconds(s.process.pid) for s in servers) - cpu_before
                        sql = await statements(session, servers)
                        sql.subtract(sql_before)
                        stored = await sv.stored_votes(database)
                final = slack.message(sv.CHANNEL, card.ts)
                versions = sv.card_versions(final) if final is not None else []
                return {
                    "processes": len(names),
                    "database": "PostgreSQL" if postgres else "SQLite",
                    "sent": len(clicks),
                    "rate_per_second": rate,
                    "acked": len(acked),
                    "tally_exact_in_database": stored == expected,
                    "votes_wrong": len(set(stored.items()) ^ set(expected.items())),
                    "card_tally_exact": final is not None
                    and sv.card_tallies(final.blocks) == sv.tallies(expected, options),
                    "card_updates": len(versions),
                    "cards_backwards": sv.backwards(versions),
                    "seconds_to_all_processed": round(seconds, 1),
                    "ack_ms_from_due": summary([s.seconds for s in sent if s.acked]),
                    "server_cpu_ms_per_vote": round(cpu * 1000 / len(clicks), 2),
                    "sql_statements_per_vote": round(sql.total() / len(clicks), 2),
                    "sql_per_vote_by_shape": per_vote(sql, len(clicks)),
                    "targets": {
                        "server_cpu_ms_per_vote": TARGET_VOTE_CPU_MS,
                        "sql_statements_per_vote": TARGET_VOTE_STATEMENTS,
                    },
                }
            finally:
                await database.close()
        finally:
            if url_context is not None:
                await url_context.__aexit__(None, None, None)


async def statements(session: aiohttp.ClientSession, servers: list[Any]) -> Counter[str]:
    """SQL statements the servers ran so far, by shape (they run with PAIRTIME_COUNT_SQL=1)."""
    total: Counter[str] = Counter()
    for server in servers:
        async with session.get(f"{server.address}/debug/sql") as answer:
            answer.raise_for_status()
            total.update((await answer.json())["kinds"])
    return total


def per_vote(counts: Counter[str], votes: int) -> dict[str, float]:
    """Statements per vote by shape, the most frequent first (those under 0.01 left out)."""
    return {
        shape: round(count / votes, 2)
        for shape, count in counts.most_common()
        if count / votes >= 0.01
    }
