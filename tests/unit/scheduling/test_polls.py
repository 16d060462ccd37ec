"""Group polls as a conversation: propose, edit, post, vote, close and book, deadlines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.commands import Command, Intent, Mention, Relation, RelationRef
from core.people import CrowdedChannel, Group, Person, ProgramId
from core.polls import PollStatus
from core.scheduling import Scheduler
from core.scheduling.polls import MAX_INVITEES
from core.time import Interval, describe
from core.views import Confirmation, ConnectPrompt, Notice, PollDraftView, PollView, Tone
from tests.memory import PROGRAM, World, WriteFailed

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)  # Wednesday
NEXT_WEEK = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC))
CHANNEL = "C-CIRCLE"
LONDON = ZoneInfo("Europe/London")


def poll_command(*refs, minutes: int = 60) -> Command:
    return Command(
        Intent.POLL, tuple(refs), duration_minutes=minutes, duration_given=True, window=NEXT_WEEK
    )


def circle_world(*, dee_connected: bool = False):
    world = World(NOW)
    ana = world.person("Ana", "Europe/London")
    ben = world.person("Ben", "Europe/London")
    cy = world.person("Cy", "Europe/Berlin")
    dee = world.person("Dee", "America/New_York", connected=None)
    if dee_connected:
        world.connect(dee)
    world.groups.groups.append(
        Group("g1", PROGRAM, "Circle of Four", (ana.id, ben.id, cy.id, dee.id), channel=CHANNEL)
    )
    # Ben is busy all of Monday; Cy on Tuesday afternoon.
    world.busy(ben, "2026-11-30T00:00:00+00:00", "2026-12-01T00:00:00+00:00")
    world.busy(cy, "2026-12-01T12:00:00+00:00", "2026-12-01T18:00:00+00:00")
    return world, ana, ben, cy, dee


async def draft(world: World, organizer) -> PollDraftView:
    context = await world.context(organizer, private=False, channel=CHANNEL)
    outcome = await world.scheduler.handle(context, poll_command())
    assert isinstance(outcome.reply, PollDraftView)
    return outcome.reply


async def posted(world: World, organizer) -> PollView:
    preview = await draft(world, organizer)
    outcome = await world.click(organizer, preview.post.action)
    assert outcome.broadcast is not None
    await world.scheduler.posted(outcome.broadcast.key, {"channel": CHANNEL, "ts": "1.0"})
    assert isinstance(outcome.broadcast.view, PollView)
    return outcome.broadcast.view


async def test_poll_my_circle_proposes_well_attended_times_spread_over_days():
    world, ana, _, _, _ = circle_world()
    preview = await draft(world, ana)
    assert preview.title == "Circle of Four"
    assert preview.duration_minutes == 60
    assert len(preview.options) == 5
    days = {view.start.date() for view, _ in preview.options}
    assert len(days) >= 3
    # Times everyone with a calendar can make come first: no option has Ben busy.
    assert all(view.busy == 0 for view, _ in preview.options)
    assert preview.invitees == ("Ana", "Ben", "Cy", "Dee")
    assert "3 of 4 invitees have connected calendars." in preview.notes
    assert preview.post.label == "Post poll"


async def test_without_anyone_named_or_a_circle_here_it_asks_whom_to_invite():
    world = World(NOW)
    world.open_to_all()
    ana = world.person("Ana")
    context = await world.context(ana, private=False, channel="C-OTHER")
    outcome = await world.scheduler.handle(context, poll_command())
    assert isinstance(outcome.reply, Notice)
    assert outcome.reply.text.startswith("Who should I invite?")
    mentioned = await world.scheduler.handle(context, poll_command(Mention("UANA")))
    assert isinstance(mentioned.reply, Notice)  # only herself: still nobody to invite
    world.person("Ben")
    with_ben = await world.scheduler.handle(context, poll_command(Mention("UBEN")))
    assert isinstance(with_ben.reply, PollDraftView)
    assert with_ben.reply.invitees == ("Ana", "Ben")


async def test_the_organiser_edits_the_draft_and_nobody_else_can():
    world, ana, ben, _, _ = circle_world()
    preview = await draft(world, ana)
    refused = await world.click(ben, preview.post.action)
    assert refused.reply == Notice("Only the organiser can change this poll.", refused.reply.tone)

    first, remove = preview.options[0]
    edited = await world.click(ana, remove.action)
    assert edited.replaces_original
    assert isinstance(edited.reply, PollDraftView)
    assert first.start not in [view.start for view, _ in edited.reply.options]

    own = await world.click(ana, edited.reply.add_time.action, value="2026-12-04T16:00")
    assert isinstance(own.reply, PollDraftView)
    starts = [view.start for view, _ in own.reply.options]
    assert datetime(2026, 12, 4, 16, tzinfo=UTC) in starts  # London is on UTC in December
    assert starts == sorted(starts)

    past = await world.click(ana, own.reply.add_time.action, value="2026-11-20T09:00")
    assert isinstance(past.reply, PollDraftView)
    assert "That time has passed; choose one in the future." in past.reply.notes

    one_day = await world.click(ana, past.reply.deadlines[1].action)
    assert isinstance(one_day.reply, PollDraftView)
    assert one_day.reply.deadline == NOW + timedelta(days=1)
    require_ben = await world.click(ana, one_day.reply.required[1].action)
    assert isinstance(require_ben.reply, PollDraftView)
    assert require_ben.reply.required_names == ("Ben",)


async def test_posting_broadcasts_the_poll_once():
    world, ana, _, _, _ = circle_world()
    preview = await draft(world, ana)
    outcome = await world.click(ana, preview.post.action)
    assert outcome.replaces_original
    assert isinstance(outcome.reply, Notice)
    assert outcome.broadcast is not None
    view = outcome.broadcast.view
    assert isinstance(view, PollView)
    assert view.status == "open"
    assert (view.invitees, view.connected) == (4, 3)
    assert all(o.vote_yes is not None and o.vote_if_need_be is not None for o in view.options)
    assert view.connect is not None  # Dee has no calendar yet
    again = await world.click(ana, preview.post.action)
    assert again.broadcast is None


async def test_voting_changing_withdrawing_and_double_clicks():
    world, ana, ben, _, _ = circle_world()
    poll = await posted(world, ana)
    first = poll.options[0]
    assert first.vote_yes is not None
    assert first.vote_if_need_be is not None

    voted = await world.click(ben, first.vote_yes.action)
    assert isinstance(voted.reply, Notice)
    assert voted.reply.text == f"You voted “yes” for {describe(first.start, LONDON)}."
    (update,) = voted.updates
    assert update.message == {"channel": CHANNEL, "ts": "1.0"}
    assert isinstance(update.view, PollView)
    assert (update.view.options[0].yes, update.view.options[0].if_need_be) == (1, 0)

    double = await world.click(ben, first.vote_yes.action)  # the same click, a second later
    assert isinstance(double.reply, Notice)
    assert double.reply.text.startswith("You voted “yes”")
    assert isinstance(double.updates[0].view, PollView)
    assert double.updates[0].view.options[0].yes == 1

    maybe = await world.click(ben, first.vote_if_need_be.action)
    assert isinstance(maybe.updates[0].view, PollView)
    assert (maybe.updates[0].view.options[0].yes, maybe.updates[0].view.options[0].if_need_be) == (
        0,
        1,
    )

    world.clock.advance(timedelta(seconds=5))
    withdrawn = await world.click(ben, first.vote_if_need_be.action)
    assert isinstance(withdrawn.reply, Notice)
    assert withdrawn.reply.text.startswith("You withdrew your vote")
    assert isinstance(withdrawn.updates[0].view, PollView)
    assert withdrawn.updates[0].view.options[0].if_need_be == 0

    eve = world.person("Eve")
    outsider = await world.click(eve, first.vote_yes.action)
    assert isinstance(outsider.reply, Notice)
    assert outsider.reply.text == "Only the people invited to this poll can vote in it."
    assert outsider.updates == ()


async def test_a_voter_sees_privately_where_their_own_calendar_clashes():
    world, ana, _, cy, _ = circle_world()
    poll = await posted(world, ana)
    # Cy books something over the first option after the poll was posted.
    first = poll.options[0]
    world.busy(cy, first.start.isoformat(), first.end.isoformat())
    world.calendars.reads.clear()
    assert first.vote_yes is not None
    voted = await world.click(cy, first.vote_yes.action)
    assert isinstance(voted.reply, Notice)
    assert "Your calendar is busy at:" in voted.reply.text


async def test_busy_counts_are_refreshed_at_most_every_ten_minutes():
    world, ana, ben, cy, _ = circle_world()
    poll = await posted(world, ana)
    first = poll.options[0]
    assert first.vote_yes is not None
    world.busy(ben, first.start.isoformat(), first.end.isoformat())
    soon = await world.click(cy, first.vote_yes.action)
    assert isinstance(soon.updates[0].view, PollView)
    assert soon.updates[0].view.options[0].busy == 0  # read less than ten minutes ago
    world.clock.advance(timedelta(minutes=11))
    later = await world.click(ana, first.vote_yes.action)
    assert isinstance(later.updates[0].view, PollView)
    assert later.updates[0].view.options[0].busy == 1


async def test_close_and_book_picks_the_winner_books_once_and_tells_everyone():
    world, ana, ben, cy, dee = circle_world()
    poll = await posted(world, ana)
    a, b = poll.options[0], poll.options[1]
    for person, option in ((ben, b), (cy, b), (dee, b), (ana, a), (ben, a)):
        assert option.vote_yes is not None
        await world.click(person, option.vote_yes.action)
    assert poll.close is not None

    refused = await world.click(ben, poll.close.action)
    assert isinstance(refused.reply, Notice)
    assert world.meetings.meetings == {}

    closed = await world.click_seen(ana, poll.close.action)
    (meeting,) = world.meetings.meetings.values()
    assert (meeting.start, meeting.end) == (b.start, b.end)
    assert meeting.poll_ref is not None
    assert len(meeting.participants) == 4
    assert sorted(m.person for m in closed.direct) == sorted(p.id for p in (ana, ben, cy, dee))
    assert all(isinstance(m.view, Confirmation) and m.view.invitation for m in closed.direct)
    (update,) = closed.updates
    assert isinstance(update.view, PollView)
    assert update.view.status == "closed"
    assert update.view.result == "The most popular time was booked."
    assert [o.winner for o in update.view.options][:2] == [False, True]
    assert all(o.vote_yes is None for o in update.view.options)

    again = await world.click(ana, poll.close.action)
    assert again.reply == Notice("This poll is already closed.", again.reply.tone)
    assert len(world.meetings.meetings) == 1
    assert b.vote_yes is not None
    late = await world.click(dee, b.vote_yes.action)
    assert isinstance(late.reply, Notice)
    assert late.reply.text.startswith("This poll is closed")


async def test_a_close_whose_booking_is_not_stored_closes_nothing_so_it_can_run_again():
    """The booking's write fails (a fault in the meetings port), after the close itself
    would have been stored: the poll stays open, so the organiser's next click (or the inbox
    running the click again) closes and books, and each attendee is told once."""
    world, ana, ben, cy, dee = circle_world()
    poll = await posted(world, ana)
    b = poll.options[1]
    assert b.vote_yes is not None
    for person in (ben, cy, dee):
        await world.click(person, b.vote_yes.action)
    assert poll.close is not None
    ref = poll_ref(world)

    world.meetings.failing = 1
    with pytest.raises(WriteFailed):
        await world.click(ana, poll.close.action)
    assert world.polls.polls[ref].status is PollStatus.OPEN
    assert world.meetings.meetings == {}
    assert await world.told() == ()

    closed = await world.click_seen(ana, poll.close.action)
    (meeting,) = world.meetings.meetings.values()
    assert (meeting.start, meeting.poll_ref) == (b.start, ref)
    assert world.polls.polls[ref].status is PollStatus.CLOSED
    assert world.polls.polls[ref].meeting == meeting.ref
    assert sorted(m.person for m in closed.direct) == sorted(p.id for p in (ana, ben, cy, dee))
    assert closed.reply == Notice("The most popular time was booked.", closed.reply.tone)
    (update,) = closed.updates
    assert isinstance(update.view, PollView)
    assert update.view.status == "closed"
    # Clicked again (or its row run again after its process died before the card was
    # updated): the card as the close drew it, nothing booked or told again.
    again = await world.click_seen(ana, poll.close.action)
    assert again.reply == Notice("This poll is already closed.", again.reply.tone)
    assert again.updates == closed.updates
    assert again.direct == ()
    assert len(world.meetings.meetings) == 1


async def test_a_poll_left_closed_without_its_meeting_is_booked_by_the_next_close():
    """What a close whose booking failed left before closes booked in their own
    transaction: the poll closed, no meeting. The organiser's next click books it, once."""
    world, ana, ben, cy, _dee = circle_world()
    poll = await posted(world, ana)
    b = poll.options[1]
    assert b.vote_yes is not None
    for person in (ben, cy):
        await world.click(person, b.vote_yes.action)
    ref = poll_ref(world)
    world.polls.polls[ref] = replace(
        world.polls.polls[ref], status=PollStatus.CLOSED, closed_at=world.clock.now()
    )
    assert poll.close is not None

    booked = await world.click_seen(ana, poll.close.action)
    assert booked.reply == Notice("The most popular time was booked.", booked.reply.tone)
    (meeting,) = world.meetings.meetings.values()
    assert (meeting.start, meeting.poll_ref) == (b.start, ref)
    assert world.polls.polls[ref].meeting == meeting.ref
    assert sorted(m.person for m in booked.direct) == sorted(p.id for p in (ana, ben, cy))
    (update,) = booked.updates
    assert isinstance(update.view, PollView)
    assert update.view.result == "The most popular time was booked."

    again = await world.click_seen(ana, poll.close.action)
    assert again.reply == Notice("This poll is already closed.", again.reply.tone)
    assert again.direct == ()
    assert len(world.meetings.meetings) == 1


