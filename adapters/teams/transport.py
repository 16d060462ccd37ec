"""Teams' :class:`~adapters.chat.Transport`: where one activity's answers go.

An answer goes into the conversation the person spoke in (in the thread of a channel
post), or in place of the card they clicked; private messages go to each person's
personal chat, once per activity, person and content (a resent activity handled twice,
here or in another process, does not confirm twice; one whose process died while sending
is sent by the run that follows: :meth:`TeamsTransport.direct`); updates of posted cards through the
messenger (a poll's in version order); a poll into its channel, through the reference kept
for it.

A click answered after Teams stopped waiting (:class:`LateTransport`) has its own rules:
see :meth:`LateTransport.answer`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from adapters.chat import Deduplicator, deliver
from adapters.teams import cards, translate
from adapters.teams.messenger import DeliveryFailed, Outbox, TeamsMessenger
from adapters.teams.translate import Incoming, JsonDict
from core.people import PersonId, ProgramId
from core.ports import ChatAddresses
from core.views import MessageUpdate, Notice, Outcome, Tone, View

log = logging.getLogger(__name__)

POSTED_ELSEWHERE = "I've answered in a new message."
# How long a private message's key stays claimed by the run sending it (see
# TeamsTransport.direct): longer than a send takes, shorter than the time after which the
# row of a process that died is run again (bot.worker.LEASE, 10 s, less a renewal: about
# 6.7 s), so that run finds the claim of the dead one run out.
DIRECT_CLAIM = timedelta(seconds=5)
NOT_POSTED = (
    "I couldn't post the poll in its channel. Make sure Pairtime is added to that team, then "
    "mention me there once and post the poll again."
)


@dataclass(frozen=True)
class Conversation:
    """The activity someone sent, and what answering in its conversation takes."""

    incoming: Incoming
    outbox: Outbox
    references: ChatAddresses
    seen: Deduplicator
    base_url: str

    @property
    def reference(self) -> JsonDict:
        return translate.conversation_reference(self.incoming)

    def activity(self, view: View) -> JsonDict:
        options = cards.CardOptions(
            self.base_url,
            private=self.incoming.private,
            twelve_hour=self.incoming.twelve_hour,
        )
        return translate.message_activity(cards.render(view, options), cards.summary(view))

    async def post(self, view: View) -> None:
        """A new message in the conversation (a reply in the thread of a channel post)."""
        reference = self.reference
        if self.incoming.type == "invoke":
            reference["activityId"] = None  # a new message, not a reply to the click
        await self.outbox.post(reference, self.activity(view))

    async def replace(self, activity_id: str, view: View) -> None:
        await self.outbox.update(self.reference, activity_id, self.activity(view))


class TeamsTransport:
    """One activity's answers; without a conversation (Pairtime speaking first), only
    private messages and card updates go out."""

    def __init__(
        self,
        messenger: TeamsMessenger,
        program: ProgramId,
        conversation: Conversation | None = None,
        *,
        replace_id: str | None = None,
    ) -> None:
        self.messenger = messenger
        self.program = program
        self.conversation = conversation
        self.replace_id = replace_id  # the card clicked, when an answer may replace it

    async def answer(self, view: View, *, replace: bool) -> None:
        if self.conversation is None:
            log.info("an answer with no conversation to answer in; not sent")
            return
        if replace and self.replace_id:
            await self.conversation.replace(self.replace_id, view)
        else:
            await self.conversation.post(view)

    async def direct(self, person: PersonId, view: View) -> None:
        """Once per activity, person and content (a resent click runs again, and so does a
        row whose process died): the message's key is claimed for ``DIRECT_CLAIM`` before
        it goes, settled once Teams took it, released when it was refused. A process dying
        while sending leaves its claim to run out, and the run of its row that follows
        (another process's, once the row's lease ran out) sends the message: at least once,
        rather than at most. Twice only if a process dies in the round trip between Teams
        taking the message and the settling, or a send outlasts its claim while a resent
        copy of the activity sends the same message."""
        key = self._direct_key(person, view)
        if key is None:
            await self.messenger.send(self.program, person, view)
            return
        assert self.conversation is not None
        seen = self.conversation.seen
        if not await seen.claim(key, DIRECT_CLAIM):
            return  # sent already, or being sent by a live run
        try:
            await self.messenger.send(self.program, person, view)
        except Exception:
            await seen.release(key)  # not sent: another run may try (cancelled: it runs out)
            raise
        await seen.settle(key)

    def _direct_key(self, person: PersonId, view: View) -> str | None:
        if self.conversation is None or not self.conversation.incoming.id:
            return None
        content = f"{person}|{type(view).__name__}|{cards.summary(view)}"
        digest = hashlib.sha256(content.encode()).hexdigest()[:24]
        return f"{translate.dedupe_key(self.conversation.incoming)}:{digest}"

    async def broadcast(self, view: View, channel: str | None) -> Mapping[str, str] | None:
        """Into ``channel`` through the reference kept for it, else where the person spoke."""
        if self.conversation is None:
            log.warning("a message for everyone with no conversation to post in; not posted")
            return None
        incoming = self.conversation.incoming
        channel = channel or translate.channel_of(incoming)
        if channel is None:
            reference = self.conversation.reference | {"activityId": None}
        else:
            stored = await self.conversation.references.get(
                incoming.program, translate.channel_key(channel)
            )
            reference = stored or translate.channel_reference(incoming, channel)
        try:
            return await self.messenger.post_shared(reference, view)
        except DeliveryFailed as error:
            log.warning("a poll could not be posted in its channel (status %s)", error.status)
            await self.speaker_privately(Notice(NOT_POSTED, Tone.WARNING))
            return None

    async def update(self, update: MessageUpdate) -> None:
        await self.messenger.apply((update,))

    async def apologise(self) -> None:
        if self.conversation is not None:
            await self.conversation.outbox.post(
                self.conversation.reference,
                translate.message_activity(cards.error(), cards.FRIENDLY_ERROR),
            )

    async def speaker_privately(self, view: View) -> None:
        """``view`` in the personal chat of whoever sent the activity."""
        if self.conversation is None:
            return
        incoming = self.conversation.incoming
        person = await self.messenger.person(incoming.program, incoming.sender.stable_id)
        if person is not None:
            await self.messenger.send(incoming.program, person, view)

    def describe(self, error: Exception) -> str | None:
        if isinstance(error, DeliveryFailed):
            return f"Teams did not take a message (status {error.status})"
        return None


class LateTransport(TeamsTransport):
    """The answer to a click that came after Teams stopped waiting for it (the clicker saw
    "Working on it…" on a personal card, or "Got it" on a shared one)."""

    def __init__(
        self,
        messenger: TeamsMessenger,
        program: ProgramId,
        conversation: Conversation,
        *,
        speaker: PersonId | None,
        told_privately: bool,
        card: tuple[str, str] | None,
    ) -> None:
        super().__init__(
            messenger, program, conversation, replace_id=conversation.incoming.reply_to_id
        )
        self._speaker = speaker
        self._told_privately = told_privately  # a private message to them is on its way
        self._card = card  # the shared card clicked, if it was one

    async def answer(self, view: View, *, replace: bool) -> None:
        """On a shared card, the card stays as it was (its update is on its way) and the
        answer goes to the clicker's personal chat, at most one each little while about one
        card, unless a private message to them is on its way anyway (connect links are).
        On a personal card showing "Working on it…", the answer replaces it, or a note
        there says where the answer went."""
        conversation = self.conversation
        assert conversation is not None
        incoming = conversation.incoming
        if replace and self.replace_id:
            await conversation.replace(self.replace_id, view)
            return
        if not incoming.private:
            if not self._told_privately and self._speaker is not None:
                about = self._card or incoming.conversation_id
                self.messenger.answer_later(self.program, self._speaker, about, view)
            return
        if self.replace_id:
            await conversation.replace(self.replace_id, Notice(POSTED_ELSEWHERE))
        await conversation.post(view)

    async def apologise(self) -> None:
        conversation = self.conversation
        assert conversation is not None
        incoming = conversation.incoming
        if not incoming.private:  # the card is everyone's: say it to the clicker alone
            await self.speaker_privately(Notice(cards.FRIENDLY_ERROR, Tone.ERROR))
        elif self.replace_id:
            card = translate.message_activity(cards.error(), cards.FRIENDLY_ERROR)
            await conversation.outbox.update(conversation.reference, self.replace_id, card)
        else:
            await super().apologise()


class TeamsProactiveMessenger:
    """core's ``Messenger`` on Teams: what Pairtime says first (a calendar connected, a
    poll's reminder or its close), through each person's stored reference."""

    def __init__(self, messenger: TeamsMessenger) -> None:
        self._messenger = messenger

    async def deliver(self, program: ProgramId, outcome: Outcome) -> bool:
        return await deliver(outcome, TeamsTransport(self._messenger, program))
