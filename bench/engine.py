"""Benchmark of the availability engine and of `pairtime slots`, each against the floor.

    python bench/engine.py [--repeat N] [--runs N] [--no-process]

The floor is the least any program must do with the same input: read the
request's JSON, parse every timestamp with ``datetime.fromisoformat`` and sort
the busy intervals. Comparing with it says how much the engine adds to work
that cannot be avoided; ``sorted()`` on a list of intervals alone was C code
against Python and said little.

Prints JSON: the machine (cores, Python, load average), then

* ``in_process``: for each case the median CPU times of the floor, of decoding the
  request, of the engine alone and of the whole pipeline (decode, engine,
  encode), with the pipeline's ratio to the floor and its target;
* ``growth``: decode plus engine at n intervals over d days, then at 4n over
  4d days (both the intervals and the window grow), against the n log n factor;
* ``process``: ``pairtime slots --input FILE`` as a whole process against a
  bare Python process doing the floor's work on the same file, run in turn
  (A B A B ...), with the median of the per-pair CPU and wall ratios and the
  targets of issue 18 (2.5 in ``all`` mode, 3 in ``most`` mode).

Calendars are random but seeded, so runs compare.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from core.availability import slot_table
from core.slots_json import encode_slots, parse_slot_request

# A pair across the Atlantic; a circle spread over Europe, West Africa and the US
# east coast, whose allowed hours still overlap (08:00 New York to 18:00 Berlin).
PAIR_ZONES = ["Europe/London", "America/New_York"]
CIRCLE_ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "Europe/Lisbon",
    "Africa/Lagos",
    "America/New_York",
]
EUROPE_ZONES = ["Europe/London", "Europe/Berlin", "Europe/Lisbon", "Africa/Lagos"]
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, before the US and EU clock changes
STATUSES = ["busy"] * 13 + ["tentative"] * 3 + ["oof", "all_day", "free"]
WIDE_RULES = {"earliest": "07:00", "latest": "21:00", "weekends": True, "granularity_minutes": 15}

FLOOR = """
import json, sys
from datetime import datetime
with open(sys.argv[1], "rb") as file:
    data = json.load(file)
