"""Group polls in Teams, through the wire: a private draft, the poll posted in the circle's
channel, votes from several people updating that one card, closing and booking, deadlines
and reminders from the clock (across a restart), and many votes at once."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from adapters.calendars.config import CalendarSettings
from adapters.teams import cards
from adapters.teams.timing import TeamsTiming
from adapters.teams.turns import COUNTING, LINKS_SENT, NOTHING_TICKED
from core.commands import Provider
from core.people import Person
from core.polls import Choice, Poll, PollStatus
from storage.crypto import generate_key
from tests.adapters.teams import card_reading
from tests.adapters.teams.card_reading import actions, choices
from tests.adapters.teams.harness import (
    GENEROUS,
    NOW,
    PROGRAM,
    Lasting,
    TeamsUnderTest,
    teams_app,
)
from tests.caldav_server import add_calendar, radicale_server
from tests.fakes import teams_activities as ta
from tests.fakes.botframework import FakeBotFramework, ReceivedActivity
from tests.fakes.server import running
from tests.memory import FixedClock
from tests.support import PROVIDER_TIMEOUT

MESSAGE = "application/vnd.microsoft.activity.message"
CARD = "application/vnd.microsoft.card.adaptive"
BEN = ta.TeamsUser(
    "29:1BenOkaforW2e4r6t8y0uIoPaSdFgHjKlZ",
    "Ben Okafor",
    "8d3f6e3a-3c4d-4e5f-8a0b-2c3d4e5f6a71",
    "ben@contoso.example",
)
CY = ta.TeamsUser(
    "29:1CyNakamuraQ1w3e5r7t9yUiOpAsDfGhJk",
    "Cy Nakamura",
    "9e4a7f4b-4d5e-4f6a-9b1c-3d4e5f6a7b82",
    "cy@contoso.example",
)
CIRCLE = (ta.ALEX, ta.MARIA, BEN, CY)
POLL_ASK = "poll my circle for 45 min next week"
NO_VOTES = "0 yes, 0 if need be, 0 busy"
# Each person's Teams client zone (the organiser's is where he asks from)
ZONES = {
    ta.ALEX.name: "Europe/Berlin",
    ta.MARIA.name: "America/New_York",
    BEN.name: "America/New_York",
    CY.name: "America/New_York",
}


# ---------------------------------------------------------------------- reading cards


def texts(card: dict[str, Any]) -> str:
    return "\n".join(card_reading.texts(card))


def button(card: dict[str, Any], title: str, index: int = 0) -> dict[str, Any]:
    matching = [a for a in actions(card) if a.get("title") == title]
    return matching[index]


def tallies(card: dict[str, Any]) -> list[str]:
    """Each option's "N yes, M if need be, K busy" line, in order."""
    return re.findall(r"\d+ yes, \d+ if need be, \d+ busy", texts(card))


def card_of(activity: dict[str, Any] | None) -> dict[str, Any]:
    assert activity is not None
    content: dict[str, Any] = activity["attachments"][0]["content"]
    return content


# ---------------------------------------------------------------------- the world


