"""Who is speaking: a chat identity and what its platform says about it, as a person.

Every chat surface (Slack, Teams, the web playground) asks here, so a person is the same
everywhere: their program exists from their first word, someone known by email on
another platform is found again, and a profile that says nothing new writes nothing.
"""

from __future__ import annotations

from typing import overload

from core.people import ChatIdentity, Person, Profile, program_of
from core.scheduling.context import Ports


@overload
async def identify(ports: Ports, identity: ChatIdentity, profile: Profile) -> Person: ...


@overload
async def identify(ports: Ports, identity: ChatIdentity, profile: None) -> Person | None: ...


async def identify(ports: Ports, identity: ChatIdentity, profile: Profile | None) -> Person | None:
    """The person behind ``identity``. With ``profile`` (what the platform knows), created
    or brought up to date; without it, only looked up (None when unknown)."""
    program = program_of(identity)
    known = await ports.people.by_chat_user(program, identity.user_id)
    if profile is None or (known is not None and _adds_nothing(known, profile)):
        return known
    return await ports.people.remember(program, identity, profile)


def _adds_nothing(known: Person, profile: Profile) -> bool:
    """Whether ``profile`` would leave ``known`` as it is (a handle alone is not worth a
    write: it only helps find people by name, and is kept from the first contact)."""
    return (
        known.name == profile.name
        and profile.email in (None, known.email)
        and profile.timezone in (None, known.timezone)
    )
