"""People named in plain words, and whose free times a person may see (issues 19 and 14)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.people import Group, Listing, Person, PersonId
from core.program import ProgramSettings, Visibility
from core.scheduling import lookup
from core.views import Button, Notice, PollDraftView, Question, SlotPicker
from tests.memory import PROGRAM, World

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # Wednesday
PARTNERS_ONLY = "You can only find times with your mentoring partners"


def world_with_sam() -> tuple[World, Person, Person]:
    """Ana mentors Sam Carter; José García and two Lees are in the program, unpaired."""
    world = World(NOW)
    ana = world.person("Ana")
    sam = world.person("Sam Carter", email="s.carter@example.org", handle="samc")
    world.pair(ana, sam)
    world.person("José García", "Europe/Madrid")
    world.person("Lee Park")
    world.person("Lee Marsh", handle="lmarsh")
    return world, ana, sam


def title(outcome_reply: object) -> str:
    assert isinstance(outcome_reply, SlotPicker), outcome_reply
    return outcome_reply.title


@pytest.mark.parametrize(
    "text",
    [
        "30 min with Sam on Friday",
        "when can I meet Sam?",
        "find a time with Sam Carter next week",
        "find a time with sam carter next week",
        "meet SAM tomorrow",
        "find a time with s.carter@example.org",
        "find a time with S.Carter@Example.org next week",
        "find a time with samc",
    ],
)
async def test_a_partner_is_found_by_first_name_full_name_handle_or_email(text: str):
    world, ana, _ = world_with_sam()
    assert title((await world.say(ana, text)).reply) == "Times for you and Sam Carter"


@pytest.mark.parametrize("text", ["find a time with jose", "meet JOSE GARCIA next week"])
async def test_accents_and_case_are_ignored(text: str):
    world, ana, _ = world_with_sam()
    world.open_to_all()
    assert title((await world.say(ana, text)).reply) == "Times for you and José García"


async def test_the_speakers_partner_comes_before_the_program_namesake():
    world, ana, _ = world_with_sam()
    world.open_to_all()
    world.person("Sam Stone")
    assert title((await world.say(ana, "find a time with Sam")).reply) == (
        "Times for you and Sam Carter"
    )
    # Someone else's "Sam" has two to choose from: one button per person.
    lee = world.person("Leo")
    question = (await world.say(lee, "find a time with Sam")).reply
    assert isinstance(question, Question)
    assert question.text == "More than one person is called “Sam”. Which one did you mean?"
    assert [b.label for b in question.options] == ["Sam Carter", "Sam Stone"]
    picked = await world.click(lee, question.options[1].action)
    assert title(picked.reply) == "Times for you and Sam Stone"


async def test_namesakes_are_told_apart_by_handle_or_email():
    world, ana, _ = world_with_sam()
    world.open_to_all()
    twin = Person(PersonId("p-lee-park-2"), "Lee Park", "lee.p2@example.org")
    world.people.people[twin.id] = twin
    world.people.chat_users[(PROGRAM, "ULEE2")] = twin.id
    world.people.handles[(PROGRAM, "ULEEPARK")] = "leep"
    question = (await world.say(ana, "meet Lee Park")).reply
    assert isinstance(question, Question)
    assert sorted(b.label for b in question.options) == [
        "Lee Park (lee.p2@example.org)",
        "Lee Park (leep)",
    ]


async def test_a_name_nobody_has_is_said_by_name_and_the_others_are_kept():
    world, ana, sam = world_with_sam()
    world.open_to_all()
    nobody = (await world.say(ana, "find a time with Bob")).reply
    assert isinstance(nobody, Notice)
    assert "I couldn't find anyone called “Bob” in this program." in nobody.text
    assert not nobody.buttons
    both = (await world.say(ana, "find a time with my mentee and Jonas next week")).reply
    assert isinstance(both, Notice)
    assert "“Jonas”" in both.text
    assert "Or carry on without them: you and Sam Carter." in both.text
    (carry_on,) = both.buttons
    assert isinstance(carry_on, Button)
    assert carry_on.label == "Times with you and Sam Carter"
    assert title((await world.click(ana, carry_on.action)).reply) == (
        "Times for you and Sam Carter"
    )
    two = (await world.say(ana, "find a time with Bob and Jonas")).reply
    assert isinstance(two, Notice)
    assert "anyone called “Bob” or “Jonas”" in two.text
    del sam


async def test_two_ambiguous_names_are_settled_by_one_question():
    world, ana, _ = world_with_sam()
    world.open_to_all()
    world.person("José Ruiz")
    question = (await world.say(ana, "find a time with Lee and Jose")).reply
    assert isinstance(question, Question)
    assert len(question.options) == 4
    assert "Lee Marsh and José García" in [b.label for b in question.options]
    chosen = (await world.click(ana, question.options[0].action)).reply
    assert isinstance(chosen, SlotPicker)
    assert chosen.title == "Times for you, Lee Marsh and José García"


async def test_people_left_out_by_name_are_left_out():
    world, ana, _ = world_with_sam()
    ben, cy = world.person("Ben"), world.person("Cy")
    world.groups.groups.append(Group("g1", PROGRAM, "Circle", (ana.id, ben.id, cy.id)))
    picker = (await world.say(ana, "find a time with my circle except Cy")).reply
    assert title(picker) == "Times for you and Ben"
    kept = (await world.say(ana, "find a time with my circle except Zed")).reply
    assert title(kept) == "Times for you, Ben and Cy"
    assert isinstance(kept, SlotPicker)
    assert "Nobody among them is called “Zed”, so I left nobody out for it." in kept.notes


# ------------------------------------------------------------------ who may see whom


async def test_by_default_a_stranger_is_refused_and_their_calendar_never_read():
    world, ana, _ = world_with_sam()
    reads = len(world.calendars.reads)
    for text in ("find a time with Jose", "find a time with <@ULEEPARK>", "when is @lmarsh free"):
        refused = (await world.say(ana, text)).reply
        assert isinstance(refused, Notice), text
        assert refused.text.startswith(PARTNERS_ONLY), refused.text
    # The same answer whether or not such a person exists: nothing is revealed.
    nobody = (await world.say(ana, "find a time with Zed")).reply
    assert isinstance(nobody, Notice)
    assert nobody.text == f"{PARTNERS_ONLY}, and “Zed” isn't one of them."
    assert len(world.calendars.reads) == reads


async def test_circle_co_members_and_admins_may_find_times():
    world, ana, _ = world_with_sam()
    ben = world.person("Ben")
    world.groups.groups.append(Group("g1", PROGRAM, "Circle", (ana.id, ben.id)))
    assert title((await world.say(ana, "meet Ben next week")).reply) == "Times for you and Ben"
    admin = world.person("Ada")
    world.programs.admin_pairs.add((PROGRAM, admin.id))
    assert title((await world.say(admin, "meet Jose")).reply) == "Times for you and José García"


async def test_a_button_made_under_the_open_rule_is_refused_once_it_closes():
    world, ana, _ = world_with_sam()
    world.open_to_all()
    question = (await world.say(ana, "meet Lee")).reply
    assert isinstance(question, Question)
    world.programs.current[PROGRAM] = ProgramSettings()  # back to partners only
    refused = (await world.click(ana, question.options[0].action)).reply
    assert isinstance(refused, Notice)
    assert refused.text == f"{PARTNERS_ONLY}."


async def test_a_poll_invites_only_people_the_organiser_may_see():
    world, ana, _ = world_with_sam()
    refused = (await world.say(ana, "poll Sam and Jose for an hour next week")).reply
    assert isinstance(refused, Notice)
    assert refused.text.startswith(PARTNERS_ONLY)
    assert world.programs.current.get(PROGRAM, ProgramSettings()).availability_visible_to is (
        Visibility.PARTNERS
    )


async def test_ones_own_meetings_are_found_by_name_whatever_the_rule():
    world, ana, _ = world_with_sam()
    answer = (await world.say(ana, "cancel my meeting with Jose")).reply
    assert isinstance(answer, Notice)
    assert answer.text.startswith("I can't find an upcoming meeting of yours")


def test_folding_drops_accents_case_spaces_and_the_at_sign():
    assert lookup.fold("  @José   GARCÍA ") == "jose garcia"
    assert lookup.fold("Zoë") == "zoe"
    person = Person("p1", "Łukasz Nowak", "LN@Example.org")  # type: ignore[arg-type]
    assert lookup.matching("ln@example.org", [Listing(person)]) == [person]
    assert lookup.matching("Łukasz", [Listing(person)]) == [person]
    assert lookup.matching("lukasz nowak", [Listing(person)]) == [person]
    assert lookup.matching("luk", [Listing(person)]) == []


async def test_a_channel_poll_invites_everyone_but_reads_only_partners_calendars():
    """Under the default rule a poll in a channel (no circle) invites its members, yet its
    times and busy counts come only from calendars the organiser may see."""
    world, ana, sam = world_with_sam()
    zed = world.person("Zed")
    world.busy(zed, "2026-11-30T00:00:00+00:00", "2026-12-05T00:00:00+00:00")  # all week
    world.channel("C-ROOM", ana, sam, zed)
    context = await world.context(ana, private=False, channel="C-ROOM")
    reads = len(world.calendars.reads)
    draft = (await world.scheduler.handle_text(context, "poll for an hour next week")).reply
    assert isinstance(draft, PollDraftView)
    assert draft.invitees == ("Ana", "Sam Carter", "Zed")
    read_people = {pid for people, _, _ in world.calendars.reads[reads:] for pid in people}
    assert zed.id not in read_people
    assert sam.id in read_people
    assert all(option.busy == 0 for option, _ in draft.options)  # Zed's week is not counted
    world.open_to_all()
    counted = (await world.scheduler.handle_text(context, "poll for an hour next week")).reply
    assert isinstance(counted, PollDraftView)
    assert any(option.busy == 1 for option, _ in counted.options)
