"""Load on the Teams endpoint: signed message activities at a steady rate against `pairtime
serve`, or (``--scenario votes``) 500 votes on one poll card in the same instant.

    .venv/bin/python bench/teams_load.py [--messages 2000] [--rate 150] [--users 200]
                                         [--delay 0.2] [--postgres]
    .venv/bin/python bench/teams_load.py --scenario votes

Authentication is on, as in production: the server checks every activity's JWT against the
signing keys a fake Bot Framework identity publishes (its OpenID metadata), and fetches its
own tokens from that identity's login endpoint (over HTTPS, msal) for every reply; the fake
connector at the activities' serviceUrl accepts only those tokens (tests/fakes/botframework.py).
Three processes (see bench/support.py): ``pairtime serve`` (SQLite in a temporary folder, or
``--postgres``), the fake Google Calendar answering after ``--delay`` seconds, and this one,
which signs one channel token (as the Bot Framework reuses one for an hour), sends, and runs
the identity and the connector.

``--users`` people (200 by default) are written into the database by Pairtime's own
repositories as mentor/mentee pairs, each connected to Google with a three-week calendar; the
server meets each of them for the first time during the run (roster lookup). Messages, open
loop (activity i leaves at i/rate seconds whatever came back), in each person's personal
chat: "find a time with my mentee/mentor next week" (4 in 10), "status" (3) and "help" (3).

Prints JSON: the HTTP response (target p99 < 100 ms) and the reply reaching the connector
(target p95 < 1 s, as Slack's picker), both timed from when each activity was due to be sent;
the calendar cache's hit rate over the find-time messages; the server's CPU and SQL statements
per message; with the machine (cores, Python, load average).

``--scenario votes``: 50 invitees, 8 times; each (person, time) pair voted once and 100 of
them twice at the same moment, all 500 clicks sent at once (the program open to all, as a
poll of colleagues needs). Prints how long until the card showed the exact tally (what the
clicks add up to, a click repeated at once counted once), how many card updates that took
(target: about one a second, never one per vote), how many clicks were answered "Got it"
because the card's queue was long, the most private late receipts any voter got (target:
two, the first and the newest), and the server's CPU and SQL statements per vote (targets
5 ms and 4).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import (  # noqa: E402 - after the path is set
    Fakes,
    Member,
    Pair,
    Server,
    clean_environment,
    database,
    fakes_process,
    fresh_postgres,
    machine,
    percentile,
    report,
    report_errors,
    seed_program,
    sql_count,
    summary,
    upgrade_database,
)
from storage.crypto import generate_key  # noqa: E402
from tests.fakes import teams_activities as ta  # noqa: E402
from tests.fakes.botframework import (  # noqa: E402
    CHANNEL_METADATA_PATH,
    FakeBotFramework,
    FakeBotFrameworkAuth,
)
from tests.fakes.server import TestCertificate, running  # noqa: E402

TEXTS = [("find a time with my {partner} next week", 4), ("status", 3), ("help", 3)]
FIND = "find a time"
TARGET_RESPONSE_P99_MS = 100
TARGET_REPLY_P95_MS = 1000
TARGET_VOTE_CPU_MS = 5
TARGET_VOTE_STATEMENTS = 4
__all__ = ["TeamsWorld", "percentile", "teams_world"]


def users(count: int) -> list[ta.TeamsUser]:
    return [
        ta.TeamsUser(
            f"29:1BenchUser{n:05d}xxxxxxxxxxxxxxxxxxxx",
            f"Bench User {n}",
            f"00000000-0000-4000-8000-{n:012d}",
            f"user{n}@contoso.example",
        )
        for n in range(count)
    ]


@dataclass
class TeamsWorld:
    """A `pairtime serve` with Teams on, authenticated against the fake identity."""

    server: Server
    connector: FakeBotFramework
    service_url: str
    headers: dict[str, str]  # the channel's signed token, as every activity carries it
    fakes: Fakes
    database: AsyncEngine  # the server's database, to read the votes' tally from

    @property
    def url(self) -> str:
        return f"{self.server.address}/api/messages"

    async def tally(self) -> list[tuple[int, int]]:
        """Yes and if-need-be votes per option, as the server's database holds them."""
        async with self.database.connect() as connection:
            options = (
                (await connection.execute(text("SELECT id FROM poll_options ORDER BY start")))
                .scalars()
                .all()
            )
            counts = dict.fromkeys(options, (0, 0))
            rows = await connection.execute(
                text(
                    "SELECT option_id, SUM(CASE WHEN choice = 'yes' THEN 1 ELSE 0 END), "
                    "SUM(CASE WHEN choice = 'if_need_be' THEN 1 ELSE 0 END) "
                    "FROM poll_votes GROUP BY option_id"
                )
            )
            for option, yes, maybe in rows:
                counts[option] = (int(yes), int(maybe))
        return [counts[option] for option in options]