@dataclass
class Circle:
    teams: TeamsUnderTest
    people: dict[str, Person]

    @property
    def storage(self) -> Any:
        return self.teams.running.storage

    async def ask_in_channel(self, text: str = POLL_ASK, sender: ta.TeamsUser = ta.ALEX) -> None:
        status, _ = await self.teams.post(
            ta.channel_message(
                text, service_url=self.teams.service_url, mentioned=None, sender=sender
            )
        )
        assert status == 202

    async def draft(self) -> ReceivedActivity:
        """Alex asks in the channel; the draft he gets privately."""
        chat = ta.personal_chat_id(ta.ALEX)
        before = len(self.teams.connector.sent(chat))
        await self.ask_in_channel()
        return (await self.teams.sent_to(chat, before + 1))[-1]

    async def click(
        self,
        data: dict[str, Any],
        *,
        sender: ta.TeamsUser = ta.ALEX,
        on: ReceivedActivity | str | None = None,
        personal: bool = True,
        later: timedelta | None = None,
    ) -> dict[str, Any]:
        """Press a button whose data is ``data`` (plus any input values), on the message
        ``on``; the invoke response's body."""
        reply_to = on.activity_id if isinstance(on, ReceivedActivity) else on
        activity = ta.adaptive_card_action(
            "pairtime",
            data,
            service_url=self.teams.service_url,
            sender=sender,
            reply_to_id=reply_to,
            personal=personal,
            local_timezone=ZONES.get(sender.name, "Europe/Berlin"),
        )
        if later is not None:
            sent = datetime.fromisoformat(activity["timestamp"]) + later
            activity["timestamp"] = sent.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        status, body = await self.teams.post(activity)
        assert status == 200
        assert body["statusCode"] == 200
        result: dict[str, Any] = body
        return result

    async def post(
        self,
        draft_card: dict[str, Any],
        on: ReceivedActivity,
        *,
        sender: ta.TeamsUser = ta.ALEX,
        **inputs: str,
    ) -> str:
        """The organiser posts the draft; the poll's activity id in the channel."""
        before = len(self.teams.connector.sent(ta.CHANNEL_ID))
        body = await self.click(
            button(draft_card, "Post poll")["data"] | inputs, on=on, sender=sender
        )
        assert body["type"] == CARD
        assert texts(body["value"]).startswith("Your poll is posted")
        posted = (await self.teams.sent_to(ta.CHANNEL_ID, before + 1))[-1]
        assert posted.kind == "send"  # a new post in the channel, not a reply in a thread
        assert posted.activity_id is not None
        return posted.activity_id

    async def vote(
        self,
        poll_id: str,
        who: ta.TeamsUser,
        option: int,
        title: str = "Yes",
        *,
        later: timedelta | None = None,
    ) -> dict[str, Any]:
        """Click a vote button, ``later`` than now by Teams' clock (the click's own time
        decides a double-click, not when Pairtime handles it)."""
        card = self.poll_card(poll_id)
        return await self.click(
            button(card, title, option)["data"],
            sender=who,
            on=poll_id,
            personal=False,
            later=later,
        )

    def poll_card(self, poll_id: str) -> dict[str, Any]:
        return card_of(self.teams.connector.activity(ta.CHANNEL_ID, poll_id))

    async def card_shows(self, poll_id: str, expected: list[str]) -> dict[str, Any]:
        """The poll card, once the bot has settled (its updates are coalesced), showing
        ``expected``."""
        await self.teams.settle()
        card = self.poll_card(poll_id)
        assert tallies(card) == expected
        return card


def reminders(connector: FakeBotFramework, chat: str) -> list[ReceivedActivity]:
    return [m for m in connector.sent(chat) if "Reminder:" in texts(m.adaptive_cards[0])]


def booked(connector: FakeBotFramework, chat: str) -> list[ReceivedActivity]:
    return [m for m in connector.sent(chat) if "is booked" in texts(m.adaptive_cards[0])]


async def polls_in(teams: TeamsUnderTest) -> list[Poll]:
    storage = teams.running.storage
    async with storage.database.reading() as db:
        refs = (await db.execute(text("SELECT ref FROM polls"))).scalars().all()
    return [poll for ref in refs if (poll := await storage.polls.get(ref)) is not None]


async def stored_message(circle: Circle) -> dict[str, str]:
    async with circle.storage.database.reading() as db:
        found = (await db.execute(text("SELECT message FROM polls"))).scalar_one()
    return found if isinstance(found, dict) else json.loads(found)


async def circle_of_four(teams: TeamsUnderTest) -> Circle:
    people = {user.name: await teams.say_hello(user) for user in CIRCLE}
    await teams.running.storage.groups.create(
        PROGRAM, "Circle of Four", [p.id for p in people.values()], channel=ta.CHANNEL_ID
    )
    return Circle(teams, people)


@pytest.fixture
async def circle(tmp_path: Path) -> AsyncIterator[Circle]:
    async with teams_app(tmp_path, members=CIRCLE) as teams:
        yield await circle_of_four(teams)


# ---------------------------------------------------------------------- the tests


