"""Clicking through Teams: a time is booked once, the card updates in place, and both people
get a private confirmation with the invitation, proactively where needed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.actions import PickSlot
from tests.adapters.teams.card_reading import actions
from tests.adapters.teams.harness import PROGRAM, TeamsUnderTest, teams_app
from tests.fakes import teams_activities as ta
from tests.fakes.botframework import ReceivedActivity

CARD = "application/vnd.microsoft.card.adaptive"


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TeamsUnderTest]:
    async with teams_app(tmp_path) as running:
        yield running


def times_on(card: dict[str, Any]) -> set[str]:
    """The references of a picker's time buttons."""
    return {
        a["data"]["pt"]
        for a in actions(card)
        if a["type"] == "Action.Execute" and a["title"] != "More times"
    }


def facts(card: dict[str, Any]) -> dict[str, str]:
    return {
        fact["title"]: fact["value"]
        for block in card["body"]
        if block["type"] == "FactSet"
        for fact in block["facts"]
    }


async def picker_for_alex(teams: TeamsUnderTest, *, maria_in_personal_chat: bool = True):
    """Alex (paired with Maria) asks for times in his personal chat; the picker's message."""
    storage = teams.running.storage
    if maria_in_personal_chat:
        maria = await teams.say_hello(ta.MARIA)
    else:  # Maria has only been mentioned in a channel: Pairtime knows her address only
        await teams.post(ta.channel_message("status", service_url=teams.service_url))
        await teams.sent_to(ta.CHANNEL_ID)
        found = await storage.people.by_chat_user(PROGRAM, ta.MARIA.aad_object_id)
        assert found is not None
        maria = found
    alex = await storage.people.by_chat_user(PROGRAM, ta.ALEX.aad_object_id)
    if alex is None:
        alex = await teams.say_hello(ta.ALEX)
    await storage.pairings.pair(PROGRAM, alex.id, maria.id)
    chat = ta.personal_chat_id(ta.ALEX)
    before = len(teams.connector.sent(chat))
    await teams.post(
        ta.personal_message("find a time with my mentee next week", service_url=teams.service_url)
    )
    replies = await teams.sent_to(chat, before + 1)
    return replies[-1], alex, maria


def click(teams: TeamsUnderTest, picker: ReceivedActivity, title: str | None = None, **kw):
    """The invoke Teams sends when Alex presses a button on ``picker`` (the first time, or
    the one titled ``title``)."""
    (card,) = picker.adaptive_cards
    buttons = [a for a in actions(card) if a["type"] == "Action.Execute"]
    button = next(b for b in buttons if title is None or b["title"] == title)
    return ta.adaptive_card_action(
        button["verb"],
        button["data"],
        service_url=teams.service_url,
        reply_to_id=picker.activity_id,
        **kw,
    ), button


