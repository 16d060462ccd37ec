"""Meetings on the program account's calendar: one durable job per change makes the
provider's event match the meeting; without the write grant, or when the provider refuses
for good, the meeting's emails go out instead."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from core.errors import PublishRefused
from core.jobs import JobStatus
from core.meetings import Meeting
from core.organisation import OrgProvider
from core.people import Person, PersonId, ProgramId
from core.program import ConfirmationRule, ProgramSettings, VideoRule
from core.publishing import ProgramEvent, PublishedEvent
from core.scheduling import Scheduler
from core.scheduling.publishing import EVENT
from core.views import Confirmation, Notice, Outcome, SlotPicker
from tests.memory import PROGRAM, World
from tests.unit.scheduling.test_meetings import FIND, NOW, button, only, to


@dataclass
class MemoryPublisher:
    """The program account's calendar: what it was asked, and what it holds."""

    writes: bool = True
    refuse: PublishRefused | None = None
    asked: list[ProgramEvent] = field(default_factory=list)
    events: dict[str, ProgramEvent] = field(default_factory=dict)

    async def can_publish(self, program: ProgramId) -> bool:
        del program
        return self.writes

    async def publish(
        self, event: ProgramEvent, previous: PublishedEvent | None
    ) -> PublishedEvent | None:
        self.asked.append(event)
        if self.refuse is not None:
            raise self.refuse
        event_id = previous.event_id if previous else f"evt-{len(self.events) + 1}"
        if not event.active:
            self.events.pop(event_id, None)
            return None
        self.events[event_id] = event
        link = "https://teams.example/join/1" if event.video is VideoRule.TEAMS else None
        return PublishedEvent(event.meeting, OrgProvider.MICROSOFT, event_id, link)


@dataclass
class MemoryProgramEvents:
    world: World
    kept: dict[str, PublishedEvent] = field(default_factory=dict)

    async def get(self, meeting: str) -> PublishedEvent | None:
        return self.kept.get(meeting)

    async def save(self, published: PublishedEvent, now: datetime) -> None:
        del now
        self.kept[published.meeting] = published
        stored = self.world.meetings.meetings[published.meeting]
        if published.join_url and stored.location is None:
            self.world.meetings.meetings[published.meeting] = replace(
                stored, location=published.join_url
            )

    async def forget(self, meeting: str) -> None:
        self.kept.pop(meeting, None)


def publishing(world: World, publisher: MemoryPublisher) -> MemoryProgramEvents:
    events = MemoryProgramEvents(world)
    world.ports = replace(world.ports, publisher=publisher, program_events=events)
    world.scheduler = Scheduler(world.ports)
    return events


async def run_events(world: World) -> list[tuple[ProgramId, Outcome]]:
    """Run the pending ``meeting.event`` jobs as the worker would (one attempt each)."""
    said = []
    for job in world.pending(EVENT):
        world.jobs.jobs[job.key] = replace(job, status=JobStatus.DONE)
        found = await world.scheduler.publish_event(job.payload)
        if found is not None:
            said.append(found)
    return said


async def booked_pair(
    publisher: MemoryPublisher, **settings: object
) -> tuple[World, MemoryProgramEvents, Outcome]:
    world = World(NOW, mail=True)
    world.programs.current[PROGRAM] = ProgramSettings(
        confirmation=ConfirmationRule.AUTO,
        **settings,  # type: ignore[arg-type]
    )
    events = publishing(world, publisher)
    maria = world.person("Maria", "Europe/London")
    sam = world.person("Sam", "America/New_York")
    world.pair(maria, sam)
    picker = (await world.send(maria, FIND)).reply
    assert isinstance(picker, SlotPicker)
    booked = await world.click_seen(maria, picker.slots[0].action)
    return world, events, booked


async def test_a_booking_is_one_event_job_carrying_the_emails_and_no_email_is_queued():
    publisher = MemoryPublisher()
    world, events, _ = await booked_pair(publisher)
    meeting = only(world)
    assert world.pending("email") == []
    (job,) = world.pending(EVENT)
    assert job.key == f"{EVENT}:{meeting.ref}:0"
    assert sorted(e["to"] for e in job.payload["emails"]) == [
        "maria@example.org",
        "sam@example.org",
    ]

    assert await run_events(world) == []  # no video rule: no join link to tell
    (event,) = publisher.events.values()
    assert [a.address for a in event.attendees] == ["maria@example.org", "sam@example.org"]
    assert (event.start, event.end, event.active) == (meeting.start, meeting.end, True)
    assert events.kept[meeting.ref].event_id == "evt-1"


