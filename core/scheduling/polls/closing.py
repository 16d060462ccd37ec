"""Closing a poll: the winner, its booking, or the poll cancelled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from core.meetings import Meeting
from core.people import Person, PersonId
from core.polls import Choice, Poll, PollBooking, PollOption, PollStatus, Vote
from core.program import LocationMode, ProgramSettings
from core.scheduling import announce, meeting_views, outbox, publishing
from core.scheduling.context import Context, Ports, zone_of
from core.scheduling.outbox import Tell
from core.scheduling.polls.message import card_update, open_card_updates, poll_view
from core.time import describe
from core.views import (
    MessageUpdate,
    Notice,
    Outcome,
    Tone,
)


@dataclass(frozen=True, slots=True)
class Result:
    """How a poll ended. ``text`` is for the shared message, so it names no time: each
    reader sees the options in their own zone, marked winner or tied. ``told`` is for the
    organiser alone, with the tied times in their zone."""

    winner: PollOption | None
    text: str
    tied: tuple[int, ...] = ()
    told: str = ""

    @property
    def private(self) -> str:
        return self.told or self.text


def decide(poll: Poll, votes: Sequence[Vote], zone: ZoneInfo) -> Result:
    """The winning option: every required attendee in, most "yes", then "if need be", earliest."""
    yes: dict[int, set[PersonId]] = {o.id: set() for o in poll.options}
    maybe: dict[int, set[PersonId]] = {o.id: set() for o in poll.options}
    for v in votes:
        (yes if v.choice is Choice.YES else maybe).setdefault(v.option, set()).add(v.person)
    if not votes:
        return Result(None, "Nobody voted, so nothing was booked.")
    required = set(poll.required)
    eligible = [o for o in poll.options if required <= yes[o.id] | maybe[o.id]]
    if not eligible:
        return Result(None, "No time suits every required attendee, so nothing was booked.")

    def score(option: PollOption) -> tuple[int, int]:
        return (len(yes[option.id]), len(maybe[option.id]))

    best = min(eligible, key=lambda o: (-score(o)[0], -score(o)[1], o.start))
    tied = [o for o in eligible if o is not best and score(o) == score(best)]
    if not tied:
        return Result(best, "The most popular time was booked.")
    others = ", ".join(describe(o.start, zone) for o in tied)
    count = "another time" if len(tied) == 1 else f"{len(tied)} other times"
    return Result(
        best,
        f"It tied with {count} (marked “tied”); the earliest was booked.",
        tied=tuple(o.id for o in tied),
        told=f"It tied with {others}; the earliest was booked.",
    )


async def close(ports: Ports, poll: Poll, *, by: Context | None) -> Outcome:
    """Close and book (the organiser's button, or the deadline when ``by`` is None).

    The close and its booking are one transaction (``Polls.close``): a process that dies or
    a write that fails leaves the poll open and nothing booked, so the click (or deadline)
    run again closes it then. What the booking needs that the votes do not decide is read
    before; inside, :class:`_Closing` only decides and draws the meeting up."""
    now = ports.clock.now()
    settings = await ports.programs.settings(poll.program)
    organizer = await ports.people.get(poll.organizer)
    zone = (
        by.zone
        if by
        else zone_of(organizer.timezone if organizer else None, settings.default_timezone)
    )
    closing = _Closing(
        ports,
        settings=settings,
        people=await ports.people.many(poll.invitees),
        publishes=await publishing.publishes(ports, poll.program),
        zone=zone,
        ref=ports.new_ref(),
        now=now,
    )
    closed = await ports.polls.close(poll.ref, now, closing.book)
    if closed is None or closing.result is None:
        return await _closed_before(ports, poll.ref, closing, by=by)
    result = closing.result
    view = await poll_view(ports, closed, zone, result=result)
    reply = Notice(result.private, Tone.SUCCESS if result.winner else Tone.INFO) if by else None
    return Outcome(reply, updates=card_update(closed, view), told=outbox.told(closing.tells))


async def _closed_before(
    ports: Ports, ref: str, closing: _Closing, *, by: Context | None
) -> Outcome:
    """Another close won, or this one runs again (its click's row, its deadline's job)
    after its process died once the close had committed, perhaps before the card was
    updated. The card is drawn as that close drew it: the votes are final, so the decision
    is the same, and the same version, so the card's newest render stays (a later change of
    its meeting drew it with a higher one). Nothing is booked or told again.

    A poll closed without its meeting (before closes booked in their own transaction, a
    booking that failed after the close committed lost it) is booked now: keyed by the
    poll, once, however many closes run this at once."""
    notice = Notice("This poll is already closed.", Tone.INFO) if by else None
    closed = await ports.polls.get(ref)
    if closed is None or closed.status is not PollStatus.CLOSED:
        return Outcome(notice)
    votes = await ports.polls.votes(ref)
    booking = closing.book(closed, votes)
    result = closing.result
    assert result is not None  # decided by book
    told: tuple[PersonId, ...] = ()
    if closed.meeting is None and booking is not None:
        meeting, created = await ports.meetings.book(booking.meeting, booking.jobs)
        closed = replace(closed, meeting=meeting.ref)
        if created:
            told = outbox.told(closing.tells)
            notice = Notice(result.private, Tone.SUCCESS) if by else None
    view = await poll_view(ports, closed, closing.zone, result=result)
    return Outcome(notice, updates=card_update(closed, view), told=told)


@dataclass
class _Closing:
    """A poll's close decided inside its transaction (``Polls.close`` calls :meth:`book`):
    the winner from the final votes, and the meeting with its jobs. It calls no port; what
    it needs was read before. What it decided stays here for the outcome."""

    ports: Ports
    settings: ProgramSettings
    people: Mapping[PersonId, Person]
    publishes: bool
    zone: ZoneInfo
    ref: str
    now: datetime
    result: Result | None = None
    tells: tuple[Tell, ...] = ()

    def book(self, poll: Poll, votes: Sequence[Vote]) -> PollBooking | None:
        self.result = decide(poll, votes, self.zone)
        self.tells = ()
        if self.result.winner is None:
            return None
        return self._booking(poll, self.result.winner, votes)

    def _booking(self, poll: Poll, option: PollOption, votes: Sequence[Vote]) -> PollBooking:
        """The winning time booked for the organiser, those who said yes or "if need be" to
        it, and the required attendees: they get the invitation, and it is their busy time.
        Each is told privately through the outbox (jobs stored with the meeting)."""
        settings, now = self.settings, self.now
        coming = {poll.organizer, *poll.required}
        coming |= {v.person for v in votes if v.option == option.id}
        attendees = [self.people[p] for p in poll.invitees if p in self.people and p in coming]
        meeting = Meeting(
            ref=self.ref,
            program=poll.program,
            organizer=poll.organizer,
            participants=tuple(p.id for p in attendees),
            start=option.start,
            end=option.end,
            title=poll.title,
            created_at=now,
            poll_ref=poll.ref,
            proposer=poll.organizer,
            location=settings.location.place
            if settings.location.mode is LocationMode.FIXED
            else None,
        )
        messages = announce.invitation_emails(self.ports, meeting, attendees, settings, stamp=now)
        ask_place = settings.location.mode is LocationMode.ASK
        headline = f"The poll “{poll.title}” is closed: the meeting is booked."
        self.tells = tuple(
            Tell(
                person.id,
                headline,
                tuple(meeting_views.not_emailed(attendees, messages, self.ports)),
                place=ask_place,
            )
            if person.id == poll.organizer
            else Tell(person.id, headline)
            for person in attendees
        )
        jobs = [
            *outbox.jobs(meeting, self.tells, now),
            *publishing.jobs_for(meeting, messages, now, publishes=self.publishes),
            *announce.reminder_jobs(meeting, settings, now),
        ]
        return PollBooking(meeting, jobs)


async def card_updates(ports: Ports, poll: Poll) -> tuple[MessageUpdate, ...]:
    """The poll's card as it now is (its meeting cancelled, for one). A closed poll's card
    keeps its winner marked, and its result says what became of the meeting."""
    if poll.status is not PollStatus.CLOSED:
        return await open_card_updates(ports, poll)
    if poll.message is None:
        return ()
    organizer = await ports.people.get(poll.organizer)
    settings = await ports.programs.settings(poll.program)
    zone = zone_of(organizer.timezone if organizer else None, settings.default_timezone)
    # Drawn without a result, the view marks the winner by the meeting and says its state.
    return card_update(poll, await poll_view(ports, poll, zone))


async def cancel(ports: Ports, ctx: Context, poll: Poll) -> Outcome:
    """Cancel an open poll, or discard a draft. Found cancelled already (another click, or
    this one run again after its process died once the cancel had committed, perhaps before
    the card was updated), the card is drawn as the cancel drew it: the same version, so a
    card already updated stays as it is."""
    if not await ports.polls.cancel(poll.ref, ports.clock.now()):
        notice = Notice("This poll is already closed.", Tone.INFO)
        found = await ports.polls.get(poll.ref)
        if found is None or found.status is not PollStatus.CANCELLED:
            return Outcome(notice)
        return Outcome(notice, updates=card_update(found, await poll_view(ports, found, ctx.zone)))
    cancelled = await ports.polls.get(poll.ref) or poll
    view = await poll_view(ports, cancelled, ctx.zone)
    was_draft = poll.status is PollStatus.DRAFT
    return Outcome(
        Notice("The poll is discarded." if was_draft else "The poll is cancelled.", Tone.INFO),
        replaces_original=was_draft,
        updates=card_update(cancelled, view),
    )
