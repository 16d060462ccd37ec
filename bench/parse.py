"""Benchmark of the message parser, in process and as the ``pairtime parse`` command.

    python bench/parse.py [--repeat N] [--runs N]

Prints JSON: the median time to parse one message of the test table
(tests/unit/parsing/utterances.json) after a warm-up, the slowest message's
median, and the median wall time of the whole ``pairtime parse`` process,
once for a message without a date (dateparser not imported) and once with one.

It also times hostile messages of 40,000 characters (Slack's limit) built
from words the grammar knows, which the parser cuts to its first 1,000, and
the same messages at 250 and 1,000 characters: time that grows about 4
times from one to the other is linear, 16 times would be quadratic.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import machine, report  # noqa: E402
from core.parsing import parse  # noqa: E402

TABLE = ROOT / "tests" / "unit" / "parsing" / "utterances.json"
PLAIN = "find 45 min with my mentee next Thursday afternoon"
DATED = "find 45 min with my mentee on Dec 3 after 2pm"
# Pieces that each start a match in one pass or another, repeated to fill a message.
HOSTILE = (
    "a",
    " ",
    "1 ",
    "1-",
    "1:00 ",
    "<@U1|",
    "@",
    "with Sam and ",
    "Sam, ",
    "with a b c d ",
    "my ",
    "is ",
    "not monday, ",
    "i'm busy ",
    "no mornings ",
    "between 1 and ",
    "the 3rd ",
    "dec 3 ",
    "12/3 ",
    "half ",
    "twenty ",
    "within ",
    "tmrw ",
    "x@",
)
LONG = 40_000
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 25, 10, tzinfo=LONDON)


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
        "target_ms": 1,
    }


def _best_ms(text: str, repeat: int) -> float:
    """The fastest of ``repeat`` parses: the least disturbed by other work on the machine."""
    parse(text, LONDON, NOW)
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        parse(text, LONDON, NOW)
        timings.append(time.perf_counter() - began)
    return min(timings) * 1000


def hostile(repeat: int) -> dict[str, object]:
    """40,000-character messages, and the growth from 250 to 1,000 characters (best of
    ``repeat`` each, since a loaded machine only ever adds time)."""
    long_ms, growth = {}, {}
    for piece in HOSTILE:
        filled = piece * (LONG // len(piece) + 1)
        long_ms[piece] = _best_ms(filled[:LONG], repeat)
        growth[piece] = _best_ms(filled[:1000], repeat) / _best_ms(filled[:250], repeat)
    slowest = max(long_ms, key=long_ms.__getitem__)
    most_growth = max(growth, key=growth.__getitem__)
    return {
        "messages": len(HOSTILE),
        "characters": LONG,
        "median_best_ms": round(statistics.median(long_ms.values()), 3),
        "slowest_best_ms": round(long_ms[slowest], 3),
        "slowest_piece": slowest,
        "growth_250_to_1000_median": round(statistics.median(growth.values()), 2),
        "growth_250_to_1000_most": round(growth[most_growth], 2),
        "most_growing_piece": most_growth,
        "target": "a few ms; growth near 4 (linear), far from 16 (quadratic)",
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
    before = machine()
    report(
        before,
        "parse",
        parse_per_message=per_message(args.repeat),
        hostile_messages=hostile(args.repeat),
        pairtime_parse_process_ms={
            "without_a_date": whole_process(PLAIN, args.runs),
            "with_a_date": whole_process(DATED, args.runs),
            "runs": args.runs,
        },
    )


if __name__ == "__main__":
    main()