async def test_a_deadline_whose_booking_failed_closes_and_books_when_its_job_runs_again():
    world, ana, ben, *_ = circle_world()
    poll = await posted(world, ana)
    assert poll.options[0].vote_yes is not None
    await world.click(ben, poll.options[0].vote_yes.action)
    ref = poll_ref(world)

    world.meetings.failing = 1
    with pytest.raises(WriteFailed):
        await world.scheduler.poll_deadline(ref)  # the job fails; the worker retries it
    assert world.polls.polls[ref].status is PollStatus.OPEN

    closing = await world.scheduler.poll_deadline(ref)
    assert closing is not None
    (meeting,) = world.meetings.meetings.values()
    assert world.polls.polls[ref].meeting == meeting.ref
    assert sorted(m.person for m in await world.told()) == sorted([ana.id, ben.id])
    assert await world.scheduler.poll_deadline(ref) is None


async def test_required_attendees_and_ties():
    world, ana, _ben, cy, _ = circle_world()
    preview = await draft(world, ana)
    required = await world.click(ana, preview.required[1].action)  # Ben is required
    assert isinstance(required.reply, PollDraftView)
    posting = await world.click(ana, required.reply.post.action)
    assert posting.broadcast is not None
    poll = posting.broadcast.view
    assert isinstance(poll, PollView)
    assert poll.required == ("Ben",)
    a, b, c = poll.options[0], poll.options[1], poll.options[2]
    for person, option in ((ana, a), (cy, a), (ana, b), (cy, c)):
        assert option.vote_yes is not None
        await world.click(person, option.vote_yes.action)
    assert poll.close is not None
    nothing = await world.click(ana, poll.close.action)
    assert isinstance(nothing.reply, Notice)
    assert nothing.reply.text == "No time suits every required attendee, so nothing was booked."
    assert world.meetings.meetings == {}

    world2, ana2, ben2, cy2, _ = circle_world()
    poll2 = await posted(world2, ana2)
    x, y = poll2.options[1], poll2.options[3]
    for person, option in ((ben2, x), (cy2, y)):
        assert option.vote_yes is not None
        await world2.click(person, option.vote_yes.action)
    assert poll2.close is not None
    tied = await world2.click(ana2, poll2.close.action)
    assert isinstance(tied.reply, Notice)
    # The organiser is told the other time, in their own zone...
    assert tied.reply.text == (
        f"It tied with {describe(y.start, ZoneInfo('Europe/London'))}; the earliest was booked."
    )
    # ...while the shared message names no time: each reader sees the options in their zone.
    (update,) = tied.updates
    assert isinstance(update.view, PollView)
    assert update.view.result == (
        "It tied with another time (marked “tied”); the earliest was booked."
    )
    marks = {o.option: (o.winner, o.tied) for o in update.view.options}
    assert marks[x.option] == (True, False)
    assert marks[y.option] == (False, True)
    assert sum(tied for _, tied in marks.values()) == 1
    (meeting,) = world2.meetings.meetings.values()
    assert meeting.start == x.start  # the earlier of the two


