"""Organisation connections: IT connects the organisation's calendars once, for the program.

A Google Workspace service account with domain-wide delegation, a Microsoft 365 app
with an application permission, or an Exchange Server account allowed to read free/busy
reads the busy times of everyone in the program whose address is in the connected
domains, so nobody has to click through a consent screen. A person's own connection
takes precedence, and anyone may opt out for themselves.

Core sees what an admin set up and what people are told; the secrets (the key file,
the client secret or certificate key, the password) travel only as a masked
:class:`~core.secret.Secret` from the command line to storage and the adapters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from core.errors import OrganisationRefused
from core.people import ProgramId
from core.secret import Secret


class OrgProvider(StrEnum):
    """The kinds of organisation connection."""

    GOOGLE = "google"
    MICROSOFT = "microsoft"
    EXCHANGE = "exchange"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    OrgProvider.GOOGLE: "Google Workspace",
    OrgProvider.MICROSOFT: "Microsoft 365",
    OrgProvider.EXCHANGE: "Exchange",
}


class OrgStatus(StrEnum):
    CONNECTED = "connected"
    # The organisation withdrew the access (a deleted key, a removed delegation or consent,
    # a changed password): the program's admins are told once; nobody else sees an error.
    REVOKED = "revoked"
    KEY_MISSING = "key_missing"  # no configured encryption key opens the stored secret


@dataclass(frozen=True, slots=True)
class OrganisationConnection:
    """One organisation connection of a program, as admins and status messages see it."""

    program: ProgramId
    provider: OrgProvider
    name: str  # "Example Org": how people are told whose calendars these are
    domains: tuple[str, ...]  # lower case; who is covered
    program_account: str  # the mailbox Pairtime checks with, and writes meetings from
    status: OrgStatus
    connected_at: datetime
    can_write: bool = False  # may create events on the program account's calendar
    last_read_at: datetime | None = None
    last_error: str | None = None  # safe to show: never a secret, never an event

    def covers(self, email: str | None) -> bool:
        """Whether ``email`` is in one of the connected domains (subdomains are not)."""
        if not email or "@" not in email:
            return False
        return email.rsplit("@", 1)[1].strip().lower() in self.domains

    @property
    def described(self) -> str:
        """ "Example Org (Microsoft 365)": how a covered person's status names it."""
        return f"{self.name} ({self.provider.label})"


@dataclass(frozen=True, slots=True)
class OrganisationSetup:
    """What an admin gives to connect the organisation.

    ``settings`` are the plain parts (tenant, client id, EWS address, user name, a
    certificate's public half); ``secret`` is the JSON of the secret parts, masked.
    Empty ``domains`` asks the provider for them (Microsoft: the tenant's verified ones).
    """

    provider: OrgProvider
    name: str
    program_account: str
    domains: tuple[str, ...]
    settings: Mapping[str, str]
    secret: Secret = field(repr=False)
    write: bool = False  # ask for the optional grant to write the program account's calendar

    def as_verified(self, found: Verified) -> OrganisationSetup:
        """This setup as the provider verified it, as it is stored: the domains it covers,
        and the write grant only where the provider gave it."""
        return replace(self, domains=found.domains, write=found.can_write)


@dataclass(frozen=True, slots=True)
class Verified:
    """What checking a setup against the provider found: the domains it covers, and
    whether it may write the program account's calendar."""

    domains: tuple[str, ...]
    can_write: bool = False


__all__ = [
    "OrgProvider",
    "OrgStatus",
    "OrganisationConnection",
    "OrganisationRefused",
    "OrganisationSetup",
    "Verified",
    "looks_like_address",
    "normalised_domain",
]


def normalised_domain(text: str) -> str | None:
    """``text`` as a lower-case domain name, or None when it is not one."""
    domain = text.strip().lower().removeprefix("@").rstrip(".")
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2:
        return None
    for label in labels:
        if not 1 <= len(label) <= 63 or label.startswith("-") or label.endswith("-"):
            return None
        if not all(c.isascii() and (c.isalnum() or c == "-") for c in label):
            return None
    return domain


def looks_like_address(text: str) -> bool:
    local, at, domain = text.strip().rpartition("@")
    return bool(at and local and normalised_domain(domain) and " " not in local)
