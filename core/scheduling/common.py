"""What finding a time, booking one and polling share: a request's terms and a person as
the engine sees them. Kept apart so that ``polls`` and ``booking`` need nothing of
``find_time``'s dialogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.actions import ReplayFind
from core.availability import Participant
from core.calendars import BusyTimes
from core.commands import Command, Exclusions, TimeOfDay
from core.people import Person, PersonId
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

    def seal(self, ports: Ports, requester: PersonId) -> str:
        """A button reference that runs this request again, for ``requester`` only."""
        return ports.actions.seal(
            ReplayFind(
                requester,
                self.others,
                self.duration_minutes,
                self.window,
                self.time_of_day,
                self.moving,
                self.ruled_out or None,
            )
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