async def test_a_click_proposes_once_and_the_partner_accepts_on_her_card(
    teams: TeamsUnderTest,
):
    picker, alex, maria = await picker_for_alex(teams)
    invoke, button = click(teams, picker)

    status, body = await teams.post(invoke)

    assert status == 200
    assert body["statusCode"] == 200
    assert body["type"] == CARD
    booked = body["value"]
    assert (
        booked["body"][0]["text"]
        == "Proposed: Mentoring: Alex Kim and Maria Lopez, waiting for Maria Lopez"
    )
    assert facts(booked)["With"] == "Maria Lopez"
    assert button["title"] in facts(booked)["When"]  # the time that was pressed
    assert not [a for a in actions(booked) if a["type"] == "Action.Execute"]  # nothing left
    meetings = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert len(meetings) == 1

    alex_chat, maria_chat = ta.personal_chat_id(ta.ALEX), ta.personal_chat_id(ta.MARIA)
    mine = (await teams.sent_to(alex_chat, 3))[-1]
    theirs = (await teams.sent_to(maria_chat, 2))[-1]
    assert theirs.kind == "send"  # proactive: a new message in Maria's personal chat
    for message, headline, titles in (
        (
            mine,
            "You proposed this time to Maria Lopez. I'll tell you when they answer.",
            ["Move", "Cancel meeting"],
        ),
        (
            theirs,
            "Alex Kim proposes a time for Mentoring: Alex Kim and Maria Lopez.",
            ["Accept", "Decline", "Other times"],
        ),
    ):
        (card,) = message.adaptive_cards
        assert card["body"][0]["text"] == headline
        ics, *rest = actions(card)
        assert [a["title"] for a in rest] == titles
        assert ics["type"] == "Action.OpenUrl"
        assert ics["title"] == "Add to calendar (.ics)"
        path = ics["url"].removeprefix("http://127.0.0.1:3978")
        async with (
            aiohttp.ClientSession() as session,
            session.get(teams.running.base_url + path) as download,
        ):
            assert download.status == 200
            assert download.content_type == "text/calendar"
            assert "BEGIN:VEVENT" in await download.text()
    # Maria sees the time in her own zone (her profile's, from her last activity)
    assert facts(theirs.adaptive_cards[0])["Time zone"].startswith("America/New_York")
    assert maria.timezone == "America/New_York"

    # Maria accepts on her card: it becomes the meeting, and Alex is told.
    accept, _ = click(teams, theirs, "Accept", sender=ta.MARIA)
    status, body = await teams.post(accept)
    assert status == 200
    assert body["type"] == CARD
    assert body["value"]["body"][0]["text"] == "You accepted Mentoring: Alex Kim and Maria Lopez."
    told = (await teams.sent_to(alex_chat, 4))[-1]
    assert told.adaptive_cards[0]["body"][0]["text"] == (
        "Maria Lopez accepted Mentoring: Alex Kim and Maria Lopez."
    )
    (meeting,) = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert (meeting.status.value, meeting.sequence) == ("confirmed", 1)


async def test_the_same_click_twice_books_and_confirms_once(teams: TeamsUnderTest):
    picker, alex, _ = await picker_for_alex(teams)
    invoke, _ = click(teams, picker)

    first, again = await asyncio.gather(teams.post(invoke), teams.post(invoke))

    assert first[0] == again[0] == 200
    assert first[1]["value"]["body"][0]["text"] == again[1]["value"]["body"][0]["text"]
    await teams.sent_to(ta.personal_chat_id(ta.MARIA), 2)
    await teams.settle()  # any (wrong) second confirmation would have been sent by now
    assert len(teams.connector.sent(ta.personal_chat_id(ta.MARIA))) == 2
    assert len(teams.connector.sent(ta.personal_chat_id(ta.ALEX))) == 3
    meetings = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert len(meetings) == 1


async def test_a_second_time_clicked_later_does_not_book_again(teams: TeamsUnderTest):
    picker, alex, _ = await picker_for_alex(teams)
    first, _ = click(teams, picker)
    await teams.post(first)
    buttons = [a for a in actions(picker.adaptive_cards[0]) if a["type"] == "Action.Execute"]
    other = ta.adaptive_card_action(
        "pairtime", buttons[1]["data"], service_url=teams.service_url, reply_to_id="1"
    )

    status, body = await teams.post(other)

    assert status == 200
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"].startswith("A time has already been chosen")
    meetings = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert len(meetings) == 1


async def test_more_times_replaces_the_picker_in_place(teams: TeamsUnderTest):
    picker, _, _ = await picker_for_alex(teams)
    invoke, _ = click(teams, picker, "More times")

    status, body = await teams.post(invoke)

    assert status == 200
    assert body["type"] == CARD
    first_times = times_on(picker.adaptive_cards[0])
    next_times = times_on(body["value"])
    assert next_times
    assert not first_times & next_times


