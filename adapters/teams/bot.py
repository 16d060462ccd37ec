"""The botbuilder activity handler: thin. It hands each activity, as the JSON it came in, to
:class:`adapters.teams.turns.Turns` and returns invoke responses as plain JSON bodies."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler

from adapters.teams.translate import CARD_ACTION, Incoming
from adapters.teams.turns import Turns

INCOMING = "pairtime.incoming"  # turn_state key: the parsed activity


class PairtimeBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(self, turns: Turns) -> None:
        super().__init__()
        self._turns = turns

    @staticmethod
    def incoming(turn_context: TurnContext) -> Incoming:
        incoming: Incoming = turn_context.turn_state[INCOMING]
        return incoming

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self._turns.message(self.incoming(turn_context))

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        incoming = self.incoming(turn_context)
        if incoming.installs_bot:
            await self._turns.installed(incoming)

    async def on_invoke_activity(self, turn_context: TurnContext) -> Any:
        if turn_context.activity.name != CARD_ACTION:
            return await super().on_invoke_activity(turn_context)
        body = await self._turns.card_action(self.incoming(turn_context))
        # The body goes back as JSON untouched: botbuilder 4.17 cannot serialize a plain
        # dict (CloudAdapter.process fails with 'dict' has no attribute 'is_xml_model').
        return InvokeResponse(status=int(HTTPStatus.OK), body=body)
