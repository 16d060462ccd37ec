from __future__ import annotations

import pytest

from core.actions import ActionCodec, InvalidAction


def test_a_sealed_reference_opens_to_its_payload():
    codec = ActionCodec([b"key one"])
    opened = codec.open(codec.seal("pick", o="abc", s=1700000000))
    assert opened.kind == "pick"
    assert dict(opened.fields) == {"o": "abc", "s": 1700000000}


def test_rotated_keys_still_open_old_references():
    old = ActionCodec([b"old"]).seal("more", o="x")
    rotated = ActionCodec([b"new", b"old"])
    assert rotated.open(old).fields == {"o": "x"}
    with pytest.raises(InvalidAction):
        ActionCodec([b"new"]).open(old)


@pytest.mark.parametrize("reference", ["", "abc", "a.b.c", "!!!.???", "e30.AAAA"])
def test_anything_else_is_refused(reference: str):
    with pytest.raises(InvalidAction):
        ActionCodec([b"k"]).open(reference)


def test_a_changed_payload_is_refused():
    codec = ActionCodec([b"k"])
    body, signature = codec.seal("pick", o="mine").split(".")
    other_body = codec.seal("pick", o="theirs").split(".")[0]
    with pytest.raises(InvalidAction):
        codec.open(f"{other_body}.{signature}")
    assert codec.open(f"{body}.{signature}").fields == {"o": "mine"}


def test_references_fit_in_a_slack_button_value():
    codec = ActionCodec([b"k"])
    reference = codec.seal(
        "find", r="person-1", p=[f"person-{i}" for i in range(30)], d=60, w=[1, 2]
    )
    assert len(reference) < 2000
