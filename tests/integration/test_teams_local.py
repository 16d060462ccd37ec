"""Teams without authentication (PAIRTIME_TEAMS_AUTH=disabled, for the Emulator), and the
slow path of a click: a "Working on it…" card, then the answer in its place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web

from adapters.chat import ChatContext
from adapters.teams.config import TeamsSettings
from adapters.teams.endpoint import TeamsEndpoint, start_teams
from adapters.teams.timing import InvokeBudget, TeamsTiming
from bot.inbox import WorkerInbox
from bot.worker import Worker
from tests.adapters.teams.harness import PROGRAM, TeamsUnderTest, teams_app
from tests.fakes import teams_activities as ta
from tests.fakes.server import running


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TeamsUnderTest]:
    async with teams_app(tmp_path, authenticated=False) as running_teams:
        yield running_teams


async def test_with_authentication_disabled_unsigned_activities_are_answered(
    teams: TeamsUnderTest,
):
    status, _ = await teams.post(ta.personal_message("help", service_url=teams.service_url))
    (reply,) = await teams.sent_to(ta.personal_chat_id(ta.ALEX))

    assert status == 202
    assert "Authorization" not in reply.headers  # no app id: the bot has no token to send
    assert "I find meeting times" in str(reply.adaptive_cards[0])


async def test_a_slow_click_shows_progress_then_the_answer_in_place(teams: TeamsUnderTest):
    """A second endpoint over the same services, with no time to answer an invoke: every
    click takes the slow path Teams would see when calendars answer late."""
    services = teams.running.services
    chat = ChatContext(
        services.scheduler,
        teams.running.storage.events,
        teams.running.storage.conversations,
        services.clock,
        "http://127.0.0.1:3978",
        services.http,
        # Its own worker, never started: the app's already runs the Teams inbox.
        WorkerInbox(Worker(teams.running.storage.jobs, services.clock), services.clock),
    )
    endpoint = await start_teams(
        TeamsSettings(auth_disabled=True), chat, timing=TeamsTiming(budget=InvokeBudget(seconds=0))
    )
    app = web.Application()
    app.router.add_post("/api/messages", endpoint.handle)
    try:
        async with running(app) as base:
            maria = await teams.say_hello(ta.MARIA)
            alex = await teams.say_hello(ta.ALEX)
            await teams.running.storage.pairings.pair(PROGRAM, alex.id, maria.id)
            chat_id = ta.personal_chat_id(ta.ALEX)
            await teams.post(
                ta.personal_message("find a time with my mentee", service_url=teams.service_url)
            )
            (*_, picker) = await teams.sent_to(chat_id, 2)
            button = next(
                a
                for row in picker.adaptive_cards[0]["body"]
                if row["type"] == "ActionSet"
                for a in row["actions"]
            )
            invoke = ta.adaptive_card_action(
                "pairtime",
                button["data"],
                service_url=teams.service_url,
                reply_to_id=picker.activity_id,
            )
            status, body = await _post(f"{base}/api/messages", invoke)
            await cast("TeamsEndpoint", endpoint).idle()
            updated = teams.connector.of_kind("update")
    finally:
        await endpoint.close()

    assert status == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert body["value"]["body"][0]["text"] == "Working on it…"
    assert updated[0].activity_id == picker.activity_id
    assert picker.activity_id is not None
    final = teams.connector.activity(chat_id, picker.activity_id)
    assert final is not None
    assert final["attachments"][0]["content"]["body"][0]["text"].startswith("Proposed:")
    await teams.sent_to(ta.personal_chat_id(ta.MARIA), 2)  # Maria's confirmation too


async def _post(url: str, activity: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, json=activity) as response:
        return response.status, await response.json()