@asynccontextmanager
async def teams_world(
    folder: Path,
    people: list[ta.TeamsUser],
    *,
    postgres: bool = False,
    delay: float = 0.2,
    pairs: list[Pair] | None = None,
    open_to_all: bool = False,
) -> AsyncIterator[TeamsWorld]:
    """The identity, the connector (``people`` on every roster), the fake Google and the
    server; ``pairs`` of AAD object ids are written in, everyone connected to Google;
    ``open_to_all``: anyone may ask for anyone's times (a poll of colleagues)."""
    async with AsyncExitStack() as stack:
        auth = FakeBotFrameworkAuth(app_id=ta.BOT_APP_ID)
        tls = TestCertificate.create(folder)
        metadata = await stack.enter_async_context(running(auth.app))
        login = await stack.enter_async_context(running(auth.app, tls=tls))
        connector = FakeBotFramework(auth=auth)
        for user in people:
            for conversation in (ta.personal_chat_id(user), ta.TEAM_ID):
                connector.add_member(conversation, user.member())
        service_url = await stack.enter_async_context(running(connector.app))
        fakes = stack.enter_context(fakes_process(delay))
        database_url = (
            await stack.enter_async_context(fresh_postgres())
            if postgres
            else f"sqlite+aiosqlite:///{folder / 'pairtime.db'}"
        )
        key = generate_key()
        environment = clean_environment(
            PAIRTIME_DATABASE_URL=database_url,
            PAIRTIME_ENCRYPTION_KEYS=key,
            PAIRTIME_COUNT_SQL="1",
            MICROSOFT_APP_ID=auth.app_id,
            MICROSOFT_APP_PASSWORD=auth.app_password,
            MICROSOFT_BOT_OPENID_METADATA_URL=f"{metadata}{CHANNEL_METADATA_PATH}",
            MICROSOFT_BOT_LOGIN_URL=login,
            PAIRTIME_CA_BUNDLE=str(tls.ca_path),
            **fakes.google_settings(),
        )
        upgrade_database(folder, environment)
        zones = ("Europe/London", "Europe/Berlin", "America/New_York")
        members = [
            Member(user.aad_object_id, user.name, zones[n % 3], user.email)
            for n, user in enumerate(people)
        ]
        await seed_program(
            database_url, key, fakes, program=f"teams:{ta.TENANT_ID}", members=members,
            pairs=pairs or [], open_to_all=open_to_all,
        )  # fmt: skip
        server = Server(folder, environment)
        database = create_async_engine(database_url)
        try:
            token = auth.sign_channel_token(auth.app_id, service_url)
            yield TeamsWorld(
                server,
                connector,
                service_url,
                {"Authorization": f"Bearer {token}"},
                fakes,
                database,
            )
        finally:
            await database.dispose()
            # In a thread: the fakes served by this event loop must answer its last calls.
            report_errors(await asyncio.to_thread(server.stop))


