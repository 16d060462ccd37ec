"""Signed action references: what a button carries back to Pairtime.

A button never holds a raw database id that a person could edit to act on
someone else's offer. It holds a small payload signed with HMAC-SHA256;
Pairtime checks the signature, then still checks that the person clicking
may act (a signature proves where a reference came from, not who clicks).

Several keys may verify, the first signs: keys rotate without breaking
buttons already posted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import PairtimeError

_SIGNATURE_BYTES = 16  # 128 bits: forgery is out of reach, values stay short


class InvalidAction(PairtimeError):
    """A reference that was not made by Pairtime, or was altered."""


@dataclass(frozen=True, slots=True)
class Action:
    kind: str
    fields: Mapping[str, Any]


class ActionCodec:
    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed to sign actions")
        # Derive a key for this purpose alone, so the same secret may serve elsewhere.
        self._keys = [
            hmac.new(key, b"pairtime action references", hashlib.sha256).digest() for key in keys
        ]

    def seal(self, kind: str, **fields: Any) -> str:
        payload = json.dumps({"k": kind, **fields}, separators=(",", ":"), sort_keys=True)
        body = payload.encode()
        return f"{_b64(body)}.{_b64(self._sign(self._keys[0], body))}"

    def open(self, reference: str) -> Action:
        try:
            body_text, signature_text = reference.split(".")
            body, signature = _unb64(body_text), _unb64(signature_text)
        except ValueError as error:
            raise InvalidAction("not an action reference") from error
        if not any(hmac.compare_digest(self._sign(key, body), signature) for key in self._keys):
            raise InvalidAction("the action reference's signature does not match")
        try:
            data = json.loads(body)
        except ValueError as error:  # cannot happen for a reference we signed
            raise InvalidAction("the action reference is malformed") from error
        if not isinstance(data, dict) or not isinstance(data.get("k"), str):
            raise InvalidAction("the action reference is malformed")
        kind = data.pop("k")
        return Action(kind, data)

    @staticmethod
    def _sign(key: bytes, body: bytes) -> bytes:
        return hmac.new(key, body, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError("not base64") from error