async def test_the_deadline_closes_the_poll_and_reminders_go_out_once():
    world, ana, ben, cy, dee = circle_world()
    preview = await draft(world, ana)
    two_days = await world.click(ana, preview.deadlines[2].action)
    assert isinstance(two_days.reply, PollDraftView)
    assert world.jobs.jobs == {}  # a draft has no deadline to keep yet
    posting = await world.click(ana, two_days.reply.post.action)
    assert posting.broadcast is not None
    await world.scheduler.posted(posting.broadcast.key, {"channel": CHANNEL, "ts": "9.9"})
    poll = posting.broadcast.view
    assert isinstance(poll, PollView)
    assert poll.options[0].vote_yes is not None
    await world.click(ben, poll.options[0].vote_yes.action)

    # Posting enqueued the close at the deadline and the reminder a day before it.
    ref = poll_ref(world)
    deadline = world.clock.now() + timedelta(hours=48)
    close_job = world.jobs.jobs[f"poll.close:{ref}"]
    nudge_job = world.jobs.jobs[f"poll.nudge:{ref}"]
    assert (close_job.kind, close_job.payload, close_job.due_at) == (
        "poll.close",
        {"poll": ref},
        deadline,
    )
    assert (nudge_job.kind, nudge_job.due_at) == ("poll.nudge", deadline - timedelta(hours=24))

    world.clock.advance(timedelta(hours=25))  # the day before the deadline
    reminding = await world.scheduler.poll_nudge(ref)
    assert reminding is not None
    assert reminding[0] == PROGRAM
    reminded = sorted(m.person for m in reminding[1].direct)
    assert reminded == sorted([cy.id, dee.id])  # not Ben, who voted; not Ana, the organiser
    notice = reminding[1].direct[0].view
    assert isinstance(notice, Notice)
    assert notice.text.startswith("Reminder: the poll “Circle of Four” closes")
    again = await world.scheduler.poll_nudge(ref)  # the job run twice (a crash): once only
    assert again is not None
    assert again[1].direct == ()

    world.clock.advance(timedelta(hours=24))
    closing = await world.scheduler.poll_deadline(ref)
    assert closing is not None
    program, outcome = closing
    assert program == PROGRAM
    assert outcome.reply is None
    (update,) = outcome.updates
    assert update.message == {"channel": CHANNEL, "ts": "9.9"}
    assert isinstance(update.view, PollView)
    assert update.view.status == "closed"
    assert len(world.meetings.meetings) == 1
    assert world.polls.polls[ref].status is PollStatus.CLOSED
    assert sorted(m.person for m in await world.told()) == sorted([ana.id, ben.id])
    # The job run again (its process died after the close committed): the card is drawn
    # as the close drew it, at its version; nothing is booked or told again.
    again = await world.scheduler.poll_deadline(ref)
    assert again is not None
    assert again[1].updates == outcome.updates
    assert again[1].reply is None
    assert len(world.meetings.meetings) == 1
    assert await world.told() == ()
    assert await world.scheduler.poll_nudge(ref) is None