async def test_submit_fallback_updates_the_clicked_message(teams: TeamsUnderTest):
    """Clients without Universal Actions send the Action.Submit fallback as a message with a
    value; the answer then replaces the card with update_activity."""
    picker, alex, _ = await picker_for_alex(teams)
    (card,) = picker.adaptive_cards
    button = next(a for a in actions(card) if a["type"] == "Action.Execute")
    submit = ta.personal_message("", service_url=teams.service_url) | {
        "value": button["fallback"]["data"],
        "replyToId": picker.activity_id,
    }

    status, _ = await teams.post(submit)
    await teams.settle()
    updated = teams.connector.of_kind("update")

    assert status == 202
    assert updated[0].activity_id == picker.activity_id
    now = teams.connector.activity(picker.conversation_id, picker.activity_id)
    assert now is not None
    assert now["attachments"][0]["content"]["body"][0]["text"].startswith("Proposed:")
    await teams.sent_to(ta.personal_chat_id(ta.MARIA), 2)
    meetings = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert len(meetings) == 1


async def test_the_partner_seen_only_in_a_channel_gets_a_new_personal_chat(
    teams: TeamsUnderTest,
):
    picker, _, _ = await picker_for_alex(teams, maria_in_personal_chat=False)
    invoke, _ = click(teams, picker)

    status, _ = await teams.post(invoke)
    (confirmation,) = await teams.sent_to(ta.personal_chat_id(ta.MARIA))

    assert status == 200
    (created,) = teams.connector.of_kind("create")
    assert created.body["members"] == [{"id": ta.MARIA.id}]
    assert created.body["tenantID"] == ta.TENANT_ID
    assert confirmation.adaptive_cards[0]["body"][0]["text"].startswith("Alex Kim proposes")
    # the chat is remembered: the next message goes straight there
    reference = await teams.running.storage.conversations.get(PROGRAM, ta.MARIA.aad_object_id)
    assert reference is not None
    assert reference["conversation"]["id"] == ta.personal_chat_id(ta.MARIA)


async def test_a_button_from_someone_else_is_refused_gently(teams: TeamsUnderTest):
    picker, _, _ = await picker_for_alex(teams)
    invoke, _ = click(teams, picker, "More times", sender=ta.MARIA)

    status, body = await teams.post(invoke)

    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Only the person who asked can see more times here.",
    }


async def test_a_forged_reference_is_a_stale_button_not_an_error(teams: TeamsUnderTest):
    await teams.say_hello(ta.ALEX)
    invoke = ta.adaptive_card_action(
        "pairtime", {"pt": "eyJrIjoicGljayJ9.AAAAAAAAAAAAAAAAAAAAAA"}, service_url=teams.service_url
    )

    status, body = await teams.post(invoke)

    assert status == 200
    assert body["value"].startswith("That button has expired")


