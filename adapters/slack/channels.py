"""Who is in a Slack channel: core's ``ChannelMembers`` port, for a poll that names nobody.

``conversations.members`` lists user ids a page at a time (apps included); each id then
becomes a person through :class:`~adapters.slack.people.SlackPeople` (``users.info``, cached,
which leaves bots and deactivated accounts out). A channel with many more ids than a poll
may invite is answered from the count alone, so a large channel costs no ``users.info``
call per member.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import translate
from adapters.slack.messenger import WorkspaceClients, slack_error
from adapters.slack.people import SlackPeople
from core.people import CrowdedChannel, Person, ProgramId

log = logging.getLogger(__name__)

PAGE = 1000  # ids per conversations.members call (Slack's largest page)
MOST_COUNTED = 5000  # a channel is counted no further: "more than 5,000 members"
APPS_ALLOWED = 10  # ids beyond the limit looked up anyway: some may be apps, not people


class SlackChannelMembers:
    def __init__(self, clients: WorkspaceClients, people: SlackPeople) -> None:
        self._clients = clients
        self._people = people

    async def members(
        self, program: ProgramId, channel: str, *, limit: int
    ) -> Sequence[Person] | CrowdedChannel | None:
        """The channel's people; None when Slack will not list it (Pairtime is not in a
        private channel, a scope the installation lacks, no such channel)."""
        team = translate.team_of(program)
        client = await self._clients.for_team(team) if team else None
        if team is None or client is None:
            log.info("no Slack installation for %s: channel members not listed", program)
            return None
        try:
            ids, complete = await self._member_ids(client, channel)
        except SlackApiError as error:
            log.warning("conversations.members failed in %s: %s", team, slack_error(error))
            return None
        if not complete or len(ids) > limit + APPS_ALLOWED:
            return CrowdedChannel(len(ids), at_least=not complete)
        found = await self._people.many(client, team, ids)
        return [person for person in found if person is not None]

    async def _member_ids(self, client: AsyncWebClient, channel: str) -> tuple[list[str], bool]:
        """Every member id, in pages; False when counting stopped at MOST_COUNTED."""
        ids: list[str] = []
        cursor: str | None = None
        while True:
            page = await client.conversations_members(channel=channel, limit=PAGE, cursor=cursor)
            ids.extend(str(member) for member in page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return ids, True
            if len(ids) >= MOST_COUNTED:
                return ids, False