async def test_a_short_poll_is_reminded_halfway_and_one_without_deadline_has_no_jobs():
    world, ana, *_ = circle_world()
    preview = await draft(world, ana)
    posted = await world.click(ana, preview.post.action)
    assert posted.broadcast is not None
    assert world.jobs.jobs == {}

    world2, ana2, *_ = circle_world()
    preview2 = await draft(world2, ana2)
    one_day = await world2.click(ana2, preview2.deadlines[1].action)
    assert isinstance(one_day.reply, PollDraftView)
    await world2.click(ana2, one_day.reply.post.action)
    ref = poll_ref(world2)
    assert world2.jobs.jobs[f"poll.nudge:{ref}"].due_at == world2.clock.now() + timedelta(hours=12)


def poll_ref(world: World) -> str:
    (ref,) = world.polls.polls
    return ref


async def test_a_poll_where_nobody_has_connected_a_calendar():
    world = World(NOW)
    ana = world.person("Ana", connected=None)
    ben = world.person("Ben", connected=None)
    world.groups.groups.append(Group("g", PROGRAM, "Pair", (ana.id, ben.id), channel=CHANNEL))
    preview = await draft(world, ana)
    assert len(preview.options) == 5
    assert "0 of 2 invitees have connected calendars." in preview.notes
    outcome = await world.click(ana, preview.post.action)
    assert outcome.broadcast is not None
    view = outcome.broadcast.view
    assert isinstance(view, PollView)
    assert view.connect is not None
    connect = await world.click(ben, view.connect.action)
    assert isinstance(connect.reply, ConnectPrompt)  # privately, with Ben's own links
    assert not connect.replaces_original


