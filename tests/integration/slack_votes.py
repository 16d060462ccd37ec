"""Bursts of vote clicks on one Slack poll, sent over HTTP as Slack would, and what they must
add up to. Shared by the overload test, the kill -9 test and ``bench/poll_load.py``.

A burst is planned so that its result is known without Pairtime's own rules: each click
has its own time (Slack's ``action_ts``, which is what a vote is decided by), and a person's
clicks on one time are at least ``PAIR_SPACING`` apart (never "the same click twice"), so a
click on the answer already standing withdraws it and any other click sets it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import text

from storage.database import Database
from tests.fakes import slack_requests as sr
from tests.fakes.slack import FakeSlack, SlackMessage

CHANNEL = "C0VOTES"
ORGANISER = "U0ORGANISER"
CHOICES = ("yes", "maybe")
PAIR_SPACING = timedelta(seconds=3)
TALLY = re.compile(r"(\d+) yes\W+(\d+) if need be")
CARD_EVENT = "pairtime_card"


def voters(count: int) -> list[str]:
    return [f"U0VOTER{n:03d}" for n in range(count)]


def add_people(slack: FakeSlack, count: int) -> list[str]:
    """The organiser and ``count`` voters, all in the poll's channel."""
    people = voters(count)
    slack.add_user(ORGANISER, name="olga", real_name="Olga Organiser", tz="Europe/Berlin")
    for n, user in enumerate(people):
        slack.add_user(user, name=f"voter{n}", real_name=f"Voter {n:03d}", tz="Europe/Berlin")
    slack.add_channel(CHANNEL, name="votes", members=[ORGANISER, *people])
    return people


def poll_text(people: Sequence[str]) -> str:
    return "poll " + " ".join(f"<@{p}>" for p in people) + " for an hour next week"


@dataclass(frozen=True, slots=True)
class Click:
    user: str
    option: int  # the poll option's id, as the card's buttons carry it
    choice: str  # "yes" or "maybe"
    at: datetime  # Slack's action_ts


def plan(
    people: Sequence[str],
    options: Sequence[int],
    count: int,
    start: datetime,
    *,
    rate: float,
    once: bool = False,
    seed: int = 17,
) -> list[Click]:
    """``count`` clicks, one every 1/``rate`` s of Slack's clock. With ``once``, each
    (person, option) is clicked at most once (then the result is the set of clicks)."""
    rng = random.Random(seed)
    pairs = [(p, o) for p in people for o in options]
    if once:
        if count > len(pairs):
            raise ValueError("more clicks than people times options")
        rng.shuffle(pairs)
    last: dict[tuple[str, int], datetime] = {}
    clicks: list[Click] = []
    at = start
    while len(clicks) < count:
        if once:
            pair = pairs[len(clicks)]
        else:
            free = [p for p in pairs if p not in last or at - last[p] >= PAIR_SPACING]
            if not free:  # everyone clicked everything lately: Slack's clock moves on
                at = min(last.values()) + PAIR_SPACING
                continue
            pair = rng.choice(free)
        last[pair] = at
        clicks.append(Click(pair[0], pair[1], rng.choice(CHOICES), at))
        at += timedelta(seconds=1 / rate)
    return clicks


def standing(clicks: Iterable[Click]) -> dict[tuple[str, int], str]:
    """The votes ``clicks`` add up to: (person, option) -> choice."""
    votes: dict[tuple[str, int], str] = {}
    for click in sorted(clicks, key=lambda c: c.at):
        key = (click.user, click.option)
        if votes.get(key) == click.choice:
            del votes[key]  # the answer standing, clicked again: withdrawn
        else:
            votes[key] = click.choice
    return votes


def tallies(votes: dict[tuple[str, int], str], options: Sequence[int]) -> list[tuple[int, int]]:
    """(yes, if need be) per option, in the card's order."""
    return [
        (
            sum(1 for (_, o), c in votes.items() if o == option and c == "yes"),
            sum(1 for (_, o), c in votes.items() if o == option and c == "maybe"),
        )
        for option in options
    ]


# ---------------------------------------------------------------------- the card


def vote_buttons(blocks: Iterable[dict[str, Any]]) -> dict[tuple[int, str], dict[str, Any]]:
    """The card's vote buttons by (option id, "yes" | "maybe")."""
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for block in blocks:
        for element in block.get("elements", []):
            action = str(element.get("action_id", ""))
            parts = action.split(":")
            poll_vote = parts[:2] == ["pt", "poll"] and len(parts) == 4 and parts[2] in CHOICES
            if element.get("type") == "button" and poll_vote:
                found[(int(parts[3]), parts[2])] = element
    return found


