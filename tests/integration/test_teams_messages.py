"""Teams through the wire: activities POSTed to the running app, answers read at the fake
connector. Authentication is on: the channel signs its tokens with a key from the fake's
OpenID metadata, and the bot fetches its own tokens from the fake login server."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.logs import configure_logging
from tests.adapters.teams import card_reading
from tests.adapters.teams.card_reading import actions, texts
from tests.adapters.teams.harness import PROGRAM, TeamsUnderTest, identity, teams_app
from tests.fakes import teams_activities as ta


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TeamsUnderTest]:
    async with teams_app(tmp_path) as running:
        yield running


def execute_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Execute on a card, in order (inside ActionSets and at the root)."""
    return card_reading.of_type(card, "Action.Execute")


async def pair_alex_with_maria(teams: TeamsUnderTest) -> None:
    maria = await teams.say_hello(ta.MARIA)
    storage = teams.running.storage
    alex = await storage.people.by_chat_user(PROGRAM, ta.ALEX.aad_object_id)
    if alex is None:
        alex = await teams.say_hello(ta.ALEX)
    await storage.pairings.pair(PROGRAM, alex.id, maria.id)


async def test_find_a_time_from_a_personal_chat(teams: TeamsUnderTest):
    await pair_alex_with_maria(teams)
    chat = ta.personal_chat_id(ta.ALEX)
    before = len(teams.connector.sent(chat))
    activity = ta.personal_message(
        "find a time with my mentee next week", service_url=teams.service_url
    )

    delivered = teams.connector.hold(chat)
    status, _ = await teams.post(activity)
    assert status == 202  # acknowledged while the reply still waits: the ack never waits for it
    delivered.set()
    (*_, reply) = await teams.sent_to(chat, before + 1)

    assert reply.kind == "reply"
    assert reply.reply_to_id == activity["id"]
    (card,) = reply.adaptive_cards
    assert card["version"] == "1.5"
    lines = texts(card)
    assert lines[0] == "Times for you and Maria Lopez"
    assert "times in America/New_York (UTC\u221205:00)" in lines[1]
    days = [line for line in lines if line.startswith(("Monday", "Tuesday", "Wednesday"))]
    assert days, lines
    buttons = execute_actions(card)
    assert buttons
    assert {b["verb"] for b in buttons} == {"pairtime"}
    assert all(b["data"]["pt"] and b["fallback"]["data"] == b["data"] for b in buttons)
    assert any(line.startswith("Maria Lopez hasn't connected a calendar") for line in lines)
    # every call to the connector carried a token the fake login server issued
    assert teams.auth is not None
    tokens = {r.headers["Authorization"].removeprefix("Bearer ") for r in teams.connector.received}
    assert all(teams.auth.token_info(token) for token in tokens)


async def test_find_a_time_from_a_channel_mention_of_someone_new(teams: TeamsUnderTest):
    # Maria has never written to Pairtime: her mention is resolved through the team's roster.
    await teams.open_to_all()  # and she is nobody's partner yet
    alex = await teams.say_hello(ta.ALEX)
    activity = ta.channel_message("find a time next week with", service_url=teams.service_url)

    status, _ = await teams.post(activity)
    (reply,) = await teams.sent_to(ta.CHANNEL_ID)

    assert status == 202
    assert reply.kind == "reply"  # in the thread of the post that mentioned the bot
    assert reply.reply_to_id == activity["id"]
    (card,) = reply.adaptive_cards
    lines = texts(card)
    assert lines[0] == "Times for you and Maria Lopez"
    assert "times in Europe/Berlin (UTC+01:00)" in lines[1]  # the activity's localTimezone
    assert execute_actions(card)
    # personal connect links never go to a channel
    assert "state=" not in str(card)
    maria = await teams.running.storage.people.by_chat_user(PROGRAM, ta.MARIA.aad_object_id)
    assert maria is not None
    assert (maria.name, maria.email) == ("Maria Lopez", ta.MARIA.email)
    assert await teams.running.storage.people.identities(maria.id) == [identity(ta.MARIA)]
    # how to reach her privately later: her address, without a conversation yet
    address = await teams.running.storage.conversations.get(PROGRAM, ta.MARIA.aad_object_id)
    assert address is not None
    assert address["user"]["id"] == ta.MARIA.id
    assert address["conversation"] is None
    assert alex.email == ta.ALEX.email  # from the roster, the first time Alex spoke


async def test_the_same_activity_twice_is_answered_once(teams: TeamsUnderTest):
    await teams.say_hello(ta.ALEX)
    chat = ta.personal_chat_id(ta.ALEX)
    activity = ta.personal_message("status", service_url=teams.service_url)

    first, _ = await teams.post(activity)
    again, _ = await teams.post(activity)
    await teams.sent_to(chat, 2)
    later = ta.personal_message("help", service_url=teams.service_url)
    await teams.post(later)
    replies = await teams.sent_to(chat, 3)

    assert (first, again) == (202, 202)
    assert [r.reply_to_id for r in replies[1:]] == [activity["id"], later["id"]]


