"""A find-time question between two circles of 40, with many dates ruled out, through the
running app, in Slack and in Teams: its buttons fit (Slack's 2,000-character values, a Teams
card under 28 KB; the requests are kept on the server), the platforms' own checks pass, and
a click runs the search the button stood for."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from adapters.teams import cards
from core.actions import INLINE_LIMIT, PickSlot
from core.people import ChatIdentity, Platform, Profile, ProgramId
from storage.store import Storage
from tests.adapters.slack.harness import MENTOR, buttons, slack_world
from tests.adapters.teams.card_reading import actions
from tests.adapters.teams.harness import PROGRAM as TEAMS_PROGRAM
from tests.adapters.teams.harness import teams_app
from tests.fakes import slack_requests as sr
from tests.fakes import teams_activities as ta
from tests.integration.test_slack_booking import click, picked
from tests.support import validate, validators

SLACK_PROGRAM = ProgramId("slack:T0PAIRTIME")
# Every other day from Monday 30 November: eight dates (the most a message is read for),
# each its own ruled-out span.
RULED_OUT = {date.fromordinal(date(2026, 11, 30).toordinal() + 2 * n) for n in range(8)}
ASK = "find an hour with my circle in the next 6 weeks, " + ", ".join(
    f"not {day:%b} {day.day}" for day in sorted(RULED_OUT)
)
SLACK_VALUE = 2000
ALEX_ZONE = ZoneInfo("America/New_York")  # his Slack profile's and his Teams client's
CARD = "application/vnd.microsoft.card.adaptive"


async def two_big_circles(storage: Storage, alex: ChatIdentity, program: ProgramId) -> None:
    """Alex is in two circles of 40 people each (ids as storage makes them)."""
    await storage.programs.ensure(program, "Pairtime Test")
    speaker = await storage.people.remember(program, alex, Profile("Alex Kim"))
    for circle in ("North", "South"):
        members = [
            await storage.people.remember(
                program,
                ChatIdentity(alex.platform, alex.workspace, f"{circle.lower()}-{n:02d}"),
                Profile(f"{circle} {n}"),
            )
            for n in range(40)
        ]
        await storage.groups.create(program, circle, [speaker.id, *(m.id for m in members)])


async def offers(storage: Storage) -> int:
    async with storage.database.reading() as db:
        count: int = (await db.execute(text("SELECT count(*) FROM slot_offers"))).scalar_one()
        return count


def days(starts: list[Any]) -> set[date]:
    return {start.astimezone(ALEX_ZONE).date() for start in starts}


async def test_slack_a_question_between_big_circles_fits_and_a_click_runs_it(tmp_path: Path):
    async with slack_world(tmp_path, paired=False) as world:
        storage = world.running.storage
        alex = ChatIdentity(Platform.SLACK, "T0PAIRTIME", MENTOR)
        await two_big_circles(storage, alex, SLACK_PROGRAM)
        url = world.response_url()

        await world.say(sr.slash_command(world.secret, text=ASK, response_url=url))

        question = world.slack.answered(url)  # no buttons at all before: Slack refused them
        options = buttons(question)
        assert [b["text"]["text"] for b in options] == ["North", "South"]
        assert all(len(b["value"]) <= INLINE_LIMIT < SLACK_VALUE for b in options)
        assert await offers(storage) == 2  # no times offered yet: one kept request per button

        answer = await click(world, options[1])

        picker = world.slack.answered(answer)
        times = [b for b in buttons(picker) if b["action_id"].startswith("pt:pick:")]
        assert times  # a picker for Alex and the South circle, without the dates ruled out
        assert "South 39" in json.dumps(picker)
        assert not days([picked(world, b) for b in times]) & RULED_OUT
        if validators() is None:
            pytest.skip("../shared/tools/validators is absent (a plain clone); .ci/run has it")
        path = tmp_path / "question.json"
        path.write_text(json.dumps({"text": "Which circle?", "blocks": question}), "utf-8")
        result = validate("blockkit", path)
        assert result.returncode == 0, result.stdout + result.stderr


async def test_teams_a_question_between_big_circles_fits_and_a_click_runs_it(tmp_path: Path):
    async with teams_app(tmp_path) as teams:
        storage = teams.running.storage
        alex = ChatIdentity(Platform.TEAMS, ta.TENANT_ID, ta.ALEX.aad_object_id)
        await two_big_circles(storage, alex, TEAMS_PROGRAM)
        chat = ta.personal_chat_id(ta.ALEX)

        await teams.post(ta.personal_message(ASK, service_url=teams.service_url))

        (asked,) = await teams.sent_to(chat)
        (card,) = asked.adaptive_cards
        options = [a for a in actions(card) if a["type"] == "Action.Execute"]
        assert [a["title"] for a in options] == ["North", "South"]
        assert all(len(a["data"]["pt"]) <= INLINE_LIMIT for a in options)
        assert cards.size_of(card) < cards.MAX_CARD_BYTES
        assert await offers(storage) == 2

        status, body = await teams.post(
            ta.adaptive_card_action(
                options[1]["verb"],
                options[1]["data"],
                service_url=teams.service_url,
                reply_to_id=asked.activity_id,
            )
        )

        assert status == 200
        assert body["type"] == CARD
        picker = body["value"]
        assert "South 39" in json.dumps(picker)
        codec = teams.running.services.scheduler.ports.actions
        starts = []
        for action in actions(picker):
            if action["type"] == "Action.Execute" and action["title"] != "More times":
                opened = codec.open(action["data"]["pt"])
                assert isinstance(opened, PickSlot)
                starts.append(opened.start)
        assert starts
        assert not days(starts) & RULED_OUT
        if validators() is None:
            pytest.skip("../shared/tools/validators is absent (a plain clone); .ci/run has it")
        path = tmp_path / "question.json"
        path.write_text(json.dumps(card), "utf-8")
        result = validate("card", path)
        assert result.returncode == 0, result.stdout + result.stderr
