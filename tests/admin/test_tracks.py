"""Tracks and their rules: a track inherits the program's rules and overrides some; a
search among a pair or a circle runs under its track's; every change is in the audit log;
an admin of one track changes nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.admin import admins, roster, rules, tracks
from core.admin.access import scope_of
from core.admin.programs import RuleChanges
from core.audit import COMMAND_LINE
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.rules import AllDayEvents
from core.time import DayTime
from storage.store import Storage
from tests.admin.conftest import PROGRAM


async def test_a_program_starts_with_one_track_and_pairs_land_in_it(ports, scope):
    [main] = await tracks.tracks(ports, scope)
    listing, added = await roster.add_pair(ports, scope, "ana@example.org", "ben@example.org")

    assert main.name == "Main"
    assert added
    assert listing.track == main.id
    with pytest.raises(Conflict, match="the program's only track"):
        await tracks.archive_track(ports, scope, "Main")


async def test_tracks_are_created_renamed_archived_and_logged(ports, scope, clock):
    engineering = await tracks.create_track(ports, scope, "  2026 engineering   mentoring ")
    clock.advance(timedelta(minutes=1))
    managers = await tracks.create_track(ports, scope, "New managers")
    with pytest.raises(Conflict):
        await tracks.create_track(ports, scope, "New managers")
    with pytest.raises(InvalidInput, match="name: cannot be empty"):
        await tracks.create_track(ports, scope, "   ")

    renamed = await tracks.rename_track(ports, scope, managers.id, "New managers circles")
    archived = await tracks.archive_track(ports, scope, "New managers circles")
    listed = await tracks.tracks(ports, scope)

    assert engineering.name == "2026 engineering mentoring"
    assert renamed.name == "New managers circles"
    assert archived.archived
    assert [(t.name, t.archived) for t in listed] == [
        ("2026 engineering mentoring", False),
        ("New managers circles", True),
    ]
    with pytest.raises(Conflict, match="archived"):
        await roster.add_pair(ports, scope, "a@example.org", "b@example.org", renamed.id)
    log = await ports.audit.recent(PROGRAM)
    # Newest first; one moment's changes in the order they were made.
    assert [(e.change.subject, e.change.old, e.change.new) for e in log] == [
        ("track", None, "New managers"),
        ("track name", "New managers", "New managers circles"),
        ("track New managers circles", "active", "archived"),
        ("track", None, "2026 engineering mentoring"),
    ]
    assert {e.actor for e in log} == {COMMAND_LINE}
    assert log[0].track_name == "New managers circles"


async def test_a_track_inherits_what_it_does_not_set_and_shows_which(ports, scope, clock):
    track = await tracks.create_track(ports, scope, "Engineering")
    await rules.change_program_rules(ports, scope, RuleChanges(earliest="07:00", weekends=True))
    clock.advance(timedelta(minutes=1))

    page = await rules.change_track_rules(
        ports,
        scope,
        "Engineering",
        RuleChanges(earliest="10:00", all_day_events=AllDayEvents.AS_MARKED),
    )

    rows = {row.rule.name: row for row in page.rows}
    assert (rows["earliest"].value, rows["earliest"].inherited) == ("10:00", False)
    assert (rows["weekends"].value, rows["weekends"].inherited) == (True, True)
    assert rows["earliest"].program_value == "07:00"
    assert "timezone" not in rows  # the program's, for every track
    assert page.settings.rules.earliest == DayTime.of(10)
    # The program changes later: what the track inherits follows, what it sets does not.
    await rules.change_program_rules(ports, scope, RuleChanges(weekends=False, earliest="06:00"))
    again = await rules.rules_page(ports, scope, track.id)
    assert again.settings.rules.weekends is False
    assert again.settings.rules.earliest == DayTime.of(10)
    # Inherited again:
    clock.advance(timedelta(minutes=1))
    back = await rules.change_track_rules(
        ports, scope, "Engineering", RuleChanges(), inherit=frozenset({"earliest"})
    )
    assert back.settings.rules.earliest == DayTime.of(6)
    log = await ports.audit.recent(PROGRAM, [track.id])
    assert [(e.change.subject, e.change.old, e.change.new) for e in log] == [
        ("Earliest start", "10:00", "06:00 (the program's)"),
        ("Earliest start", "07:00 (the program's)", "10:00"),
        (
            "All-day events marked free",
            "count as busy (the program's)",
            "count as their calendar marks them",
        ),
        ("track", None, "Engineering"),
    ]


async def test_a_change_is_checked_whole_and_a_refused_one_changes_nothing(ports, scope):
    await tracks.create_track(ports, scope, "Late")
    await rules.change_track_rules(ports, scope, "Late", RuleChanges(earliest="16:00"))

    with pytest.raises(InvalidInput, match="--latest: must be later than --earliest"):
        await rules.change_track_rules(
            ports, scope, "Late", RuleChanges(latest="15:00"), field=lambda n: f"--{n}"
        )
    with pytest.raises(InvalidInput, match="in the track 'Late', which sets its own"):
        await rules.change_program_rules(ports, scope, RuleChanges(latest="15:30"))
    with pytest.raises(InvalidInput, match="timezone: is the program's"):
        await rules.change_track_rules(ports, scope, "Late", RuleChanges(timezone="Europe/Paris"))

    page = await rules.rules_page(ports, scope, "Late")
    assert (page.settings.rules.earliest, page.settings.rules.latest) == (
        DayTime.of(16),
        DayTime.of(18),
    )
    assert (await ports.programs.settings(PROGRAM)).rules.latest == DayTime.of(18)


async def test_a_search_runs_under_its_pair_or_circle_track(ports, scope, storage: Storage):
    early = await tracks.create_track(ports, scope, "Early")
    late = await tracks.create_track(ports, scope, "Late")
    await rules.change_track_rules(ports, scope, "Early", RuleChanges(earliest="06:00"))
    await rules.change_track_rules(ports, scope, "Late", RuleChanges(latest="21:00"))
    pair, _ = await roster.add_pair(ports, scope, "ana@example.org", "ben@example.org", "Early")
    circle = await roster.add_circle(ports, scope, "Evening", "Late")
    for member in ("cy@example.org", "di@example.org", "ana@example.org"):
        await roster.add_member(ports, scope, "Evening", member)
    ana, ben = pair.mentor.id, pair.mentee.id
    people = await ports.people.by_emails(["cy@example.org", "di@example.org"])
    cy, di = people["cy@example.org"].id, people["di@example.org"].id

    by_pair = await storage.programs.settings(PROGRAM, among=[ana, ben])
    by_circle = await storage.programs.settings(PROGRAM, among=[cy, di, ana])
    part_of_circle = await storage.programs.settings(PROGRAM, among=[cy, di])
    strangers = await storage.programs.settings(PROGRAM, among=[ben, cy])
    alone = await storage.programs.settings(PROGRAM, among=[ben])

    assert by_pair.rules.earliest == DayTime.of(6)
    assert by_circle.rules.latest == DayTime.of(21)
    assert part_of_circle.rules.latest == DayTime.of(21)
    assert strangers.rules.earliest == DayTime.of(8)  # the program's own
    assert alone.rules.earliest == DayTime.of(6)  # ben's one track
    # Moved to the other track, the pair searches under its rules at once.
    await roster.move_pair(ports, scope, "ana@example.org", "ben@example.org", late.id)
    moved = await storage.programs.settings(PROGRAM, among=[ben, ana])
    assert (moved.rules.earliest, moved.rules.latest) == (DayTime.of(8), DayTime.of(21))
    assert circle.track == late.id
    assert early.id != late.id


async def test_an_admin_of_one_track_sees_and_changes_only_it(ports, scope):
    await tracks.create_track(ports, scope, "Engineering")
    await tracks.create_track(ports, scope, "Sales")
    await roster.add_pair(ports, scope, "ana@example.org", "ben@example.org", "Engineering")
    await roster.add_pair(ports, scope, "cy@example.org", "di@example.org", "Sales")
    await admins.grant_admin(ports, scope, "eve@example.org", "Engineering")
    eve = await ports.people.by_email("eve@example.org")
    assert eve is not None

    eves = await scope_of(ports, PROGRAM, eve)

    assert eves is not None
    assert not eves.program_wide
    assert [t.name for t in await tracks.tracks(ports, eves)] == ["Engineering"]
    assert [(p.mentor.email, p.mentee.email) for p in await roster.pairs(ports, eves)] == [
        ("ana@example.org", "ben@example.org")
    ]
    await rules.change_track_rules(ports, eves, "Engineering", RuleChanges(earliest="09:00"))
    with pytest.raises(NotAllowed):
        await rules.change_track_rules(ports, eves, "Sales", RuleChanges(earliest="09:00"))
    with pytest.raises(NotAllowed):
        await rules.change_program_rules(ports, eves, RuleChanges(earliest="09:00"))
    with pytest.raises(NotAllowed):
        await roster.move_pair(ports, eves, "cy@example.org", "di@example.org", "Engineering")
    with pytest.raises(NotAllowed):
        await admins.grant_admin(ports, eves, "fay@example.org", "Sales")
    sales = await rules.rules_page(ports, scope, "Sales")
    assert sales.settings.rules.earliest == DayTime.of(8)  # unchanged
    listed = await admins.admins(ports, scope)
    assert [(a.person.email, a.tracks) for a in listed] == [("eve@example.org", ("Engineering",))]
    assert await scope_of(ports, PROGRAM, listed[0].person) is not None
    await admins.revoke_admin(ports, scope, "eve@example.org")
    assert await scope_of(ports, PROGRAM, eve) is None


async def test_pairs_and_circles_are_removed_and_moved_by_name(ports, scope, clock):
    [main] = await tracks.tracks(ports, scope)  # the program's first track: the default
    clock.advance(timedelta(minutes=1))
    await tracks.create_track(ports, scope, "Other")
    await roster.add_pair(ports, scope, "ana@example.org", "U0BEN")
    circle = await roster.add_circle(ports, scope, "North")
    await roster.link_circle(ports, scope, "North", "https://acme.slack.com/archives/C0NORTH")

    moved = await roster.move_circle(ports, scope, "North", "Other")
    removed = await roster.remove_pair(ports, scope, "ana@example.org", "U0BEN")

    assert (circle.track, moved.track) != (main.id, main.id)
    assert circle.track == main.id
    assert (removed.mentor.email, removed.mentee.name) == ("ana@example.org", "U0BEN")
    assert await roster.pairs(ports, scope) == []
    with pytest.raises(NotFound, match="is not paired with"):
        await roster.remove_pair(ports, scope, "ana@example.org", "U0BEN")
    [listed] = await roster.circles(ports, scope)
    assert (listed.circle.channel, listed.circle.track) == ("C0NORTH", moved.track)
    assert (await roster.remove_circle(ports, scope, "North")).name == "North"
    subjects = [e.change.subject for e in await ports.audit.recent(PROGRAM)]
    assert subjects == [  # all at one moment of the test's clock: in the order made
        "track",
        "pair ana <ana@example.org> → U0BEN",
        "circle North",
        "channel of North",
        "circle North",
        "pair ana <ana@example.org> → U0BEN",
        "circle North",
    ]
