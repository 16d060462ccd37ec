"""Several processes: `pairtime serve` on PostgreSQL behind HAProxy, 1 process then 2, driven
to saturation.

    .venv/bin/python bench/scale.py [--processes 1 2] [--rate 250] [--seconds 10]
                                    [--pairs 500] [--delay 0.2]

For each setup: a new database on the local PostgreSQL (127.0.0.1:5432, trust
authentication; dropped afterwards), ``--pairs`` mentor/mentee pairs connected to the fake
Google (answering after ``--delay`` seconds), N ``pairtime serve`` processes on that database,
and Debian's HAProxy in front of them (its configuration written to a temporary folder:
round robin, a health check of ``GET /healthz`` every second, a process taken out after two
failed checks; see docs/deploy.md). Slash commands ("find 30 minutes with @mentee next week",
a pair drawn at random each time) are sent to HAProxy open loop at ``--rate`` per second for
``--seconds``, more than one process answers: the slot pickers then come back as fast as
the processes can make them, and the backlog drains at that pace after the last command.
The defaults (2,500 commands per setup) finish in about two minutes on 2 cores; on a
larger machine raise ``--rate`` until the send rate is clearly above what two processes
answer.

Printed per setup: ``saturation_commands_per_second`` (commands answered divided by the time
from the first command to the last answer: with a backlog the whole time, what the setup
sustains), the server CPU per command (all ``pairtime serve`` processes, from /proc), the
cores they used together over that time (``server_cores_used``: far under the number of
processes, the machine's other work held them back), SQL statements per command, the
calendar cache's hit rate (each process has its own cache), HAProxy's own CPU, and ack and
picker latencies (timed from when each command was due; at saturation they measure the
backlog, not the service). The machine (cores, Python, load average) is printed first, each
step's figures as soon as it is done (one JSON object a line), and all setups together at
the end. On 2 cores the bench, the fakes, PostgreSQL and HAProxy share them with the
servers, so a second process adds far less than a second process's worth.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import support  # noqa: E402 - after the path is set
from bench.slack_load import send_round  # noqa: E402
from storage.crypto import generate_key  # noqa: E402

HAPROXY = "/usr/sbin/haproxy"
TEXT = "find 30 minutes with {partner} next week"


def step(name: str, **figures: Any) -> None:
    """One line of JSON as soon as a step is done, with the load average then."""
    line = {"step": name, **figures, "load_average": support.machine()["load_average"]}
    print(json.dumps(line), flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def haproxy_config(port: int, backends: list[int]) -> str:
    """Round robin over the processes, each checked on /healthz every second."""
    servers = "\n".join(
        f"    server pairtime{n} 127.0.0.1:{backend} check inter 1s fall 2 rise 1"
        for n, backend in enumerate(backends, start=1)
    )
    return f"""global
    maxconn 8000

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    # A connection refused (a process stopping) is tried once more, on another process.
    retries 2
    option redispatch

frontend pairtime
    bind 127.0.0.1:{port}
    default_backend processes

