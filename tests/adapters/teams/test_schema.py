"""adapters.teams.schema makes what msrest's ``Model.deserialize`` makes, on every activity
shape the fakes record, on Pairtime's own outgoing cards, and on the odd values msrest has
rules for; and it fails where msrest fails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference
from msrest.exceptions import DeserializationError  # type: ignore[attr-defined]
from msrest.serialization import Model, Serializer

from adapters.teams import cards, schema, translate
from core.views import Notice
from tests.fakes import teams_activities as ta

URL = "https://smba.trafficmanager.net/emea/"


def same(ours: Any, theirs: Any, where: str = "activity") -> None:
    """Equal all the way down: the same classes, attributes and unknown keys."""
    assert type(ours) is type(theirs), where
    if isinstance(theirs, Model):
        for attribute in theirs._attribute_map:
            same(getattr(ours, attribute), getattr(theirs, attribute), f"{where}.{attribute}")
        assert ours.additional_properties == theirs.additional_properties, where
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), where
        for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            same(mine, other, f"{where}[{index}]")
    elif isinstance(theirs, dict):
        assert ours.keys() == theirs.keys(), where
        for key in theirs:
            same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, datetime):
        assert ours == theirs, where
        assert ours.utcoffset() == theirs.utcoffset(), where
        assert ours.isoformat() == theirs.isoformat(), where
    else:
        assert ours == theirs, where


RECORDED = {
    "personal message": ta.personal_message("find a time with my mentee", service_url=URL),
    "channel message": ta.channel_message("<at>Pairtime</at> poll", service_url=URL),
    "installed in a team": ta.bot_installed(service_url=URL, scope="team"),
    "installed for a person": ta.bot_installed(service_url=URL),
    "card click": ta.adaptive_card_action("pick", {"slot": "x"}, service_url=URL),
    "card click in a channel": ta.adaptive_card_action(
        "vote", {"option": 2}, service_url=URL, personal=False, reply_to_id="1:abc"
    ),
    "our welcome card": translate.message_activity(
        cards.welcome(Notice("Connected."), cards.CardOptions("https://pairtime.example.org")),
        "Welcome",
    ),
    "our working card": translate.message_activity(cards.working(), "Working on it"),
}


@pytest.mark.parametrize("name", RECORDED)
def test_an_activity_is_what_msrest_makes_of_it(name: str):
    data = RECORDED[name]

    ours = schema.activity(data)

    same(ours, Activity().deserialize(data))
    assert ours.serialize() == Activity().deserialize(data).serialize()


def test_a_conversation_reference_is_what_msrest_makes_of_it():
    incoming = schema.activity(RECORDED["channel message"])
    data = {
        **ConversationReference(
            activity_id=incoming.id,
            user=incoming.from_property,
            bot=incoming.recipient,
            conversation=incoming.conversation,
            channel_id=incoming.channel_id,
            service_url=incoming.service_url,
        ).serialize(),
        "tenantId": "kept as an unknown key",
    }

    same(schema.conversation_reference(data), ConversationReference().deserialize(data))


def test_odd_values_follow_msrests_rules():
    data = {
        "type": "message",
        "id": 42,  # a number where a string is expected: msrest makes it "42"
        "timestamp": "2026-12-05T18:00:00.1234567Z",  # seven digits, as the Bot Framework sends
        "localTimestamp": "2026-12-05T19:00:00.123+01:00",
        "expiration": "2026-12-05T18:00:00.123456789-05:30",
        "historyDisclosed": "true",  # a string where a boolean is expected
        "channelData": {"tenant": {"id": "t"}, "nothing": None, "list": [1, 2.5, True, None]},
        "membersAdded": [{"id": "29:a", "aadObjectId": "o", "surprise": {"deep": [1]}}, None],
        "entities": [{"type": "clientInfo", "locale": "en-GB", "timezone": "Europe/London"}],
        "listenFor": ["a", 3],
        "somethingNew": {"from": "a later Bot Framework"},
    }

    ours = schema.activity(data)

    same(ours, Activity().deserialize(data))
    assert ours.id == "42"
    assert ours.history_disclosed is True
    assert isinstance(ours.timestamp, datetime)
    assert ours.additional_properties == {"somethingNew": {"from": "a later Bot Framework"}}
    assert ours.members_added[0].additional_properties == {"surprise": {"deep": [1]}}


@pytest.mark.parametrize(
    "data",
    [
        ["not", "an", "object"],
        {"type": "message", "timestamp": "yesterday"},
        {"type": "message", "timestamp": "2026-12-05"},  # Python would read it; msrest not
        {"type": "message", "from": "29:a string, not an account"},
        {"type": "message", "attachments": {"not": "a list"}},
    ],
    ids=["a list", "a bad time", "a date alone", "a string for an account", "a dict for a list"],
)
def test_what_msrest_refuses_is_refused_the_same_way(data: Any):
    with pytest.raises(DeserializationError):
        Activity().deserialize(data)
    with pytest.raises(DeserializationError):
        schema.activity(data)


OUTGOING = {
    **RECORDED,
    "a reply with its reference applied": None,  # built below from the channel message
}


def outgoing(name: str) -> Activity:
    if name == "a reply with its reference applied":
        incoming = schema.activity(RECORDED["channel message"])
        reply = schema.activity(RECORDED["our welcome card"])
        return TurnContext.apply_conversation_reference(
            reply, TurnContext.get_conversation_reference(incoming)
        )
    return schema.activity(RECORDED[name])


MSREST: Any = Serializer  # msrest is untyped


@pytest.mark.parametrize("name", OUTGOING)
def test_what_is_sent_is_what_msrest_would_send(name: str):
    sent = MSREST(schema._MODELS).body(outgoing(name), "Activity")

    assert schema.to_json(outgoing(name)) == sent


def test_the_connector_clients_serializer_sends_the_same_and_keeps_the_rest():
    serializer = MSREST(schema._MODELS)
    schema.quicken(serializer)
    reply = outgoing("a reply with its reference applied")

    assert serializer.body(reply, "Activity") == MSREST(schema._MODELS).body(reply, "Activity")
    assert serializer.url("conversation_id", "19:a;messageid=1", "str") == "19%3Aa%3Bmessageid%3D1"
    odd = Activity(type="message", channel_data={"when": datetime(2026, 12, 5, 18, 0)})
    assert serializer.body(odd, "Activity") == MSREST(schema._MODELS).body(odd, "Activity")
    assert isinstance(serializer, schema.QuickSerializer)
