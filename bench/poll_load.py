"""Load on a Teams poll: vote clicks on one poll card at a steady rate against `pairtime serve`.

    .venv/bin/python bench/poll_load.py [--clicks 2000] [--rate 200] [--url http://...]

Starts `pairtime serve` in another process (a fresh SQLite database in a temporary folder,
``PAIRTIME_TEAMS_AUTH=disabled``), unless ``--url`` names one already running with the same
setting. The activities' serviceUrl is a fake Bot Framework connector in this process
(tests/fakes/botframework.py), which records every post and card update.

Through the wire, as Teams would: an organiser mentions the bot and 49 colleagues in a
channel ("poll ... for an hour next week"), gets the draft privately, adds three times of his
own (8 in all) and posts it. Then 50 invitees click "Yes" / "If need be" on the posted card,
open-loop (click i leaves at i/rate seconds whatever came back). Each person's clicks on one
time are at least a second apart and alternate between the two answers; clicking the same
answer again (a withdrawal) happens only 3 s or more after that person's last click on that
time, so that Pairtime's "the same click twice within 2 s is one click" never applies and the
final votes are known in advance.

Prints JSON: the click acknowledgement (HTTP answer to the invoke) p50/p99 against the
target (p99 < 100 ms), how the clicks were answered (with the receipt, or "counting" when the
card's queue was long), the card updates the connector received (target: at most one a second
for the poll's message), and whether the final tally (on the card and in the database) equals
the votes sent.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.teams_load import pairtime_serve, percentile  # noqa: E402 - after the path is set
from tests.fakes import teams_activities as ta  # noqa: E402
from tests.fakes.botframework import FakeBotFramework, ReceivedActivity  # noqa: E402
from tests.fakes.server import running  # noqa: E402

TARGET_ACK_P99_MS = 100
TARGET_UPDATES_PER_SECOND = 1.0
OPTIONS = 8
INVITEES = 50
OWN_TIMES = (8, 9, 10)  # days from now: the organiser adds these at 07:00 UTC, 8 options in all
CHOICES = ("Yes", "If need be")
TALLY = re.compile(r"(\d+) yes, (\d+) if need be")
COUNTING = "Got it. The card will show it in a moment."


def users(count: int) -> list[ta.TeamsUser]:
    return [
        ta.TeamsUser(
            f"29:1PollBench{n:03d}QwErTyUiOpAsDfGhJkL",
            f"Poll Voter {n:02d}",
            f"00000000-0000-4000-9000-{n:012d}",
            f"voter{n:02d}@contoso.example",
        )
        for n in range(count)
    ]


def schedule(people: int, clicks: int, rate: float, seed: int = 11) -> list[tuple[int, int, int]]:
    """(person, option, choice) per click, in sending order, so that the end state is known:
    a pair's clicks are >= 1 s apart, and repeating a choice (a withdrawal) waits >= 3 s."""
    rng = random.Random(seed)
    last: dict[tuple[int, int], tuple[float, int]] = {}  # pair -> (sent at, choice)
    plan: list[tuple[int, int, int]] = []
    while len(plan) < clicks:
        at = len(plan) / rate
        person, option = rng.randrange(people), rng.randrange(OPTIONS)
        previous = last.get((person, option))
        if previous is not None and at - previous[0] < 1.0:
            continue
        if previous is None:
            choice = rng.randrange(2)
        elif at - previous[0] >= 3.0 and rng.random() < 0.3:
            choice = previous[1]  # the same answer again: withdraws it
        else:
            choice = 1 - previous[1]
        last[(person, option)] = (at, choice)
        plan.append((person, option, choice))
    return plan


def expected_votes(plan: list[tuple[int, int, int]]) -> dict[tuple[int, int], int]:
    """The votes standing after ``plan``: (person, option) -> choice."""
    votes: dict[tuple[int, int], int] = {}
    for person, option, choice in plan:
        if votes.get((person, option)) == choice:
            del votes[(person, option)]  # the same answer again, >= 3 s later: withdrawn
        else:
            votes[(person, option)] = choice
    return votes


def tallies_of(card: dict[str, Any]) -> list[tuple[int, int]]:
    text = json.dumps(card, ensure_ascii=False)
    return [(int(yes), int(maybe)) for yes, maybe in TALLY.findall(text)]


