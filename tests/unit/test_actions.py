from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest

from core.actions import (
    INLINE_LIMIT,
    AcceptMeeting,
    Action,
    ActionCodec,
    CancelMeeting,
    ConfirmCancel,
    Connect,
    DeclineMeeting,
    Disconnect,
    DownloadInvitation,
    EditPoll,
    ForgetMe,
    InvalidAction,
    KeepMe,
    KeepMeeting,
    MoreTimes,
    MoveMeeting,
    OtherTimes,
    PickSlot,
    PollOp,
    ReplayFind,
    ReplayKept,
    SetPlace,
    Vote,
    dump,
    load,
)
from core.commands import Exclusions, TimeOfDay, Weekly
from core.people import PersonId
from core.polls import Choice
from core.time import DayTime, Interval

START = datetime.fromtimestamp(1795000000, UTC)
WINDOW = Interval(START, datetime.fromtimestamp(1796000000, UTC))
P1, P2, P3 = PersonId("p1"), PersonId("p2"), PersonId("p3")

EVERY_ACTION: list[Action] = [
    PickSlot("offer1", START),
    MoreTimes("offer1"),
    ReplayFind(P1, (P2, P3), 45, WINDOW, TimeOfDay(DayTime(540), DayTime(720))),
    ReplayFind(P1, (P2,), 30, WINDOW),
    CancelMeeting("meeting1"),
    DownloadInvitation("meeting1", P1),
    EditPoll("poll1", PollOp.REMOVE, option=3),
    EditPoll("poll1", PollOp.ADD),
    EditPoll("poll1", PollOp.DEADLINE, hours=48),
    EditPoll("poll1", PollOp.REQUIRE, person=P2),
    EditPoll("poll1", PollOp.POST),
    EditPoll("poll1", PollOp.CLOSE),
    EditPoll("poll1", PollOp.CANCEL),
    Vote("poll1", 3, Choice.YES),
    Vote("poll1", 4, Choice.IF_NEED_BE),
    Connect(),
    Disconnect(P1),
]

# Made by the codec before actions were typed (kind and fields by hand, no version), under
# OLD_KEY: buttons like these are in chats already, and must keep working.
OLD_KEY = b"a key from before typed actions"
BEFORE_TYPED_ACTIONS = [
    "eyJrIjoicGljayIsIm8iOiJvZmZlcjEiLCJzIjoxNzk1MDAwMDAwfQ.PEgcHDWL6BjCfxGW7awJ9Q",
    "eyJrIjoibW9yZSIsIm8iOiJvZmZlcjEifQ.syt3DW-KqKRForl_BucMxg",
    (
        "eyJkIjo0NSwiayI6ImZpbmQiLCJwIjpbInAyIiwicDMiXSwiciI6InAxIiwidCI6WzU0MCw3MjBdLCJ3IjpbMTc5NTAw"
        "MDAwMCwxNzk2MDAwMDAwXX0.yOafX5Jd2FXqGDcSxEplbw"
    ),
    (
        "eyJkIjozMCwiayI6ImZpbmQiLCJwIjpbInAyIl0sInIiOiJwMSIsInQiOm51bGwsInciOlsxNzk1MDAwMDAwLDE3OTYw"
        "MDAwMDBdfQ.ALDb-jcDHen7c6RUgjO5_g"
    ),
    "eyJrIjoiY2FuY2VsIiwibSI6Im1lZXRpbmcxIn0.c-7EkCrzhEJWift1egnFzg",
    "eyJrIjoiaWNzIiwibSI6Im1lZXRpbmcxIiwicCI6InAxIn0.T7oWaIInnNPd6vVJ0kxPWw",
    "eyJrIjoicG9sbCIsIm8iOjMsIm9wIjoicmVtb3ZlIiwicCI6InBvbGwxIn0.LrZpe2PVgPjDyPSLX5mFzw",
    "eyJrIjoicG9sbCIsIm9wIjoiYWRkIiwicCI6InBvbGwxIn0.0bo6jWRfsjbOqpL_phvaag",
    "eyJoIjo0OCwiayI6InBvbGwiLCJvcCI6ImRlYWRsaW5lIiwicCI6InBvbGwxIn0.Dg9f2Mds3ZeaQvx_AdXIew",
    "eyJrIjoicG9sbCIsIm9wIjoicmVxdWlyZSIsInAiOiJwb2xsMSIsInUiOiJwMiJ9.jz8YmymIqAWuZakG9NOC1g",
    "eyJrIjoicG9sbCIsIm9wIjoicG9zdCIsInAiOiJwb2xsMSJ9.T9_j7UHBkhHPc74ILwL22Q",
    "eyJrIjoicG9sbCIsIm9wIjoiY2xvc2UiLCJwIjoicG9sbDEifQ.015nwDA-Kop3mQxbuZuEpw",
    "eyJrIjoicG9sbCIsIm9wIjoiY2FuY2VsIiwicCI6InBvbGwxIn0.hvMw9HApaWjGOr3VUaLDYw",
    "eyJjIjoieWVzIiwiayI6InZvdGUiLCJvIjozLCJwIjoicG9sbDEifQ.FEf2KA-V_nX9xrtvvCJg0w",
    "eyJjIjoiaWZfbmVlZF9iZSIsImsiOiJ2b3RlIiwibyI6NCwicCI6InBvbGwxIn0.ku_8KnmRGLSf9yQQWEV_XQ",
    "eyJrIjoiY29ubmVjdCJ9.8AdkSMXbETLDaNYCG_piiw",
    "eyJrIjoiZGlzY29ubmVjdCIsInIiOiJwMSJ9.IJa5zKy5v5CXOrYiPWJJzg",
]


