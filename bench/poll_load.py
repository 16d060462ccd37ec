"""Load on a Teams poll: vote clicks on one poll card at a steady rate against `pairtime serve`.

    .venv/bin/python bench/poll_load.py [--clicks 2000] [--rate 200] [--postgres]
    .venv/bin/python bench/poll_load.py --slack [--clicks 1000] [--rate 200] [--postgres]
                                       [--no-kill]

With ``--slack``: acknowledged Slack votes through a kill -9 of one of two processes and
through an overload (see bench/poll_durability.py). Otherwise:

Starts `pairtime serve` in another process with Teams authentication on against a fake Bot
Framework identity (see bench/teams_load.py), SQLite in a temporary folder (or a new database
on the local PostgreSQL with ``--postgres``). The activities' serviceUrl is a fake Bot
Framework connector in this process (tests/fakes/botframework.py), which records every post
and card update.

Through the wire, as Teams would: an organiser mentions the bot and 49 colleagues in a
channel ("poll ... for an hour next week"), gets the draft privately, adds three times of his
own (8 in all) and posts it. Then 50 invitees click "Yes" / "If need be" on the posted card,
open-loop (click i leaves at i/rate seconds whatever came back). Each person's clicks on one
time are at least half a second apart and alternate between the two answers; clicking the same
answer again (a withdrawal) happens only 3 s or more after that person's last click on that
time, so that Pairtime's "the same click twice within 2 s is one click" never applies and the
final votes are known in advance. Pairtime decides a vote by the click's own time (the
activity's ``timestamp``), so each click is stamped with the time it is due (when the person
clicked), not when it was built or sent.

Only the people the poll invites vote: the organiser's mentions reach the parser as
``<@AAD object id>`` (about 40 characters each) and it reads the first 1,000 characters of a
message, so a poll asked for by mentioning 49 colleagues in Teams invites about 24 of them.
The clicks come from the people the posted poll invites (printed as ``invited``); before
2026-12-05 they came from all 50, and the other half were refused as not invited, so the
expected tally was about twice what could be stored.

Prints JSON: the click acknowledgement (HTTP answer to the invoke, timed from when the click
was due to be sent) against the target (p99 < 100 ms), how the clicks were answered (with the
receipt, or "counting" when the card's queue was long), the card updates the connector
received (target: at most one a second for the poll's message), whether the final tally (on
the card and in the database) equals the votes sent, and the server's CPU time and SQL
statements per vote (targets 5 ms and 4), with the machine it ran on.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import database, machine, report, sql_count, summary  # noqa: E402 - after the path is set
from bench.teams_load import (  # noqa: E402
    TARGET_VOTE_CPU_MS,
    TARGET_VOTE_STATEMENTS,
    TeamsWorld,
    teams_world,
)
from tests.fakes import teams_activities as ta  # noqa: E402
from tests.fakes.botframework import ReceivedActivity  # noqa: E402

TARGET_ACK_P99_MS = 100
DEFAULT_CLICKS = 2000
TARGET_UPDATES_PER_SECOND = 1.0
OPTIONS = 8
INVITEES = 50
OWN_TIMES = (8, 9, 10)  # days from now: the organiser adds these at 07:00 UTC, 8 options in all
SPACING = 0.5  # seconds at least between one person's clicks on one time
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
    a pair's clicks are >= SPACING apart, and repeating a choice (a withdrawal) waits >= 3 s.

    At ``rate`` the last SPACING seconds' clicks rule out that many pairs: with fewer pairs
    left than that, no click could be drawn."""
    if rate * SPACING > people * OPTIONS * 0.8:
        raise SystemExit(f"{people} voters on {OPTIONS} times cannot click {rate:g} a second")
    rng = random.Random(seed)
    last: dict[tuple[int, int], tuple[float, int]] = {}  # pair -> (sent at, choice)
    plan: list[tuple[int, int, int]] = []
    while len(plan) < clicks:
        at = len(plan) / rate
        person, option = rng.randrange(people), rng.randrange(OPTIONS)
        previous = last.get((person, option))
        if previous is not None and at - previous[0] < SPACING:
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
    session: aiohttp.ClientSession, world: TeamsWorld, people: list[ta.TeamsUser]
) -> ReceivedActivity:
    """The organiser asks in the channel, edits the draft privately and posts it. The
    program must be open to all (``teams_world(open_to_all=True)``): the organiser mentions
    colleagues, not partners."""
    organiser, *others = people
    connector, service_url = world.connector, world.service_url

    async def post(activity: dict[str, Any]) -> dict[str, Any] | None:
        async with session.post(world.url, json=activity, headers=world.headers) as answer:
            answer.raise_for_status()
            return await answer.json() if answer.content_type == "application/json" else None

    ask = ta.channel_message(
        "poll", service_url=service_url, sender=organiser, mentioned=None, local_timezone="UTC"
    )
    ask["text"] += "".join(f" <at>{p.name}</at>" for p in others) + " for an hour next week"
    ask["entities"] += [ta.mention(p) for p in others]
    chat = ta.personal_chat_id(organiser)
    await post(ask)
    try:
        draft = (await wait_for(lambda: connector.sent(chat), 60, "the draft"))[-1]
    except SystemExit:
        # Say why: a refusal (partners only, too many invitees...) is answered in the channel.
        said = [r.text for r in connector.sent(ta.CHANNEL_ID) if r.text]
        raise SystemExit(f"timed out waiting for the draft; the channel was told {said}") from None
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


