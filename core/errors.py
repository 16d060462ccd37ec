"""The domain's exceptions, in one tree.

    PairtimeError
    ├── InvalidInput          bad data from a person or a file; names the field
    ├── InvalidAction         a button reference not made by Pairtime, altered, or stale
    └── ... (later issues add their branches here)

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
