"""The playground's conversations in memory: ordering, private answers, updates, limits."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.web.conversations import Conversations, channel, direct
from core.views import Notice

AT = datetime(2026, 11, 25, 10, tzinfo=UTC)


def test_a_page_gets_only_what_changed_since_its_last_number():
    talk = Conversations()
    first = talk.post(direct("ana"), author="Ana", at=AT, text="hello")
    second = talk.post(direct("ana"), author="Pairtime", at=AT, view=Notice("Hi"))
    talk.post(direct("ben"), author="Pairtime", at=AT, view=Notice("Not Ana's"))
    assert [m.id for m in talk.since(direct("ana"), "ana", 0)] == [first.id, second.id]
    assert talk.since(direct("ana"), "ana", second.seq) == []

    replaced = talk.replace(direct("ana"), first.id, Notice("Edited"))
    assert replaced is not None
    assert replaced.seq == talk.seq > second.seq
    assert [m.id for m in talk.since(direct("ana"), "ana", second.seq)] == [first.id]
    assert talk.replace(direct("ana"), 999, Notice("x")) is None
    assert talk.replace(channel("nowhere"), first.id, Notice("x")) is None


def test_a_private_answer_in_a_channel_is_seen_by_its_reader_only():
    talk = Conversations()
    shared = talk.post(channel("circle"), author="Ana", at=AT, text="poll my circle")
    draft = talk.post(
        channel("circle"), author="Pairtime", at=AT, view=Notice("Draft"), only_for="ana"
    )
    assert [m.id for m in talk.since(channel("circle"), "ana", 0)] == [shared.id, draft.id]
    assert [m.id for m in talk.since(channel("circle"), "ben", 0)] == [shared.id]
    assert talk.latest(channel("circle"), "ana") == draft.seq
    assert talk.latest(channel("circle"), "ben") == shared.seq
    assert talk.latest(direct("cy"), "cy") == 0


def test_old_messages_drop_off():
    talk = Conversations(kept=3)
    posted = [talk.post(direct("ana"), author="Ana", at=AT, text=str(n)) for n in range(5)]
    assert [m.text for m in talk.since(direct("ana"), "ana", 0)] == ["2", "3", "4"]
    assert talk.get(direct("ana"), posted[0].id) is None
    assert talk.get(direct("ana"), posted[4].id) == posted[4]
