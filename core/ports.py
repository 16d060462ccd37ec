"""The ports core needs from the outside world, as Protocols.

``storage/`` implements the repositories, ``adapters/calendars`` the busy-time
source, connect links and calendar connections; tests use the in-memory
versions in ``tests/memory.py``. Every method that touches the outside is
async; none takes or returns a token or a password.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from core.calendars import BusyResult, CalendarConnection
from core.commands import Provider
from core.meetings import Meeting, SlotOffer
from core.people import ChatIdentity, Group, Person, PersonId, ProgramId
from core.program import ProgramSettings
from core.time import Interval
from core.views import Outcome


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class People(Protocol):
    async def get(self, person: PersonId) -> Person | None: ...

    async def many(self, people: Sequence[PersonId]) -> Mapping[PersonId, Person]: ...

    async def by_chat_user(self, program: ProgramId, user_id: str) -> Person | None:
        """The person behind a mention in this program's chat platform."""
        ...

    async def by_name(self, program: ProgramId, name: str) -> Sequence[Person]:
        """People of the program whose name or handle matches ``name``, case-insensitively."""
        ...

    async def identities(self, person: PersonId) -> Sequence[ChatIdentity]: ...


class Pairings(Protocol):
    async def mentees_of(self, program: ProgramId, mentor: PersonId) -> Sequence[Person]: ...

    async def mentors_of(self, program: ProgramId, mentee: PersonId) -> Sequence[Person]: ...


class Groups(Protocol):
    async def groups_of(self, program: ProgramId, member: PersonId) -> Sequence[Group]: ...


class Programs(Protocol):
    async def settings(self, program: ProgramId) -> ProgramSettings: ...

    async def save_settings(self, program: ProgramId, settings: ProgramSettings) -> None: ...

    async def is_admin(self, program: ProgramId, person: PersonId) -> bool: ...


class CalendarConnections(Protocol):
    async def get(self, person: PersonId) -> CalendarConnection | None: ...

    async def disconnect(self, person: PersonId) -> CalendarConnection | None:
        """Forget the person's calendar (revoking the grant where the provider allows).

        Returns what was removed, or None when nothing was connected.
        """
        ...


class BusyTimeSource(Protocol):
    async def busy_times(
        self, people: Sequence[PersonId], window: Interval, *, fresh: bool = False
    ) -> Mapping[PersonId, BusyResult]:
        """Busy times of everyone in ``people`` over ``window``, read concurrently.

        Every person gets an answer: their busy blocks, "not connected", or
        "unreadable" with a reason. ``fresh`` skips any cache (used right
        before booking).
        """
        ...


class ConnectLinks(Protocol):
    @property
    def available(self) -> frozenset[Provider]:
        """The services this server can connect (it has their app credentials)."""
        ...

    async def link(self, identity: ChatIdentity, person: PersonId, provider: Provider) -> str:
        """A single-use URL through which ``person``, speaking as ``identity``, connects."""
        ...


class Messenger(Protocol):
    async def deliver(self, program: ProgramId, outcome: Outcome) -> None:
        """Send ``outcome``'s direct messages outside any conversation (its reply is unused).

        Used when Pairtime speaks first: after a calendar connects, for poll nudges.
        """
        ...


class Offers(Protocol):
    async def add(self, offer: SlotOffer) -> None: ...

    async def get(self, ref: str) -> SlotOffer | None: ...

    async def mark_shown(self, ref: str, shown: Sequence[Interval]) -> None:
        """Record that ``shown`` have now been offered too ("more times")."""
        ...


class Meetings(Protocol):
    async def book(self, meeting: Meeting) -> tuple[Meeting, bool]:
        """Store ``meeting`` unless its offer already has one, atomically.

        Returns the stored meeting and whether this call created it: under any
        concurrency, one offer yields exactly one meeting.
        """
        ...

    async def get(self, ref: str) -> Meeting | None: ...

    async def for_offer(self, offer_ref: str) -> Meeting | None: ...

    async def upcoming(self, person: PersonId, after: datetime) -> Sequence[Meeting]: ...

    async def cancel(self, ref: str) -> Meeting | None:
        """Mark the meeting cancelled (raising its sequence); None when it was already."""
        ...
