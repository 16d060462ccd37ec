"""Votes, and the busy counts and private clashes shown with them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from core import actions
from core.polls import Choice, Click, Poll, PollOption, PollStatus
from core.scheduling.busy import read
from core.scheduling.context import Context, Ports
from core.scheduling.participants import visible_to
from core.scheduling.polls.constants import BUSY_REFRESH, GONE
from core.scheduling.polls.message import open_card_updates
from core.scheduling.recent import recently, together
from core.time import Interval, describe
from core.views import (
    Notice,
    Outcome,
    Tone,
)


async def vote(ports: Ports, ctx: Context, action: actions.Vote) -> Outcome:
    """A click on "yes" or "if need be", decided in one transaction from the click as sent
    (its time and id, see :class:`~core.polls.Ballot`): however late it is handled, or if
    it is handled twice, the tally is what the clicks add up to."""
    # As this process read it last, when it is open: only its status changes now, and cast
    # checks that again.
    poll = await ports.polls.get(action.poll, cached=True)
    if poll is None:
        return Outcome(Notice(GONE, Tone.WARNING))
    if poll.status is not PollStatus.OPEN:
        return Outcome(Notice(_not_open(poll), Tone.INFO))
    if ctx.person.id not in poll.invitees:
        return Outcome(Notice("Only the people invited to this poll can vote in it.", Tone.INFO))
    option = next((o for o in poll.options if o.id == action.option), None)
    if option is None:
        return Outcome(Notice("That time is not part of this poll any more.", Tone.WARNING))
    click = Click(action.choice, ctx.sent_at or ports.clock.now(), ctx.event_id or ports.new_ref())
    ballot = await ports.polls.cast(poll.ref, option.id, ctx.person.id, click)
    if ballot is None:
        current = await ports.polls.get(poll.ref)  # closed meanwhile, here or elsewhere
        if current is not None and current.status is not PollStatus.OPEN:
            return Outcome(Notice(_not_open(current), Tone.INFO))
        return Outcome(Notice("This poll just closed; your vote was not counted.", Tone.INFO))
    when = describe(option.start, ctx.zone)
    now = ballot.vote
    said = (
        f"You voted {_said(now)} for {when}."
        if now is not None
        else f"You withdrew your vote for {when}."
    )
    poll = await _refreshed(ports, poll)
    # Read on each of a voter's clicks on this poll: kept a little while, as busy times are.
    clashes = await recently(
        ports.recent, ("poll clashes", poll.ref, ctx.person.id), lambda: _clashes(ports, ctx, poll)
    )
    if clashes:
        said += (
            " Your calendar is busy at: "
            + "; ".join(describe(o.start, ctx.zone) for o in clashes)
            + "."
        )
    # Drawn after this vote was counted, once for the votes counted meanwhile in this process.
    updates = await together(
        ports.recent, ("poll card", poll.ref), lambda: open_card_updates(ports, poll)
    )
    return Outcome(Notice(said, Tone.SUCCESS), updates=updates)


def _not_open(poll: Poll) -> str:
    state = "closed" if poll.status is PollStatus.CLOSED else "no longer open"
    return f"This poll is {state}; votes can't change any more."


def _said(choice: Choice) -> str:
    return "“yes”" if choice is Choice.YES else "“if need be”"


async def _refreshed(ports: Ports, poll: Poll) -> Poll:
    """The poll with busy counts at most ten minutes old (read again only when older)."""
    now = ports.clock.now()
    if poll.busy_checked_at is not None and now - poll.busy_checked_at < BUSY_REFRESH:
        return poll
    counts = await busy_counts(ports, poll, [Interval(o.start, o.end) for o in poll.options])
    options = [replace(o, busy_count=n) for o, n in zip(poll.options, counts, strict=True)]
    await ports.polls.replace_options(poll.ref, options, now)
    return replace(poll, options=tuple(options), busy_checked_at=now)


async def busy_counts(ports: Ports, poll: Poll, spans: Sequence[Interval]) -> list[int]:
    settings = await ports.programs.settings(poll.program)
    window = Interval(min(s.start for s in spans), max(s.end for s in spans))
    seen = await visible_to(ports, poll.program, poll.organizer, poll.invitees)
    busy = await read(ports, seen, window)
    return [sum(busy.during(person, span, settings.rules) for person in seen) for span in spans]


async def _clashes(ports: Ports, ctx: Context, poll: Poll) -> list[PollOption]:
    if not poll.options:
        return []
    settings = await ports.programs.settings(poll.program)
    window = Interval(poll.options[0].start, max(o.end for o in poll.options))
    mine = await read(ports, [ctx.person.id], window)
    return [
        o
        for o in poll.options
        if mine.during(ctx.person.id, Interval(o.start, o.end), settings.rules)
    ]
