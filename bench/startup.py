"""Start-up: how soon `pairtime serve` answers /healthz on an existing database, and its CPU.

    .venv/bin/python bench/startup.py [--runs 5] [--database-url URL]

The database is made once (``pairtime db upgrade`` in a temporary folder, SQLite unless
``--database-url`` names another) and then each run starts ``pairtime serve`` on a free port,
asks ``GET /healthz`` every 5 ms from the moment the process is started, and stops it with
SIGTERM once it answers. Three setups, as people run it:

- ``no_chat``: no chat app configured, the playground off (the smallest server);
- ``slack_and_teams``: a Slack workspace (signing secret, bot token) and a Teams bot (app id
  and password) configured, calendars Google and Microsoft too: what production imports;
- ``playground``: the development default, which also starts its demo CalDAV server.

Every start finds its modules' bytecode cached, as after an install (pip compiles it) or
any first run: the first start of each setup, not counted, writes it to a folder of the
bench's own (``PYTHONPYCACHEPREFIX``), also where ``PYTHONDONTWRITEBYTECODE`` is set, which
would otherwise have every start compile our own modules again (about 0.15 s of CPU).

Printed as JSON, per setup: the time from starting the process to the first ``200`` from
``/healthz`` (median and slowest of the runs; target 1.5 s) and the CPU time (user + system,
from /proc) the process had used by then, with the machine's core count, its load average
when the bench began and ended (start-up times on a loaded machine mean little), and the
Python version.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import (  # noqa: E402 - after the path is set
    clean_environment,
    cpu_seconds,
    pairtime,
    upgrade_database,
)
from storage.crypto import generate_key  # noqa: E402

TARGET_SECONDS = 1.5
CHAT = {
    "SLACK_SIGNING_SECRET": "bench-signing-secret-0123456789abcdef",
    "SLACK_BOT_TOKEN": "xoxb-1-pairtime-bench",
    "MICROSOFT_APP_ID": "00000000-0000-4000-8000-00000000b0b0",
    "MICROSOFT_APP_PASSWORD": "bench-bot-password",
    "GOOGLE_CLIENT_ID": "bench.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "bench-google-secret",
    "MICROSOFT_CALENDAR_CLIENT_ID": "00000000-0000-4000-8000-0000000ca1e0",
    "MICROSOFT_CALENDAR_CLIENT_SECRET": "bench-graph-secret",
}
SETUPS: dict[str, dict[str, str]] = {
    "no_chat": {"PAIRTIME_PLAYGROUND": "0"},
    "slack_and_teams": {"PAIRTIME_PLAYGROUND": "0", **CHAT},
    "playground": {"PAIRTIME_PLAYGROUND": "1"},
}


def machine() -> dict[str, Any]:
    """What every bench prints beside its figures: figures mean little without it."""
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def environment(
    database_url: str, key: str, setup: dict[str, str], bytecode: Path
) -> dict[str, str]:
    """The server's environment; its bytecode kept in ``bytecode`` (see the docstring)."""
    settings = clean_environment(
        PAIRTIME_DATABASE_URL=database_url, PAIRTIME_ENCRYPTION_KEYS=key, **setup
    )
    settings.pop("PYTHONDONTWRITEBYTECODE", None)
    return settings | {"PYTHONPYCACHEPREFIX": str(bytecode)}


def one_start(folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from start to the first healthy answer, and the CPU seconds spent by then."""
    port = free_port()
    log = (folder / "serve.log").open("a")
    began = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [*pairtime(), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=env,
        cwd=folder,
    )
    try:
        while not healthy(port):
            if process.poll() is not None:
                raise SystemExit(f"pairtime serve stopped: see {folder / 'serve.log'}")
            if time.monotonic() - began > 60:
                raise SystemExit("pairtime serve did not answer /healthz within a minute")
            time.sleep(0.005)
        elapsed = time.monotonic() - began
        cpu = cpu_seconds(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        log.close()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="starts per setup")
    parser.add_argument(
        "--database-url", help="an existing database to start on (default: a new SQLite file)"
    )
    parser.add_argument("--setups", nargs="*", choices=sorted(SETUPS), default=list(SETUPS))
    args = parser.parse_args()
    before = machine()
    key = generate_key()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="pairtime-startup-") as name:
        folder = Path(name)
        url = args.database_url or f"sqlite+aiosqlite:///{folder / 'pairtime.db'}"
        upgrade_database(folder, environment(url, key, {}, folder / "bytecode"))
        for setup in args.setups:
            env = environment(url, key, SETUPS[setup], folder / "bytecode")
            one_start(folder, env)  # a first start warms the page cache and writes bytecode
            runs = [one_start(folder, env) for _ in range(args.runs)]
            seconds = [elapsed for elapsed, _ in runs]
            cpu = [used for _, used in runs]
            results[setup] = {
                "healthz_after_s": {
                    "median": round(statistics.median(seconds), 3),
                    "max": round(max(seconds), 3),
                },
                "cpu_s": {"median": round(statistics.median(cpu), 3), "max": round(max(cpu), 3)},
                "target_s": TARGET_SECONDS,
                "met": statistics.median(seconds) <= TARGET_SECONDS,
            }
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "machine": {
                    **before,
                    "load_average_1m_after": round(os.getloadavg()[0], 2),
                },
                "database": url.split("://")[0] if args.database_url else "SQLite (a new file)",
                "bytecode": "cached by a first start of each setup, not counted",
                "runs_per_setup": args.runs,
                **results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
