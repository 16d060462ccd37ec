"""Who is speaking: Slack users as Pairtime people, from ``users.info``, cached.

A profile is read from Slack once per person and TTL (a ``cachetools.TTLCache``; and once at
a time: concurrent requests for the same person share one call, :class:`InFlight`), then
given to core's ``identify``, which links the Slack user id to a person and, by email, to the
same person on other platforms.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.flight import InFlight
from adapters.slack import translate
from core.people import ChatIdentity, Person, Platform, Profile
from core.scheduling import Scheduler

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (team id, user id)


class SlackPeople:
    def __init__(
        self,
        scheduler: Scheduler,
        *,
        ttl_seconds: float = 600,
        max_entries: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scheduler = scheduler
        # None: not a person Pairtime can meet (a bot, a deleted user)
        self._known: TTLCache[Key, Person | None] = TTLCache(max_entries, ttl_seconds, timer=clock)
        self._reading: InFlight[Key, Person | None] = InFlight()

    async def speaker(self, client: AsyncWebClient, team_id: str, user_id: str) -> Person:
        """The person speaking; when Slack cannot tell us about them, a person by user id."""
        found = await self.lookup(client, team_id, user_id)
        if found is not None:
            return found
        identity = ChatIdentity(Platform.SLACK, team_id, user_id)
        known = await self._scheduler.identify(identity, None)
        if known is not None:
            return known
        return await self._remember(team_id, user_id, Profile(name=user_id))

    async def lookup(self, client: AsyncWebClient, team_id: str, user_id: str) -> Person | None:
        """The person behind a Slack user id (registered on first sight), or None for bots."""
        key = (team_id, user_id)
        try:
            return self._known[key]
        except KeyError:
            pass  # not known, or no longer
        return await self._reading.run(key, lambda: self._fetch(client, team_id, user_id))

    async def many(
        self, client: AsyncWebClient, team_id: str, user_ids: list[str]
    ) -> list[Person | None]:
        lookups: list[Awaitable[Person | None]] = [
            self.lookup(client, team_id, user) for user in user_ids
        ]
        return list(await asyncio.gather(*lookups))

    async def _fetch(self, client: AsyncWebClient, team_id: str, user_id: str) -> Person | None:
        try:
            answer = await client.users_info(user=user_id)
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            log.warning("users.info failed for a user of %s: %s", team_id, code)
            return None  # not cached: the next request asks again
        user = answer.get("user") or {}
        person = None
        if not user.get("is_bot") and not user.get("deleted") and user_id != "USLACKBOT":
            person = await self._remember(team_id, user_id, translate.profile_of(user))
        self._known[(team_id, user_id)] = person
        return person

    async def _remember(self, team_id: str, user_id: str, profile: Profile) -> Person:
        identity = ChatIdentity(Platform.SLACK, team_id, user_id)
        return await self._scheduler.identify(identity, profile)
