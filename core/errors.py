"""Pairtime's exceptions, in one tree.

    PairtimeError                   every error Pairtime raises on purpose
    ├── InvalidInput                bad data from a person or a file; names the field
    ├── InvalidAction               a button reference not made by Pairtime, altered, or stale
    ├── NotAllowed                  an admin acting outside what they run (another track)
    ├── RosterError                 a person, circle, channel or program named that cannot be used
    │   ├── NotFound                nobody, no circle or no program by that name
    │   └── Conflict                taken already: a channel another circle meets in
    ├── OrganisationRefused         an organisation's setup that a check or its provider refused
    ├── SecretUnreadable            a stored secret that no configured key opens
    │   └── storage.crypto.SecretUnavailable
    └── ServiceError                a service outside Pairtime failed or refused
        ├── CalendarError           a calendar provider; ``str()`` is safe to show a person
        │   └── adapters.calendars.errors.ProviderError
        │       ├── GrantRevoked        revoked or expired: the person must connect again
        │       ├── ProviderUnavailable no useful answer in time (timeouts, 429, 5xx)
        │       ├── ConsentDenied       declined on the provider's consent page
        │       ├── WrongCredentials    an app-specific password the server refused
        │       ├── BadAnswer           an answer not as documented (a proxy's page, ...)
        │       └── adapters.calendars.organisation.base.AccessWithdrawn  IT withdrew a grant
        ├── ChatRefused             a chat platform did not take a message
        │   ├── adapters.slack.messenger.ReplyFailed     a response_url refused the answer
        │   └── adapters.teams.messenger.DeliveryFailed  the Bot Framework's status
        ├── MailRefused             an invitation email was not taken (retried unless permanent)
        └── PublishRefused          the program account's calendar did not take a meeting
            ├── adapters.calendars.organisation.writing.GrantWithdrawn  IT withdrew the grant
            └── adapters.calendars.organisation.writing.WriteNotAllowed  no write grant (any more)

Each leaf under another module is defined there, where it is raised, on a base from
here: code that only needs "a calendar failed" or "a chat platform refused" catches the
base. Adapters turn each into a friendly reply or a one-line command-line error; none of
them carries a secret, a token or what anyone wrote in its message.
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


class NotAllowed(PairtimeError):
    """The person may not do this: an admin of some tracks acting on another, or someone
    who is no admin at all. The message says whose permission is missing."""


class RosterError(PairtimeError):
    """A name (on the command line, in an imported file, in an admin's form) that cannot
    be used; the message says why, in words the admin can act on."""


class NotFound(RosterError):
    """Nobody, no circle or no program is known by that name."""


class Conflict(RosterError):
    """The change collides with what is kept: a circle's name or channel that is taken."""


class OrganisationRefused(PairtimeError):
    """An organisation connection's setup that a check or the provider refused; ``str()``
    says why and what to do, safe to print: no secret, no token."""


class SecretUnreadable(PairtimeError):
    """A stored secret (a calendar token, an installation) that none of the configured
    encryption keys opens. Carries no secret."""


class ServiceError(PairtimeError):
    """A service outside Pairtime (a calendar provider, a chat platform) failed or refused;
    the message names the service and the reason, never a payload."""


class CalendarError(ServiceError):
    """A calendar provider failed; ``str()`` is a short reason safe to show a person."""


class ChatRefused(ServiceError):
    """A chat platform did not take a message: Slack's error code, Teams' HTTP status."""


class MailRefused(ServiceError):
    """An invitation email could not be handed over (the mail server was away, or refused
    it). ``permanent`` when trying again cannot help (the server refused the address); the
    message names the server's reply code or the kind of failure, never a credential."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class PublishRefused(ServiceError):
    """The program account's calendar did not take a meeting (create, update or cancel).
    ``permanent`` when trying again cannot help (no write grant, the connection gone, a
    403): the meeting's email invitations go out instead. The message names the provider's
    answer, never a token or a key."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
