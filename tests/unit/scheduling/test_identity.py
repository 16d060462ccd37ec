"""Who is speaking, one way for every chat surface: created from what the platform knows,
brought up to date, found again by email, and never written when nothing changed."""

from __future__ import annotations

from core.people import ChatIdentity, Platform, Profile, ProgramId
from tests.memory import World

SLACK = ChatIdentity(Platform.SLACK, "T9", "U0MARIA")
TEAMS = ChatIdentity(Platform.TEAMS, "tenant-1", "aad-maria")


async def test_a_new_speaker_becomes_a_person_in_a_program_created_for_them():
    world = World()

    person = await world.scheduler.identify(
        SLACK, Profile("Maria Lopez", "maria@example.org", "Europe/Madrid", "maria")
    )

    assert (person.name, person.email, person.timezone) == (
        "Maria Lopez",
        "maria@example.org",
        "Europe/Madrid",
    )
    assert world.programs.names == {ProgramId("slack:T9"): "Slack workspace T9"}
    assert await world.people.by_chat_user(ProgramId("slack:T9"), "U0MARIA") == person


async def test_a_profile_that_adds_nothing_writes_nothing_and_one_that_does_updates():
    world = World()
    first = await world.scheduler.identify(SLACK, Profile("Maria Lopez", "maria@example.org"))

    again = await world.scheduler.identify(SLACK, Profile("Maria Lopez", None, None, "maria"))
    assert again == first
    assert world.people.writes == 1
    moved = await world.scheduler.identify(SLACK, Profile("Maria Lopez", None, "Asia/Tokyo"))
    assert moved.id == first.id
    assert moved.timezone == "Asia/Tokyo"
    assert moved.email == "maria@example.org"  # what the platform did not say is kept
    assert world.people.writes == 2


async def test_the_same_email_on_another_platform_is_the_same_person():
    world = World()
    on_slack = await world.scheduler.identify(SLACK, Profile("Maria", "maria@example.org"))

    on_teams = await world.scheduler.identify(TEAMS, Profile("Maria L.", "maria@example.org"))

    assert on_teams.id == on_slack.id
    assert world.programs.names[ProgramId("teams:tenant-1")] == "Microsoft Teams (tenant-1)"


async def test_without_a_profile_a_speaker_is_only_looked_up():
    world = World()

    assert await world.scheduler.identify(SLACK, None) is None
    assert world.people.writes == 0
    known = await world.scheduler.identify(SLACK, Profile("Maria"))
    assert await world.scheduler.identify(SLACK, None) == known
