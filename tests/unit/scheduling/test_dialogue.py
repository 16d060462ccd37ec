"""Whole requests as people type them: text in, views out."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.people import Group
from core.views import (
    ConnectionStatusView,
    ConnectPrompt,
    HelpView,
    Notice,
    PollDraftView,
    Question,
    SlotPicker,
    Tone,
)
from tests.memory import PROGRAM, World

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday


async def test_find_a_time_with_my_mentee_next_week():
    world = World(NOW)
    ana = world.person("Ana", "Europe/London")
    ben = world.person("Ben", "America/New_York")
    world.pair(ana, ben)
    picker = (await world.say(ana, "find a time with my mentee next week")).reply
    assert isinstance(picker, SlotPicker)
    assert picker.title == "Times for you and Ben"
    monday = datetime(2026, 11, 30, tzinfo=ZoneInfo("Europe/London"))
    assert all(
        monday <= choice.start < datetime(2026, 12, 5, tzinfo=UTC) for choice in picker.slots
    )


async def test_a_mention_with_a_length_and_a_time_of_day():
    world = World(NOW)
    world.open_to_all()
    ana = world.person("Ana", "Europe/London")
    world.person("Ben", "Europe/London")
    picker = (
        await world.say(ana, "@pairtime can you find 45 min with <@UBEN> tomorrow afternoon?")
    ).reply
    assert isinstance(picker, SlotPicker)
    assert picker.duration_minutes == 45
    assert {choice.start.date() for choice in picker.slots} == {datetime(2026, 11, 26).date()}
    assert all(choice.start.hour >= 12 and choice.end.hour <= 17 for choice in picker.slots)


async def test_the_bots_own_mention_is_not_a_participant():
    world = World(NOW)
    ana = world.person("Ana")
    world.pair(ana, world.person("Ben"))
    context = await world.context(ana)
    outcome = await world.scheduler.handle_text(
        context, "<@UBOT> find a time with my mentee", bot_user_id="UBOT"
    )
    assert isinstance(outcome.reply, SlotPicker)


async def test_connect_status_help_and_nonsense():
    world = World(NOW)
    ana = world.person("Ana", connected=None)
    prompt = (await world.say(ana, "connect my google calendar")).reply
    assert isinstance(prompt, ConnectPrompt)
    assert [link.label for link in prompt.links] == ["Connect Google"]
    status = (await world.say(ana, "status")).reply
    assert isinstance(status, ConnectionStatusView)
    assert status.text == "Your calendar is not connected."
    assert isinstance((await world.say(ana, "help")).reply, HelpView)
    puzzled = (await world.say(ana, "what's the weather like?")).reply
    assert isinstance(puzzled, HelpView)
    assert puzzled.hint is not None


async def test_asking_without_naming_anyone_asks_who():
    world = World(NOW)
    ana = world.person("Ana")
    world.pair(ana, world.person("Ben"))
    world.pair(world.person("Cy"), ana)
    question = (await world.say(ana, "find a time next week")).reply
    assert isinstance(question, Question)
    assert [option.label for option in question.options] == ["Ben", "Cy"]


async def test_poll_my_circle_drafts_a_poll_of_it_or_says_how_to_join_one():
    world = World(NOW)
    ana = world.person("Ana")
    asked = "poll my circle for an hour next week"
    reply = (await world.say(ana, asked)).reply
    assert isinstance(reply, Notice)
    assert reply.tone is Tone.WARNING
    assert reply.text.startswith("You're not in a mentoring circle yet. Ask your program admin")
    assert world.polls.polls == {}  # nothing was drafted

    ben = world.person("Ben")
    world.groups.groups.append(Group("g1", PROGRAM, "Circle of Two", (ana.id, ben.id)))
    draft = (await world.say(ana, asked)).reply
    assert isinstance(draft, PollDraftView)
    assert draft.invitees == ("Ana", "Ben")
    assert draft.duration_minutes == 60
