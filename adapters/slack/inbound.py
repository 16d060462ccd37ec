"""What reaches ``/slack/events``, checked before anything reads it: size, signature, shape.

In that order. The signature is checked on the raw bytes with slack_sdk's
``SignatureVerifier`` before a byte is parsed, so that nobody without the
signing secret can make Pairtime parse anything: whatever is wrong with an
unsigned request (a timestamp that is not a number, a body that is not UTF-8)
answers 401. A signed body that is still malformed (not JSON, not an object,
nested deeper than Slack ever nests, fields of the wrong type) answers 400.
Neither logs a traceback or the body.

The parsing rules are bolt's own (``slack_bolt.request.internals.parse_body``),
so what is checked here is what bolt will read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from slack_sdk.signature import SignatureVerifier

from adapters.chat import MAX_NESTING, nested_deeper_than

JsonDict = dict[str, Any]

# Slack's messages hold at most 40,000 characters, which form-encoded or JSON-escaped can take
# a few hundred KB; a click's payload repeats the whole message (50 blocks). A MiB holds the
# largest of them with room to spare, and is aiohttp's own default.
MAX_BODY_BYTES = 1024 * 1024
# Above this, checking a body takes milliseconds: the endpoint does it in a thread.
LARGE_BODY_BYTES = 64 * 1024


def _text(value: object) -> bool:
    return isinstance(value, str)


def _object(value: object) -> bool:
    return isinstance(value, dict)


def _list(value: object) -> bool:
    return isinstance(value, list)


def _url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"https", "http"} and bool(parts.netloc)


def _instant(value: object) -> bool:
    """Seconds since 1970 that ``datetime.fromtimestamp`` can take (a date-time field)."""
    return type(value) is int and 0 <= value <= _YEAR_9999


_YEAR_9999 = 253_402_214_400

# What bolt and Pairtime read, by where it is ("*": every item of a list or value of an
# object) and what it must be when present. Found by sending every field of recorded
# payloads with values of the wrong type (tests/integration/test_slack_hostile.py).
_FIELDS: dict[str, Callable[[object], bool]] = {
    "type": _text,
    "token": _text,
    "team_id": _text,
    "api_app_id": _text,
    "enterprise_id": _text,
    "event_id": _text,
    "trigger_id": _text,
    "callback_id": _text,
    "user_id": _text,
    "channel_id": _text,
    "command": _text,
    "text": _text,
    "response_url": _url,
    "enterprise": lambda value: isinstance(value, str | dict),
    "team": _object,
    "team.id": _text,
    "team.enterprise_id": _text,
    "user": _object,
    "user.id": _text,
    "user.team_id": _text,
    "channel": _object,
    "channel.id": _text,
    "container": _object,
    "container.type": _text,
    "container.channel_id": _text,
    "container.message_ts": _text,
    "message": _object,
    "message.ts": _text,
    "authorizations": _list,
    "authorizations.*": _object,
    "authorizations.*.team_id": _text,
    "authorizations.*.enterprise_id": _text,
    "authorizations.*.user_id": _text,
    "actions": _list,
    "actions.*": _object,
    "actions.*.action_id": _text,
    "actions.*.block_id": _text,
    "actions.*.type": _text,
    "actions.*.value": _text,
    "actions.*.selected_date_time": _instant,
    "response_urls": _list,
    "response_urls.*": _object,
    "response_urls.*.response_url": _url,
    "view": _object,
    "view.type": _text,
    "view.id": _text,
    "view.team_id": _text,
    "view.app_installed_team_id": _text,
    "view.callback_id": _text,
    "view.private_metadata": _text,
    "view.state": _object,
    "view.state.values": _object,
    "view.state.values.*": _object,
    "view.state.values.*.*": _object,
    "view.state.values.*.*.selected_users": _list,
    "view.state.values.*.*.selected_option": _object,
    "view.state.values.*.*.selected_date": _text,
    "event": _object,
    "event.type": _text,
}
# Each path split once, not on every request.
_FIELD_STEPS = [(path, path.split("."), fits) for path, fits in _FIELDS.items()]
# Where null is read as something else than "absent" and fails.
_NOT_NULL = frozenset(
    {
        "event",
        "actions",
        "actions.*",
        "response_urls",
        "view",
        "view.state",
        "view.state.values",
        "view.state.values.*",
    }
)
# The events Pairtime subscribes to (manifests/slack/manifest.yaml); others are bolt's to ignore.
_EVENTS = frozenset({"message", "app_mention", "app_home_opened"})
_EVENT_FIELDS: dict[str, Callable[[object], bool]] = dict.fromkeys(
    ("subtype", "user", "channel", "channel_type", "text", "ts", "thread_ts", "tab"), _text
)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a request is not handled: the status to answer and a reason for the log."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Checked:
    """A signed, well-formed request: the body as text (what bolt reads) and as parsed."""

    text: str
    body: JsonDict

    @property
    def trigger_id(self) -> str | None:
        """What a slash command or an interaction carries once: a replay carries it again."""
        trigger = self.body.get("trigger_id")
        return trigger if isinstance(trigger, str) and trigger else None


def check(raw: bytes, headers: Mapping[str, str], verifier: SignatureVerifier) -> Checked | Refused:
    """Verify ``raw`` as Slack signs it, then parse it as bolt will; never raises."""
    text = signed_text(raw, headers, verifier)
    if text is None:
        return Refused(401, "not signed by Slack")
    return parse(text, headers.get("Content-Type"))


def signed_text(raw: bytes, headers: Mapping[str, str], verifier: SignatureVerifier) -> str | None:
    """The body as text when its signature is valid and recent, else None."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or not signature:
        return None  # the verifier would raise on a timestamp that is not a number
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None  # Slack signs UTF-8; these bytes cannot be what it signed
    return text if verifier.is_valid(body=text, timestamp=timestamp, signature=signature) else None