def stamped(activity: dict[str, Any], at: datetime) -> dict[str, Any]:
    """``activity`` as clicked at ``at``: Teams stamps a click when it is made."""
    local = at.astimezone(ZoneInfo(activity["localTimezone"]))
    return activity | {
        "timestamp": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "localTimestamp": local.isoformat(timespec="milliseconds"),
    }


async def invited(world: TeamsWorld, people: list[ta.TeamsUser]) -> list[ta.TeamsUser]:
    """The bench's people whom the poll invites (the organiser among them), in order."""
    async with world.database.connect() as connection:
        names = set(
            (
                await connection.execute(
                    text("SELECT p.name FROM poll_invitees i JOIN people p ON p.id = i.person_id")
                )
            )
            .scalars()
            .all()
        )
    return [p for p in people if p.name in names]


async def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    people = users(INVITEES)
    acks: list[float] = []
    statuses: dict[int, int] = {}
    answers = {"receipt": 0, "counting": 0, "other": 0}

    async with (
        teams_world(folder, people, postgres=args.postgres, open_to_all=True) as world,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
    ):
        connector = world.connector
        poll = await create_poll(session, world, people)
        assert poll.activity_id is not None
        card = poll.adaptive_cards[0]
        if len(tallies_of(card)) != OPTIONS:
            raise SystemExit(f"the poll has {len(tallies_of(card))} options, not {OPTIONS}")
        voters = await invited(world, people)
        plan = schedule(len(voters), args.clicks, args.rate)
        votes = expected_votes(plan)
        expected = [
            (
                sum(1 for (_, o), c in votes.items() if o == option and c == 0),
                sum(1 for (_, o), c in votes.items() if o == option and c == 1),
            )
            for option in range(OPTIONS)
        ]
        buttons = {
            (option, choice): data_of(card, CHOICES[choice], option)
            for option in range(OPTIONS)
            for choice in range(2)
        }
        activities = [
            ta.adaptive_card_action(
                "pairtime",
                buttons[(option, choice)],
                service_url=world.service_url,
                sender=voters[person],
                reply_to_id=poll.activity_id,
                personal=False,
            )
            for person, option, choice in plan
        ]
        sql_before = await sql_count(session, world.server.address)
        cpu_before = world.server.cpu()

        async def click(activity: dict[str, Any], due: float) -> None:
            async with session.post(world.url, json=activity, headers=world.headers) as answer:
                body = await answer.json()
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
            acks.append(time.monotonic() - due)
            value = str(body.get("value", ""))
            kind = (
                "counting"
                if value == COUNTING
                else "receipt"
                if value.startswith(("You voted", "You withdrew"))
                else "other"
            )
            answers[kind] += 1

        began, clicked = time.monotonic(), datetime.now(UTC)
        tasks = []
        for index, activity in enumerate(activities):
            due = began + index / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            at = clicked + timedelta(seconds=index / args.rate)
            tasks.append(asyncio.create_task(click(stamped(activity, at), due)))
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
        cpu = world.server.cpu() - cpu_before
        sql_after = await sql_count(session, world.server.address)
        await asyncio.sleep(1.5)  # an update still queued would arrive now
        final = shown()
        stored = await world.tally()

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
    ack = summary(acks)
    cpu_per_vote = cpu * 1000 / len(plan)
    statements = (sql_after["statements"] - sql_before["statements"]) / len(plan)
    return {
        "benchmark": "poll_load",
        "authentication": "on (the fake identity's signed tokens)",
        "people": len(people),
        "invited": len(voters),
        "options": OPTIONS,
        "clicks": len(plan),
        "rate_per_second": args.rate,
        "achieved_rate_per_second": round(len(plan) / sending, 1),
        "http_status": statuses,
        "click_ack_ms": ack,
        "answered_with": answers,
        "card_updates": {
            "sent": len(updates),
            "over_seconds": round(span, 1),
            "most_in_any_second": worst_second,
            "shortest_gap_s": round(min(gaps), 2) if gaps else None,
        },
        "final_tally": {
            "votes_expected": sum(map(sum, expected)),
            "votes_on_card": sum(map(sum, final)),
            "votes_in_database": sum(map(sum, stored)),
            "expected": compact(expected),
            "on_card": compact(final),
            "in_database": compact(stored),
            "card_settled_after_s": round(settled_in, 1) if settled_in is not None else None,
            "exact": final == expected and stored == expected,
        },
        "server_cpu_ms_per_vote": round(cpu_per_vote, 2),
        "sql_statements_per_vote": round(statements, 2),
        "sql_per_vote_by_shape": by_shape(sql_before, sql_after, len(plan)),
        "targets": {
            "click_ack_p99_ms": TARGET_ACK_P99_MS,
            "card_updates_per_second": TARGET_UPDATES_PER_SECOND,
            "server_cpu_ms_per_vote": TARGET_VOTE_CPU_MS,
            "sql_statements_per_vote": TARGET_VOTE_STATEMENTS,
        },
        "met": {
            "click_ack_p99": bool(ack) and ack["p99"] < TARGET_ACK_P99_MS,
            "card_updates": worst_second <= TARGET_UPDATES_PER_SECOND,
            "exact_tally": final == expected and stored == expected,
            "cpu_per_vote": cpu_per_vote <= TARGET_VOTE_CPU_MS,
            "statements_per_vote": statements <= TARGET_VOTE_STATEMENTS,
        },
    }