async def test_poll_my_circle_in_a_channel_sends_the_draft_privately(circle: Circle):
    draft = await circle.draft()

    (public,) = await circle.teams.sent_to(ta.CHANNEL_ID)
    assert "sent you the draft poll" in texts(public.adaptive_cards[0])
    assert not [a for a in actions(public.adaptive_cards[0]) if a["type"] == "Action.Execute"]
    card = draft.adaptive_cards[0]
    assert texts(card).startswith("Draft poll: Circle of Four")
    (invitees,) = [line for line in texts(card).splitlines() if line.startswith("Invitees:")]
    assert all(user.name in invitees for user in CIRCLE)
    assert "times in Europe/Berlin" in texts(card)  # his Teams client's zone
    assert len([a for a in actions(card) if a["title"] == "Remove"]) == 5
    # Nobody has connected a calendar: the draft says so
    assert "0 of 4 invitees have connected calendars." in texts(card)

    # Required attendees: ticked in a list, applied with "Update required attendees"
    update = button(card, "Update required attendees")["data"]
    nothing = await circle.click(update, on=draft)
    assert nothing == {"statusCode": 200, "type": MESSAGE, "value": NOTHING_TICKED}
    ticks = choices(card, "ptRequire")
    both = ",".join((ticks["Maria Lopez"], ticks["Cy Nakamura"]))
    updated = await circle.click(update | {"ptRequire": both}, on=draft)
    assert updated["type"] == CARD  # the draft, replaced in place
    card = updated["value"]
    (required,) = [t for t in texts(card).splitlines() if t.startswith("Required attendees:")]
    assert "Maria Lopez" in required
    assert "Cy Nakamura" in required
    assert set(choices(card, "ptRelease")) == {"Maria Lopez", "Cy Nakamura"}
    released = await circle.click(
        update | {"ptRelease": choices(card, "ptRelease")["Cy Nakamura"]}, on=draft
    )
    assert "Required attendees: Maria Lopez\n" in texts(released["value"])
    assert "Cy Nakamura" in choices(released["value"], "ptRequire")


