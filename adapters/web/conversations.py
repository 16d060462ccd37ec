"""The playground's conversations, kept in memory: the page is a local tool.

Meetings, offers, polls and connections live in the database like on any
platform; only what was said on the page lives here, and is gone when the
process stops. Every change (a new message, a message replaced) takes the
next number of one sequence, so a page asks for what changed since the last
number it saw.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime

from core.views import View

KEPT = 200  # messages per conversation; older ones drop off


def direct(user_id: str) -> str:
    """The key of a person's private conversation with Pairtime."""
    return f"dm:{user_id}"


def channel(name: str) -> str:
    """The key of a shared channel (a circle's)."""
    return f"channel:{name}"


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    conversation: str
    seq: int
    author: str  # "Pairtime", or the person who typed it
    at: datetime
    view: View | None = None  # what Pairtime said
    text: str | None = None  # what a person typed
    only_for: str | None = None  # the one user who sees it (a private answer in a channel)

    def visible_to(self, user_id: str) -> bool:
        return self.only_for is None or self.only_for == user_id


class Conversations:
    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._seq = 0
        self._next_id = 0
        self._messages: dict[str, deque[Message]] = {}

    @property
    def seq(self) -> int:
        """The number of the latest change."""
        return self._seq

    def post(
        self,
        conversation: str,
        *,
        author: str,
        at: datetime,
        view: View | None = None,
        text: str | None = None,
        only_for: str | None = None,
    ) -> Message:
        self._next_id += 1
        self._seq += 1
        posted = Message(self._next_id, conversation, self._seq, author, at, view, text, only_for)
        self._messages.setdefault(conversation, deque(maxlen=self._kept)).append(posted)
        return posted

    def get(self, conversation: str, message_id: int) -> Message | None:
        return next((m for m in self._messages.get(conversation, ()) if m.id == message_id), None)

    def replace(self, conversation: str, message_id: int, view: View) -> Message | None:
        """Show ``view`` in place of the message's content; None when it is gone."""
        messages = self._messages.get(conversation, deque())
        for index, current in enumerate(messages):
            if current.id == message_id:
                self._seq += 1
                messages[index] = replace(current, view=view, seq=self._seq)
                return messages[index]
        return None

    def since(self, conversation: str, user_id: str, seq: int) -> list[Message]:
        """What ``user_id`` may see of ``conversation`` that changed after ``seq``, in order."""
        return [
            m for m in self._messages.get(conversation, ()) if m.seq > seq and m.visible_to(user_id)
        ]

    def latest(self, conversation: str, user_id: str) -> int:
        """The number of the latest change ``user_id`` may see there (0 for none)."""
        return max(
            (m.seq for m in self._messages.get(conversation, ()) if m.visible_to(user_id)),
            default=0,
        )