def options_of(blocks: Iterable[dict[str, Any]]) -> list[int]:
    return sorted({option for option, _ in vote_buttons(blocks)})


def card_tallies(blocks: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    found = TALLY.findall(json.dumps(list(blocks), ensure_ascii=False))
    return [(int(yes), int(maybe)) for yes, maybe in found]


def card_versions(message: SlackMessage) -> list[int]:
    """The versions the card showed, in the order Slack received them (its edits, then now)."""
    shown = [*(edit.get("metadata") for edit in message.edits), message.metadata]
    return [
        int(meta["event_payload"]["version"])
        for meta in shown
        if isinstance(meta, dict) and meta.get("event_type") == CARD_EVENT
    ]


def backwards(versions: Sequence[int]) -> int:
    """How many updates showed an older state than the one before them."""
    return sum(1 for before, after in itertools.pairwise(versions) if after < before)


def click_request(
    secret: str, message: SlackMessage, click: Click, response_url: str
) -> sr.SlackRequest:
    buttons = vote_buttons(message.blocks)
    button = buttons[(click.option, click.choice)]
    payload = sr.block_actions_payload(
        button["action_id"],
        value=button["value"],
        user_id=click.user,
        channel_id=message.channel,
        message={
            "type": "message",
            "user": message.user,
            "text": message.text,
            "ts": message.ts,
            "blocks": [],  # Slack repeats the card; the vote needs only its button
        },
        response_url=response_url,
    )
    payload["actions"][0]["action_ts"] = f"{click.at.timestamp():.6f}"
    return sr.interactivity(secret, payload)


# ---------------------------------------------------------------------- sending


@dataclass
class Sent:
    click: Click
    acked: bool
    seconds: float


Post = Callable[[sr.SlackRequest], Awaitable[int]]


async def burst(
    clicks: Sequence[Click],
    request: Callable[[Click], sr.SlackRequest],
    post: Callable[[int, sr.SlackRequest], Awaitable[int]],
    *,
    in_flight: int = 50,
    rate: float | None = None,
) -> list[Sent]:
    """Send every click (``post(i, request)`` answers the HTTP status, raises when no answer
    came) at most ``in_flight`` at once. With ``rate`` (benchmarks), click i is due i/rate
    seconds after the first, whatever came back, and its time is counted from then."""
    slots = asyncio.Semaphore(in_flight)
    sent: list[Sent | None] = [None] * len(clicks)
    begun = time.monotonic()

    async def one(i: int, click: Click) -> None:
        started = time.monotonic()
        if rate is not None:
            started = begun + i / rate
            await asyncio.sleep(max(0.0, started - time.monotonic()))
        async with slots:
            try:
                status = await post(i, request(click))
            except (aiohttp.ClientError, OSError, TimeoutError):
                status = 0
            sent[i] = Sent(click, status == 200, time.monotonic() - started)

    await asyncio.gather(*(one(i, c) for i, c in enumerate(clicks)))
    return [s for s in sent if s is not None]


async def http_post(session: aiohttp.ClientSession, address: str, request: sr.SlackRequest) -> int:
    async with session.post(
        f"{address}/slack/events", data=request.body.encode(), headers=request.headers
    ) as reply:
        await reply.read()
        return reply.status


async def until(condition: Callable[[], Awaitable[bool]], *, within: float, what: str) -> None:
    """Look again until ``condition`` holds, for at most ``within`` seconds (a generous bound
    on work happening elsewhere, never a wait for time to pass)."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------------- the database


async def stored_votes(database: Database) -> dict[tuple[str, int], str]:
    """The votes standing in the database: (Slack user, option id) -> "yes" | "maybe"."""
    async with database.reading() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT ci.user_id, pv.option_id, pv.choice FROM poll_votes pv "
                    "JOIN chat_identities ci ON ci.person_id = pv.person_id "
                    "WHERE pv.choice IS NOT NULL"
                )
            )
        ).all()
    return {
        (user, int(option)): "yes" if choice == "yes" else "maybe" for user, option, choice in rows
    }


async def unfinished(database: Database) -> int:
    """Slack requests and card renders not yet processed."""
    async with database.reading() as session:
        count = await session.scalar(
            text(
                "SELECT count(*) FROM jobs WHERE status = 'pending' "
                "AND kind IN ('slack.inbox', 'slack.card')"
            )
        )
    return int(count or 0)