async def test_a_poll_drafted_edited_posted_voted_and_booked(circle: Circle):
    teams, storage = circle.teams, circle.storage
    draft = await circle.draft()
    card = draft.adaptive_cards[0]

    # Remove the first time: the draft is replaced in place, for the organiser
    removed = await circle.click(button(card, "Remove")["data"], on=draft)
    assert removed["type"] == CARD
    card = removed["value"]
    assert len([a for a in actions(card) if a["title"] == "Remove"]) == 4

    # Add Thursday 15:00 of his own (Berlin time, his Teams client's zone)
    added = await circle.click(
        button(card, "Add")["data"] | {"ptDate": "2026-12-03", "ptTime": "15:00"}, on=draft
    )
    card = added["value"]
    assert "Thu 3 Dec, 3:00 PM\u20133:45 PM" in texts(card)  # en-US: a 12-hour clock
    assert len([a for a in actions(card) if a["title"] == "Remove"]) == 5

    # A deadline in one day, and Maria required (ticked, applied with Post)
    dated = await circle.click(button(card, "In 1 day")["data"], on=draft)
    card = dated["value"]
    assert "✓ In 1 day" in [a["title"] for a in actions(card)]
    maria_tick = choices(card, "ptRequire")["Maria Lopez"]
    poll_id = await circle.post(card, draft, ptRequire=maria_tick)

    stored = await stored_message(circle)
    assert stored["conversation"] == ta.CHANNEL_ID  # where votes and the deadline update it
    assert stored["activity"] == poll_id
    assert stored["service_url"] == teams.service_url
    poll_card = circle.poll_card(poll_id)
    assert "times in your own time zone" in texts(poll_card)
    assert "Required: Maria Lopez." in texts(poll_card)
    assert "{{DATE(2026-12-03T14:00:00Z, SHORT)}}, {{TIME(2026-12-03T14:00:00Z)}}" in texts(
        poll_card
    )
    assert "0 of 4 invitees have connected calendars." in texts(poll_card)
    assert tallies(poll_card) == ["0 yes, 0 if need be, 0 busy"] * 5

    # Votes: Maria and Ben on the first time, Cy "if need be" on the second
    receipt = await circle.vote(poll_id, ta.MARIA, 0)
    assert receipt["type"] == MESSAGE
    assert receipt["value"].startswith("You voted “yes” for")
    await circle.vote(poll_id, BEN, 0)
    maybe = await circle.vote(poll_id, CY, 1, "If need be")
    assert maybe["value"].startswith("You voted “if need be” for")
    await circle.card_shows(
        poll_id,
        ["2 yes, 0 if need be, 0 busy", "0 yes, 1 if need be, 0 busy"]
        + ["0 yes, 0 if need be, 0 busy"] * 3,
    )
    kinds = [r.kind for r in teams.connector.received if r.activity_id == poll_id]
    assert kinds[0] == "send"
    assert set(kinds[1:]) == {"update"}  # the votes changed that one message in place

    # Ben clicks "Yes" again later: his vote is withdrawn
    withdrawn = await circle.vote(poll_id, BEN, 0, later=timedelta(seconds=30))
    assert withdrawn["value"].startswith("You withdrew your vote")
    await circle.card_shows(
        poll_id,
        ["1 yes, 0 if need be, 0 busy", "0 yes, 1 if need be, 0 busy"]
        + ["0 yes, 0 if need be, 0 busy"] * 3,
    )

    # Close and book: Maria (required) said yes to the first time only
    open_card = circle.poll_card(poll_id)
    closed = await circle.click(
        button(circle.poll_card(poll_id), "Close and book")["data"],
        on=poll_id,
        personal=False,
    )
    assert closed["type"] == MESSAGE
    assert closed["value"] == "The most popular time was booked."
    await teams.settle()
    final = circle.poll_card(poll_id)
    assert "This poll is closed." in texts(final)
    assert "Winner" in texts(final)
    assert not [a for a in actions(final) if a["type"] == "Action.Execute"]
    alex = circle.people["Alex Kim"]
    (meeting,) = await storage.meetings.upcoming(alex.id, teams.clock.now())
    # The organiser and those who said yes or "if need be" to the winner (Ben withdrew, Cy
    # chose another time) are booked; each gets the invitation privately.
    coming = {circle.people["Alex Kim"].id, circle.people["Maria Lopez"].id}
    assert set(meeting.participants) == coming
    for user in CIRCLE:
        chat = ta.personal_chat_id(user)
        confirmation = booked(teams.connector, chat)
        if circle.people[user.name].id not in coming:
            assert confirmation == []
            continue
        assert any(
            a["title"] == "Add to calendar (.ics)"
            for a in actions(confirmation[0].adaptive_cards[0])
        )

    # A vote from the card as it was before the close is refused politely
    late = await circle.click(
        button(open_card, "Yes", 2)["data"], sender=CY, on=poll_id, personal=False
    )
    assert late["value"] == "This poll is closed; votes can't change any more."
    # Closing again books nothing more
    again = await circle.click(
        button(open_card, "Close and book")["data"], on=poll_id, personal=False
    )
    assert again["value"] == "This poll is already closed."
    assert len(await storage.meetings.upcoming(alex.id, teams.clock.now())) == 1
    assert "This poll is closed." in texts(circle.poll_card(poll_id))