backend processes
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
{servers}
"""


@contextmanager
def haproxy(folder: Path, backends: list[int]) -> Any:
    """HAProxy in the foreground (``-db``), configured for ``backends``; yields (URL, pid)."""
    port = free_port()
    config = folder / "haproxy.cfg"
    config.write_text(haproxy_config(port, backends))
    log = (folder / "haproxy.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - the system's HAProxy on our own config
        [HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(30)
        log.close()


async def until_healthy(address: str, processes: int) -> None:
    """Until HAProxy answers /healthz through every process (each checked up once)."""
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        healthy = 0
        while healthy < 2 * processes:
            if time.monotonic() > deadline:
                raise SystemExit("HAProxy did not answer /healthz within a minute")
            try:
                async with session.get(f"{address}/healthz") as answer:
                    healthy = healthy + 1 if answer.status == 200 else 0
            except aiohttp.ClientError:
                healthy = 0
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)  # every process has passed a check: round robin reaches all


async def one_setup(args: argparse.Namespace, processes: int) -> dict[str, Any]:
    pairs = support.slack_pairs(args.pairs)
    chosen = random.Random(18)
    count = round(args.rate * args.seconds)
    commands = [(chosen.choice(pairs), TEXT) for _ in range(count)]
    with tempfile.TemporaryDirectory(prefix="pairtime-scale-") as name:
        folder = Path(name)
        async with AsyncExitStack() as stack:
            fakes = stack.enter_context(support.fakes_process(args.delay))
            database_url = await stack.enter_async_context(support.fresh_postgres())
            key = generate_key()
            environment = fakes.server_environment(database_url, key)
            support.upgrade_database(folder, environment)
            started = time.monotonic()
            await support.seed_program(
                database_url, key, fakes, program="slack:T0PAIRTIME",
                members=support.slack_members(pairs), pairs=pairs,
            )  # fmt: skip
            step("seeded", processes=processes, pairs=args.pairs,
                 seconds=round(time.monotonic() - started, 1))  # fmt: skip
            servers = [
                support.Server(folder, environment, name=f"serve{n}", port=free_port())
                for n in range(1, processes + 1)
            ]
            try:
                ports = [int(server.address.rsplit(":", 1)[1]) for server in servers]
                address, balancer = stack.enter_context(haproxy(folder, ports))
                await until_healthy(address, processes)
                step("serving", processes=processes, commands=count, rate_per_second=args.rate)
                balancer_cpu = support.cpu_seconds(balancer)
                result = await send_round(
                    servers, fakes, commands, rate=args.rate, label=f"scale{processes}",
                    wait=args.wait, address=address,
                )  # fmt: skip
                balancer_cpu = support.cpu_seconds(balancer) - balancer_cpu
            finally:
                for server in servers:
                    support.report_errors(await asyncio.to_thread(server.stop))
    answered = count - result["unanswered"]
    figures = {
        "processes": processes,
        "saturation_commands_per_second": round(answered / result["seconds_until_last_answer"], 1),
        "server_cpu_ms_per_command": result["server_cpu_ms_per_command"],
        "server_cores_used": result["server_cores_used"],
        "haproxy_cpu_ms_per_command": round(balancer_cpu * 1000 / count, 2),
        "sql_statements_per_command": result["sql_statements_per_command"],
        "calendar_cache_hit_rate": result["calendar_cache_hit_rate"],
        "commands": count,
        "unanswered": result["unanswered"],
        "http_failures": result["http_failures"],
        "achieved_send_rate_per_second": result["achieved_rate_per_second"],
        "seconds_until_last_answer": result["seconds_until_last_answer"],
        "ack_ms": result["ack_ms"],
        "picker_ms": result["picker_ms"],
    }
    step("measured", **figures)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rate", type=float, default=250, help="commands sent per second")
    parser.add_argument("--seconds", type=float, default=10, help="how long to send")
    parser.add_argument("--pairs", type=int, default=500, help="distinct mentor/mentee pairs")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per calendar call")
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for answers")
    args = parser.parse_args()
    if not Path(HAPROXY).exists():
        raise SystemExit("bench/scale.py needs HAProxy (Debian: apt-get install haproxy)")
    before = support.machine()
    print(json.dumps({"benchmark": "scale", "machine": before}), flush=True)
    setups = [asyncio.run(one_setup(args, processes)) for processes in args.processes]
    support.report(
        before,
        "scale",
        database="PostgreSQL 127.0.0.1:5432, a new database per setup",
        balancer="HAProxy, round robin, GET /healthz every second",
        rate_per_second=args.rate,
        seconds=args.seconds,
        pairs=args.pairs,
        calendar_delay_ms=round(args.delay * 1000),
        setups=setups,
    )


if __name__ == "__main__":
    main()
