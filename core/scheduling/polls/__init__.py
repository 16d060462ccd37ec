"""Group polls, from "poll my circle" to a booked meeting.

1. The organiser asks, naming the invitees or "my circle"; naming nobody in a channel
   invites the circle linked to it, else everyone in it (at most ``MAX_INVITEES``).
   Pairtime reads the invitees' calendars once and
   proposes the times most of them can make (the engine's ``most`` mode),
   spread over several days, in a private draft. The organiser removes or
   adds times, may set a deadline and required attendees, then posts it.
2. The channel sees the poll: per time, the votes and how many invitees are
   busy, by their calendars or Pairtime meetings (never who). Invitees vote "yes" or "if need be";
   clicking again withdraws. A voter sees privately where their own calendar
   clashes. Busy counts are refreshed at most every 10 minutes, not per vote.
3. At the deadline, or when the organiser closes it, the winner is the time
   every required attendee can make with the most "yes" (then "if need be",
   then the earliest); ties are stated. It is booked once and everyone gets
   the invitation. Closing twice, in any process, does it once.

Each step is a module, in the order above: ``creating``, ``draft``, ``voting``, ``closing``
and ``deadlines``; ``message`` is the poll's card, which they all update.
"""

from __future__ import annotations

from core.scheduling.polls.closing import card_updates, close
from core.scheduling.polls.constants import MAX_INVITEES
from core.scheduling.polls.creating import create
from core.scheduling.polls.deadlines import CLOSE_JOB, NUDGE_JOB, deadline, nudge
from core.scheduling.polls.draft import edit, posted
from core.scheduling.polls.voting import vote

__all__ = [
    "CLOSE_JOB",
    "MAX_INVITEES",
    "NUDGE_JOB",
    "card_updates",
    "close",
    "create",
    "deadline",
    "edit",
    "nudge",
    "posted",
    "vote",
]
