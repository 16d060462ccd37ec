"""The repositories behave as core's ports promise, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.chores import tidy
from core.admin.programs import RuleChanges
from core.calendars import ConnectionStatus
from core.commands import Exclusions, Provider, TimeOfDay, Weekly
from core.errors import Conflict
from core.jobs import NewJob
from core.meetings import Meeting, MeetingStatus, SlotOffer
from core.people import ChatIdentity, Person, Platform, Profile, ProgramId
from core.polls import Choice, Click, Poll, PollBooking, PollOption, PollStatus, Vote
from core.program import ProgramSettings
from core.rules import AllDayEvents, Rules
from core.time import DayTime, Interval
from core.tracks import effective
from storage.repositories.connections import StateProblem, StateRejected
from storage.store import Storage

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
SLACK = ProgramId("slack:T1")
TEAMS = ProgramId("teams:tenant-1")


async def person(storage: Storage, name: str, *, email: str | None = None, program=SLACK) -> Person:
    await storage.programs.ensure(program, "Program")
    platform = Platform.SLACK if program == SLACK else Platform.TEAMS
    return await storage.people.remember(
        program,
        ChatIdentity(platform, program.split(":")[1], f"U{name.upper()}"),
        Profile(
            name, email=email, timezone="Europe/London", handle=name.split(maxsplit=1)[0].lower()
        ),
    )


async def test_people_are_remembered_and_refreshed_from_their_chat_profile(storage: Storage):
    ana = await person(storage, "Ana Lima", email="ana@example.org")
    again = await storage.people.remember(
        SLACK,
        ChatIdentity(Platform.SLACK, "T1", "UANA LIMA"),
        Profile("Ana L.", timezone="America/Sao_Paulo"),
    )
    assert again.id == ana.id
    assert again.name == "Ana L."
    assert again.timezone == "America/Sao_Paulo"
    assert again.email == "ana@example.org"  # a missing field never erases a known one
    assert await storage.people.by_chat_user(SLACK, "UANA LIMA") == again
    assert await storage.people.get(ana.id) == again


async def test_the_same_email_on_teams_is_the_same_person(storage: Storage):
    on_slack = await person(storage, "Ana", email="Ana@Example.org")
    on_teams = await person(storage, "Ana", email="ana@example.org", program=TEAMS)
    assert on_teams.id == on_slack.id
    identities = await storage.people.identities(on_slack.id)
    assert {i.platform for i in identities} == {Platform.SLACK, Platform.TEAMS}


async def test_listings_hold_the_program_people_with_their_handles(storage: Storage):
    maria = await person(storage, "Maria Silva", email="maria@example.org")
    await person(storage, "Mario Rossi")
    await person(storage, "Maria Santos", program=TEAMS)
    listed = await storage.people.listings(SLACK)
    assert [(entry.person.name, entry.handle) for entry in listed] == [
        ("Maria Silva", "maria"),
        ("Mario Rossi", "mario"),
    ]
    assert listed[0].person == maria


async def test_pairings_and_groups(storage: Storage):
    mentor = await person(storage, "Ana")
    mentee_b = await person(storage, "Ben")
    mentee_c = await person(storage, "Cy")
    assert await storage.pairings.pair(SLACK, mentor.id, mentee_b.id)
    assert await storage.pairings.pair(SLACK, mentor.id, mentee_c.id)
    assert not await storage.pairings.pair(SLACK, mentor.id, mentee_b.id)  # already
    assert [p.name for p in await storage.pairings.mentees_of(SLACK, mentor.id)] == ["Ben", "Cy"]
    assert [p.name for p in await storage.pairings.mentors_of(SLACK, mentee_c.id)] == ["Ana"]
    assert await storage.pairings.mentees_of(TEAMS, mentor.id) == []
    assert [(a.name, b.name) for a, b in await storage.pairings.all(SLACK)] == [
        ("Ana", "Ben"),
        ("Ana", "Cy"),
    ]
    assert await storage.pairings.unpair(SLACK, mentor.id, mentee_b.id)
    assert [p.name for p in await storage.pairings.mentees_of(SLACK, mentor.id)] == ["Cy"]

    circle = await storage.groups.create(SLACK, "Circle", [mentor.id, mentee_c.id], channel="C1")
    assert [g.name for g in await storage.groups.groups_of(SLACK, mentee_c.id)] == ["Circle"]
    assert await storage.groups.groups_of(SLACK, mentee_b.id) == []
    found = await storage.groups.by_channel(SLACK, "C1")
    assert found is not None
    assert set(found.members) == {mentor.id, mentee_c.id}
    assert found.id == circle.id


async def test_acquaintances_read_at_once_what_the_separate_reads_find(storage: Storage):
    ana, ben, cy, dee, eve = [await person(storage, n) for n in ("Ana", "ben", "Cy", "Dee", "Eve")]
    other_program = await person(storage, "Fay", program=TEAMS)
    await storage.pairings.pair(SLACK, ana.id, cy.id)
    await storage.pairings.pair(SLACK, ana.id, ben.id)
    await storage.pairings.pair(SLACK, dee.id, ana.id)
    await storage.pairings.pair(TEAMS, ana.id, other_program.id)
    await storage.groups.create(SLACK, "Zeta", [eve.id, ana.id, ben.id])
    await storage.groups.create(SLACK, "Alpha", [dee.id, eve.id, ana.id])
    await storage.groups.create(SLACK, "Apart", [cy.id, dee.id])

    known = await storage.pairings.acquaintances(SLACK, ana.id)

    assert known.mentees == tuple(await storage.pairings.mentees_of(SLACK, ana.id))
    assert [p.name for p in known.mentees] == ["ben", "Cy"]  # by name, whatever its case
    assert known.mentors == (dee,)
    # Circle by circle (by name), each circle's members by id, the person left out.
    expected = [m for g in await storage.groups.groups_of(SLACK, ana.id) for m in g.members]
    assert [p.id for p in known.co_members] == [m for m in dict.fromkeys(expected) if m != ana.id]
    assert [p.id for p in known.co_members][:2] == sorted([dee.id, eve.id])
    assert known.user_ids == {"UBEN": ben.id, "UCY": cy.id, "UDEE": dee.id, "UEVE": eve.id}
    assert not known.admin
    await storage.programs.grant_admin(SLACK, ana.id)
    assert (await storage.pairings.acquaintances(SLACK, ana.id)).admin
    assert not (await storage.pairings.acquaintances(TEAMS, ana.id)).admin
    assert (await storage.pairings.acquaintances(TEAMS, ana.id)).mentees == (other_program,)
    nobody = await storage.pairings.acquaintances(SLACK, other_program.id)
    assert (nobody.mentees, nobody.mentors, nobody.co_members, nobody.user_ids) == ((), (), (), {})


async def test_acquaintances_bring_each_pairs_track_as_a_search_among_the_two_finds_it(
    storage: Storage,
):
    ana, ben, cy, dee = [await person(storage, n) for n in ("Ana", "Ben", "Cy", "Dee")]
    now = datetime.now(UTC)
    later = await storage.tracks.create(SLACK, "Later", now)
    await storage.tracks.save_rules(later.id, RuleChanges(earliest="10:00", weekends=True))
    plain = await storage.tracks.create(SLACK, "Plain", now)
    await storage.pairings.pair(SLACK, ana.id, ben.id)  # the default track, no overrides
    await storage.pairings.pair(SLACK, ana.id, cy.id, later.id)
    await storage.pairings.pair(SLACK, ana.id, dee.id, later.id)
    await storage.pairings.pair(SLACK, dee.id, ana.id, plain.id)  # two tracks: neither

    known = await storage.pairings.acquaintances(SLACK, ana.id)

    assert set(known.pair_tracks) == {ben.id, cy.id, dee.id}
    for partner in (ben, cy, dee):
        among = await storage.programs.settings(SLACK, among=[ana.id, partner.id])
        assert effective(ProgramSettings(), known.pair_tracks[partner.id]) == among
    assert known.pair_tracks[cy.id] == RuleChanges(earliest="10:00", weekends=True)
    assert known.pair_tracks[dee.id] is None


async def test_a_circle_name_and_a_channel_belong_to_one_circle(storage: Storage):
    ana, ben = await person(storage, "Ana"), await person(storage, "Ben")
    first = await storage.groups.create(SLACK, "Circle", [ana.id], channel="C1")
    other = await storage.groups.create(SLACK, "Other", [])
    with pytest.raises(Conflict):  # the database's refusal, as core names it
        await storage.groups.create(SLACK, "Circle", [ben.id])
    with pytest.raises(Conflict):
        await storage.groups.link(other.id, "C1")
    await storage.programs.ensure(TEAMS, "Tenant")
    await storage.groups.create(TEAMS, "Circle", [], channel="C1")  # another program may
    assert await storage.groups.add_member(other.id, ben.id)
    assert not await storage.groups.add_member(other.id, ben.id)
    await storage.groups.link(first.id, None)
    await storage.groups.link(other.id, "C1")
    assert [(g.name, g.channel, g.members) for g in await storage.groups.all(SLACK)] == [
        ("Circle", None, (ana.id,)),
        ("Other", "C1", (ben.id,)),
    ]
    assert await storage.groups.remove(first.id)
    assert not await storage.groups.remove(first.id)
    assert await storage.groups.named(SLACK, "Circle") is None
    assert await storage.people.get(ana.id) is not None  # members stay in the program


async def test_settings_and_admins(storage: Storage):
    ana = await person(storage, "Ana")
    assert await storage.programs.settings(SLACK) == ProgramSettings()
    changed = ProgramSettings(
        rules=Rules(earliest=DayTime.of(9), weekends=True, all_day_events=AllDayEvents.AS_MARKED),
        default_duration_minutes=45,
        allowed_providers=frozenset({Provider.GOOGLE}),
    )
    await storage.programs.save_settings(SLACK, changed)
    assert await storage.programs.settings(SLACK) == changed
    assert not await storage.programs.is_admin(SLACK, ana.id)
    assert await storage.programs.grant_admin(SLACK, ana.id)
    assert not await storage.programs.grant_admin(SLACK, ana.id)
    assert await storage.programs.is_admin(SLACK, ana.id)
    assert await storage.programs.admins(SLACK) == [ana.id]
    assert await storage.programs.revoke_admin(SLACK, ana.id)
    assert not await storage.programs.is_admin(SLACK, ana.id)


async def test_calendars_just_read_record_when_and_how_many_days_they_found_taken(
    storage: Storage,
):
    ana, ben, cy = [await person(storage, name) for name in ("Ana", "Ben", "Cy")]
    for who in (ana, ben, cy):
        await storage.connections.replace(who.id, Provider.GOOGLE, None, {"t": who.name}, NOW)
    later = NOW + timedelta(minutes=5)

    await storage.connections.synced({ana.id: 3, ben.id: 0}, later)

    loaded = await storage.connections.load([ana.id, ben.id, cy.id])
    summaries = {pid: stored.summary for pid, stored in loaded.opened.items()}
    assert (summaries[ana.id].last_sync, summaries[ana.id].away_days) == (later, 3)
    assert (summaries[ben.id].last_sync, summaries[ben.id].away_days) == (later, 0)
    assert summaries[cy.id].last_sync is None
    assert loaded.zones == dict.fromkeys((ana.id, ben.id, cy.id), "Europe/London")


async def test_one_calendar_per_person_and_the_old_tokens_go(storage: Storage):
    ana = await person(storage, "Ana")
    await storage.connections.replace(ana.id, Provider.GOOGLE, "a@gmail.com", {"t": "old"}, NOW)
    await storage.connections.replace(
        ana.id, Provider.MICROSOFT, "a@outlook.com", {"t": "new"}, NOW
    )
    summary = await storage.connections.get(ana.id)
    assert summary is not None
    # The account came with the credential: sealed as it is, shown masked.
    assert (summary.provider, summary.account) == (Provider.MICROSOFT, "a•••@outlook.com")
    opened = (await storage.connections.load([ana.id])).opened
    assert opened[ana.id].secret == {"t": "new"}
    async with storage.database.transaction() as session:
        rows = (
            await session.execute(text("SELECT secret, account FROM calendar_connections"))
        ).all()
    assert len(rows) == 1
    assert "outlook" not in rows[0].account
    assert storage.vault.open(rows[0].account) == "a@outlook.com"

    # A refresh for the calendar that was replaced must not overwrite the new one.
    await storage.connections.update_secret(ana.id, Provider.GOOGLE, {"t": "stale"}, NOW)
    assert (await storage.connections.load([ana.id])).opened[ana.id].secret == {"t": "new"}

    assert await storage.connections.needs_reconnect(ana.id, Provider.MICROSOFT)
    assert not await storage.connections.needs_reconnect(ana.id, Provider.MICROSOFT)  # once only
    summary = await storage.connections.get(ana.id)
    assert summary is not None
    assert summary.status is ConnectionStatus.NEEDS_RECONNECT

    removed = await storage.connections.remove(ana.id)
    assert removed is not None
    assert removed.secret == {"t": "new"}
    assert await storage.connections.get(ana.id) is None
    assert await storage.connections.remove(ana.id) is None


async def test_connect_states_are_single_use_bound_and_expiring(storage: Storage):
    ana = await person(storage, "Ana")
    identity = ChatIdentity(Platform.SLACK, "T1", "UANA")
    (state,) = await storage.connect_states.issue(identity, ana.id, [Provider.GOOGLE], NOW)
    assert len(state) >= 40

    ticket = await storage.connect_states.peek(state, Provider.GOOGLE, NOW)
    assert (ticket.person, ticket.identity) == (ana.id, identity)
    await storage.connect_states.attach(state, {"code_verifier": "v" * 64})
    ticket = await storage.connect_states.consume(
        state, Provider.GOOGLE, NOW + timedelta(minutes=1)
    )
    assert ticket.secret == {"code_verifier": "v" * 64}
    assert "v" * 64 not in repr(ticket)

    with pytest.raises(StateRejected) as caught:
        await storage.connect_states.consume(state, Provider.GOOGLE, NOW)
    assert caught.value.problem is StateProblem.USED
    with pytest.raises(StateRejected) as caught:
        await storage.connect_states.peek("nope", Provider.GOOGLE, NOW)
    assert caught.value.problem is StateProblem.UNKNOWN

    (late,) = await storage.connect_states.issue(identity, ana.id, [Provider.GOOGLE], NOW)
    with pytest.raises(StateRejected) as caught:
        await storage.connect_states.consume(late, Provider.GOOGLE, NOW + timedelta(minutes=16))
    assert caught.value.problem is StateProblem.EXPIRED
    (other,) = await storage.connect_states.issue(identity, ana.id, [Provider.GOOGLE], NOW)
    with pytest.raises(StateRejected) as caught:
        await storage.connect_states.consume(other, Provider.ICLOUD, NOW)
    assert caught.value.problem is StateProblem.WRONG_PROVIDER
    assert await storage.connect_states.purge(NOW + timedelta(hours=1)) == 3


async def test_a_connect_link_is_claimed_by_one_browser_only(storage: Storage):
    ana = await person(storage, "Ana")
    identity = ChatIdentity(Platform.SLACK, "T1", "UANA")
    (state,) = await storage.connect_states.issue(identity, ana.id, [Provider.ICLOUD], NOW)
    assert (await storage.connect_states.peek(state, Provider.ICLOUD, NOW)).browser is None
    assert await storage.connect_states.claim(state, "a" * 64)
    assert not await storage.connect_states.claim(state, "b" * 64)
    ticket = await storage.connect_states.peek(state, Provider.ICLOUD, NOW)
    assert ticket.browser == "a" * 64
    assert "a" * 64 not in repr(ticket)

    (used,) = await storage.connect_states.issue(identity, ana.id, [Provider.ICLOUD], NOW)
    await storage.connect_states.consume(used, Provider.ICLOUD, NOW)
    assert not await storage.connect_states.claim(used, "c" * 64)


async def offer(storage: Storage) -> tuple[SlotOffer, Person, Person]:
    ana, ben = await person(storage, "Ana"), await person(storage, "Ben")
    slots = tuple(
        Interval(NOW + timedelta(days=1, hours=h), NOW + timedelta(days=1, hours=h, minutes=30))
        for h in range(3)
    )
    stored = SlotOffer(
        ref="offer-1",
        program=SLACK,
        requester=ana.id,
        participants=(ana.id, ben.id),
        duration_minutes=30,
        window=Interval(NOW, NOW + timedelta(days=7)),
        slots=slots,
        shown=slots[:2],
        created_at=NOW,
        time_of_day=TimeOfDay(DayTime.of(12), DayTime.of(17)),
        ruled_out=Exclusions(
            (Interval(NOW + timedelta(days=2), NOW + timedelta(days=3)),),
            (Weekly(frozenset({0})), Weekly(hours=TimeOfDay(DayTime.of(8), DayTime.of(10)))),
        ),
    )
    await storage.offers.add(stored)
    return stored, ana, ben


def meeting_for(stored: SlotOffer, ref: str) -> Meeting:
    return Meeting(
        ref=ref,
        program=SLACK,
        organizer=stored.requester,
        participants=stored.participants,
        start=stored.slots[0].start,
        end=stored.slots[0].end,
        title="Mentoring: Ana and Ben",
        created_at=NOW,
        offer_ref=stored.ref,
    )


async def test_offers_round_trip_and_record_what_was_shown(storage: Storage):
    stored, _, _ = await offer(storage)
    assert await storage.offers.get("offer-1") == stored
    plain = replace(stored, ref="offer-2", ruled_out=Exclusions())
    await storage.offers.add(plain)
    assert await storage.offers.get("offer-2") == plain
    await storage.offers.mark_shown("offer-1", stored.slots[2:])
    again = await storage.offers.get("offer-1")
    assert again is not None
    assert again.shown == stored.slots
    assert await storage.offers.get("missing") is None


async def test_an_offer_books_once_and_cancelling_raises_the_sequence(storage: Storage):
    stored, ana, ben = await offer(storage)
    first, created = await storage.meetings.book(
        replace(meeting_for(stored, "m1"), status=MeetingStatus.PROPOSED, proposer=ana.id)
    )
    assert created
    second, created_again = await storage.meetings.book(meeting_for(stored, "m2"))
    assert not created_again
    assert second == first
    assert await storage.meetings.for_offer("offer-1") == first
    assert await storage.meetings.get("m1") == first
    assert [m.ref for m in await storage.meetings.upcoming(ben.id, NOW)] == ["m1"]
    assert await storage.meetings.upcoming(ben.id, NOW + timedelta(days=3)) == []

    cancelled = await storage.meetings.change(
        replace(first, status=MeetingStatus.CANCELLED), expected=0
    )
    assert cancelled is not None
    assert cancelled.status is MeetingStatus.CANCELLED
    assert cancelled.sequence == 1
    assert cancelled.participants == (ana.id, ben.id)
    assert cancelled.proposer == ana.id
    # A second change from the same sequence loses: it read a meeting that is gone.
    late = replace(first, status=MeetingStatus.CONFIRMED)
    assert await storage.meetings.change(late, expected=0) is None
    assert await storage.meetings.get("m1") == cancelled
    assert await storage.meetings.upcoming(ana.id, NOW) == []


async def test_a_move_keeps_the_meeting_and_a_circle_member_may_decline(storage: Storage):
    stored, ana, ben = await offer(storage)
    cleo = await person(storage, "Cleo")
    circle = replace(meeting_for(stored, "m1"), participants=(ana.id, ben.id, cleo.id))
    booked, _ = await storage.meetings.book(circle)
    later = Interval(booked.start + timedelta(days=2), booked.end + timedelta(days=2))

    moved = await storage.meetings.change(
        replace(
            booked,
            start=later.start,
            end=later.end,
            location="https://meet.example.org/ana",
            declined=(cleo.id,),
        ),
        expected=booked.sequence,
    )
    assert moved is not None
    assert (moved.ref, moved.offer_ref, moved.sequence) == ("m1", "offer-1", 1)
    assert moved.span == later
    assert moved.location == "https://meet.example.org/ana"
    assert moved.declined == (cleo.id,)
    assert moved.attending == (ana.id, ben.id)
    assert await storage.meetings.get("m1") == moved
    assert await storage.meetings.upcoming(cleo.id, NOW) == []
    assert [m.ref for m in await storage.meetings.upcoming(ben.id, NOW)] == ["m1"]


async def test_meetings_are_busy_time_until_declined_or_cancelled(storage: Storage):
    stored, ana, ben = await offer(storage)
    cleo = await person(storage, "Cleo")
    window = Interval(NOW, NOW + timedelta(days=7))
    booked, _ = await storage.meetings.book(
        replace(meeting_for(stored, "m1"), status=MeetingStatus.PROPOSED)
    )
    busy = await storage.meetings.busy([ana.id, ben.id, cleo.id], window)
    assert busy == {ana.id: [booked.span], ben.id: [booked.span]}
    # The window is half-open: a meeting ending where it starts is not in it.
    assert await storage.meetings.busy([ana.id], Interval(booked.end, window.end)) == {}
    # A meeting being moved is not in its own way.
    assert await storage.meetings.busy([ana.id], window, excluding="m1") == {}

    declined = await storage.meetings.change(
        replace(booked, status=MeetingStatus.DECLINED), expected=0
    )
    assert declined is not None
    assert await storage.meetings.busy([ana.id, ben.id], window) == {}


async def test_chat_events_are_processed_once(storage: Storage):
    assert await storage.events.first_time("slack:Ev1", NOW)
    assert not await storage.events.first_time("slack:Ev1", NOW)
    assert await storage.events.first_time("teams:a1", NOW)
    assert await storage.events.forget_before(NOW + timedelta(seconds=1)) == 2
    assert await storage.events.first_time("slack:Ev1", NOW)


async def test_a_claimed_event_is_taken_again_only_once_its_claim_ran_out_unsettled(
    storage: Storage,
):
    events, lease = storage.events, timedelta(seconds=5)
    assert await events.claim("teams:a1:dm", NOW, lease)
    assert not await events.claim("teams:a1:dm", NOW + timedelta(seconds=4), lease)  # held
    assert await events.claim("teams:a1:dm", NOW + timedelta(seconds=5), lease)  # ran out
    await events.settle("teams:a1:dm")
    assert not await events.claim("teams:a1:dm", NOW + timedelta(hours=1), lease)  # for good
    assert not await events.first_time("teams:a1:dm", NOW)

    assert await events.claim("teams:a2:dm", NOW, lease)
    await events.release("teams:a2:dm")  # refused: free again at once
    assert await events.claim("teams:a2:dm", NOW, lease)

    assert await events.first_time("slack:Ev1", NOW)
    await events.release("slack:Ev1")  # only a claim is released
    assert not await events.claim("slack:Ev1", NOW + timedelta(days=1), lease)


async def test_conversation_references_are_kept_per_person(storage: Storage):
    await storage.programs.ensure(TEAMS, "Teams program")
    reference = {"conversation": {"id": "a:1"}, "serviceUrl": "https://smba.example/"}
    await storage.conversations.save(TEAMS, "29:1", reference, NOW)
    await storage.conversations.save(TEAMS, "29:1", {**reference, "x": 1}, NOW)
    assert await storage.conversations.get(TEAMS, "29:1") == {**reference, "x": 1}
    assert await storage.conversations.get(TEAMS, "29:2") is None


async def a_poll(storage: Storage, organizer: Person, invitees: list[Person]) -> Poll:
    options = tuple(
        PollOption(0, NOW + timedelta(days=d), NOW + timedelta(days=d, hours=1), busy_count=d)
        for d in (1, 2, 3)
    )
    return await storage.polls.create(
        Poll(
            ref="poll-1",
            program=SLACK,
            organizer=organizer.id,
            title="Circle meeting",
            duration_minutes=60,
            invitees=tuple(p.id for p in invitees),
            options=options,
            created_at=NOW,
            required=(organizer.id,),
        )
    )


def click(choice: Choice, seconds: float, click_id: str) -> Click:
    return Click(choice, NOW + timedelta(seconds=seconds), click_id)


async def test_votes_are_set_changed_and_withdrawn_by_clicks_as_sent(storage: Storage):
    ana, ben = await person(storage, "Ana"), await person(storage, "Ben")
    poll = await a_poll(storage, ana, [ana, ben])
    assert [o.busy_count for o in poll.options] == [1, 2, 3]
    assert poll.required == (ana.id,)
    first, second, _ = (o.id for o in poll.options)
    cast = storage.polls.cast
    assert (await storage.polls.counted("poll-1")).version == 0

    ana_yes = await cast("poll-1", first, ana.id, click(Choice.YES, 0, "a1"))
    assert ana_yes is not None
    assert ana_yes.vote is Choice.YES
    # The same click handled again (a retry after a crash): nothing changes, not even the version.
    again = await cast("poll-1", first, ana.id, click(Choice.YES, 0, "a1"))
    assert again == ana_yes
    assert (await storage.polls.counted("poll-1")).version == 1
    # A double-click (sent 0.5 s later) is the same click: still yes.
    double = await cast("poll-1", first, ana.id, click(Choice.YES, 0.5, "a2"))
    assert double is not None
    assert double.vote is Choice.YES
    await cast("poll-1", first, ben.id, click(Choice.YES, 0, "b1"))
    await cast("poll-1", second, ben.id, click(Choice.YES, 0, "b2"))
    await cast("poll-1", second, ben.id, click(Choice.IF_NEED_BE, 5, "b3"))  # changed
    counted = await storage.polls.counted("poll-1")
    assert (counted.version, counted.status) == (5, PollStatus.OPEN)
    assert counted.tallies == {first: (2, 0), second: (0, 1)}  # (yes, if need be)
    assert counted.tally(poll.options[2].id) == (0, 0)
    bens = await storage.polls.votes("poll-1", ben.id)
    assert [(v.option, v.person, v.choice, v.at) for v in bens] == [
        (first, ben.id, Choice.YES, NOW),
        (second, ben.id, Choice.IF_NEED_BE, NOW + timedelta(seconds=5)),
    ]
    # Ben clicks "yes" on the first time again, 10 s later: withdrawn. A click he sent in
    # between (at 5 s) is handled only now: it is folded in where it was sent, so the
    # outcome is what the clicks add up to in the order he made them (yes, no, yes).
    withdrawn = await cast("poll-1", first, ben.id, click(Choice.YES, 10, "b4"))
    assert withdrawn is not None
    assert withdrawn.vote is None
    late = await cast("poll-1", first, ben.id, click(Choice.YES, 5, "b5"))
    assert late is not None
    assert late.vote is Choice.YES
    assert [v.person for v in await storage.polls.votes("poll-1") if v.option == first] == sorted(
        [ana.id, ben.id]
    )
    assert await cast("poll-1", 999_999, ben.id, click(Choice.YES, 20, "b6")) is None
    stored = await storage.polls.get("poll-1")
    assert stored is not None
    assert stored.status is PollStatus.OPEN
    assert replace(stored, options=poll.options) == poll


async def test_a_poll_goes_from_draft_to_open_to_closed_once(storage: Storage):
    ana, ben, cy = [await person(storage, name) for name in ("Ana", "Ben", "Cy")]
    draft = await storage.polls.create(
        Poll(
            ref="p1",
            program=SLACK,
            organizer=ana.id,
            title="Circle",
            duration_minutes=60,
            invitees=(ana.id, ben.id, cy.id),
            options=tuple(
                PollOption(0, NOW + timedelta(days=d), NOW + timedelta(days=d, hours=1))
                for d in (1, 2, 3)
            ),
            created_at=NOW,
            status=PollStatus.DRAFT,
            window_start=NOW,
            window_end=NOW + timedelta(days=7),
            connected=2,
        )
    )
    first, _second, third = draft.options
    assert await storage.polls.cast("p1", first.id, ben.id, click(Choice.YES, 0, "c1")) is None
    # The organiser drops one time and adds one; kept options keep their ids.
    added = PollOption(0, NOW + timedelta(days=4), NOW + timedelta(days=4, hours=1), 1)
    await storage.polls.replace_options("p1", [first, third, added], NOW)
    edited = await storage.polls.get("p1")
    assert edited is not None
    assert [o.start for o in edited.options] == [first.start, third.start, added.start]
    assert edited.options[0].id == first.id
    assert edited.options[2].busy_count == 1
    deadline = NOW + timedelta(days=2)
    await storage.polls.set_terms("p1", deadline=deadline, required=[ben.id])

    close = NewJob("poll.close", "poll.close:p1", {"poll": "p1"}, due_at=deadline)
    assert await storage.polls.open("p1", NOW, then=[close])
    assert not await storage.polls.open("p1", NOW, then=[replace(close, key="poll.close:again")])
    scheduled = await storage.jobs.state("poll.close:p1")
    assert scheduled is not None
    assert scheduled.due_at == deadline
    assert await storage.jobs.state("poll.close:again") is None  # opened once, enqueued once
    await storage.polls.posted("p1", {"channel": "C1", "ts": "1.5"})
    opened = await storage.polls.get("p1")
    assert opened is not None
    assert (opened.status, opened.deadline, opened.required) == (
        PollStatus.OPEN,
        deadline,
        (ben.id,),
    )
    assert opened.message == {"channel": "C1", "ts": "1.5"}
    assert opened.posted_at == NOW

    assert await storage.polls.cast("p1", first.id, ben.id, click(Choice.YES, 0, "c2"))
    # Reminders go to those who have not voted, each once.
    assert sorted(await storage.polls.unvoted("p1")) == sorted([ana.id, cy.id])
    assert await storage.polls.nudged("p1", cy.id, NOW)
    assert not await storage.polls.nudged("p1", cy.id, NOW)
    assert await storage.polls.unvoted("p1") == [ana.id]

    def book(poll: Poll, votes: Sequence[Vote]) -> PollBooking:
        (vote,) = votes
        won = next(o for o in poll.options if o.id == vote.option)
        return PollBooking(
            Meeting(
                "m1", SLACK, ana.id, (ana.id, ben.id), won.start, won.end, "C", NOW, poll_ref="p1"
            )
        )

    closing = NOW + timedelta(days=3)
    assert await storage.polls.close("p1", closing, book)
    assert await storage.polls.close("p1", closing, book) is None
    assert not await storage.polls.cancel("p1", closing)
    assert await storage.polls.cast("p1", first.id, cy.id, click(Choice.YES, 0, "c3")) is None
    assert (await storage.polls.counted("p1")).status is PollStatus.CLOSED
    closed = await storage.polls.get("p1")
    assert closed is not None
    assert (closed.status, closed.meeting, closed.closed_at) == (PollStatus.CLOSED, "m1", closing)


async def test_tidying_forgets_old_event_ids_and_expired_links(storage: Storage):
    ana = await person(storage, "Ana")
    identity = ChatIdentity(Platform.SLACK, "T1", "UANA")
    await storage.connect_states.issue(identity, ana.id, [Provider.GOOGLE], NOW)
    assert await storage.events.first_time("slack:Ev1", NOW)
    await tidy(storage, NOW + timedelta(hours=2))  # too recent to forget
    assert not await storage.events.first_time("slack:Ev1", NOW)
    await tidy(storage, NOW + timedelta(days=2))
    assert await storage.events.first_time("slack:Ev1", NOW + timedelta(days=2))
    assert await storage.connect_states.purge(NOW + timedelta(days=10)) == 0  # already gone