async def test_the_deadline_and_reminders_come_from_the_clock_across_restarts(tmp_path: Path):
    """Reminders and the close are due while the bot is stopped: they are jobs (enqueued when
    the poll was posted), which the worker runs after each restart, once."""
    connector = FakeBotFramework()
    async with running(connector.app) as service_url:
        lasting = Lasting([generate_key()], FixedClock(NOW), connector, service_url)
        async with teams_app(tmp_path, authenticated=False, members=CIRCLE, lasting=lasting) as t:
            circle = await circle_of_four(t)
            draft = await circle.draft()
            dated = await circle.click(
                button(draft.adaptive_cards[0], "In 1 day")["data"], on=draft
            )
            poll_id = await circle.post(dated["value"], draft)
            assert "Voting closes {{DATE(2026-11-25T14:00:00Z, SHORT)}}" in texts(
                circle.poll_card(poll_id)
            )
            await circle.vote(poll_id, ta.MARIA, 1)
            await circle.vote(poll_id, BEN, 1, "If need be")
            await circle.card_shows(
                poll_id, [NO_VOTES, "1 yes, 1 if need be, 0 busy"] + [NO_VOTES] * 3
            )

        # Stopped for 13 hours: the reminder time (12 hours before the deadline) has passed
        lasting.clock.advance(timedelta(hours=13))
        async with teams_app(tmp_path, authenticated=False, members=CIRCLE, lasting=lasting) as t:
            cy_chat = ta.personal_chat_id(CY)
            await t.settle()
            assert reminders(connector, cy_chat)
            # Whatever else is due runs: nobody is reminded twice
            await t.settle()
        assert len(reminders(connector, cy_chat)) == 1
        assert "you haven't voted yet" in texts(reminders(connector, cy_chat)[0].adaptive_cards[0])
        assert not reminders(connector, ta.personal_chat_id(ta.MARIA))  # she voted
        assert not reminders(connector, ta.personal_chat_id(BEN))
        assert not reminders(connector, ta.personal_chat_id(ta.ALEX))  # the organiser

        # Stopped past the deadline: the worker closes and books after the restart
        lasting.clock.advance(timedelta(days=1))
        async with teams_app(tmp_path, authenticated=False, members=CIRCLE, lasting=lasting) as t:
            await t.settle()
            final = card_of(connector.activity(ta.CHANNEL_ID, poll_id))
            assert "This poll is closed." in texts(final)
            assert "Winner" in texts(final)
            assert "The most popular time was booked." in texts(final)
            voted = [u for u in CIRCLE if u is not CY]  # the organiser, Maria and Ben
            for user in voted:
                chat = ta.personal_chat_id(user)
                assert booked(connector, chat), f"{user.name}'s booking"
            (poll,) = await polls_in(t)
            assert poll.status is PollStatus.CLOSED
            assert poll.meeting is not None
        assert len(reminders(connector, cy_chat)) == 1
        assert all(len(booked(connector, ta.personal_chat_id(u))) == 1 for u in voted)
        assert booked(connector, cy_chat) == []  # Cy never voted: not invited, not busy


async def test_nobody_connected_the_poll_offers_a_private_connect_button(circle: Circle):
    draft = await circle.draft()
    poll_id = await circle.post(draft.adaptive_cards[0], draft)
    card = circle.poll_card(poll_id)
    assert "0 of 4 invitees have connected calendars." in texts(card)
    assert tallies(card) == [NO_VOTES] * 5  # nobody is known to be busy
    chat = ta.personal_chat_id(BEN)
    before = len(circle.teams.connector.sent(chat))

    answer = await circle.click(
        button(card, "Connect my calendar")["data"], sender=BEN, on=poll_id, personal=False
    )

    assert answer == {"statusCode": 200, "type": MESSAGE, "value": LINKS_SENT}
    (private,) = (await circle.teams.sent_to(chat, before + 1))[before:]
    links = [a for a in actions(private.adaptive_cards[0]) if a["type"] == "Action.OpenUrl"]
    assert [a["title"] for a in links] == ["Connect iCloud"]
    # The channel saw nothing new: the links are Ben's alone
    assert len(circle.teams.connector.sent(ta.CHANNEL_ID)) == 2  # the draft notice, the poll
    # A vote without a calendar: the receipt names no clash
    receipt = await circle.vote(poll_id, BEN, 0)
    assert "busy" not in receipt["value"]


async def test_a_poll_asked_for_privately_is_posted_in_the_circles_channel(circle: Circle):
    # The bot has heard from the channel once (any message there): it keeps its reference
    await circle.ask_in_channel("help", sender=ta.MARIA)
    await circle.teams.sent_to(ta.CHANNEL_ID)
    chat = ta.personal_chat_id(ta.ALEX)
    before = len(circle.teams.connector.sent(chat))
    await circle.teams.post(
        ta.personal_message(POLL_ASK, service_url=circle.teams.service_url, sender=ta.ALEX)
    )
    draft = (await circle.teams.sent_to(chat, before + 1))[-1]
    assert texts(draft.adaptive_cards[0]).startswith("Draft poll: Circle of Four")

    poll_id = await circle.post(draft.adaptive_cards[0], draft)

    (help_reply, poll) = circle.teams.connector.sent(ta.CHANNEL_ID)
    assert help_reply.kind == "reply"  # the answer to Maria, in her thread
    assert poll.kind == "send"
    assert poll.activity_id == poll_id
    assert poll.conversation_id == ta.CHANNEL_ID


