"""Running a program through core's use cases, as the command line and an admin console
call them: rows imported or rejected one by one, a channel one circle at a time, admins,
and rules whose bad values are named as the caller names its fields."""

from __future__ import annotations

import pytest

from core.admin import programs, roster
from core.errors import Conflict, InvalidInput, NotFound
from core.people import ProgramId
from core.rules import AllDayEvents
from tests.memory import admin_ports

SLACK = ProgramId("slack:T1")


async def test_pairs_are_imported_row_by_row_and_new_people_recorded():
    ports = admin_ports()

    results = await roster.import_pairs(
        ports,
        SLACK,
        ["mentor,mentee", "ana@example.org,U0BEN", "ana@example.org,ana@example.org", "x"],
    )

    assert [(r.line, r.ok) for r in results] == [(2, True), (3, False), (4, False)]
    assert results[0].message == "paired ana@example.org → U0BEN (new: ana@example.org, U0BEN)"
    assert results[1].message == "a person cannot mentor themselves"
    [(mentor, mentee)] = await roster.pairs(ports, SLACK)
    assert (mentor.email, mentee.name) == ("ana@example.org", "U0BEN")


async def test_a_channel_meets_one_circle_and_a_taken_one_is_refused_by_name():
    ports = admin_ports()
    link = "https://acme.slack.com/archives/C0CIRCLE"

    first = await roster.import_circles(
        ports, SLACK, [f"North,ana@example.org,{link}", "South,ben@example.org,C0CIRCLE"]
    )

    assert [r.ok for r in first] == [True, False]
    assert first[1].message == "C0CIRCLE is already the channel of the circle 'North'"
    with pytest.raises(NotFound):  # a rejected row changes nothing
        await roster.find_circle(ports, SLACK, "South")
    assert [r.ok for r in await roster.import_circles(ports, SLACK, ["South,ben@example.org"])]
    south = await roster.find_circle(ports, SLACK, "South")
    with pytest.raises(Conflict, match="already the channel of the circle 'North'"):
        await roster.link_circle(ports, SLACK, south, "C0CIRCLE")
    listed = await roster.circles(ports, SLACK)
    assert [(c.circle.name, c.circle.channel, len(c.members)) for c in listed] == [
        ("North", "C0CIRCLE", 1),
        ("South", None, 1),
    ]
    with pytest.raises(NotFound, match="there is no circle called 'West'"):
        await roster.remove_circle(ports, SLACK, "West")


async def test_admins_are_granted_by_email_and_listed():
    ports = admin_ports()

    granted = await programs.grant_admin(ports, SLACK, "ana@example.org")
    again = await programs.grant_admin(ports, SLACK, "ana@example.org")

    assert (granted.changed, again.changed) == (True, False)
    assert [p.email for p in await programs.admins(ports, SLACK)] == ["ana@example.org"]
    assert (await programs.revoke_admin(ports, SLACK, "ana@example.org")).changed
    with pytest.raises(NotFound):
        await programs.revoke_admin(ports, SLACK, "nobody@example.org")


async def test_rules_change_and_a_bad_value_is_named_as_the_caller_names_it():
    ports = admin_ports()

    saved = await programs.change_rules(
        ports,
        SLACK,
        programs.RuleChanges(
            earliest="09:30", weekends=True, all_day_events=AllDayEvents.AS_MARKED
        ),
    )

    assert (str(saved.rules.earliest), saved.rules.weekends) == ("09:30", True)
    assert saved.rules.all_day_events is AllDayEvents.AS_MARKED
    assert (await programs.rules(ports, SLACK)).view.lines[1] == ("Weekends", "allowed")
    with pytest.raises(InvalidInput, match=r"^latest: must be later than earliest$"):
        await programs.change_rules(ports, SLACK, programs.RuleChanges(latest="08:00"))
    with pytest.raises(InvalidInput, match=r"^Granularity: must divide a day"):
        await programs.change_rules(
            ports, SLACK, programs.RuleChanges(granularity=7), field=str.capitalize
        )
