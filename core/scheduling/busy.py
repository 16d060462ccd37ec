"""Who is busy when: people's calendars and Pairtime's own meetings, read together.

Every search, picker, slot check, poll proposal and poll busy count reads here, so a
proposed or confirmed meeting is busy time for its people (status ``busy``) whether or not
they connected a calendar, and whether or not its invitation has reached their calendar.
A declined or cancelled meeting is not read at all: it frees the time at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.availability import BusyInterval, busy_during
from core.calendars import BusyResult, BusyTimes
from core.people import PersonId
from core.rules import Rules
from core.scheduling.context import Ports
from core.time import Interval


@dataclass(frozen=True, slots=True)
class Busy:
    """One read's answers: each person's calendar result, and their meetings in the window."""

    calendars: Mapping[PersonId, BusyResult]
    booked: Mapping[PersonId, Sequence[Interval]]

    def calendar(self, person: PersonId) -> BusyResult | None:
        return self.calendars.get(person)

    def meetings(self, person: PersonId) -> tuple[Interval, ...]:
        return tuple(self.booked.get(person, ()))

    def during(self, person: PersonId, span: Interval, rules: Rules) -> bool:
        """Whether ``person`` is busy at ``span``: in a meeting, or by a calendar block that
        counts under ``rules`` (both widened by the buffer)."""
        blocks = [BusyInterval(m.start, m.end) for m in self.meetings(person)]
        result = self.calendars.get(person)
        if isinstance(result, BusyTimes):
            blocks += result.intervals
        return busy_during(blocks, span, rules)


async def read(
    ports: Ports,
    people: Sequence[PersonId],
    window: Interval,
    *,
    fresh: bool = False,
    excluding: str | None = None,
) -> Busy:
    """Busy times of ``people`` over ``window``: calendars and meetings, read concurrently.

    ``fresh`` skips the calendar cache (right before booking); ``excluding`` leaves one
    meeting out (the one being moved is not in its own way).
    """
    # One task, not gather's two: the calendars are read meanwhile, in this one.
    booked = asyncio.ensure_future(ports.meetings.busy(people, window, excluding=excluding))
    try:
        calendars = await ports.busy.busy_times(people, window, fresh=fresh)
    except BaseException:
        booked.cancel()
        raise
    return Busy(calendars, await booked)