async def test_a_cancelled_poll_says_so_and_refuses_votes(circle: Circle):
    draft = await circle.draft()
    poll_id = await circle.post(draft.adaptive_cards[0], draft)
    card = circle.poll_card(poll_id)
    refused = await circle.click(
        button(card, "Cancel poll")["data"], sender=ta.MARIA, on=poll_id, personal=False
    )
    assert refused["value"] == "Only the organiser can change this poll."

    cancelled = await circle.click(button(card, "Cancel poll")["data"], on=poll_id, personal=False)
    assert cancelled["value"] == "The poll is cancelled."
    await circle.teams.settle()
    shown = circle.poll_card(poll_id)
    assert "This poll was cancelled." in texts(shown)
    assert not [a for a in actions(shown) if a["type"] == "Action.Execute"]
    late = await circle.click(button(card, "Yes")["data"], sender=CY, on=poll_id, personal=False)
    assert late["value"] == "This poll is no longer open; votes can't change any more."


# ---------------------------------------------------------------------- many at once

INVITEES = tuple(
    ta.TeamsUser(
        f"29:1Invitee{n:02d}ZxCvBnMaSdFgHjKlQwErTyUi",
        f"Invitee {n:02d}",
        f"00000000-0000-4000-8000-{n:012d}",
        f"invitee{n:02d}@contoso.example",
    )
    for n in range(50)
)


async def test_500_votes_from_50_people_at_once_end_in_the_exact_tally(tmp_path: Path):
    """50 invitees, 8 times: each (person, time) pair is voted once, and 100 of them twice
    in the same instant (a double click, or Teams resending), which counts once. The card
    ends showing exactly what was stored. No click on the shared card waits for its turn
    here (``quick=0``): each gets "Got it" at once and its receipt privately, coalesced
    (the first at once, then the newest when the bot stops: the interval is an hour).
    How fast, and how few card updates, is bench/teams_load.py's ``--scenario votes``."""
    timing = TeamsTiming(budget=replace(GENEROUS, quick=0), late_answer_interval=3600)
    async with teams_app(tmp_path, members=INVITEES, timing=timing) as teams:
        storage = teams.running.storage
        people = [await teams.say_hello(user) for user in INVITEES]
        await storage.groups.create(
            PROGRAM, "Circle of Fifty", [p.id for p in people], channel=ta.CHANNEL_ID
        )
        circle = Circle(teams, {p.name: p for p in people})
        organiser = INVITEES[0]
        chat = ta.personal_chat_id(organiser)
        before = len(teams.connector.sent(chat))
        await circle.ask_in_channel("poll my circle for an hour next week", sender=organiser)
        draft = (await teams.sent_to(chat, before + 1))[-1]
        card = draft.adaptive_cards[0]
        assert len(choices(card, "ptRequire")) == 50
        for day in ("2026-12-01", "2026-12-02", "2026-12-03"):  # 5 proposed, 3 of his own
            inputs = {"ptDate": day, "ptTime": "08:00"}
            added = await circle.click(button(card, "Add")["data"] | inputs, sender=organiser)
            card = added["value"]
        poll_id = await circle.post(card, draft, sender=organiser)
        card = circle.poll_card(poll_id)
        assert len(tallies(card)) == 8
        assert cards.size_of(card) < cards.MAX_CARD_BYTES

        votes = [  # (voter, option, button): 400 pairs, each voted once
            (user, option, "Yes" if (n + option) % 3 else "If need be")
            for n, user in enumerate(INVITEES)
            for option in range(8)
        ]
        clicks = votes + votes[::4]  # 100 of them twice, at the same moment
        random.Random(8).shuffle(clicks)
        assert len(clicks) == 500
        expected = [
            f"{sum(o == option and t == 'Yes' for _, o, t in votes)} yes, "
            f"{sum(o == option and t == 'If need be' for _, o, t in votes)} if need be, 0 busy"
            for option in range(8)
        ]
        invokes = [
            ta.adaptive_card_action(
                "pairtime",
                button(card, title, option)["data"],
                service_url=teams.service_url,
                sender=user,
                reply_to_id=poll_id,
                personal=False,
            )
            for user, option, title in clicks
        ]
        updates_before = len(teams.connector.of_kind("update"))
        headers = {"Authorization": f"Bearer {teams.token()}"}

        async with aiohttp.ClientSession() as session:

            async def invoke(activity: dict[str, Any]) -> tuple[int, Any]:
                async with session.post(teams.url, json=activity, headers=headers) as answer:
                    return answer.status, await answer.json()

            answers = await asyncio.gather(*(invoke(activity) for activity in invokes))

        assert {status for status, _ in answers} == {200}
        assert {body["value"] for _, body in answers} == {COUNTING}
        await teams.settle()
        assert tallies(circle.poll_card(poll_id)) == expected
        (poll,) = await polls_in(teams)
        stored = await storage.polls.votes(poll.ref)
        assert len(stored) == len(votes)
        assert [
            f"{sum(v.option == o.id and v.choice is Choice.YES for v in stored)} yes, "
            f"{sum(v.option == o.id and v.choice is Choice.IF_NEED_BE for v in stored)} "
            "if need be, 0 busy"
            for o in poll.options
        ] == expected
        updates = len(teams.connector.of_kind("update")) - updates_before
        print(f"{len(clicks)} votes: {updates} card updates")
        assert 1 <= updates < len(clicks)  # coalesced: never one per vote
    # Every receipt came after "Got it", privately: each voter clicked 10 times and got one
    # or two (the first at once, then the newest, here when the bot stopped; one when their
    # clicks were all counted before the first went, as clicks drawn together finish at once)
    late = {
        user.name: [
            m
            for m in teams.connector.sent(ta.personal_chat_id(user))
            if texts(m.adaptive_cards[0]).startswith("You voted")
        ]
        for user in INVITEES
    }
    assert all(1 <= len(answers) <= 2 for answers in late.values()), late


