"""A name typed in plain words, through the wire (issue 19): two people fit, so the answer
asks with one button per person, and the button pressed finds times with that one; a name
nobody has is said back by name. Slack and Teams (the playground's are in test_playground)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.people import ChatIdentity, Platform, Profile, ProgramId
from tests.adapters.slack.harness import MENTOR, slack_world, texts
from tests.adapters.teams.card_reading import actions
from tests.adapters.teams.harness import teams_app
from tests.fakes import slack_requests as sr
from tests.fakes import teams_activities as ta

SLACK = ProgramId("slack:T0PAIRTIME")
SAM_REYES = ta.TeamsUser(
    "29:1SamReyesQ1w2e3r4t5y6u7i8o9p0aSdFgH", "Sam Reyes", "9e4a7f4b-4d5e-4f6a-9b0c-3d4e5f6a7b82",
    "sam.reyes@contoso.example",
)  # fmt: skip
SAM_STONE = ta.TeamsUser(
    "29:1SamStoneW4e6r8t0y2u4i6o8p0aSdFgH", "Sam Stone", "8d3f6e3a-3c4d-4e5f-8a9b-2c3d4e5f6a71",
    "sam@contoso.example",
)  # fmt: skip


def slack_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "button"
    ]


async def test_in_slack_namesakes_are_asked_about_with_one_button_each(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        await world.open_to_all()
        storage = world.running.storage
        for user, name in (("U0SAMREYES", "Sam Reyes"), ("U0SAMSTONE", "Sam Stone")):
            await storage.people.remember(
                SLACK, ChatIdentity(Platform.SLACK, "T0PAIRTIME", user), Profile(name)
            )
        await world.say(
            sr.slash_command(
                world.secret,
                text="find a time with sam next week",
                response_url=world.response_url(),
            )
        )
        question = world.slack.responses[-1].body["blocks"]
        assert "More than one person is called “sam”" in texts(question)
        choices = slack_buttons(question)
        assert [b["text"]["text"] for b in choices] == ["Sam Reyes", "Sam Stone"]

        await world.say(
            sr.block_actions(
                world.secret,
                choices[1]["action_id"],
                value=choices[1]["value"],
                user_id=MENTOR,
                response_url=world.response_url(),
            )
        )
        assert "Times for you and Sam Stone" in texts(world.slack.responses[-1].body["blocks"])

        await world.say(
            sr.slash_command(
                world.secret, text="find a time with Bob", response_url=world.response_url()
            )
        )
        assert "I couldn't find anyone called “Bob” in this program." in texts(
            world.slack.responses[-1].body["blocks"]
        )


async def test_in_teams_namesakes_are_asked_about_with_one_button_each(tmp_path: Path):
    async with teams_app(tmp_path, members=(ta.ALEX, ta.MARIA, SAM_REYES, SAM_STONE)) as teams:
        await teams.open_to_all()
        for user in (SAM_REYES, SAM_STONE):
            await teams.say_hello(user)
        await teams.say_hello(ta.ALEX)
        chat = ta.personal_chat_id(ta.ALEX)
        before = len(teams.connector.sent(chat))
        await teams.post(
            ta.personal_message("find a time with Sam next week", service_url=teams.service_url)
        )
        (*_, question) = await teams.sent_to(chat, before + 1)
        (card,) = question.adaptive_cards
        assert "More than one person is called “Sam”" in json.dumps(card, ensure_ascii=False)
        choices = [a for a in actions(card) if a["type"] == "Action.Execute"]
        assert [a["title"] for a in choices] == ["Sam Reyes", "Sam Stone"]

        status, body = await teams.post(
            ta.adaptive_card_action(
                choices[0]["verb"],
                choices[0]["data"],
                service_url=teams.service_url,
                reply_to_id=question.activity_id,
            )
        )
        assert status == 200
        await teams.settle()
        shown = json.dumps([body, *(a.body for a in teams.connector.sent(chat))])
        assert "Times for you and Sam Reyes" in shown