def parse(text: str, content_type: str | None) -> Checked | Refused:
    """The body as bolt reads it (JSON, a form, or a form's ``payload`` field), checked."""
    kind = (content_type or "").split(";")[0].strip().lower()
    try:
        if not text:
            body: object = {}
        elif kind == "application/json" or text.startswith("{"):
            body = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            # bolt looks for the word anywhere in the body, then for the field
            body = json.loads(form["payload"]) if "payload" in form else form
    except RecursionError:
        return Refused(400, "the body nests too deeply")
    except ValueError:  # JSONDecodeError, and what parse_qsl refuses
        return Refused(400, "the body is not JSON or a form as Slack sends them")
    if not isinstance(body, dict):
        return Refused(400, "the body is not an object")
    if nested_deeper_than(body, MAX_NESTING):
        return Refused(400, "the body nests too deeply")
    problem = _shape_problem(body)
    if problem is not None:
        return Refused(400, problem)
    return Checked(text, body)


def _shape_problem(body: JsonDict) -> str | None:
    for path, steps, fits in _FIELD_STEPS:
        for where, value in _found(body, steps):
            if value is None and path not in _NOT_NULL:
                continue
            if not fits(value):
                return f"{where} is not what Slack sends"
    kind = body.get("type")
    event = body.get("event")
    if kind == "event_callback" and not (
        isinstance(event, dict) and isinstance(event.get("type"), str)
    ):
        return "an event_callback without its event"
    if kind == "block_actions" and not (
        body.get("actions") and all(isinstance(a.get("action_id"), str) for a in body["actions"])
    ):
        return "a click without its action"
    if kind in {"view_submission", "view_closed"} and not (
        isinstance(body.get("view"), dict) and isinstance(body["view"].get("type"), str)
    ):
        return "a view event without its view"
    if isinstance(event, dict) and event.get("type") in _EVENTS:
        for name, fits in _EVENT_FIELDS.items():
            if event.get(name) is not None and not fits(event[name]):
                return f"event.{name} is not what Slack sends"
        if event["type"] == "app_home_opened" and not isinstance(event.get("user"), str):
            return "app_home_opened without its user"
    return None


def _found(value: object, path: list[str], where: str = "") -> Iterator[tuple[str, object]]:
    """Each value at ``path`` in ``value`` (``*`` spreads over items), with where it is."""
    if not path:
        yield where, value
        return
    head, rest = path[0], path[1:]
    if head == "*":
        items = (
            enumerate(value) if isinstance(value, list)
            else value.items() if isinstance(value, dict)
            else ()
        )  # fmt: skip
        for key, item in items:
            yield from _found(item, rest, f"{where}.{key}")
    elif isinstance(value, dict) and head in value:
        yield from _found(value[head], rest, f"{where}.{head}" if where else head)
