"""Who is in a Teams channel or group chat: core's ``ChannelMembers`` port, for a poll that
names nobody.

Teams lists a team's roster, not a standard channel's (everyone in the team is in its
standard channels), so a channel is read through its team, as :class:`~adapters.teams.turns.
Turns` tells :meth:`TeamsChannelMembers.heard` on each activity from it; a group chat is its
own roster. The roster is read a page at a time through the channel's stored reference
(``channel:{id}``), and each person on it is remembered like someone mentioned: their
person (name, email) and the address for writing to them privately later (reminders,
invitations).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.teams import translate
from adapters.teams.messenger import DeliveryFailed, Outbox
from adapters.teams.translate import Account, JsonDict
from core.people import ChatIdentity, CrowdedChannel, Person, Platform, ProgramId, workspace_of
from core.ports import ChatAddresses, Clock
from core.scheduling import Scheduler

log = logging.getLogger(__name__)

PAGE = 500  # members per pagedmembers call (Teams' largest page)
MOST_COUNTED = 5000  # a roster is counted no further: "more than 5,000 members"
REMEMBERED_ROSTERS = 50_000


class TeamsChannelMembers:
    def __init__(
        self, outbox: Outbox, scheduler: Scheduler, addresses: ChatAddresses, clock: Clock
    ) -> None:
        self._outbox = outbox
        self._scheduler = scheduler
        self._addresses = addresses
        self._clock = clock
        self._rosters: dict[tuple[str, str], str] = {}

    def heard(self, program: ProgramId, channel: str, roster: str) -> None:
        """``channel``'s members are listed as ``roster``'s (its team's, or the chat itself).

        Core asks for a channel's members while answering a message from that channel, so
        the activity that names its team has always just been heard in this process.
        """
        if len(self._rosters) >= REMEMBERED_ROSTERS:
            self._rosters.clear()
        self._rosters[(program, channel)] = roster

    async def members(
        self, program: ProgramId, channel: str, *, limit: int
    ) -> Sequence[Person] | CrowdedChannel | None:
        """The people on the channel's roster; None when there is no reference to read it
        with, or Teams refuses (the bot is not in that team any more, say)."""
        reference = await self._addresses.get(program, translate.channel_key(channel))
        if reference is None:
            log.info("no reference for a channel of %s: its members not listed", program)
            return None
        bot_id = (reference.get("bot") or {}).get("id")
        roster = self._rosters.get((program, channel), channel)
        try:
            found, complete = await self._roster(reference, roster, bot_id)
        except DeliveryFailed as error:
            log.warning("a channel's members in %s not listed (status %s)", program, error.status)
            return None
        if not complete or len(found) > limit:
            return CrowdedChannel(len(found), at_least=not complete)
        return [await self._remember(program, reference, *entry) for entry in found]

    async def _roster(
        self, reference: Mapping[str, Any], roster: str, bot_id: str | None
    ) -> tuple[list[tuple[Account, JsonDict]], bool]:
        """The people on ``roster`` (bots left out), and False when counting stopped early."""
        people: list[tuple[Account, JsonDict]] = []
        seen: set[str] = set()
        continuation: str | None = None
        while True:
            page, continuation = await self._outbox.roster_page(
                reference, roster, continuation=continuation, page_size=PAGE
            )
            for member in page:
                account = translate.roster_person(member, bot_id)
                if account is not None and account.stable_id not in seen:
                    seen.add(account.stable_id)
                    people.append((account, member))
            if continuation is None:
                return people, True
            if len(people) >= MOST_COUNTED:
                return people, False

    async def _remember(
        self, program: ProgramId, reference: Mapping[str, Any], account: Account, member: JsonDict
    ) -> Person:
        """The person behind a roster entry, created or refreshed, and reachable privately."""
        email = translate.member_profile(member)[0]
        identity = ChatIdentity(Platform.TEAMS, workspace_of(program), account.stable_id)
        known = await self._scheduler.identify(identity, None)
        person = await self._scheduler.identify(
            identity, translate.profile(account, email, None, known)
        )
        if await self._addresses.get(program, account.stable_id) is None:
            address = translate.roster_address(reference, account)
            await self._addresses.save(program, account.stable_id, address, self._clock.now())
        return person