BEN_APPLE_ID = "ben@icloud.example"
BEN_PASSWORD = "abcd-efgh-ijkl-mnop"
BEN_BUSY = (  # Thursday 3 December, 13:00 to 16:00 UTC
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:ben@t\r\n"
    "DTSTAMP:20261101T000000Z\r\nSUMMARY:Dentist\r\nDTSTART:20261203T130000Z\r\n"
    "DTEND:20261203T160000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


async def test_busy_counts_are_public_and_clashes_private(tmp_path: Path):
    """Ben's calendar is connected and busy on Thursday afternoon: the poll says "1 busy"
    then, never whose calendar; Ben alone hears that his calendar clashes."""
    with radicale_server(tmp_path, {BEN_APPLE_ID: BEN_PASSWORD}) as server:
        add_calendar(server.url, BEN_APPLE_ID, BEN_PASSWORD, "Home", [BEN_BUSY])
        calendars = CalendarSettings(caldav_url=server.url, timeout_seconds=PROVIDER_TIMEOUT)
        async with teams_app(tmp_path, members=CIRCLE, calendars=calendars) as teams:
            circle = await circle_of_four(teams)
            await circle.storage.connections.replace(
                circle.people["Ben Okafor"].id,
                Provider.ICLOUD,
                BEN_APPLE_ID,
                {"username": BEN_APPLE_ID, "password": BEN_PASSWORD, "calendars": []},
                teams.clock.now(),
            )
            draft = await circle.draft()
            assert "1 of 4 invitees have connected calendars." in texts(draft.adaptive_cards[0])
            thursday = {"ptDate": "2026-12-03", "ptTime": "15:00"}  # 14:00 UTC in Berlin
            added = await circle.click(
                button(draft.adaptive_cards[0], "Add")["data"] | thursday, on=draft
            )
            poll_id = await circle.post(added["value"], draft)
            card = circle.poll_card(poll_id)
            busy_then = [line for line in tallies(card) if line.endswith("1 busy")]

            assert len(busy_then) == 1  # the Thursday time, and no other
            assert "1 of 4 invitees have connected calendars." in texts(card)
            assert "Ben" not in texts(card)  # never whose calendar

            first = await circle.vote(poll_id, BEN, 0)
            assert "Your calendar is busy at: Thu 3 Dec" in first["value"]
            maria = await circle.vote(poll_id, ta.MARIA, 0)
            assert "busy" not in maria["value"]  # her calendar is not connected
            expected = tallies(card)
            expected[0] = expected[0].replace("0 yes", "2 yes", 1)
            shown = await circle.card_shows(poll_id, expected)
            assert "Ben" not in texts(shown)
            updates = [r for r in teams.connector.of_kind("update") if r.activity_id == poll_id]
            assert all("calendar is busy" not in json.dumps(u.body) for u in updates)
            # What Ben's calendar holds never reaches Teams
            assert "Dentist" not in json.dumps([r.body for r in teams.connector.received])


# ---------------------------------------------------------------------- a channel, no circle

ANYONE_HERE = "poll for an hour next week"
PAIRTIME_ON_ROSTER = {"id": f"28:{ta.BOT_APP_ID}", "name": "Pairtime", "userRole": "bot"}
OTHER_APP = {"id": "28:00000000-0000-0000-0000-0000000a11ce", "name": "Polly", "userRole": "bot"}


async def test_a_poll_in_a_channel_without_a_circle_invites_the_teams_members(tmp_path: Path):
    async with teams_app(tmp_path, members=CIRCLE) as teams:
        for app in (PAIRTIME_ON_ROSTER, OTHER_APP):
            teams.connector.add_member(ta.TEAM_ID, app)
        circle = Circle(teams, {})
        chat = ta.personal_chat_id(ta.ALEX)
        await circle.ask_in_channel(ANYONE_HERE)

        draft = (await teams.sent_to(chat))[-1]
        card = draft.adaptive_cards[0]
        assert texts(card).startswith("Draft poll: Meeting with Alex Kim")
        (invitees,) = [line for line in texts(card).splitlines() if line.startswith("Invitees:")]
        assert all(user.name in invitees for user in CIRCLE)
        assert "Pairtime" not in invitees
        assert "Polly" not in invitees  # apps are nobody to meet
        assert "0 of 4 invitees have connected calendars." in texts(card)
        # Read through the channel's team, which holds its roster
        assert [read[0] for read in teams.connector.roster_reads] == [ta.TEAM_ID]

        # Ben never wrote to Pairtime: now he is known, with the roster's email, and reachable
        ben = await circle.storage.people.by_chat_user(PROGRAM, BEN.aad_object_id)
        assert ben is not None
        assert (ben.name, ben.email) == ("Ben Okafor", BEN.email)
        address = await circle.storage.conversations.get(PROGRAM, BEN.aad_object_id)
        assert address is not None
        assert address["user"]["id"] == BEN.id

        poll_id = await circle.post(card, draft)
        receipt = await circle.vote(poll_id, BEN, 0)
        assert receipt["value"].startswith("You voted “yes”")


async def test_a_channel_too_large_for_a_poll_gets_a_friendly_answer(tmp_path: Path):
    async with teams_app(tmp_path, members=CIRCLE) as teams:
        for n in range(520):  # two pages of Teams' largest, 500
            user = ta.TeamsUser(f"29:member{n}", f"Member {n}", f"aad-{n:04d}", f"m{n}@c.example")
            teams.connector.add_member(ta.TEAM_ID, user.member())
        teams.connector.add_member(ta.TEAM_ID, PAIRTIME_ON_ROSTER)
        await Circle(teams, {}).ask_in_channel(ANYONE_HERE)

        (answer,) = await teams.sent_to(ta.CHANNEL_ID)
        said = texts(answer.adaptive_cards[0])
        assert said.startswith("This channel has 524 members, and a poll can invite at most 50")
        assert "ask your program admin to link a circle" in said
        reads = teams.connector.roster_reads
        assert [(size, token is None) for _, size, token in reads] == [(500, True), (500, False)]
        assert await polls_in(teams) == []
        assert not teams.connector.sent(ta.personal_chat_id(ta.ALEX))  # no draft
        member = await teams.running.storage.people.by_chat_user(PROGRAM, "aad-0001")
        assert member is None  # nobody of a crowd is stored


async def test_a_roster_teams_refuses_leaves_the_question_whom_to_invite(tmp_path: Path):
    async with teams_app(tmp_path, members=CIRCLE) as teams:
        await teams.say_hello(ta.ALEX)  # known already: the next call on the team's roster...
        teams.connector.fail(ta.TEAM_ID, 403, "Forbidden")  # ...is the channel's members
        await Circle(teams, {}).ask_in_channel(ANYONE_HERE)

        (answer,) = await teams.sent_to(ta.CHANNEL_ID)
        assert texts(answer.adaptive_cards[0]).startswith("Who should I invite?")
        assert [read[0] for read in teams.connector.roster_reads] == [ta.TEAM_ID]
        assert await polls_in(teams) == []