@pytest.mark.parametrize("action", EVERY_ACTION, ids=repr)
def test_every_action_opens_as_it_was_sealed(action: Action):
    codec = ActionCodec([b"key one"])
    assert codec.open(codec.seal(action)) == action


def test_references_posted_before_actions_were_typed_still_open():
    codec = ActionCodec([OLD_KEY])
    assert [codec.open(reference) for reference in BEFORE_TYPED_ACTIONS] == EVERY_ACTION


def test_a_replay_carries_what_the_speaker_ruled_out():
    ruled_out = Exclusions(
        (Interval(START, datetime.fromtimestamp(1795086400, UTC)),),
        (Weekly(frozenset({0, 4})), Weekly(hours=TimeOfDay(DayTime(0), DayTime(720)))),
    )
    action = ReplayFind(P1, (P2,), 30, WINDOW, ruled_out=ruled_out)
    assert dump(action)["x"] == [[[1795000000, 1795086400]], [[0b10001], [0, 0, 720]]]
    codec = ActionCodec([b"key one"])
    assert codec.open(codec.seal(action)) == action


def test_the_payload_keeps_its_short_keys_and_says_its_version():
    assert dump(PickSlot("abc", START)) == {"k": "pick", "v": 1, "o": "abc", "s": 1795000000}
    assert dump(EditPoll("poll1", PollOp.ADD)) == {"k": "poll", "v": 1, "p": "poll1", "op": "add"}


@pytest.mark.parametrize(
    "payload",
    [
        {"k": "pick", "o": "abc"},  # no start
        {"k": "pick", "o": "abc", "s": "soon"},
        {"k": "pick", "o": "abc", "s": True},
        {"k": "pick", "o": "", "s": 1},
        {"k": "pick", "o": "abc", "s": 10**30},
        {"k": "vote", "p": "poll1", "o": 3, "c": "maybe"},
        {"k": "poll", "p": "poll1", "op": "rename"},
        {"k": "find", "r": "p1", "p": "p2", "d": 30, "w": [1, 2]},
        {"k": "find", "r": "p1", "p": [], "d": 30, "w": [2, 1]},  # ends before it starts
        {"k": "find", "r": "p1", "p": [], "d": 30, "w": [1, 2], "t": [540, 2000]},
        {"k": "find", "r": "p1", "p": [], "d": 30, "w": [1, 2], "x": [[], [[128]]]},
        {"k": "find", "r": "p1", "p": [], "d": 30, "w": [1, 2], "x": [[], [[1, 540]]]},
        {"k": "find", "r": "p1", "p": [], "d": 30, "w": [1, 2], "x": [[[2, 1]], []]},
        {"k": "find", "r": "p1", "p": [], "d": 30, "w": [1, 2], "x": [[]]},
        {"k": "accept", "m": "meeting1"},  # an action this version does not know
        {"k": "pick", "v": 2, "o": "abc", "s": 1},  # a version it does not know
        {"o": "abc"},
        ["pick"],
    ],
)
def test_what_the_codec_did_not_write_is_refused(payload: object):
    with pytest.raises(InvalidAction):
        load(payload)


