"""Benchmark of the availability engine against Python's own sorted() on the same intervals.

    python bench/engine.py [--repeat N]

Prints JSON: for each case the engine's median time, the median time of
``sorted(intervals, key=start)`` over the same busy intervals in the same run,
and their ratio; then the engine at n and 4n intervals, to show the cost
grows like n log n. Calendars are random but seeded, so runs compare.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from core.availability import BusyInterval, BusyStatus, Mode, Participant, SlotRequest, find_slots
from core.time import Interval

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
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, across the US clock change
STATUSES = [BusyStatus.BUSY] * 14 + [BusyStatus.TENTATIVE] * 3 + [BusyStatus.OOF, BusyStatus.FREE]


def calendar(rng: random.Random, days: int, count: int) -> list[BusyInterval]:
    """``count`` meetings of 15 minutes to 2 hours, on the quarter hour, in random order."""
    intervals = []
    for _ in range(count):
        start = START + timedelta(minutes=15 * rng.randrange(days * 96))
        length = timedelta(minutes=15 * rng.randint(1, 8))
        intervals.append(BusyInterval(start, start + length, rng.choice(STATUSES)))
    return intervals


def case(seed: int, people: int, days: int, per_person: int, mode: Mode) -> SlotRequest:
    rng = random.Random(seed)
    participants = [
        Participant(
            id=f"person-{index}",
            timezone=ZoneInfo(rng.choice(PAIR_ZONES if mode is Mode.ALL else CIRCLE_ZONES)),
            calendar_connected=True,
            busy=calendar(rng, days, per_person),
        )
        for index in range(people)
    ]
    return SlotRequest(
        window=Interval(START, START + timedelta(days=days)),
        duration=timedelta(minutes=30 if mode is Mode.ALL else 60),
        participants=participants,
        now=START - timedelta(days=1),
        mode=mode,
    )


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    work()  # warm-up: zoneinfo caches, allocator
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def measure(request: SlotRequest, repeat: int) -> dict[str, float | int]:
    intervals = [block for person in request.participants for block in person.busy]
    engine = median_seconds(lambda: find_slots(request), repeat)
    by_start = attrgetter("start")
    sort = median_seconds(lambda: sorted(intervals, key=by_start), repeat)
    return {
        "intervals": len(intervals),
        "slots": len(find_slots(request)),
        "engine_ms": round(engine * 1000, 3),
        "sorted_ms": round(sort * 1000, 3),
        "ratio_engine_to_sort": round(engine / sort, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=25, help="timed runs per figure (median)")
    args = parser.parse_args()

    pair = measure(case(1, people=2, days=14, per_person=300, mode=Mode.ALL), args.repeat)
    group = measure(case(2, people=50, days=28, per_person=400, mode=Mode.MOST), args.repeat)
    larger = measure(case(2, people=50, days=28, per_person=1600, mode=Mode.MOST), args.repeat)
    n, big_n = group["intervals"], larger["intervals"]
    growth = larger["engine_ms"] / group["engine_ms"]
    print(
        json.dumps(
            {
                "all_2_people_14_days_300_each": pair | {"target_ratio": 5},
                "most_50_people_28_days_400_each": group | {"target_ratio": 3},
                "growth": {
                    "n": n,
                    "engine_ms_at_n": group["engine_ms"],
                    "4n": big_n,
                    "engine_ms_at_4n": larger["engine_ms"],
                    "observed_factor": round(growth, 2),
                    "n_log_n_factor": round(big_n * math.log(big_n) / (n * math.log(n)), 2),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