def by_shape(before: dict[str, Any], after: dict[str, Any], votes: int) -> dict[str, float]:
    """Statements per vote by shape between two /debug/sql readings, the most frequent first
    (those under 0.01 a vote left out)."""
    counts = Counter(after["kinds"])
    counts.subtract(before["kinds"])
    return {
        shape: round(count / votes, 2)
        for shape, count in counts.most_common()
        if count / votes >= 0.01
    }


def compact(tally: list[tuple[int, int]]) -> str:
    """``14/16 12/21 ...``: yes/if-need-be per option, on one line."""
    return " ".join(f"{yes}/{maybe}" for yes, maybe in tally)


async def slack_durability(args: argparse.Namespace) -> dict[str, Any]:
    """Acknowledged votes through a kill -9 and an overload (see bench/poll_durability.py)."""
    from bench import poll_durability  # noqa: PLC0415 - Slack's run only

    clicks = 1000 if args.clicks == DEFAULT_CLICKS else args.clicks
    killed = None
    if not args.no_kill:
        with tempfile.TemporaryDirectory(prefix="pairtime-kill-") as kill_folder:
            killed = await poll_durability.kill9(Path(kill_folder))
    with tempfile.TemporaryDirectory(prefix="pairtime-overload-") as load_folder:
        loaded = await poll_durability.overload(Path(load_folder), clicks, args.rate, args.postgres)
    return {"kill9": killed, "overload": loaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=DEFAULT_CLICKS)
    parser.add_argument("--rate", type=float, default=200.0, help="clicks per second")
    parser.add_argument(
        "--wait", type=float, default=180.0, help="seconds to wait for the card to settle"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="a new database on the local PostgreSQL"
    )
    parser.add_argument(
        "--slack",
        action="store_true",
        help="Slack: a kill -9 mid-burst on PostgreSQL, then --clicks at --rate (1000 at 200/s)",
    )
    parser.add_argument(
        "--no-kill",
        action="store_true",
        help="with --slack: the overload only (CPU and SQL per vote), no kill -9 round",
    )
    args = parser.parse_args()
    before = machine()
    if args.slack:
        print(json.dumps(asyncio.run(slack_durability(args)) | {"machine": before}, indent=2))
        return
    with tempfile.TemporaryDirectory(prefix="pairtime-poll-") as folder:
        result = asyncio.run(run(args, Path(folder)))
    report(before, database=database(args.postgres), **result)


if __name__ == "__main__":
    main()