def test_a_signed_payload_the_codec_did_not_write_is_refused_not_crashed_on():
    codec = ActionCodec([b"k"])
    body = json.dumps({"k": "vote", "p": "poll1", "o": "three", "c": "yes"}).encode()
    forged = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(codec._sign(codec._keys[0], body)).rstrip(b"=").decode()
    with pytest.raises(InvalidAction):
        codec.open(f"{forged}.{signature}")


def test_rotated_keys_still_open_old_references():
    old = ActionCodec([b"old"]).seal(MoreTimes("x"))
    rotated = ActionCodec([b"new", b"old"])
    assert rotated.open(old) == MoreTimes("x")
    with pytest.raises(InvalidAction):
        ActionCodec([b"new"]).open(old)


@pytest.mark.parametrize("reference", ["", "abc", "a.b.c", "!!!.???", "e30.AAAA"])
def test_anything_else_is_refused(reference: str):
    with pytest.raises(InvalidAction):
        ActionCodec([b"k"]).open(reference)


def test_a_changed_payload_is_refused():
    codec = ActionCodec([b"k"])
    body, signature = codec.seal(MoreTimes("mine")).split(".")
    other_body = codec.seal(MoreTimes("theirs")).split(".")[0]
    with pytest.raises(InvalidAction):
        codec.open(f"{other_body}.{signature}")
    assert codec.open(f"{body}.{signature}") == MoreTimes("mine")


def test_every_action_but_a_replay_is_bounded_far_below_the_inline_limit():
    """Only a ReplayFind grows with its request (people, ruled-out times), so only it may
    need keeping server-side; every other action, with its widest fields (40-character
    references and person ids, as storage's columns allow), is a fraction of the limit."""
    codec = ActionCodec([b"k"])
    ref, person = "r" * 40, PersonId("p" * 40)
    widest: list[Action] = [
        PickSlot(ref, START),
        MoreTimes(ref),
        ReplayKept(ref),
        CancelMeeting(ref),
        ConfirmCancel(ref, 2**31),
        AcceptMeeting(ref, 2**31),
        DeclineMeeting(ref, 2**31),
        OtherTimes(ref, 2**31),
        KeepMeeting(ref),
        MoveMeeting(ref),
        SetPlace(ref),
        ForgetMe(person),
        DownloadInvitation(ref, person),
        EditPoll(ref, PollOp.DEADLINE, option=2**31, hours=2**31, person=person),
        Vote(ref, 2**31, Choice.IF_NEED_BE),
        Disconnect(person),
    ]
    assert {type(a) for a in widest} | {ReplayFind, Connect, KeepMe} >= set(get_args(Action)), (
        "a new kind of action: add it here at its widest"
    )
    assert all(codec.open(codec.seal(action)) == action for action in widest)
    assert max(len(codec.seal(action)) for action in widest) < INLINE_LIMIT // 2
    assert INLINE_LIMIT < 2000  # Slack's button value


def test_a_replay_of_a_big_circle_is_over_the_inline_limit():
    """What core keeps server-side: 30 people (uuid4().hex ids), 16 ruled-out dates."""
    codec = ActionCodec([b"k"])
    others = tuple(PersonId(f"{n:032x}") for n in range(30))
    dates = tuple(
        Interval(START + timedelta(days=2 * n), START + timedelta(days=2 * n + 1))
        for n in range(16)
    )
    find = ReplayFind(PersonId("f" * 32), others, 60, WINDOW, ruled_out=Exclusions(dates))
    assert len(codec.seal(find)) > 2000
    pair = ReplayFind(PersonId("f" * 32), others[:1], 60, WINDOW, ruled_out=Exclusions(dates))
    assert len(codec.seal(pair)) < INLINE_LIMIT  # a pair's stays on the button
