"""Load on Slack's endpoint: signed slash commands from distinct pairs against `pairtime serve`.

    .venv/bin/python bench/slack_load.py [--rate 150] [--seconds 60] [--pairs 1000]
                                         [--delay 0.2] [--no-cache] [--postgres]
    .venv/bin/python bench/slack_load.py --scenario cpu [--pairs 1000] [--rate 40]

Three processes, as in production (see bench/support.py): ``pairtime serve`` (SQLite in a
temporary folder; with ``--postgres`` a new database on the local PostgreSQL), the fakes
(Slack's Web API and response URLs; Google Calendar answering every call after ``--delay``
seconds, 200 ms by default), and this one, which only sends. ``--pairs`` mentor/mentee pairs
(1,000 by default, each person in London, Madrid or New York) are written into the database
by Pairtime's own repositories, each person connected to Google with a three-week calendar.
The server meets each person for the first time during the run, as a freshly started process
does (one ``users.info`` each).

``throughput`` (the default): "find 30 minutes with @mentee next week" from a pair drawn at
random for each command, ``--rate`` per second for ``--seconds`` (150/s for 60 s: 9,000
commands), open loop (command i is sent at i/rate seconds whatever came back). Printed:

- ``ack_ms``: from the moment each command was due to be sent (not when it actually left,
  which a busy sender delays) to its HTTP answer; target p99 < 100 ms;
- ``picker_ms``: from the same moment to its slot picker reaching the response_url; target
  p95 < 1 s;
- ``calendar_cache_hit_rate``: the share of the busy-time reads (two per command) that no calendar
  call was needed for (the cache keeps busy times 2 minutes; ``--no-cache`` runs the server
  with ``PAIRTIME_CALENDAR_CACHE_SECONDS=0``, so every command reads both calendars);
- ``server_cpu_ms_per_command`` (user + system CPU of the ``pairtime serve`` process from
  /proc, over the whole run, divided by commands) and ``sql_statements_per_command`` (counted
  by the server with ``PAIRTIME_COUNT_SQL=1``);
- ``server_cores_used``: that CPU divided by the time from the first command to the last
  answer. One process's event loop uses at most one core; well under one while answers were
  late means the machine's other work, not the server, set the pace.

``cpu``: the cost of one command, at a rate the server keeps up with. Three rounds of one
command per pair: ``first_contact`` ("... on Monday", the next weekday: the server meets
both people and reads their calendars), ``two_calendar_reads`` ("... from 21 December to
23 December", three weekdays more than two weeks ahead, a window no earlier round read: two
Google reads each)
and ``cached`` (the same again within the cache's 2 minutes: no read). Each prints CPU and
SQL statements per command, against the targets (4 ms cached, 10 ms with two reads).

Every run prints the machine (cores, Python, load average): on a loaded machine latencies mean
little, and CPU per command is the figure to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import (  # noqa: E402 - after the path is set
    SLACK_SECRET,
    Fakes,
    Pair,
    Server,
    database,
    fakes_process,
    fresh_postgres,
    machine,
    report,
    report_errors,
    seed_program,
    slack_members,
    slack_pairs,
    sql_count,
    summary,
    upgrade_database,
)
from storage.crypto import generate_key  # noqa: E402
from tests.fakes import slack_requests as sr  # noqa: E402

TARGET_ACK_P99_MS = 100
TARGET_PICKER_P95_MS = 1000
TARGET_CPU_MS_CACHED = 4
TARGET_CPU_MS_TWO_READS = 10
PICKER = "Times for you and"


async def send_round(
    servers: Sequence[Server],
    fakes: Fakes,
    commands: Sequence[tuple[Pair, str]],
    *,
    rate: float,
    label: str,
    wait: float,
    profile: Path | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """Send ``commands`` open-loop at ``rate``; measure acks, answers, CPU, SQL and reads.

    With ``profile`` (a folder), py-spy samples the server meanwhile into ``label``.txt
    (collapsed stacks: bench/profile.py sums them up). The commands go to ``address`` (a
    load balancer in front of ``servers``), or to the one server; CPU and SQL statements
    are summed over ``servers``."""
    target = address or servers[0].address
    requests = [
        sr.slash_command(
            SLACK_SECRET,
            text=text.format(partner=f"<@{pair.mentee}>"),
            user_id=pair.mentor,
            response_url=f"{fakes.slack}/response/{label}-{index}",
        )
        for index, (pair, text) in enumerate(commands)
    ]
    count = len(requests)
    due: list[float] = [0.0] * count
    acks: list[float] = []
    failures: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        before = await fakes.stats(session)
        sql_before = await sql_counts(session, servers)
        cpu_before = sum(server.cpu() for server in servers)
        sampler = sampling(servers[0], profile / f"{label}.txt") if profile else None

        async def fire(index: int) -> None:
            request = requests[index]
            try:
                async with session.post(
                    f"{target}/slack/events", data=request.body, headers=request.headers
                ) as answer:
                    await answer.read()
                    acks.append(time.monotonic() - due[index])
                    if answer.status != 200:
                        failures[answer.status] = failures.get(answer.status, 0) + 1
            except aiohttp.ClientError:
                failures[0] = failures.get(0, 0) + 1

        began = time.monotonic()
        tasks = []
        for index in range(count):
            due[index] = began + index / rate
            delay = due[index] - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(fire(index)))
        await asyncio.gather(*tasks)
        sent = time.monotonic() - began
        deadline = time.monotonic() + wait
        while True:
            now = await fakes.stats(session, since=before["answered"])
            if now["answered"] - before["answered"] >= count or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        cpu = sum(server.cpu() for server in servers) - cpu_before
        if sampler is not None:
            sampler.send_signal(signal.SIGINT)
            sampler.wait(60)
        sql_after = await sql_counts(session, servers)
        finished = time.monotonic() - began
    pickers: list[float] = []
    others: dict[str, int] = {}
    for response_id, at, text in now["answers"]:
        index = int(response_id.rsplit("-", 1)[1])
        if text.startswith(PICKER):
            pickers.append(at - due[index])
        else:
            others[text] = others.get(text, 0) + 1
    reads = now["calendar_reads"] - before["calendar_reads"]
    statements = sql_after["statements"] - sql_before["statements"]
    return {
        "commands": count,
        "seconds_to_send": round(sent, 2),
        "achieved_rate_per_second": round(count / sent, 1) if sent else None,
        "seconds_until_last_answer": round(finished, 2),
        "answers_per_second": round(len(now["answers"]) / finished, 1) if finished else None,
        "http_failures": failures,
        "ack_ms": summary(acks),
        "picker_ms": summary(pickers),
        "pickers": len(pickers),
        "other_answers": others,
        "unanswered": count - (now["answered"] - before["answered"]),
        "calendar_reads": reads,
        "calendar_cache_hit_rate": round(1 - reads / (2 * count), 3),
        "slack_api_calls": now["slack_api_calls"] - before["slack_api_calls"],
        "server_cpu_ms_per_command": round(cpu * 1000 / count, 2),
        "server_cores_used": round(cpu / finished, 2),
        "sql_statements_per_command": round(statements / count, 2),
        "sql_commits_per_command": round((sql_after["commits"] - sql_before["commits"]) / count, 2),
    }


async def sql_counts(session: aiohttp.ClientSession, servers: Sequence[Server]) -> dict[str, int]:
    counts = [await sql_count(session, server.address) for server in servers]
    return {name: sum(count[name] for count in counts) for name in ("statements", "commits")}


def sampling(server: Server, output: Path) -> subprocess.Popen[bytes]:
    """py-spy recording the server until it is sent SIGINT: without pausing it, and only the
    thread holding the GIL (where Python spends CPU, not where it waits)."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return subprocess.Popen(  # noqa: S603 - the profiler next to this Python
        [str(spy), "record", "--pid", str(server.pid), "--rate", "250", "--nonblocking", "--gil",
         "--format", "raw", "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def throughput(
    server: Server, fakes: Fakes, pairs: list[Pair], args: argparse.Namespace
) -> dict[str, Any]:
    chosen = random.Random(18)
    count = round(args.rate * args.seconds)
    commands = [(chosen.choice(pairs), args.text) for _ in range(count)]
    result = await send_round(
        [server], fakes, commands, rate=args.rate, label="load", wait=args.wait,
        profile=args.profile,
    )  # fmt: skip
    ack, picker = result["ack_ms"], result["picker_ms"]
    return {
        **result,
        "targets": {"ack_p99_ms": TARGET_ACK_P99_MS, "picker_p95_ms": TARGET_PICKER_P95_MS},
        "met": {
            "ack_p99": bool(ack) and ack["p99"] < TARGET_ACK_P99_MS,
            "picker_p95": bool(picker)
            and picker["p95"] < TARGET_PICKER_P95_MS
            and result["unanswered"] == 0,
        },
    }


