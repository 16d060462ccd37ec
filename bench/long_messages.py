"""Long messages against `pairtime serve`: do five 40,000-character DMs hold everyone up?

    .venv/bin/python bench/long_messages.py [--messages 5] [--characters 40000]
                                            [--text dates|words|digits|mentions]

Separate processes, as in production: ``pairtime serve`` (SQLite, one workspace) and this
process, which plays Slack (the fake Web API in a thread of its own). ``--messages`` direct
messages of ``--characters`` characters each (Slack's limit is 40,000) are sent at once, from
different people, after one short message has warmed the server up; meanwhile
``/healthz`` is asked every 10 ms, standing in for everyone else's requests, until every DM
has its answer. ``--text`` chooses what the messages say:
``dates`` (the default: a phrase with dates and times over and over, the parser's most
expensive reading), plain ``words``, ``digits``, or ``mentions`` (a different person each).

Printed as JSON: ``ack_ms`` (each DM's HTTP answer; Slack wants it within 3 s),
``healthz_ms`` (the concurrent health checks: how long other requests wait behind the
long messages), ``seconds_until_last_answer`` and ``server_cpu_ms_per_message``. Targets:
every ack under 3 s with p99 under 100 ms, health checks p99 under 50 ms and never over
100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fakes live in tests/, which is not an installed package

from bench.poll_load import wait_for  # noqa: E402
from bench.support import (  # noqa: E402
    SLACK_SECRET,
    Server,
    clean_environment,
    machine,
    report,
    report_errors,
    summary,
)
from storage.crypto import generate_key  # noqa: E402
from tests.fakes import slack_requests as sr  # noqa: E402
from tests.fakes.server import ThreadedServer  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402

PHRASES = {
    "dates": "tomorrow at 3pm on 12/5 or friday 10:30 next month 2026-12-01 ",
    "words": "find a time with my mentee next week tuesday afternoon for 30 minutes please ",
    "digits": "1 2 3 45 6 7:30 8 9 10 ",
}
PROBE_SECONDS = 0.01


def message_text(kind: str, characters: int) -> str:
    if kind == "mentions":
        text = " ".join(f"<@U{n:08d}>" for n in range(characters // 12 + 1))
    else:
        phrase = PHRASES[kind]
        text = phrase * (characters // len(phrase) + 1)
    return text[:characters]


async def probe(bot: str, done: asyncio.Event) -> list[float]:
    """``/healthz`` every 10 ms on a connection of its own, until ``done``."""
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        while not done.is_set():
            start = time.monotonic()
            async with session.get(f"{bot}/healthz") as answer:
                await answer.read()
            latencies.append(time.monotonic() - start)
            await asyncio.sleep(PROBE_SECONDS)
    return latencies


async def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    slack = FakeSlack()
    users = [f"U0LONG{i:04d}" for i in range(args.messages)]
    for user in users:
        slack.add_user(user, real_name=f"Person {user[-4:]}", tz="Europe/London")
    text = message_text(args.text, args.characters)
    requests = [
        sr.event_callback(
            SLACK_SECRET, sr.message_im_event(text, user=user, channel=slack.dm_channel(user))
        )
        for user in users
    ]
    with ThreadedServer(slack.app) as slack_base:
        server = Server(
            folder,
            clean_environment(
                PAIRTIME_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'pairtime.db'}",
                PAIRTIME_ENCRYPTION_KEYS=generate_key(),
                SLACK_SIGNING_SECRET=SLACK_SECRET,
                SLACK_BOT_TOKEN="xoxb-1-pairtime-test",  # noqa: S106 - the fake Slack's
                SLACK_API_URL=f"{slack_base}/api/",
            ),
        )
        bot = server.address
        try:
            acks: list[float] = []
            statuses: list[int] = []
            done = asyncio.Event()
            async with aiohttp.ClientSession() as session:
                # One short message first: the first one a process reads loads the parser's
                # data (dateparser's languages), once; the figures are for a running server.
                warm = sr.event_callback(
                    SLACK_SECRET,
                    sr.message_im_event("help", user=users[0], channel=slack.dm_channel(users[0])),
                )
                async with session.post(
                    f"{bot}/slack/events", data=warm.body.encode(), headers=warm.headers
                ) as answer:
                    await answer.read()
                await wait_for(
                    lambda: bool(slack.calls_to("chat.postMessage")), 60, "the first answer"
                )
                slack.calls.clear()
                probing = asyncio.ensure_future(probe(bot, done))
                await asyncio.sleep(0.2)  # a few calm health checks first
                cpu_before = server.cpu()
                began = time.monotonic()

                async def send(request: sr.SlackRequest) -> None:
                    start = time.monotonic()
                    async with session.post(
                        f"{bot}/slack/events", data=request.body.encode(), headers=request.headers
                    ) as answer:
                        await answer.read()
                        statuses.append(answer.status)
                    acks.append(time.monotonic() - start)

                await asyncio.gather(*(send(request) for request in requests))
                await wait_for(
                    lambda: len(slack.calls_to("chat.postMessage")) >= len(requests),
                    600,
                    "every answer",
                )
                finished = time.monotonic() - began
                cpu = server.cpu() - cpu_before
                done.set()
                health = await probing
        finally:
            report_errors(server.stop())
    return {
        "http_statuses": sorted(set(statuses)),
        "ack_ms": summary(acks),
        "healthz_ms": summary(health),
        "healthz_probes": len(health),
        "seconds_until_last_answer": round(finished, 2),
        "server_cpu_ms_per_message": round(cpu * 1000 / len(requests), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5, help="long DMs sent at once")
    parser.add_argument("--characters", type=int, default=40_000, help="length of each")
    parser.add_argument("--text", choices=(*PHRASES, "mentions"), default="dates")
    args = parser.parse_args()
    before = machine()
    with tempfile.TemporaryDirectory(prefix="pairtime-bench-") as folder:
        result = asyncio.run(run(args, Path(folder)))
    ack, health = result["ack_ms"], result["healthz_ms"]
    report(
        before,
        "long_messages",
        messages=args.messages,
        characters=args.characters,
        text=args.text,
        **result,
        targets={
            "ack_max_ms": 3000,
            "ack_p99_ms": 100,
            "healthz_p99_ms": 50,
            "healthz_max_ms": 100,
        },
        met={
            "ack_max": ack["max"] < 3000,
            "ack_p99": ack["p99"] < 100,
            "healthz_p99": health["p99"] < 50,
            "healthz_max": health["max"] < 100,
        },
    )


if __name__ == "__main__":
    main()
