"""How big a poll may be, the deadlines offered, and the sentences said more than once."""

from __future__ import annotations

from datetime import timedelta

PROPOSED = 5
MIN_OPTIONS, MAX_OPTIONS = 3, 8
BUSY_REFRESH = timedelta(minutes=10)
DEADLINES = ((0, "No deadline"), (24, "In 1 day"), (48, "In 2 days"), (168, "In 1 week"))
# A poll invites at most this many (the organiser included): its message and draft are built
# and checked for fifty in Slack and Teams.
MAX_INVITEES = 50
WHO = (
    "Who should I invite? Mention them (“poll @ana @ben for an hour next week”), or say "
    "“poll my circle”."
)
NOT_ORGANISER = "Only the organiser can change this poll."
GONE = "This poll no longer exists."
