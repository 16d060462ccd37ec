"""Load on the Teams endpoint: message activities at a steady rate against `pairtime serve`,
or (``--scenario votes``) 500 votes on one poll card in the same instant.

    .venv/bin/python bench/teams_load.py [--messages 2000] [--rate 200] [--users 100]
                                         [--url http://127.0.0.1:3978]
    .venv/bin/python bench/teams_load.py --scenario votes

Starts `pairtime serve` in another process (a fresh SQLite database in a temporary folder,
``PAIRTIME_TEAMS_AUTH=disabled``: no JWT checks, no bot tokens), unless ``--url`` names one
already running with the same setting. The activities' serviceUrl is a fake Bot Framework
connector in this process (tests/fakes/botframework.py), which records when each reply
arrives. Sends are open-loop: activity i leaves at i/rate seconds whatever came back.

Prints JSON: the time to the HTTP response (p50, p99) and the time until the reply reaches
the connector (p50, p95, p99), in milliseconds, against the targets (p99 < 100 ms for the
response, p95 < 500 ms for the reply). Messages are a mix of "find a time with my mentee
next week", "status" and "help" from ``--users`` people, each in their personal chat; each
person's first message also pays for their first contact (roster lookup, profile, reference).

``--scenario votes``: 50 invitees, 8 times; each (person, time) pair voted once and 100 of
them twice at the same moment, all 500 clicks sent at once. Prints how long until the card
showed the exact tally, how many card updates that took (target: about one a second, never
one per vote), how many clicks were answered "Got it" because the card's queue was long, and
the most private late receipts any voter got (target: two, the first and the newest).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes import teams_activities as ta  # noqa: E402 - after the path is set
from tests.fakes.botframework import FakeBotFramework  # noqa: E402
from tests.fakes.server import running  # noqa: E402

TEXTS = [
    ("find a time with my mentee next week", 4),
    ("status", 3),
    ("help", 3),
]
TARGET_RESPONSE_P99_MS = 100
TARGET_REPLY_P95_MS = 500


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@asynccontextmanager
async def pairtime_serve(folder: Path, database_url: str | None) -> Any:
    """`pairtime serve --port 0` with Teams on and authentication off, in ``folder``."""
    script = Path(sys.executable).with_name("pairtime")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MICROSOFT_APP_", "SLACK_", "PAIRTIME_"))
    }
    env |= {"PAIRTIME_TEAMS_AUTH": "disabled", "PAIRTIME_ENV": "development"}
    if database_url:
        env["PAIRTIME_DATABASE_URL"] = database_url
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(  # noqa: ASYNC220, S603 - our own console script, started once
        [*command, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
        cwd=folder,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.to_thread(process.stdout.readline)
        if "listening on" not in line:
            raise SystemExit(f"pairtime serve did not start: {line!r} (see {log.name})")
        yield line.split("listening on ")[1].split()[0]
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 30)
        log.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    connector = FakeBotFramework()
    users = [
        ta.TeamsUser(
            f"29:1BenchUser{n:05d}xxxxxxxxxxxxxxxxxxxx",
            f"Bench User {n}",
            f"00000000-0000-4000-8000-{n:012d}",
            f"user{n}@contoso.example",
        )
        for n in range(args.users)
    ]
    for user in users:
        connector.add_member(ta.personal_chat_id(user), user.member())
    texts = [text for text, weight in TEXTS for _ in range(weight)]
    response_ms: list[float] = []
    statuses: dict[int, int] = {}
    sent_at: dict[str, float] = {}

    async with AsyncExitStack() as stack:
        service_url = await stack.enter_async_context(running(connector.app))
        if args.url:
            base = args.url.rstrip("/")
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pt-bench-")))
            base = await stack.enter_async_context(pairtime_serve(folder, args.database_url))
        session = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        )
        activities = [
            ta.personal_message(
                rng.choice(texts), service_url=service_url, sender=users[i % len(users)]
            )
            for i in range(args.messages)
        ]

        async def send(activity: dict[str, Any]) -> None:
            started = time.monotonic()
            sent_at[activity["id"]] = started
            async with session.post(f"{base}/api/messages", json=activity) as reply:
                await reply.read()
                statuses[reply.status] = statuses.get(reply.status, 0) + 1
            response_ms.append((time.monotonic() - started) * 1000)

        began = time.monotonic()
        tasks = []
        for index, activity in enumerate(activities):
            delay = began + index / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(activity)))
        await asyncio.gather(*tasks)
        sending = time.monotonic() - began
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            if len({r.reply_to_id for r in connector.sent()}) >= len(activities):
                break
            await asyncio.sleep(0.05)

    arrived = {}
    for received in connector.sent():
        if received.reply_to_id in sent_at and received.reply_to_id not in arrived:
            arrived[received.reply_to_id] = (received.at - sent_at[received.reply_to_id]) * 1000
    reply_ms = list(arrived.values())
    return {
        "benchmark": "teams_load",
        "authentication": "disabled (PAIRTIME_TEAMS_AUTH=disabled): no JWT checks, no bot tokens",
        "messages": len(activities),
        "rate_per_second": args.rate,
        "achieved_rate_per_second": round(len(activities) / sending, 1),
        "users": len(users),
        "database": "server's own"
        if args.url
        else (args.database_url or "SQLite (default)").split("://")[0],
        "http_status": statuses,
        "http_response_ms": {
            "p50": round(statistics.median(response_ms), 1),
            "p99": round(percentile(response_ms, 0.99), 1),
            "max": round(max(response_ms), 1),
        },
        "reply_at_connector_ms": {
            "p50": round(percentile(reply_ms, 0.50), 1),
            "p95": round(percentile(reply_ms, 0.95), 1),
            "p99": round(percentile(reply_ms, 0.99), 1),
        },
        "replies_missing": len(activities) - len(arrived),
        "targets": {
            "http_response_p99_ms": TARGET_RESPONSE_P99_MS,
            "reply_p95_ms": TARGET_REPLY_P95_MS,
            "met": percentile(response_ms, 0.99) < TARGET_RESPONSE_P99_MS
            and percentile(reply_ms, 0.95) < TARGET_REPLY_P95_MS
            and len(arrived) == len(activities),
        },
    }


VOTERS, OPTIONS = 50, 8
COUNTING = "Got it. The card will show it in a moment."
QUIET = 3.0  # seconds without a change to the card or the votes: the burst is done


async def votes(args: argparse.Namespace) -> dict[str, Any]:
    """500 votes at once on one poll card: how the card keeps up, in figures."""
    from bench import poll_load  # noqa: PLC0415 - poll_load imports this module

    connector = FakeBotFramework()
    people = poll_load.users(VOTERS)
    for user in people:
        for conversation in (ta.personal_chat_id(user), ta.TEAM_ID):
            connector.add_member(conversation, user.member())
    pairs = [(n, option, (n + option) % 3 == 0) for n in range(VOTERS) for option in range(OPTIONS)]
    clicks = pairs + pairs[::4]  # 100 of them twice, at the same moment
    random.Random(8).shuffle(clicks)
    answers: list[str] = []
    folder: Path | None = None
    async with AsyncExitStack() as stack:
        service_url = await stack.enter_async_context(running(connector.app))
        if args.url:
            base = args.url.rstrip("/")
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pt-votes-")))
            base = await stack.enter_async_context(pairtime_serve(folder, args.database_url))
        url = f"{base}/api/messages"
        session = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        )
        poll = await poll_load.create_poll(session, url, connector, service_url, people)
        card = poll.adaptive_cards[0]
        activities = [
            ta.adaptive_card_action(
                "pairtime",
                poll_load.data_of(card, "If need be" if maybe else "Yes", option),
                service_url=service_url,
                sender=people[n],
                reply_to_id=poll.activity_id,
                personal=False,
            )
            for n, option, maybe in clicks
        ]
        updates_before = len(connector.of_kind("update"))

        async def click(activity: dict[str, Any]) -> None:
            async with session.post(url, json=activity) as answer:
                answers.append(str((await answer.json()).get("value", "")))

        began = time.monotonic()
        await asyncio.gather(*(click(activity) for activity in activities))
        answered = time.monotonic() - began

        def shown() -> list[tuple[int, int]]:
            now = connector.activity(ta.CHANNEL_ID, poll.activity_id or "")
            return poll_load.tallies_of(now["attachments"][0]["content"]) if now else []

        def stored() -> list[tuple[int, int]] | None:
            return poll_load.stored_tally(folder)  # None for a server not started here

        # Settled: the card shows the database's tally, and neither has changed for QUIET
        # seconds (the clicks are worked through after their "Got it").
        settled, last, since = None, None, time.monotonic()
        while time.monotonic() - began < args.wait:
            state = (shown(), stored())
            if state != last:
                last, since = state, time.monotonic()
            elif time.monotonic() - since >= QUIET and state[1] in (None, state[0]):
                settled = since - began
                break
            await asyncio.sleep(0.1)
        final, in_database = shown(), stored()
        updates = [r.at for r in connector.of_kind("update")[updates_before:] if r.status < 300]
    late = [
        sum(
            1
            for m in connector.sent(ta.personal_chat_id(user))
            if "You voted" in json.dumps(m.adaptive_cards, ensure_ascii=False)
        )
        for user in people
    ]
    elapsed = settled if settled is not None else time.monotonic() - began
    return {
        "benchmark": "teams_load votes",
        "authentication": "disabled (PAIRTIME_TEAMS_AUTH=disabled): no JWT checks, no bot tokens",
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
        # The database's tally: a repeated click counts once when Pairtime handles it within
        # 2 s of the first, and withdraws the vote when the card's queue made it later.
        "final_tally": {
            "on_card": poll_load.compact(final),
            "in_database": poll_load.compact(in_database) if in_database else None,
            "exact": in_database in (None, final),
        },
        "targets": {
            "card_updates_at_most": f"one a second plus two ({int(elapsed) + 2})",
            "late_receipts_per_voter_at_most": 2,
            "met": in_database in (None, final)
            and 1 <= len(updates) <= elapsed + 2
            and max(late) <= 2,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("messages", "votes"), default="messages")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="activities per second")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for replies")
    parser.add_argument("--url", help="a running `pairtime serve` (Teams auth disabled)")
    parser.add_argument(
        "--database-url", help="PAIRTIME_DATABASE_URL for the server started (an empty database)"
    )
    args = parser.parse_args()
    scenario = votes if args.scenario == "votes" else run
    print(json.dumps(asyncio.run(scenario(args)), indent=2))


if __name__ == "__main__":
    main()
