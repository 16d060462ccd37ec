"""CSV imports: 10,000 pairs and 10,000 circle members, checked then written in one transaction.

    .venv/bin/python bench/imports.py [--rows 10000] [--postgres URL]

Runs `pairtime pairs import` and `pairtime circles import` as an admin would, in this
process (``bot.cli.main``), against a new SQLite database (and PostgreSQL when ``--postgres``
or ``PAIRTIME_TEST_POSTGRES_URL`` names one: a database of its own, dropped afterwards).
Every row names two new people (pairs) or one new person (circles of 10). Each file is
imported twice: the second run finds everything unchanged and writes nothing.

Printed as JSON: seconds for each import (whole command: reading, checking, writing) and
CPU seconds of this process. Target: 10,000 rows in under 10 s (issue 17; committing row
by row took 339 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import make_url  # noqa: E402

from bench.support import postgres_admin  # noqa: E402
from bot.cli import main as pairtime  # noqa: E402
from storage.crypto import generate_key  # noqa: E402

TARGET_SECONDS = 10.0


def run(args: list[str]) -> tuple[int, float, float]:
    out, err = io.StringIO(), io.StringIO()
    started, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = pairtime(args)
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    if status != 0:
        raise SystemExit(f"pairtime {' '.join(args[:2])} exited {status}: {err.getvalue()}")
    return status, elapsed, used


def measure(database_url: str, folder: Path, rows: int) -> dict[str, Any]:
    os.environ.update(
        {
            "PAIRTIME_ENV": "development",
            "PAIRTIME_DATABASE_URL": database_url,
            "PAIRTIME_ENCRYPTION_KEYS": generate_key(),
        }
    )
    run(["db", "upgrade"])
    pairs = folder / "pairs.csv"
    pairs.write_text(
        "mentor,mentee\n"
        + "".join(f"mentor{n}@example.org,mentee{n}@example.org\n" for n in range(rows)),
        encoding="utf-8",
    )
    circles = folder / "circles.csv"
    circles.write_text(
        "circle,member\n"
        + "".join(f"Circle {n // 10},member{n}@example.org\n" for n in range(rows)),
        encoding="utf-8",
    )
    found: dict[str, Any] = {"rows": rows}
    for name, command in (
        ("pairs_import", ["pairs", "import", str(pairs), "--program", "slack:T1"]),
        ("pairs_again", ["pairs", "import", str(pairs)]),
        ("circles_import", ["circles", "import", str(circles)]),
        ("circles_again", ["circles", "import", str(circles)]),
    ):
        _, elapsed, used = run(command)
        found[name] = {"seconds": round(elapsed, 2), "cpu_seconds": round(used, 2)}
    found["met"] = all(
        found[name]["seconds"] < TARGET_SECONDS for name in ("pairs_import", "circles_import")
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("PAIRTIME_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    results: dict[str, Any] = {
        "cores": os.cpu_count(),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "target_seconds": TARGET_SECONDS,
    }
    with tempfile.TemporaryDirectory(prefix="pairtime-bench-") as folder:
        path = Path(folder)
        results["sqlite"] = measure(f"sqlite+aiosqlite:///{path / 'bench.db'}", path, args.rows)
        if args.postgres:
            name = f"bench_{uuid.uuid4().hex[:10]}"
            asyncio.run(postgres_admin(args.postgres, f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.postgres).set(database=name)
                results["postgresql"] = measure(
                    url.render_as_string(hide_password=False), path, args.rows
                )
            finally:
                asyncio.run(postgres_admin(args.postgres, f'DROP DATABASE "{name}"'))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
