"""A find-time button for a big circle with many ruled-out dates, as core makes it and
both chat platforms render it: it must fit Slack's 2,000-character button value (Slack's
own types and limits, ``validate blockkit``) and a Teams card, and a click must still
run the same search."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.slack import render
from adapters.teams import cards
from core.actions import PickSlot, ReplayFind
from core.commands import Command, Exclusions, Intent, Relation, RelationRef
from core.people import Group, Person, PersonId
from core.time import Interval
from core.views import Button, Notice, Question, SlotPicker
from tests.adapters.teams.card_reading import actions
from tests.memory import PROGRAM, World
from tests.support import validate, validators

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wednesday
NEXT_WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
# Every other day, said one by one ("not Nov 30, not Dec 2, ..."): the eight clauses a
# message is read for.
DATES = tuple(
    Interval(NEXT_WEEK.start + timedelta(days=2 * n), NEXT_WEEK.start + timedelta(days=2 * n + 1))
    for n in range(8)
)
SLACK_VALUE = 2000


def member(world: World, n: int) -> Person:
    """A person with an id as storage makes them (``uuid4().hex``): the longest there is."""
    person = Person(PersonId(uuid.uuid4().hex), f"Member {n}", f"m{n}@example.org", "UTC")
    world.people.people[person.id] = person
    world.connect(person)
    return person


def circle_world(circles: int = 1, size: int = 40) -> tuple[World, Person]:
    world = World(NOW)
    ana = world.person("Ana", "Europe/London")
    for c in range(circles):
        members = (ana.id, *(member(world, c * size + n).id for n in range(size)))
        world.groups.groups.append(Group(f"g{c}", PROGRAM, f"Circle {c}", members))
    return world, ana


def find_with_my_circle() -> Command:
    return Command(
        Intent.FIND_TIME,
        (RelationRef(Relation.GROUP),),
        duration_minutes=60,
        duration_given=True,
        window=NEXT_WEEK,
        ruled_out=Exclusions(DATES),
    )


def references(notice: Notice) -> list[str]:
    """The references of ``notice``'s buttons (none is a link)."""
    assert all(isinstance(b, Button) for b in notice.buttons)
    return [b.action for b in notice.buttons if isinstance(b, Button)]


async def nothing_free() -> tuple[World, Person, Notice]:
    """Ana is busy all next week: the answer offers other windows and a shorter meeting."""
    world, ana = circle_world()
    world.busy(ana, NEXT_WEEK.start.isoformat(), NEXT_WEEK.end.isoformat())
    notice = (await world.send(ana, find_with_my_circle())).reply
    assert isinstance(notice, Notice)
    assert [b.label for b in notice.buttons][1:] == ["Try 30 minutes"]
    return world, ana, notice


async def test_a_big_circles_suggestions_fit_a_slack_button_and_pass_slacks_checks(
    tmp_path: Path,
):
    _, _, notice = await nothing_free()

    payload = render.message(notice)  # raised ValueError (value over 2,000) before

    values = [e["value"] for b in payload["blocks"] for e in b.get("elements", []) if "value" in e]
    assert len(values) == 2
    assert all(len(value) <= SLACK_VALUE for value in values), [len(v) for v in values]
    if validators() is None:
        pytest.skip("../shared/tools/validators is absent (a plain clone); .ci/run provides it")
    path = tmp_path / "suggestions.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    result = validate("blockkit", path)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_a_big_circles_suggestions_fit_a_teams_card():
    _, _, notice = await nothing_free()

    card = cards.render(notice, cards.CardOptions("https://pairtime.example.org"))

    data = [a["data"]["pt"] for a in actions(card) if a["type"] == "Action.Execute"]
    assert len(data) == 2
    assert all(len(reference) <= SLACK_VALUE for reference in data)
    assert cards.size_of(card) < cards.MAX_CARD_BYTES


async def test_a_question_between_big_circles_fits_both_platforms():
    world, ana = circle_world(circles=2)
    question = (await world.send(ana, find_with_my_circle())).reply
    assert isinstance(question, Question)
    assert question.text == "You're in several circles. Which one?"

    payload = render.message(question)
    card = cards.render(question, cards.CardOptions("https://pairtime.example.org"))

    references = [o.action for o in question.options]
    assert all(len(reference) <= SLACK_VALUE for reference in references)
    assert cards.size_of(card) < cards.MAX_CARD_BYTES
    assert payload["blocks"]


async def test_a_click_on_a_kept_suggestion_runs_the_same_search_for_its_requester_only():
    world, ana, notice = await nothing_free()
    kept = [offer for offer in world.offers.offers.values() if not offer.slots]
    assert len(kept) == len(notice.buttons) == 2  # one row per button that did not fit
    later = references(notice)[0]
    cleo = world.person("Cleo")

    refused = await world.click(cleo, later)
    picked = await world.click(ana, later)

    assert isinstance(refused.reply, Notice)
    assert refused.reply.text == "That button was meant for someone else."
    picker = picked.reply
    assert isinstance(picker, SlotPicker)
    assert picked.replaces_original
    offer = world.offers.offers[picker_offer(world, picker)]
    assert offer.participants == kept[0].participants  # Ana and the 40
    assert len(offer.participants) == 41
    assert offer.duration_minutes == 60
    assert offer.window.start == NEXT_WEEK.end  # the next week, as the button said
    assert offer.ruled_out == Exclusions(DATES)
    ruled_out_days = {span.start.date() for span in DATES}
    assert picker.slots
    assert not {choice.start.date() for choice in picker.slots} & ruled_out_days


async def test_a_kept_suggestion_whose_row_is_gone_says_so():
    world, ana, notice = await nothing_free()
    world.offers.offers.clear()  # the offers' lifetime passed, or someone was forgotten

    outcome = await world.click(ana, references(notice)[0])

    assert isinstance(outcome.reply, Notice)
    assert outcome.reply.text == "That button has expired. Ask me again for fresh times."


async def test_a_small_circles_suggestions_stay_on_the_button():
    world, ana = circle_world(size=3)
    world.busy(ana, NEXT_WEEK.start.isoformat(), NEXT_WEEK.end.isoformat())

    notice = (await world.send(ana, find_with_my_circle())).reply

    assert isinstance(notice, Notice)
    assert world.offers.offers == {}  # nothing written: the request is on the button
    assert all(isinstance(world.ports.actions.open(r), ReplayFind) for r in references(notice))


def picker_offer(world: World, picker: SlotPicker) -> str:
    action = world.ports.actions.open(picker.slots[0].action)
    assert isinstance(action, PickSlot)
    return action.offer
