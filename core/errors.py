"""The domain's exceptions, in one tree.

    PairtimeError
    ├── InvalidInput          bad data from a person or a file; names the field
    ├── InvalidAction         a button reference not made by Pairtime, altered, or stale
    └── RosterError           a person, circle, channel or program named that cannot be used
        ├── NotFound          nobody, no circle or no program by that name
        └── Conflict          taken already: a channel another circle meets in

Adapters turn each into a friendly reply or a one-line command-line error;
none of them carries a secret in its message.
"""

from __future__ import annotations


class PairtimeError(Exception):
    """Base of every error Pairtime raises on purpose."""


class InvalidInput(PairtimeError):
    """Input that cannot be used, with the name of the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidAction(PairtimeError):
    """A button reference that was not made by Pairtime, was altered, or names an action
    this version does not know; people are told the button has expired."""


class RosterError(PairtimeError):
    """A name (on the command line, in an imported file, in an admin's form) that cannot
    be used; the message says why, in words the admin can act on."""


class NotFound(RosterError):
    """Nobody, no circle or no program is known by that name."""


class Conflict(RosterError):
    """The change collides with what is kept: a circle's name or channel that is taken."""