async def test_cancelling_an_open_poll_stops_the_votes():
    world, ana, ben, _, _ = circle_world()
    poll = await posted(world, ana)
    assert poll.cancel is not None
    cancelled = await world.click(ana, poll.cancel.action)
    assert isinstance(cancelled.updates[0].view, PollView)
    assert cancelled.updates[0].view.result == "This poll was cancelled."
    assert poll.options[0].vote_yes is not None
    refused = await world.click(ben, poll.options[0].vote_yes.action)
    assert isinstance(refused.reply, Notice)
    assert refused.reply.text == "This poll is no longer open; votes can't change any more."


async def test_a_cancel_run_again_draws_the_cancelled_card_again():
    # Its process died after the cancel committed, perhaps before the card was updated.
    world, ana, _, _, _ = circle_world()
    poll = await posted(world, ana)
    assert poll.cancel is not None
    first = await world.click(ana, poll.cancel.action)
    again = await world.click(ana, poll.cancel.action)
    assert again.reply == Notice("This poll is already closed.", Tone.INFO)
    assert again.updates == first.updates  # the same card, at the same version
    assert isinstance(again.updates[0].view, PollView)
    assert again.updates[0].view.result == "This poll was cancelled."


async def test_poll_my_circle_from_text():
    world, ana, _, _, _ = circle_world()
    context = await world.context(ana, private=False, channel=CHANNEL)
    outcome = await world.scheduler.handle_text(context, "poll my circle for an hour next week")
    assert isinstance(outcome.reply, PollDraftView)
    assert outcome.reply.duration_minutes == 60
    group = await world.scheduler.handle(context, poll_command(RelationRef(Relation.GROUP)))
    assert isinstance(group.reply, PollDraftView)