async def test_my_meetings_in_the_personal_chat_moves_and_cancels_asking_first(
    teams: TeamsUnderTest,
):
    """Teams' personal chat is its home: "my meetings" lists them with Move / Cancel."""
    picker, alex, _ = await picker_for_alex(teams)
    await teams.post(click(teams, picker)[0])
    maria_chat, alex_chat = ta.personal_chat_id(ta.MARIA), ta.personal_chat_id(ta.ALEX)
    proposal = (await teams.sent_to(maria_chat, 2))[-1]
    await teams.post(click(teams, proposal, "Accept", sender=ta.MARIA)[0])
    told = len(await teams.sent_to(alex_chat, 4))

    before = len(teams.connector.sent(maria_chat))
    await teams.post(
        ta.personal_message("my meetings", sender=ta.MARIA, service_url=teams.service_url)
    )
    listing = (await teams.sent_to(maria_chat, before + 1))[-1]
    (card,) = listing.adaptive_cards
    assert "Your upcoming meetings" in json.dumps(card)
    assert "Mentoring: Alex Kim and Maria Lopez" in json.dumps(card)
    titles = [a["title"] for a in actions(card) if a["type"] == "Action.Execute"]
    assert titles == ["Move", "Cancel meeting"]

    status, body = await teams.post(click(teams, listing, "Cancel meeting", sender=ta.MARIA)[0])
    assert status == 200
    question = body["value"] if body.get("type") == CARD else None
    if question is None:  # answered as a new message rather than in place
        question = (await teams.sent_to(maria_chat, before + 2))[-1].adaptive_cards[0]
    assert "Cancel Mentoring: Alex Kim and Maria Lopez on" in json.dumps(question)
    (meeting,) = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert meeting.status.value == "confirmed"  # nothing yet
    sure = next(a for a in actions(question) if a.get("title") == "Cancel meeting")
    status, body = await teams.post(
        ta.adaptive_card_action(
            sure["verb"], sure["data"], service_url=teams.service_url,
            reply_to_id=listing.activity_id, sender=ta.MARIA,
        )
    )  # fmt: skip
    assert status == 200
    assert "Cancelled: Mentoring: Alex Kim and Maria Lopez" in json.dumps(body)
    cancelled = (await teams.sent_to(alex_chat, told + 1))[-1]
    assert "Maria Lopez cancelled Mentoring: Alex Kim and Maria Lopez." in json.dumps(
        cancelled.adaptive_cards[0]
    )
    assert await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now()) == []

    # The list's old Move answers with the meeting as it is now: cancelled, nothing to move.
    status, body = await teams.post(click(teams, listing, "Move", sender=ta.MARIA)[0])
    assert status == 200
    assert "cancelled" in json.dumps(body).lower()
    assert not [a for a in actions(body["value"]) if a.get("title") == "Move"]


BEN = ta.TeamsUser(
    "29:1BenOkaforW2e4r6t8y0uIoPaSdFgHjKlZ",
    "Ben Okafor",
    "8d3f6e3a-3c4d-4e5f-8a0b-2c3d4e5f6a71",
    "ben@contoso.example",
)


def starts_on(teams: TeamsUnderTest, message: ReceivedActivity) -> list[datetime]:
    """The times a picker's buttons book, read from their signed references."""
    codec = teams.running.services.scheduler.ports.actions
    found = []
    for data in times_on(message.adaptive_cards[0]):
        action = codec.open(data)
        assert isinstance(action, PickSlot)
        found.append(action.start)
    return found


async def test_a_booked_time_is_busy_for_the_next_mentee_until_declined_and_a_move_is_asked(
    teams: TeamsUnderTest,
):
    picker, alex, _ = await picker_for_alex(teams)
    invoke, _ = click(teams, picker)
    booked_at = starts_on(teams, picker)
    await teams.post(invoke)
    (meeting,) = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert meeting.start in booked_at

    ben = await teams.say_hello(BEN)
    await teams.running.storage.pairings.pair(PROGRAM, alex.id, ben.id)
    alex_chat, maria_chat = ta.personal_chat_id(ta.ALEX), ta.personal_chat_id(ta.MARIA)

    async def times_with_ben() -> list[datetime]:
        await teams.settle()  # what earlier clicks sent Alex is in his chat already
        before = len(teams.connector.sent(alex_chat))
        await teams.post(
            ta.personal_message(
                "find a time with Ben Okafor next week", service_url=teams.service_url
            )
        )
        return starts_on(teams, (await teams.sent_to(alex_chat, before + 1))[-1])

    assert meeting.start not in await times_with_ben()  # Alex is held by the proposal

    proposal = (await teams.sent_to(maria_chat, 2))[-1]
    status, body = await teams.post(click(teams, proposal, "Decline", sender=ta.MARIA)[0])
    assert status == 200
    assert "You declined Mentoring: Alex Kim and Maria Lopez" in json.dumps(body)
    assert meeting.start in await times_with_ben()  # free again at once

    # Booked again and accepted; Maria moves it from her card, and Alex is asked.
    before = len(teams.connector.sent(alex_chat))
    await teams.post(
        ta.personal_message("find a time with Maria Lopez next week", service_url=teams.service_url)
    )
    picker = (await teams.sent_to(alex_chat, before + 1))[-1]
    await teams.post(click(teams, picker)[0])
    await teams.settle()
    proposal = teams.connector.sent(maria_chat)[-1]
    status, body = await teams.post(click(teams, proposal, "Accept", sender=ta.MARIA)[0])
    assert "You accepted Mentoring: Alex Kim and Maria Lopez." in json.dumps(body)
    before = len(teams.connector.sent(maria_chat))
    move = next(a for a in actions(body["value"]) if a.get("title") == "Move")
    status, answer = await teams.post(
        ta.adaptive_card_action(
            move["verb"], move["data"], service_url=teams.service_url,
            reply_to_id=proposal.activity_id, sender=ta.MARIA,
        )
    )  # fmt: skip
    assert status == 200
    await teams.settle()
    pickers = teams.connector.sent(maria_chat)[before:]
    assert pickers, json.dumps(answer)[:500]
    new_picker = pickers[-1]
    await teams.post(click(teams, new_picker, sender=ta.MARIA)[0])
    await teams.settle()
    asked = teams.connector.sent(alex_chat)[-1]
    assert "Maria Lopez proposes a new time for Mentoring: Alex Kim and Maria Lopez." in (
        json.dumps(asked.adaptive_cards[0])
    )
    (moved,) = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert (moved.status.value, moved.sequence) == ("proposed", 2)