async def messages(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    rng = random.Random(7)
    people = users(args.users)
    pairs = [
        Pair(people[n].aad_object_id, people[n + 1].aad_object_id)
        for n in range(0, len(people) - 1, 2)
    ]
    partner = {n: "mentee" if n % 2 == 0 else "mentor" for n in range(len(people))}
    texts = [text for text, weight in TEXTS for _ in range(weight)]
    due: dict[str, float] = {}
    finds: set[str] = set()
    response: list[float] = []
    statuses: dict[int, int] = {}
    async with (
        teams_world(folder, people, postgres=args.postgres, delay=args.delay, pairs=pairs) as world,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
    ):
        activities = []
        for index in range(args.messages):
            sender = index % len(people)
            text = rng.choice(texts).format(partner=partner[sender])
            activity = ta.personal_message(
                text, service_url=world.service_url, sender=people[sender]
            )
            if text.startswith(FIND):
                finds.add(activity["id"])
            activities.append(activity)
        before = await world.fakes.stats(session)
        sql_before = await sql_count(session, world.server.address)
        cpu_before = world.server.cpu()

        async def send(activity: dict[str, Any]) -> None:
            try:
                async with session.post(world.url, json=activity, headers=world.headers) as reply:
                    await reply.read()
                    statuses[reply.status] = statuses.get(reply.status, 0) + 1
            except aiohttp.ClientError:
                statuses[0] = statuses.get(0, 0) + 1
            response.append(time.monotonic() - due[activity["id"]])

        began = time.monotonic()
        tasks = []
        for index, activity in enumerate(activities):
            due[activity["id"]] = began + index / args.rate
            delay = due[activity["id"]] - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(activity)))
        await asyncio.gather(*tasks)
        sending = time.monotonic() - began
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            if len({r.reply_to_id for r in world.connector.sent()} & set(due)) >= len(due):
                break
            await asyncio.sleep(0.1)
        cpu = world.server.cpu() - cpu_before
        sql_after = await sql_count(session, world.server.address)
        after = await world.fakes.stats(session)
    arrived: dict[str, float] = {}
    with_times = 0
    for received in world.connector.sent():
        if received.reply_to_id in due and received.reply_to_id not in arrived:
            arrived[received.reply_to_id] = received.at - due[received.reply_to_id]
            if received.reply_to_id in finds and "Times for" in json.dumps(received.body):
                with_times += 1
    reads = after["calendar_reads"] - before["calendar_reads"]
    count = len(activities)
    reply = summary(list(arrived.values()))
    answered = summary(response)
    return {
        "benchmark": "teams_load messages",
        "authentication": "on: channel JWTs checked against the fake identity's published "
        "keys; the bot's own tokens from its login endpoint (msal)",
        "messages": count,
        "users": len(people),
        "rate_per_second": args.rate,
        "achieved_rate_per_second": round(count / sending, 1),
        "http_status": statuses,
        "http_response_ms": answered,
        "reply_at_connector_ms": reply,
        "reply_at_connector_ms_find_time": summary(
            [seconds for activity, seconds in arrived.items() if activity in finds]
        ),
        "replies_missing": count - len(arrived),
        "find_time_messages": len(finds),
        "find_time_answered_with_times": with_times,
        "calendar_reads": reads,
        "calendar_cache_hit_rate": round(1 - reads / (2 * len(finds)), 3) if finds else None,
        "server_cpu_ms_per_message": round(cpu * 1000 / count, 2),
        "sql_statements_per_message": round(
            (sql_after["statements"] - sql_before["statements"]) / count, 2
        ),
        "targets": {
            "http_response_p99_ms": TARGET_RESPONSE_P99_MS,
            "reply_p95_ms": TARGET_REPLY_P95_MS,
        },
        "met": {
            "http_response_p99": bool(answered) and answered["p99"] < TARGET_RESPONSE_P99_MS,
            "reply_p95": bool(reply)
            and reply["p95"] < TARGET_REPLY_P95_MS
            and len(arrived) == count,
        },
    }


VOTERS, OPTIONS = 50, 8
COUNTING = "Got it. The card will show it in a moment."
QUIET = 3.0  # seconds without a change to the card or the votes: the burst is done


