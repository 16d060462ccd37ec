"""Who is in a program, as the playground lists it (and an admin console would)."""

from __future__ import annotations

from core.people import Group
from core.scheduling.directory import Circle, Role
from tests.memory import PROGRAM, World


async def test_people_come_with_their_role_circles_and_calendar():
    world = World()
    ana = world.person("Ana", "Europe/London")
    ben = world.person("Ben", None, connected=None)
    cleo = world.person("Cleo", "Asia/Kolkata", connected=None)
    world.pair(ana, ben)
    world.groups.groups.append(Group("g1", PROGRAM, "Circle", (ana.id, cleo.id), "C0CIRCLE"))
    world.groups.groups.append(Group("g2", PROGRAM, "No channel", (ben.id,)))

    roster = await world.scheduler.roster(PROGRAM)

    assert [(m.name, m.role, m.channels, m.connected) for m in roster.members] == [
        ("Ana", Role.MENTOR, ("C0CIRCLE",), True),
        ("Ben", Role.MENTEE, (), False),
        ("Cleo", Role.CIRCLE, ("C0CIRCLE",), False),
    ]
    ben_listed = roster.member("UBEN")
    assert ben_listed is not None
    assert ben_listed.zone.key == "UTC"  # no zone of his own: the program's default
    assert roster.pairs == (("UANA", "UBEN"),)
    assert roster.circles == (Circle("C0CIRCLE", "Circle", ("UANA", "UCLEO")),)
