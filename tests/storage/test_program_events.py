"""The provider event each meeting became on the program account's calendar."""

from __future__ import annotations

from dataclasses import replace

from core.organisation import OrgProvider
from core.program import ProgramSettings, VideoRule
from core.publishing import PublishedEvent
from storage.store import Storage
from tests.storage.test_repositories import NOW, SLACK, meeting_for, offer


async def test_an_event_is_kept_replaced_and_forgotten_and_its_link_becomes_the_place(
    storage: Storage,
):
    stored, _, _ = await offer(storage)
    meeting, _ = await storage.meetings.book(meeting_for(stored, "m1"))
    assert await storage.program_events.get("m1") is None

    first = PublishedEvent("m1", OrgProvider.MICROSOFT, "AAMkAD=", "https://teams.example/j/1")
    await storage.program_events.save(first, NOW)
    assert await storage.program_events.get("m1") == first
    again = await storage.meetings.get("m1")
    assert again == replace(meeting, location="https://teams.example/j/1")  # same sequence

    # A later link never replaces a place someone gave.
    second = replace(first, join_url="https://teams.example/j/2")
    await storage.program_events.save(second, NOW)
    assert await storage.program_events.get("m1") == second
    assert (await storage.meetings.get("m1")) == again

    await storage.program_events.forget("m1")
    assert await storage.program_events.get("m1") is None


async def test_the_video_rule_is_kept_with_the_programs_settings(storage: Storage):
    await storage.programs.ensure(SLACK, "Program")
    await storage.programs.save_settings(SLACK, ProgramSettings(video=VideoRule.TEAMS))
    assert (await storage.programs.settings(SLACK)).video is VideoRule.TEAMS