async def test_a_log_line_about_an_activity_names_teams_its_program_and_the_activity(
    teams: TeamsUnderTest,
):
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    try:
        activity = ta.personal_message("status", service_url=teams.service_url)
        await teams.post(activity)
        await teams.post(activity)  # resent: logged as seen before, and ignored
        await teams.settle()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    (ignored,) = [line for line in lines if "seen before" in line["message"]]
    assert ignored["platform"] == "teams"
    assert ignored["program"] == PROGRAM
    assert ignored["event"] == activity["id"]
    assert all(line.get("event") != activity["id"] or line["platform"] == "teams" for line in lines)


async def test_installing_the_app_says_hello_with_connect_buttons(teams: TeamsUnderTest):
    status, _ = await teams.post(ta.bot_installed(service_url=teams.service_url))
    (welcome,) = await teams.sent_to(ta.personal_chat_id(ta.ALEX))

    assert status == 202
    assert welcome.kind == "send"  # a new message, not a reply
    (card,) = welcome.adaptive_cards
    lines = texts(card)
    assert len(lines) == 3
    assert lines[0].startswith("Hi, I'm Pairtime.")
    links = [a for a in actions(card) if a["type"] == "Action.OpenUrl"]
    assert [a["title"] for a in links] == ["Connect iCloud"]  # the one service set up here
    assert "/connect/icloud?state=" in links[0]["url"]
    reference = await teams.running.storage.conversations.get(PROGRAM, ta.ALEX.aad_object_id)
    assert reference is not None
    assert reference["conversation"]["id"] == ta.personal_chat_id(ta.ALEX)


async def test_added_to_a_team_the_welcome_offers_private_connection(teams: TeamsUnderTest):
    await teams.post(ta.bot_installed(service_url=teams.service_url, scope="team"))
    (welcome,) = await teams.sent_to(ta.CHANNEL_ID)
    (button,) = actions(welcome.adaptive_cards[0])

    status, body = await teams.post(
        ta.adaptive_card_action(
            button["verb"],
            button["data"],
            service_url=teams.service_url,
            sender=ta.MARIA,
            personal=False,
            reply_to_id=welcome.activity_id,
        )
    )
    (private,) = await teams.sent_to(ta.personal_chat_id(ta.MARIA))

    assert status == 200
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert "private message" in body["value"]
    # Maria had only been seen in the team: Pairtime opened a personal chat with her
    (created,) = teams.connector.of_kind("create")
    assert created.body["members"] == [{"id": ta.MARIA.id}]
    assert private.kind == "send"
    links = [a for a in actions(private.adaptive_cards[0]) if a["type"] == "Action.OpenUrl"]
    assert [a["title"] for a in links] == ["Connect iCloud"]


async def test_rate_limited_replies_are_retried_after_the_pause_teams_asks_for(
    teams: TeamsUnderTest,
):
    await teams.say_hello(ta.ALEX)
    chat = ta.personal_chat_id(ta.ALEX)
    teams.connector.rate_limit(chat, times=1, retry_after=1)

    await teams.post(ta.personal_message("status", service_url=teams.service_url))
    replies = await teams.sent_to(chat, 2)

    limited = [r for r in teams.connector.received if r.status == 429]
    assert len(limited) == 1
    assert replies[1].at - limited[0].at >= 1.0


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "no header"),
        ("Bearer not-a-token", "malformed"),
        ("Basic dXNlcjpwYXNz", "not a bearer token"),
        ("wrong-key", "signed with a key the channel did not publish"),
        ("expired", "expired"),
        ("other-service", "signed for another serviceUrl"),
    ],
)
async def test_requests_the_channel_did_not_sign_are_refused(
    teams: TeamsUnderTest, authorization: str | None, reason: str
):
    assert teams.auth is not None
    header = {
        None: "",
        "wrong-key": f"Bearer {teams.token(key=teams.auth.wrong_key())}",
        "expired": f"Bearer {teams.token(expires_in=-600)}",
        "other-service": "Bearer "
        + teams.auth.sign_channel_token(teams.auth.app_id, "https://smba.trafficmanager.net/x/"),
    }.get(authorization, authorization)

    status, body = await teams.post(
        ta.personal_message("status", service_url=teams.service_url), authorization=header
    )

    assert status == 401, reason
    assert body == {"error": "unauthorized"}
    assert teams.connector.received == []
    assert await teams.running.storage.people.by_chat_user(PROGRAM, ta.ALEX.aad_object_id) is None


async def test_bad_requests_are_answered_400_and_405(teams: TeamsUnderTest):
    headers = {"Authorization": f"Bearer {teams.token()}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        async with session.post(teams.url, data=b"{not json", headers=headers) as broken:
            assert broken.status == 400
        async with session.post(teams.url, json={"text": "hi"}, headers=headers) as no_type:
            assert no_type.status == 400
        async with session.get(teams.url, headers=headers) as read:
            assert read.status == 405
    assert teams.connector.received == []


@pytest.mark.parametrize("levels", [60, 100_000], ids=["deeper than any activity", "100,000"])
async def test_deeply_nested_json_is_answered_400_quietly(
    teams: TeamsUnderTest, caplog: pytest.LogCaptureFixture, levels: int
):
    caplog.set_level(logging.INFO)
    headers = {"Authorization": f"Bearer {teams.token()}", "Content-Type": "application/json"}
    body = '{"type": "message", "channelData": ' + "[" * levels + "]" * levels + "}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(teams.url, data=body.encode(), headers=headers) as reply,
    ):
        assert reply.status == 400
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    assert teams.connector.received == []