async def cpu(
    server: Server, fakes: Fakes, pairs: list[Pair], args: argparse.Namespace
) -> dict[str, Any]:
    rounds = {}
    later = unread_days()
    for label, text in (
        ("first_contact", f"find 30 minutes with {{partner}} {next_working_day()}"),
        ("two_calendar_reads", f"find 30 minutes with {{partner}} {later}"),
        ("cached", f"find 30 minutes with {{partner}} {later}"),
    ):
        rounds[label] = await send_round(
            [server], fakes, [(pair, text) for pair in pairs], rate=args.rate, label=label,
            wait=args.wait, profile=args.profile,
        )  # fmt: skip
    return {
        **rounds,
        "targets": {
            "cpu_ms_per_command_cached": TARGET_CPU_MS_CACHED,
            "cpu_ms_per_command_two_calendar_reads": TARGET_CPU_MS_TWO_READS,
        },
        "met": {
            "cached": rounds["cached"]["server_cpu_ms_per_command"] <= TARGET_CPU_MS_CACHED,
            "two_calendar_reads": rounds["two_calendar_reads"]["server_cpu_ms_per_command"]
            <= TARGET_CPU_MS_TWO_READS,
        },
    }


def next_working_day(today: date | None = None) -> str:
    """The next weekday after today ("on Monday"): "tomorrow" on a Saturday is a Sunday,
    outside the program's hours, so the first round would show no times at all."""
    day = (today or datetime.now(UTC).date()) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return f"on {day:%A}"