async def votes(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """500 votes at once on one poll card: how the card keeps up, and what a vote costs."""
    from bench import poll_load  # noqa: PLC0415 - poll_load imports this module

    people = poll_load.users(VOTERS)
    pairs = [(n, option, (n + option) % 3 == 0) for n in range(VOTERS) for option in range(OPTIONS)]
    clicks = pairs + pairs[::4]  # 100 of them twice, at the same moment
    # A click repeated within two seconds counts once: each pair's vote stands.
    expected = [
        (
            sum(1 for n, o, maybe in pairs if o == option and not maybe),
            sum(1 for n, o, maybe in pairs if o == option and maybe),
        )
        for option in range(OPTIONS)
    ]
    random.Random(8).shuffle(clicks)
    answers: list[str] = []
    async with (
        # Open to all: the organiser polls 49 colleagues, and partners only is the default.
        teams_world(
            folder, people, postgres=args.postgres, delay=args.delay, open_to_all=True
        ) as world,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
    ):
        poll = await poll_load.create_poll(session, world, people)
        card = poll.adaptive_cards[0]
        activities = [
            ta.adaptive_card_action(
                "pairtime",
                poll_load.data_of(card, "If need be" if maybe else "Yes", option),
                service_url=world.service_url,
                sender=people[n],
                reply_to_id=poll.activity_id,
                personal=False,
            )
            for n, option, maybe in clicks
        ]
        updates_before = len(world.connector.of_kind("update"))
        sql_before = await sql_count(session, world.server.address)
        cpu_before = world.server.cpu()

        async def click(activity: dict[str, Any]) -> None:
            async with session.post(world.url, json=activity, headers=world.headers) as answer:
                answers.append(str((await answer.json()).get("value", "")))

        began = time.monotonic()
        await asyncio.gather(*(click(activity) for activity in activities))
        answered = time.monotonic() - began

        def shown() -> list[tuple[int, int]]:
            now = world.connector.activity(ta.CHANNEL_ID, poll.activity_id or "")
            return poll_load.tallies_of(now["attachments"][0]["content"]) if now else []

        # Settled: the card shows the database's tally, and neither has changed for QUIET
        # seconds (the clicks are worked through after their "Got it").
        settled, last, since = None, None, time.monotonic()
        while time.monotonic() - began < args.wait:
            state = (shown(), await world.tally())
            if state != last:
                last, since = state, time.monotonic()
            elif time.monotonic() - since >= QUIET and state[1] == state[0]:
                settled = since - began
                break
            await asyncio.sleep(0.1)
        # The CPU and statements of the votes, up to the moment the card settled (the quiet
        # seconds after it add the worker's few polls).
        cpu = world.server.cpu() - cpu_before
        sql_after = await sql_count(session, world.server.address)
        final, in_database = shown(), await world.tally()
        updates = [
            r.at for r in world.connector.of_kind("update")[updates_before:] if r.status < 300
        ]
    late = [
        sum(
            1
            for m in world.connector.sent(ta.personal_chat_id(user))
            if "You voted" in json.dumps(m.adaptive_cards, ensure_ascii=False)
        )
        for user in people
    ]
    elapsed = settled if settled is not None else time.monotonic() - began
    statements = (sql_after["statements"] - sql_before["statements"]) / len(clicks)
    cpu_per_vote = cpu * 1000 / len(clicks)
    return {
        "benchmark": "teams_load votes",
        "authentication": "on (the fake identity's signed tokens)",
        "voters": VOTERS,
        "options": OPTIONS,
        "clicks": len(clicks),
        "all_answered_after_s": round(answered, 1),
        "answered_counting": sum(a == COUNTING for a in answers),
        "answered_with_receipt": sum(a.startswith("You voted") for a in answers),
        "card_exact_after_s": round(settled, 1) if settled is not None else None,
        "card_updates": len(updates),
        "card_updates_per_second": round(len(updates) / elapsed, 2) if elapsed else None,
        "late_receipts_per_voter": {"most": max(late), "fewest": min(late)},
        "final_tally": {
            "on_card": poll_load.compact(final),
            "in_database": poll_load.compact(in_database),
            "expected": poll_load.compact(expected),
            "exact": in_database == final == expected,
        },
        "server_cpu_ms_per_vote": round(cpu_per_vote, 2),
        "sql_statements_per_vote": round(statements, 2),
        "sql_per_vote_by_shape": poll_load.by_shape(sql_before, sql_after, len(clicks)),
        "targets": {
            "card_updates_at_most": f"one a second plus two ({int(elapsed) + 2})",
            "late_receipts_per_voter_at_most": 2,
            "server_cpu_ms_per_vote": TARGET_VOTE_CPU_MS,
            "sql_statements_per_vote": TARGET_VOTE_STATEMENTS,
        },
        "met": {
            "card": in_database == final == expected
            and 1 <= len(updates) <= elapsed + 2
            and max(late) <= 2,
            "cpu_per_vote": cpu_per_vote <= TARGET_VOTE_CPU_MS,
            "statements_per_vote": statements <= TARGET_VOTE_STATEMENTS,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("messages", "votes"), default="messages")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=150.0, help="activities per second")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per calendar call")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for replies")
    parser.add_argument(
        "--postgres", action="store_true", help="a new database on the local PostgreSQL"
    )
    args = parser.parse_args()
    scenario = votes if args.scenario == "votes" else messages
    before = machine()
    with tempfile.TemporaryDirectory(prefix="pairtime-teams-") as folder:
        result = asyncio.run(scenario(args, Path(folder)))
    report(before, database=database(args.postgres), **result)


if __name__ == "__main__":
    main()
