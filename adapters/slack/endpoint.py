"""The Slack endpoint (being built: see issue 6)."""

from __future__ import annotations

from adapters.chat import ChatContext, ChatEndpoint
from adapters.slack.config import SlackSettings


async def start_slack(settings: SlackSettings, chat: ChatContext) -> ChatEndpoint:
    raise NotImplementedError("the Slack adapter is not built yet")
