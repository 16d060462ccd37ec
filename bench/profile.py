"""Sums up py-spy's collapsed stacks (``--format raw``): where a server's samples went.

    .venv/bin/python bench/profile.py FILE.txt [--top 40] [--under FUNCTION]

Prints the share of samples each function is on the stack for (inclusive) and at the top of
(self), over the samples where a thread worked; ``--under`` keeps only the stacks through a
function (``handle``, ``_read_now``...). Idle samples (the event loop waiting in
``select``/``epoll``) are counted apart.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

# Frames where a thread waits rather than works (without py-spy's --gil they are sampled).
IDLE = (
    "EpollSelector.select (selectors.py",
    "_connection_worker_thread (aiosqlite/core.py:59)",
    "_worker (concurrent/futures/thread.py:81)",
)


def frames(stack: str) -> list[str]:
    """``function (file)`` for each frame, the line numbers dropped."""
    named = []
    for frame in stack.split(";"):
        function, _, where = frame.partition(" (")
        named.append(f"{function} ({where.rsplit(':', 1)[0].rstrip(')')})")
    return named


def package(frame: str) -> str:
    """Where a frame's code lives: a top-level library, or our own folder and module."""
    where = frame.rpartition(" (")[2].rstrip(")")
    parts = where.split("/")
    if parts[0] in ("core", "adapters", "storage", "bot") and len(parts) > 1:
        return "/".join(parts[:2]).removesuffix(".py")
    return parts[0].removesuffix(".py") if len(parts) > 1 else f"stdlib {parts[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--under", help="only stacks that pass through this function name")
    args = parser.parse_args()
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in args.file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        calls = frames(stack)
        if stack.rpartition(";")[2].startswith(IDLE):
            idle += samples
            continue
        if args.under and not any(c.startswith(f"{args.under} ") for c in calls):
            continue
        total += samples
        own[calls[-1]] += samples
        for call in set(calls):
            inclusive[call] += samples
    packages: collections.Counter[str] = collections.Counter()
    for name, samples in own.items():
        packages[package(name)] += samples
    share = {name: round(100 * n / total, 1) for name, n in inclusive.most_common(args.top)}
    top = {name: round(100 * n / total, 1) for name, n in own.most_common(args.top)}
    by_package = {name: round(100 * n / total, 1) for name, n in packages.most_common()}
    print(json.dumps({"busy_samples": total, "idle_samples": idle, "self_by_package": by_package,
                      "inclusive_percent": share, "self_percent": top}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