async def test_the_join_link_is_told_in_chat_and_becomes_the_meetings_place():
    publisher = MemoryPublisher()
    world, _, _ = await booked_pair(publisher, video=VideoRule.TEAMS)
    said = await run_events(world)
    assert publisher.asked[0].video is VideoRule.TEAMS
    ((program, outcome),) = said
    assert program == PROGRAM
    assert len(outcome.direct) == 2
    message = outcome.direct[0].view
    assert isinstance(message, Confirmation)
    assert message.headline.endswith("https://teams.example/join/1")
    assert message.location == "https://teams.example/join/1"
    assert only(world).location == "https://teams.example/join/1"
    assert only(world).sequence == 0  # the buttons people hold stay valid


async def test_a_move_updates_and_a_cancellation_cancels_the_same_event():
    publisher = MemoryPublisher()
    world, events, booked = await booked_pair(publisher)
    await run_events(world)
    maria = world.people.people[only(world).organizer]
    picker = (await world.click_seen(maria, button(to(booked, maria), "Move"))).reply
    assert isinstance(picker, SlotPicker)
    moved = await world.click_seen(maria, picker.slots[-1].action)
    assert only(world).sequence == 1
    await run_events(world)
    assert list(publisher.events) == ["evt-1"]  # the same event, at the new time
    assert publisher.events["evt-1"].start == only(world).start != publisher.asked[0].start

    question = await world.click_seen(maria, button(moved.reply, "Cancel meeting"))
    await world.click_seen(maria, button(question.reply, "Cancel meeting"))
    assert world.pending("email") == []
    await run_events(world)
    assert publisher.asked[-1].active is False
    assert publisher.events == {}
    assert only(world).ref not in events.kept


async def test_an_outdated_job_does_nothing_the_later_one_does_it():
    publisher = MemoryPublisher()
    world, _, booked = await booked_pair(publisher)
    maria = world.people.people[only(world).organizer]
    question = await world.click_seen(maria, button(to(booked, maria), "Cancel meeting"))
    await world.click_seen(maria, button(question.reply, "Cancel meeting"))
    assert len(world.pending(EVENT)) == 2
    await run_events(world)
    # Sequence 0's job found the meeting changed; sequence 1's found nothing ever created,
    # so the cancellation emails (of that change) went out instead.
    assert publisher.asked == []
    assert {j.payload["method"] for j in world.pending("email")} == {"CANCEL"}


async def test_without_the_write_grant_the_emails_are_queued_as_before():
    world, _, _ = await booked_pair(MemoryPublisher(writes=False))
    assert world.pending(EVENT) == []
    assert len(world.pending("email")) == 2


async def test_a_permanent_refusal_sends_the_emails_instead():
    publisher = MemoryPublisher(refuse=PublishRefused("Graph answered 403", permanent=True))
    world, _, _ = await booked_pair(publisher)
    (job,) = world.pending(EVENT)
    with pytest.raises(PublishRefused):
        await world.scheduler.publish_event(job.payload)
    assert await world.scheduler.publish_failed(job.payload, "Graph answered 403") is None
    assert sorted(j.payload["to"] for j in world.pending("email")) == [
        "maria@example.org",
        "sam@example.org",
    ]


async def test_an_event_that_cannot_be_updated_is_told_to_the_organiser():
    publisher = MemoryPublisher()
    world, _, booked = await booked_pair(publisher)
    await run_events(world)
    maria = world.people.people[only(world).organizer]
    question = await world.click_seen(maria, button(to(booked, maria), "Cancel meeting"))
    await world.click_seen(maria, button(question.reply, "Cancel meeting"))
    (job,) = world.pending(EVENT)
    found = await world.scheduler.publish_failed(job.payload, "Google Calendar answered 403")
    assert found is not None
    (message,) = found[1].direct
    assert message.person == maria.id
    assert isinstance(message.view, Notice)
    assert "Google Calendar answered 403" in message.view.text
    assert world.pending("email") == []


def test_a_program_event_lists_only_who_attends_with_an_address():
    ana, ben, cy = (Person(PersonId(n), n.title(), f"{n}@example.org", None) for n in "abc")
    meeting = Meeting(
        "m1", PROGRAM, ana.id, (ana.id, ben.id, cy.id),
        datetime(2026, 12, 1, 14, tzinfo=UTC), datetime(2026, 12, 1, 15, tzinfo=UTC),
        "Circle", NOW, declined=(cy.id,),
    )  # fmt: skip
    event = ProgramEvent.of(meeting, [ana, replace(ben, email=None), cy], VideoRule.MEET)
    assert [a.address for a in event.attendees] == ["a@example.org"]
    assert event.video is VideoRule.MEET
    assert "Pairtime" in event.description
