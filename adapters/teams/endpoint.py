"""The Teams endpoint (being built: see issue 7)."""

from __future__ import annotations

from adapters.chat import ChatContext, ChatEndpoint
from adapters.teams.config import TeamsSettings


async def start_teams(settings: TeamsSettings, chat: ChatContext) -> ChatEndpoint:
    raise NotImplementedError("the Teams adapter is not built yet")