def unread_days(today: date | None = None) -> str:
    """Three weekdays more than two weeks ahead ("from 21 December to 23 December"): a
    window no earlier round read (a first contact may read the next two weeks, for the
    person's status), so that the two-reads round reads both calendars."""
    day = (today or datetime.now(UTC).date()) + timedelta(days=15)
    day += timedelta(days=-day.weekday() % 7)  # the Monday on or after
    last = day + timedelta(days=2)
    return f"from {day.day} {day:%B} to {last.day} {last:%B}"


async def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    if args.postgres:
        async with fresh_postgres() as url:
            return await run_on(args, folder, url)
    return await run_on(args, folder, f"sqlite+aiosqlite:///{folder / 'pairtime.db'}")


async def run_on(args: argparse.Namespace, folder: Path, database_url: str) -> dict[str, Any]:
    key = generate_key()
    pairs = slack_pairs(args.pairs)
    with fakes_process(args.delay) as fakes:
        environment = fakes.server_environment(database_url, key)
        if args.no_cache:
            environment["PAIRTIME_CALENDAR_CACHE_SECONDS"] = "0"
        upgrade_database(folder, environment)
        started = time.monotonic()
        await seed_program(
            database_url, key, fakes, program="slack:T0PAIRTIME",
            members=slack_members(pairs), pairs=pairs,
        )  # fmt: skip
        seeded = time.monotonic() - started
        server = Server(folder, environment)
        try:
            scenario = cpu if args.scenario == "cpu" else throughput
            result = await scenario(server, fakes, pairs, args)
        finally:
            # In a thread: the fakes served by this event loop must answer its last calls.
            report_errors(await asyncio.to_thread(server.stop))
    return {"seconds_to_seed": round(seeded, 1), **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("throughput", "cpu"), default="throughput")
    parser.add_argument("--rate", type=float, help="commands per second (150; cpu: 40)")
    parser.add_argument("--seconds", type=float, default=60, help="how long to send")
    parser.add_argument("--pairs", type=int, default=1000, help="distinct mentor/mentee pairs")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per calendar call")
    parser.add_argument(
        "--no-cache", action="store_true", help="no busy-time cache (every command reads)"
    )
    parser.add_argument("--wait", type=float, default=300, help="seconds to wait for answers")
    parser.add_argument(
        "--text",
        default="find 30 minutes with {partner} next week",
        help="what each command says; {partner} is the mentee's mention",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a new database on the local PostgreSQL (127.0.0.1:5432) instead of SQLite",
    )
    parser.add_argument(
        "--profile", type=Path, help="a folder: py-spy samples the server there, a file a round"
    )
    args = parser.parse_args()
    if args.rate is None:
        args.rate = 40.0 if args.scenario == "cpu" else 150.0
    before = machine()
    with tempfile.TemporaryDirectory(prefix="pairtime-bench-") as folder:
        result = asyncio.run(run(args, Path(folder)))
    report(
        before,
        f"slack_load {args.scenario}",
        database=database(args.postgres),
        pairs=args.pairs,
        rate_per_second=args.rate,
        calendar="Google (fake), answering after "
        f"{round(args.delay * 1000)} ms, cache " + ("off" if args.no_cache else "2 minutes"),
        **result,
    )


if __name__ == "__main__":
    main()