async def test_the_same_move_click_twice_at_once_moves_and_asks_once(teams: TeamsUnderTest):
    """Teams may deliver one click twice at once. A move's pick, twice concurrently: the
    meeting moves once (its sequence up by one), both copies answer with it moved, and the
    partner is asked about the new time once. (Each copy checks the time against calendars
    that leave out the meeting being moved, so the twin that comes second finds the time
    free, then loses the conditional update, or finds the meeting there already.)"""
    picker, alex, _ = await picker_for_alex(teams)
    alex_chat, maria_chat = ta.personal_chat_id(ta.ALEX), ta.personal_chat_id(ta.MARIA)
    await teams.post(click(teams, picker)[0])
    await teams.settle()
    (booked,) = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    mine = teams.connector.sent(alex_chat)[-1]
    assert "You proposed this time" in json.dumps(mine.adaptive_cards[0])

    before = len(teams.connector.sent(alex_chat))
    status, _ = await teams.post(click(teams, mine, "Move")[0])
    assert status == 200
    await teams.settle()
    move_picker = teams.connector.sent(alex_chat)[before:][-1]
    codec = teams.running.services.scheduler.ports.actions
    (card,) = move_picker.adaptive_cards
    other = next(
        a
        for a in actions(card)
        if a["type"] == "Action.Execute"
        and a["title"] != "More times"
        and isinstance(action := codec.open(a["data"]["pt"]), PickSlot)
        and action.start != booked.start
    )
    invoke = ta.adaptive_card_action(
        other["verb"], other["data"], service_url=teams.service_url,
        reply_to_id=move_picker.activity_id,
    )  # fmt: skip
    asked_before = len(teams.connector.sent(maria_chat))

    first, again = await asyncio.gather(teams.post(invoke), teams.post(invoke))

    assert first[0] == again[0] == 200
    title = "Mentoring: Alex Kim and Maria Lopez"
    headlines = sorted(body["value"]["body"][0]["text"] for _, body in (first, again))
    # One moved it; the other found it moved (or lost the update): the meeting as it is.
    assert headlines == [
        f"Moved: {title}",
        f"New time proposed for {title}; waiting for Maria Lopez.",
    ]
    await teams.settle()  # any (wrong) second message to Maria would have gone by now
    (moved,) = await teams.running.storage.meetings.upcoming(alex.id, teams.clock.now())
    assert moved.ref == booked.ref
    assert moved.start != booked.start
    assert moved.sequence == booked.sequence + 1
    asked = teams.connector.sent(maria_chat)[asked_before:]
    assert len(asked) == 1
    assert "Alex Kim proposes a new time for Mentoring: Alex Kim and Maria Lopez." in (
        json.dumps(asked[0].adaptive_cards[0])
    )
