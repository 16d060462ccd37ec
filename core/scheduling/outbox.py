"""A meeting change's private messages, kept with the change: the chat outbox.

Booking a time, accepting or declining a proposal, moving, cancelling and adding a place
each tell people privately. Those messages are durable jobs (one per person and change,
kind :data:`TOLD`), enqueued in the change's own transaction with its emails and reminders
(``Meetings.book`` / ``Meetings.change``). A process that dies after the change committed
leaves them to whichever worker claims them; the click's second run, which finds the change
made already and changes nothing, has nothing to send, and need not. The key names the
meeting, its sequence and the person: a change enqueues its messages once, however many
times the click that made it runs.

A job holds what to say (the headline, notes, the speaker's zone), not the message: the
worker renders it from the meeting as stored when it runs (as reminders are), and drops it
when the meeting changed again meanwhile (that change tells them where it stands).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.actions import ReplayFind
from core.jobs import NewJob
from core.meetings import Meeting
from core.people import PersonId, ProgramId
from core.scheduling.common import DEFAULT_HORIZON, replay_reference
from core.scheduling.context import Ports
from core.scheduling.meeting_views import one_of, view, zone_for
from core.time import Interval
from core.views import Button, ButtonStyle, DirectMessage, Outcome

log = logging.getLogger(__name__)

TOLD = "meeting.told"


@dataclass(frozen=True, slots=True)
class Tell:
    """One private message a change sends: ``meeting`` as ``person`` sees it, under
    ``headline``. ``zone`` is the speaker's as they spoke (for their own message); ``place``
    asks them where it happens; ``again_with`` (a declined proposal) gives the proposer a
    "Find another time" with that person."""

    person: PersonId
    headline: str
    notes: tuple[str, ...] = ()
    place: bool = False
    zone: ZoneInfo | None = None
    again_with: PersonId | None = None


def jobs(meeting: Meeting, tells: Iterable[Tell], now: datetime) -> list[NewJob]:
    """The jobs of ``tells``, for ``meeting`` as it will be stored (its sequence raised)."""
    return [
        NewJob(
            TOLD,
            f"{TOLD}:{meeting.ref}:{meeting.sequence}:{tell.person}",
            {
                "program": meeting.program,
                "meeting": meeting.ref,
                "sequence": meeting.sequence,
                "person": tell.person,
                "headline": tell.headline,
                "notes": list(tell.notes),
                "place": tell.place,
                "zone": tell.zone.key if tell.zone is not None else None,
                "again_with": tell.again_with,
            },
            due_at=now,
        )
        for tell in tells
    ]


async def tell(ports: Ports, payload: Mapping[str, Any]) -> tuple[ProgramId, Outcome] | None:
    """A :data:`TOLD` job's message, unless the meeting changed again since (or went, or the
    person did)."""
    meeting = await ports.meetings.get(str(payload.get("meeting", "")))
    if meeting is None or meeting.sequence != payload.get("sequence"):
        log.info("a meeting's message was not sent: the meeting changed again, or went")
        return None
    found = await one_of(ports, meeting, PersonId(str(payload.get("person", ""))))
    if found is None:
        return None
    person, people, settings = found
    shown = view(
        ports,
        meeting,
        person,
        people,
        settings,
        headline=str(payload.get("headline", "")),
        zone=_zone(payload.get("zone")) or zone_for(person, settings, None),
        notes=tuple(str(note) for note in payload.get("notes") or ()),
        place=bool(payload.get("place")),
    )
    again_with = payload.get("again_with")
    if again_with:
        now = ports.clock.now()
        again = ReplayFind(
            person.id,
            (PersonId(str(again_with)),),
            int((meeting.end - meeting.start) / timedelta(minutes=1)),
            Interval(now, now + DEFAULT_HORIZON),
        )
        button = Button(
            "Find another time",
            await replay_reference(ports, meeting.program, again),
            ButtonStyle.PRIMARY,
        )
        shown = replace(shown, buttons=(button,))
    return meeting.program, Outcome(None, direct=(DirectMessage(person.id, shown),))


def told(tells: Sequence[Tell]) -> tuple[PersonId, ...]:
    """Who the outcome of a change tells privately (through the outbox, not itself)."""
    return tuple(dict.fromkeys(t.person for t in tells))


def _zone(name: object) -> ZoneInfo | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
