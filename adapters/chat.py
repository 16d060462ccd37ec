"""What every chat adapter (Slack, Teams, the web playground) is given and must provide.

``bot.server`` builds a :class:`ChatContext` once the event loop runs, asks each
configured adapter for its :class:`ChatEndpoint`, forwards that platform's HTTP
requests to it, and registers its messenger for messages Pairtime sends first and its
channel members for polls that invite a whole channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import aiohttp
from aiohttp import web

from core.ports import ChannelMembers, Clock, Messenger
from core.scheduling import Scheduler
from storage.store import Storage


@dataclass(frozen=True)
class ChatContext:
    scheduler: Scheduler
    storage: Storage  # people, programs, events (deduplication), meetings, conversations
    clock: Clock
    base_url: str  # the public address, for links
    http: aiohttp.ClientSession  # the shared outbound session


class ChatEndpoint(Protocol):
    @property
    def messenger(self) -> Messenger:
        """Delivers direct messages on this platform."""
        ...

    @property
    def channel_members(self) -> ChannelMembers:
        """Lists a channel's people on this platform (a poll with nobody named)."""
        ...

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one HTTP request for this platform's paths."""
        ...

    async def close(self) -> None: ...
