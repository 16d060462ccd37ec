"""Benchmark of the message parser, in process and as the ``pairtime parse`` command.

    python bench/parse.py [--repeat N] [--runs N]

Prints JSON: the median time to parse one message of the test table
(tests/unit/parsing/utterances.json) after a warm-up, the slowest message's
median, and the median wall time of the whole ``pairtime parse`` process,
once for a message without a date (dateparser not imported) and once with one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from core.parsing import parse

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "unit" / "parsing" / "utterances.json"
PLAIN = "find 45 min with my mentee next Thursday afternoon"
DATED = "find 45 min with my mentee on Dec 3 after 2pm"


def per_message(repeat: int) -> dict[str, float | int]:
    rows = json.loads(TABLE.read_text(encoding="utf-8"))
    calls = [
        (
            row["text"],
            ZoneInfo(row["tz"]),
            datetime.fromisoformat(row["now"]),
            row.get("bot_user_id"),
        )
        for row in rows
    ]
    for text, zone, now, bot in calls:  # warm-up: dateparser's data, regex caches
        parse(text, zone, now, bot_user_id=bot)
    medians = []
    for text, zone, now, bot in calls:
        timings = []
        for _ in range(repeat):
            began = time.perf_counter()
            parse(text, zone, now, bot_user_id=bot)
            timings.append(time.perf_counter() - began)
        medians.append(statistics.median(timings))
    return {
        "messages": len(calls),
        "median_ms": round(statistics.median(medians) * 1000, 3),
        "slowest_message_ms": round(max(medians) * 1000, 3),
        "target_ms": 5,
    }


def pairtime_command() -> list[str]:
    script = Path(sys.executable).with_name("pairtime")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def whole_process(text: str, runs: int) -> float:
    # Our own command with fixed arguments: nothing untrusted reaches the shell-free call.
    command = [*pairtime_command(), "parse", text, "--tz", "Europe/London"]
    subprocess.run(command, capture_output=True, check=True, cwd=ROOT)  # noqa: S603
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=ROOT)  # noqa: S603
        timings.append(time.perf_counter() - began)
    return round(statistics.median(timings) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed parses per message (median)")
    parser.add_argument("--runs", type=int, default=10, help="timed processes per figure (median)")
    args = parser.parse_args()
    print(
        json.dumps(
            {
                "parse_per_message": per_message(args.repeat),
                "pairtime_parse_process_ms": {
                    "without_a_date": whole_process(PLAIN, args.runs),
                    "with_a_date": whole_process(DATED, args.runs),
                    "runs": args.runs,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