parse = datetime.fromisoformat
window = (parse(data["window"]["start"]), parse(data["window"]["end"]))
intervals = [
    (parse(block["start"]), parse(block["end"]))
    for person in data["participants"]
    for block in person.get("busy", [])
]
intervals.sort()
"""


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def request(
    seed: int,
    *,
    people: int,
    days: int,
    intervals: int,
    mode: str,
    zones: list[str],
    rules: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``intervals`` meetings of 15 minutes to 2 hours, on the quarter hour, shared out."""
    rng = random.Random(seed)
    participants = []
    for index in range(people):
        busy = []
        for _ in range(intervals // people + (index < intervals % people)):
            start = START + timedelta(minutes=15 * rng.randrange(days * 96))
            end = start + timedelta(minutes=15 * rng.randint(1, 8))
            busy.append({"start": stamp(start), "end": stamp(end), "status": rng.choice(STATUSES)})
        participants.append(
            {
                "id": f"person-{index}",
                "timezone": rng.choice(zones),
                "calendar_connected": True,
                "busy": busy,
            }
        )
    return {
        "now": stamp(START - timedelta(days=1)),
        "window": {"start": stamp(START), "end": stamp(START + timedelta(days=days))},
        "duration_minutes": 30 if mode == "all" else 60,
        "mode": mode,
        "rules": rules or {},
        "participants": participants,
    }


def cases() -> dict[str, tuple[dict[str, Any], float]]:
    """Each case's request and the target ratio of its pipeline, or process, to the floor."""
    year = {"people": 33, "days": 366, "intervals": 100_000}
    return {
        "all_2_people_14_days_300_each": (
            request(1, people=2, days=14, intervals=600, mode="all", zones=PAIR_ZONES),
            2.5,
        ),
        "most_50_people_28_days_400_each": (
            request(2, people=50, days=28, intervals=20_000, mode="most", zones=CIRCLE_ZONES),
            3,
        ),
        "all_33_calendars_a_year_100000_intervals": (
            request(3, **year, mode="all", zones=CIRCLE_ZONES),
            2.5,
        ),
        "most_33_calendars_a_year_100000_intervals": (
            request(3, **year, mode="most", zones=CIRCLE_ZONES),
            3,
        ),
        # Every day 07:00-21:00 every 15 minutes in four close zones: some 18,000 slots
        # naming 33 people each, so writing the answer weighs as much as reading the input.
        "most_33_calendars_a_year_wide_hours": (
            request(3, **year, mode="most", zones=EUROPE_ZONES, rules=WIDE_RULES),
            3,
        ),
    }


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    """Median CPU seconds of ``work``: CPU, not wall, so a busy machine's waits stay out."""
    work()  # warm-up: zoneinfo caches, allocator
    timings = []
    for _ in range(repeat):
        began = time.process_time()
        work()
        timings.append(time.process_time() - began)
    return statistics.median(timings)


def in_process(document: dict[str, Any], target: float, repeat: int) -> dict[str, Any]:
    text = json.dumps(document).encode()
    now = datetime.now(UTC)

    def do_floor() -> None:
        data = json.loads(text)
        parse = datetime.fromisoformat
        intervals = [
            (parse(block["start"]), parse(block["end"]))
            for person in data["participants"]
            for block in person.get("busy", [])
        ]
        intervals.sort()

    parsed = parse_slot_request(text, now=now)
    table = slot_table(parsed)
    floor_s = median_seconds(do_floor, repeat)
    decode_s = median_seconds(lambda: parse_slot_request(text, now=now), repeat)
    engine_s = median_seconds(lambda: slot_table(parsed), repeat)
    pipeline_s = median_seconds(
        lambda: encode_slots(slot_table(parse_slot_request(text, now=now))), repeat
    )
    return {
        "intervals": sum(len(p["busy"]) for p in document["participants"]),
        "days": (parsed.window.end - parsed.window.start).days,
        "slots": len(table),
        "floor_ms": round(floor_s * 1000, 2),
        "decode_ms": round(decode_s * 1000, 2),
        "engine_ms": round(engine_s * 1000, 2),
        "pipeline_ms": round(pipeline_s * 1000, 2),
        "ratio_pipeline_to_floor": round(pipeline_s / floor_s, 2),
        "target_ratio": target,
    }


def growth(repeat: int) -> dict[str, Any]:
    """Decode plus engine as both the window and the intervals grow fourfold."""
    small = request(4, people=20, days=90, intervals=25_000, mode="most", zones=CIRCLE_ZONES)
    large = request(4, people=20, days=360, intervals=100_000, mode="most", zones=CIRCLE_ZONES)
    gc.collect()
    gc.freeze()
    now = datetime.now(UTC)
    timings = []
    for document in (small, large):
        text = json.dumps(document).encode()
        timings.append(
            median_seconds(lambda t=text: slot_table(parse_slot_request(t, now=now)), repeat)
        )
    n, big_n = 25_000, 100_000
    return {
        "n_intervals": n,
        "days_at_n": 90,
        "ms_at_n": round(timings[0] * 1000, 2),
        "4n_intervals": big_n,
        "days_at_4n": 360,
        "ms_at_4n": round(timings[1] * 1000, 2),
        "observed_factor": round(timings[1] / timings[0], 2),
        "n_log_n_factor": round(big_n * math.log(big_n) / (n * math.log(n)), 2),
    }


def pairtime_command() -> list[str]:
    script = Path(sys.executable).with_name("pairtime")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def run_once(command: list[str]) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one whole process.

    No peak memory: Linux counts the forking bench's own pages in a child's
    ru_maxrss, so it would say more about this process than about the child.
    """
    began = time.perf_counter()
    # Our own command and interpreter, with a file this bench wrote.
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    problem = process.stderr.read()
    process.stderr.close()
    if process.returncode != 0:
        raise SystemExit(f"{command} failed: {problem.decode()}")
    return usage.ru_utime + usage.ru_stime, wall


def process(document: dict[str, Any], target: float, runs: int, folder: Path) -> dict[str, Any]:
    path = folder / "request.json"
    path.write_text(json.dumps(document))
    slots = [*pairtime_command(), "slots", "--input", str(path)]
    bare = [sys.executable, "-c", FLOOR, str(path)]
    run_once(slots)  # warm-up: the page cache, .pyc files
    run_once(bare)
    pairs = [(run_once(slots), run_once(bare)) for _ in range(runs)]
    cpu = [a[0] / b[0] for a, b in pairs]
    wall = [a[1] / b[1] for a, b in pairs]
    return {
        "input_mb": round(path.stat().st_size / 1e6, 1),
        "slots_cpu_s": round(statistics.median(a[0] for a, _ in pairs), 3),
        "floor_cpu_s": round(statistics.median(b[0] for _, b in pairs), 3),
        "slots_wall_s": round(statistics.median(a[1] for a, _ in pairs), 3),
        "floor_wall_s": round(statistics.median(b[1] for _, b in pairs), 3),
        "ratio_cpu": round(statistics.median(cpu), 2),
        "ratio_cpu_min_max": [round(min(cpu), 2), round(max(cpu), 2)],
        "ratio_wall": round(statistics.median(wall), 2),
        "target_ratio": target,
    }


def machine() -> dict[str, Any]:
    return {
        "date": date.today().isoformat(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load_average_1_5_15": [round(load, 2) for load in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per in-process figure")
    parser.add_argument("--runs", type=int, default=7, help="process pairs per case (median)")
    parser.add_argument("--no-process", action="store_true", help="skip the process figures")
    args = parser.parse_args()

    report: dict[str, Any] = {"machine": machine(), "in_process": {}}
    every = cases()
    # The generated requests are millions of objects: left to the collector, every
    # full collection inside a timing would walk them, which no real process does.
    gc.collect()
    gc.freeze()
    for name, (document, target) in every.items():
        report["in_process"][name] = in_process(document, target, args.repeat)
    report["growth"] = growth(args.repeat)
    if not args.no_process:
        report["process"] = {}
        with tempfile.TemporaryDirectory() as folder:
            for name, (document, target) in every.items():
                if "a_year" in name:  # the case: a year of 33 calendars
                    report["process"][name] = process(document, target, args.runs, Path(folder))
    report["machine"]["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
