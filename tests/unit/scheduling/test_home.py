"""A person's home, as any chat surface can show it: calendar, meetings, partners, help,
and the rules for admins; it never mints connect links (they are single-use)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.meetings import Meeting
from core.scheduling.info import EXAMPLES
from tests.memory import PROGRAM, World

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


async def test_a_mentor_sees_their_meetings_and_partners_and_no_links_are_minted():
    world = World(NOW)
    ana = world.person("Ana", connected=None)
    ben = world.person("Ben", "America/New_York")
    cleo = world.person("Cleo")
    world.pair(ana, ben)
    world.pair(cleo, ana)
    await world.meetings.book(
        Meeting(
            "m1",
            PROGRAM,
            ana.id,
            (ana.id, ben.id),
            NOW + timedelta(days=1),
            NOW + timedelta(days=1, hours=1),
            "Mentoring: Ana and Ben",
            NOW,
        )
    )

    home = await world.scheduler.home(await world.context(ana))

    assert home.status.text == "Your calendar is not connected."
    assert home.status.connect is None
    assert world.calendars.issued == []  # a surface offers a button for fresh links
    assert [(m.title, m.with_names) for m in home.meetings.meetings] == [
        ("Mentoring: Ana and Ben", ("Ben",))
    ]
    (shown,) = home.meetings.meetings
    assert [b.label for b in shown.buttons] == ["Move", "Cancel meeting"]
    assert [(p.name, p.role, p.chat_user) for p in home.partners] == [
        ("Ben", "your mentee", "UBEN"),
        ("Cleo", "your mentor", "UCLEO"),
    ]
    assert home.help.examples == EXAMPLES
    assert home.rules is None  # not an admin
    assert home.zone.key == "Europe/London"


async def test_an_admin_sees_the_rules_and_a_connected_calendar_can_be_disconnected():
    world = World(NOW)
    ana = world.person("Ana")
    world.programs.admin_pairs.add((PROGRAM, ana.id))

    home = await world.scheduler.home(await world.context(ana))

    assert home.status.text == "Your Google calendar (ana@example.org) is connected."
    assert home.status.disconnect is not None
    assert home.rules is not None
    assert home.rules.can_edit
    assert home.meetings.meetings == ()
    assert home.partners == ()
