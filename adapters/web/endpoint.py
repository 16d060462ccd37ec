"""The playground endpoint (being built: see issue 9)."""

from __future__ import annotations

from adapters.chat import ChatContext, ChatEndpoint


async def start_web(chat: ChatContext) -> ChatEndpoint:
    raise NotImplementedError("the web playground is not built yet")