async def test_a_poll_asked_for_privately_is_posted_in_the_circles_channel():
    world, ana, _, _, _ = circle_world()
    context = await world.context(ana, private=True, channel="D-ANA")
    preview = await world.scheduler.handle(context, poll_command(RelationRef(Relation.GROUP)))
    assert isinstance(preview.reply, PollDraftView)
    posting = await world.click(ana, preview.reply.post.action)
    assert posting.broadcast is not None
    assert posting.broadcast.channel == CHANNEL  # the circle's, not Ana's private chat

    world.open_to_all()
    world.person("Zed")
    lone = await world.scheduler.handle(context, poll_command(Mention("UZED")))
    assert isinstance(lone.reply, PollDraftView)
    refused = await world.click(ana, lone.reply.post.action)
    assert refused.broadcast is None
    assert isinstance(refused.reply, Notice)
    assert refused.reply.text.startswith("Everyone votes where the poll is posted")


# ---------------------------------------------------------------- everyone in the channel

ROOM = "C-ROOM"  # a channel no circle is linked to


async def ask_in(world: World, organizer: Person, channel: str = ROOM):
    context = await world.context(organizer, private=False, channel=channel)
    return await world.scheduler.handle(context, poll_command())


async def test_with_nobody_named_and_no_circle_everyone_in_the_channel_is_invited():
    world = World(NOW)
    world.open_to_all()  # strangers: under the default rule only partners' calendars count
    ana, ben, cy = world.person("Ana"), world.person("Ben"), world.person("Cy", connected=None)
    world.channel(ROOM, ben, ana, cy, ben)  # the organiser and a repeat are left out
    outcome = await ask_in(world, ana)
    assert isinstance(outcome.reply, PollDraftView)
    assert outcome.reply.title == "Meeting with Ana"
    assert outcome.reply.invitees == ("Ana", "Ben", "Cy")
    assert "2 of 3 invitees have connected calendars." in outcome.reply.notes
    assert world.channel_members.asked == [(PROGRAM, ROOM, MAX_INVITEES)]
    posting = await world.click(ana, outcome.reply.post.action)
    assert posting.broadcast is not None
    assert posting.broadcast.channel == ROOM  # everyone votes where they were invited
    poll = next(iter(world.polls.polls.values()))
    assert poll.invitees == (ana.id, ben.id, cy.id)
    # Ben, invited as a member of the channel, may vote.
    assert isinstance(posting.broadcast.view, PollView)
    await world.scheduler.posted(posting.broadcast.key, {"channel": ROOM, "ts": "1.0"})
    yes = posting.broadcast.view.options[0].vote_yes
    assert yes is not None
    voted = await world.click(ben, yes.action)
    assert isinstance(voted.reply, Notice)
    assert voted.reply.text.startswith("You voted “yes”")


