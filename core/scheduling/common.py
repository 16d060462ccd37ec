"""What finding a time, booking one and polling share: a request's terms and a person as
the engine sees them. Kept apart so that ``polls`` and ``booking`` need nothing of
``find_time``'s dialogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.actions import INLINE_LIMIT, ReplayFind, ReplayKept
from core.availability import Participant
from core.calendars import BusyTimes
from core.commands import Command, Exclusions, TimeOfDay
from core.meetings import SlotOffer
from core.people import Person, PersonId, ProgramId
from core.program import ProgramSettings
from core.scheduling.busy import Busy
from core.scheduling.context import Context, Ports, zone_of
from core.scheduling.window import allowed
from core.time import Interval

DEFAULT_HORIZON = timedelta(days=14)


def asked_window(command: Command, now: datetime) -> Interval:
    """The window ``command`` names, or the next :data:`DEFAULT_HORIZON`."""
    return command.window or Interval(now, now + DEFAULT_HORIZON)


def asked_minutes(command: Command, settings: ProgramSettings) -> int:
    """The length ``command`` names, or the default of the rules in ``settings`` (a track's,
    once its people are known)."""
    return command.duration_minutes if command.duration_given else settings.default_duration_minutes


@dataclass(frozen=True, slots=True)
class FindRequest:
    """A find-time request with its participants settled; what suggestion buttons replay."""

    others: tuple[PersonId, ...]
    duration_minutes: int
    window: Interval
    time_of_day: TimeOfDay | None = None
    moving: str | None = None  # the meeting a picked time moves, not in its own way
    # Times the speaker ruled out ("not Monday"), in this window and any other a button asks.
    ruled_out: Exclusions = field(default_factory=Exclusions)

    async def seal(self, ports: Ports, program: ProgramId, requester: PersonId) -> str:
        """A button reference that runs this request again, for ``requester`` only."""
        action = ReplayFind(
            requester,
            self.others,
            self.duration_minutes,
            self.window,
            self.time_of_day,
            self.moving,
            self.ruled_out or None,
        )
        return await replay_reference(ports, program, action)

    @classmethod
    def kept(cls, offer: SlotOffer) -> FindRequest:
        """The request a :class:`ReplayKept` button's offer holds."""
        return cls(
            tuple(p for p in offer.participants if p != offer.requester),
            offer.duration_minutes,
            offer.window,
            offer.time_of_day,
            offer.moving,
            offer.ruled_out,
        )

    @classmethod
    def replayed(cls, action: ReplayFind) -> FindRequest:
        return cls(
            action.others,
            action.duration_minutes,
            action.window,
            action.time_of_day,
            action.moving,
            action.ruled_out or Exclusions(),
        )

    def within(self, zone: ZoneInfo) -> list[Interval] | None:
        """The engine's ``within``: the speaker's time of day, less what they ruled out."""
        ruled_out = self.ruled_out.within(self.window, zone)
        return allowed(self.window, self.time_of_day, ruled_out, zone)


async def replay_reference(ports: Ports, program: ProgramId, action: ReplayFind) -> str:
    """``action`` as a button's reference: itself when it fits :data:`INLINE_LIMIT`,
    otherwise kept as an offer with no times yet, which a :class:`ReplayKept` names.

    Most requests fit (a pair's, a small circle's), so most buttons cost no write; a big
    circle with many ruled-out dates costs one row per button, kept as long as offers are.
    """
    reference = ports.actions.seal(action)
    if len(reference) <= INLINE_LIMIT:
        return reference
    kept = SlotOffer(
        ref=ports.new_ref(),
        program=program,
        requester=action.requester,
        participants=(action.requester, *action.others),
        duration_minutes=action.duration_minutes,
        window=action.window,
        slots=(),
        shown=(),
        created_at=ports.clock.now(),
        time_of_day=action.time_of_day,
        moving=action.moving,
        ruled_out=action.ruled_out or Exclusions(),
    )
    await ports.offers.add(kept)
    return ports.actions.seal(ReplayKept(kept.ref))


def engine_participant(
    person: Person, busy: Busy, settings: ProgramSettings, ctx: Context | None
) -> Participant:
    """``person`` for the engine: their calendar (if read) and their Pairtime meetings, in the
    speaker's zone for the speaker and their own for everyone else."""
    zone = (
        ctx.zone
        if ctx is not None and person.id == ctx.person.id
        else zone_of(person.timezone, settings.default_timezone)
    )
    result = busy.calendar(person.id)
    booked = busy.meetings(person.id)
    if isinstance(result, BusyTimes):
        return Participant(
            person.id,
            zone,
            calendar_connected=True,
            busy=result.intervals,
            working_hours=result.working_hours,
            booked=booked,
        )
    return Participant(person.id, zone, calendar_connected=False, booked=booked)


@dataclass(frozen=True, slots=True)
class TimeTaken:
    """The time picked can't be booked any more: fresh times are offered in place of the
    picker (``find_time.offer_again``; finding times is not booking's business)."""

    request: FindRequest
    settings: ProgramSettings