def execute_actions(card: object) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        if card.get("type") == "Action.Execute":
            found.append(card)
        for key, value in card.items():
            if key != "fallback":
                found.extend(execute_actions(value))
    elif isinstance(card, list):
        for item in card:
            found.extend(execute_actions(item))
    return found


def data_of(card: dict[str, Any], title: str, index: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = [a for a in execute_actions(card) if a["title"] == title][index]["data"]
    return data


async def wait_for(condition: Any, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


async def create_poll(
    session: aiohttp.ClientSession,
    url: str,
    connector: FakeBotFramework,
    service_url: str,
    people: list[ta.TeamsUser],
) -> ReceivedActivity:
    """The organiser asks in the channel, edits the draft privately and posts it."""
    organiser, *others = people

    async def post(activity: dict[str, Any]) -> dict[str, Any] | None:
        async with session.post(url, json=activity) as answer:
            answer.raise_for_status()
            return await answer.json() if answer.content_type == "application/json" else None

    ask = ta.channel_message(
        "poll", service_url=service_url, sender=organiser, mentioned=None, local_timezone="UTC"
    )
    ask["text"] += "".join(f" <at>{p.name}</at>" for p in others) + " for an hour next week"
    ask["entities"] += [ta.mention(p) for p in others]
    chat = ta.personal_chat_id(organiser)
    await post(ask)
    draft = (await wait_for(lambda: connector.sent(chat), 60, "the draft"))[-1]
    card = draft.adaptive_cards[0]
    for days in OWN_TIMES:
        day = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
        data = data_of(card, "Add") | {"ptDate": day, "ptTime": "07:00"}
        answer = await post(
            ta.adaptive_card_action(
                "pairtime",
                data,
                service_url=service_url,
                sender=organiser,
                reply_to_id=draft.activity_id,
                local_timezone="UTC",
            )
        )
        assert answer is not None
        card = answer["value"]
    await post(
        ta.adaptive_card_action(
            "pairtime",
            data_of(card, "Post poll"),
            service_url=service_url,
            sender=organiser,
            reply_to_id=draft.activity_id,
            local_timezone="UTC",
        )
    )
    polls = await wait_for(lambda: connector.sent(ta.CHANNEL_ID)[1:], 30, "the poll")
    return polls[0]  # the first post in the channel is the note that the draft went privately


def stored_tally(folder: Path | None) -> list[tuple[int, int]] | None:
    """Votes per option in the server's SQLite database (read-only), when it is ours."""
    if folder is None:
        return None
    with sqlite3.connect(f"file:{folder / 'pairtime.db'}?mode=ro", uri=True) as db:
        options = [row[0] for row in db.execute("SELECT id FROM poll_options ORDER BY start")]
        counts = dict.fromkeys(options, (0, 0))
        for option, yes, maybe in db.execute(
            "SELECT option_id, SUM(choice = 'yes'), SUM(choice = 'if_need_be') "
            "FROM poll_votes GROUP BY option_id"
        ):
            counts[option] = (int(yes), int(maybe))
    return [counts[option] for option in options]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    connector = FakeBotFramework()
    people = users(INVITEES)
    for user in people:
        for conversation in (ta.personal_chat_id(user), ta.TEAM_ID):
            connector.add_member(conversation, user.member())
    plan = schedule(len(people), args.clicks, args.rate)
    votes = expected_votes(plan)
    expected = [
        (
            sum(1 for (_, o), c in votes.items() if o == option and c == 0),
            sum(1 for (_, o), c in votes.items() if o == option and c == 1),
        )
        for option in range(OPTIONS)
    ]
    ack_ms: list[float] = []
    statuses: dict[int, int] = {}
    answers = {"receipt": 0, "counting": 0, "other": 0}
    folder: Path | None = None

    async with AsyncExitStack() as stack:
        service_url = await stack.enter_async_context(running(connector.app))
        if args.url:
            base = args.url.rstrip("/")
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pt-poll-")))
            base = await stack.enter_async_context(pairtime_serve(folder, None))
        url = f"{base}/api/messages"
        session = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        )
        poll = await create_poll(session, url, connector, service_url, people)
        assert poll.activity_id is not None
        card = poll.adaptive_cards[0]
        if len(tallies_of(card)) != OPTIONS:
            raise SystemExit(f"the poll has {len(tallies_of(card))} options, not {OPTIONS}")
        buttons = {
            (option, choice): data_of(card, CHOICES[choice], option)
            for option in range(OPTIONS)
            for choice in range(2)
        }
        activities = [
            ta.adaptive_card_action(
                "pairtime",
                buttons[(option, choice)],
                service_url=service_url,
                sender=people[person],
                reply_to_id=poll.activity_id,
                personal=False,
            )
            for person, option, choice in plan
        ]

        async def click(activity: dict[str, Any]) -> None:
            started = time.monotonic()
            async with session.post(url, json=activity) as answer:
                body = await answer.json()
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
            ack_ms.append((time.monotonic() - started) * 1000)
            value = str(body.get("value", ""))
            kind = (
                "counting"
                if value == COUNTING
                else "receipt"
                if value.startswith(("You voted", "You withdrew"))
                else "other"
            )
            answers[kind] += 1

        began = time.monotonic()
        tasks = []
        for index, activity in enumerate(activities):
            delay = began + index / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(click(activity)))
        await asyncio.gather(*tasks)
        sending = time.monotonic() - began

        def shown() -> list[tuple[int, int]]:
            now = connector.activity(ta.CHANNEL_ID, poll.activity_id or "")
            return tallies_of(now["attachments"][0]["content"]) if now else []

        settled_in = None
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline:
            if shown() == expected:
                settled_in = time.monotonic() - began
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # an update still queued would arrive now
        final = shown()
        stored = stored_tally(folder)

    updates = [
        r.at
        for r in connector.of_kind("update")
        if r.activity_id == poll.activity_id and r.status < 300
    ]
    gaps = [later - earlier for earlier, later in itertools.pairwise(updates)]
    span = (updates[-1] - updates[0]) if len(updates) > 1 else 0.0
    worst_second = max(
        (sum(1 for t in updates if start <= t < start + 1.0) for start in updates), default=0
    )
    return {
        "benchmark": "poll_load",
        "authentication": "disabled (PAIRTIME_TEAMS_AUTH=disabled): no JWT checks, no bot tokens",
        "database": "server's own" if args.url else "SQLite (default)",
        "invitees": len(people),
        "options": OPTIONS,
        "clicks": len(plan),
        "rate_per_second": args.rate,
        "achieved_rate_per_second": round(len(plan) / sending, 1),
        "http_status": statuses,
        "click_ack_ms": {
            "p50": round(statistics.median(ack_ms), 1),
            "p99": round(percentile(ack_ms, 0.99), 1),
            "max": round(max(ack_ms), 1),
        },
        "answered_with": answers,
        "card_updates": {
            "sent": len(updates),
            "over_seconds": round(span, 1),
            "most_in_any_second": worst_second,
            "shortest_gap_s": round(min(gaps), 2) if gaps else None,
        },
        "final_tally": {
            "expected": compact(expected),
            "on_card": compact(final),
            "in_database": compact(stored) if stored is not None else None,
            "card_settled_after_s": round(settled_in, 1) if settled_in is not None else None,
            "exact": final == expected and stored in (None, expected),
        },
        "targets": {
            "click_ack_p99_ms": TARGET_ACK_P99_MS,
            "card_updates_per_second": TARGET_UPDATES_PER_SECOND,
            "met": percentile(ack_ms, 0.99) < TARGET_ACK_P99_MS
            and worst_second <= TARGET_UPDATES_PER_SECOND
            and final == expected
            and stored in (None, expected),
        },
    }


def compact(tally: list[tuple[int, int]]) -> str:
    """``14/16 12/21 ...``: yes/if-need-be per option, on one line."""
    return " ".join(f"{yes}/{maybe}" for yes, maybe in tally)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="clicks per second")
    parser.add_argument(
        "--wait", type=float, default=180.0, help="seconds to wait for the card to settle"
    )
    parser.add_argument("--url", help="a running `pairtime serve` (Teams auth disabled)")
    print(json.dumps(asyncio.run(run(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