async def test_a_circle_linked_to_the_channel_comes_before_its_members():
    world, ana, ben, _, _ = circle_world()
    stranger = world.person("Zed")
    world.channel(CHANNEL, ana, ben, stranger)
    preview = await draft(world, ana)
    assert preview.title == "Circle of Four"
    assert "Zed" not in preview.invitees
    assert world.channel_members.asked == []


async def test_asked_privately_with_nobody_named_it_still_asks_whom_to_invite():
    world = World(NOW)
    ana, ben = world.person("Ana"), world.person("Ben")
    world.channel(ROOM, ana, ben)
    outcome = await world.scheduler.handle(await world.context(ana), poll_command())
    assert isinstance(outcome.reply, Notice)
    assert outcome.reply.text.startswith("Who should I invite?")
    assert world.channel_members.asked == []


async def test_a_channel_that_cannot_be_listed_asks_whom_to_invite():
    world = World(NOW)
    ana = world.person("Ana")
    outcome = await ask_in(world, ana, "C-UNLISTED")
    assert isinstance(outcome.reply, Notice)
    assert outcome.reply.text.startswith("Who should I invite?")
    assert world.channel_members.asked == [(PROGRAM, "C-UNLISTED", MAX_INVITEES)]


async def test_alone_in_the_channel_the_organiser_is_told_so():
    world = World(NOW)
    ana = world.person("Ana")
    world.channel(ROOM, ana)
    outcome = await ask_in(world, ana)
    assert isinstance(outcome.reply, Notice)
    assert outcome.reply.text.startswith("You're the only person in this channel")
    assert not world.polls.polls


async def test_fifty_people_with_the_organiser_fit_and_fifty_one_do_not():
    world = World(NOW)
    ana = world.person("Ana")
    others = [world.person(f"Member{n:02d}", connected=None) for n in range(MAX_INVITEES)]
    world.channel(ROOM, ana, *others[:-1])
    fits = await ask_in(world, ana)
    assert isinstance(fits.reply, PollDraftView)
    assert len(fits.reply.invitees) == MAX_INVITEES

    world.channel(ROOM, ana, *others)
    crowded = await ask_in(world, ana)
    assert isinstance(crowded.reply, Notice)
    assert crowded.reply.text.startswith(
        f"This channel has 51 members, and a poll can invite at most {MAX_INVITEES} people"
    )
    assert "ask your program admin to link a circle" in crowded.reply.text
    assert len(world.polls.polls) == 1  # only the poll that fitted


async def test_a_circle_larger_than_a_poll_allows_is_refused_with_the_count():
    world = World(NOW)
    ana = world.person("Ana")
    others = [world.person(f"Member{n:02d}", connected=None) for n in range(MAX_INVITEES)]
    world.groups.groups.append(
        Group("big", PROGRAM, "Big circle", (ana.id, *(p.id for p in others)), channel=ROOM)
    )
    outcome = await ask_in(world, ana)
    assert isinstance(outcome.reply, Notice)
    assert outcome.reply.text.startswith(
        f"That would invite 51 people, and a poll can invite at most {MAX_INVITEES}"
    )
    assert not world.polls.polls
    assert world.channel_members.asked == []  # the circle answered who


class ListsAnyway:
    """A platform that answers with everyone, or with a count, whatever the limit."""

    def __init__(self, answer: Sequence[Person] | CrowdedChannel) -> None:
        self.answer = answer

    async def members(
        self, program: ProgramId, channel: str, *, limit: int
    ) -> Sequence[Person] | CrowdedChannel | None:
        del program, channel, limit
        return self.answer


async def test_core_holds_the_limit_whatever_the_platform_answers():
    world = World(NOW)
    ana = world.person("Ana")
    crowd = [world.person(f"Member{n:02d}", connected=None) for n in range(60)]
    for answer, said in (
        (crowd, "This channel has 61 members,"),
        (CrowdedChannel(12_345), "This channel has 12,345 members,"),
        (CrowdedChannel(5000, at_least=True), "This channel has more than 5,000 members,"),
    ):
        scheduler = Scheduler(replace(world.ports, channel_members=ListsAnyway(answer)))
        context = await world.context(ana, private=False, channel=ROOM)
        outcome = await scheduler.handle(context, poll_command())
        assert isinstance(outcome.reply, Notice)
        assert outcome.reply.text.startswith(said)
    assert not world.polls.polls
