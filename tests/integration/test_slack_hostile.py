"""Slack's endpoint against what Slack never sends: unsigned junk, signed junk, replays, bulk.

Unsigned requests are refused (401) before their body is parsed; signed but malformed ones
answer 400. Neither may cost a 500, a traceback in the log, or a call to Slack.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.slack import translate
from adapters.slack.inbound import MAX_BODY_BYTES
from tests.adapters.slack.harness import MENTEE, MENTOR, SlackWorld, slack_world
from tests.fakes import slack_requests as sr

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
DEEP = 100_000


def deep_json(levels: int) -> str:
    return '{"type": "event_callback", "event": ' + "[" * levels + "]" * levels + "}"


def troubles(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log records that would page someone: errors, and anything with a traceback."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR or record.exc_info
    ]


async def post_raw(world: SlackWorld, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with world.session.post(
        world.running.base_url + "/slack/events", data=body, headers=headers
    ) as reply:
        return reply.status, await reply.text()


def forged(body: str, content_type: str, **headers: str) -> tuple[bytes, dict[str, str]]:
    """``body`` with the headers of a signed request, signed with the wrong secret."""
    request = sr.sign("not-the-signing-secret", body, content_type=content_type)
    return body.encode(), request.headers | headers


UNSIGNED = {
    "a timestamp that is not a number": forged(
        "{not json", JSON, **{"X-Slack-Request-Timestamp": "soon"}
    ),
    "a timestamp in other digits": forged(
        "payload=%7B", FORM, **{"X-Slack-Request-Timestamp": "١٢٣٤٥٦٧٨٩٠"}
    ),
    "no signature": (b"{}", {"Content-Type": JSON, "X-Slack-Request-Timestamp": "1"}),
    "malformed JSON": forged("{not json", JSON),
    "a malformed form": forged("payload=%7Bnot%20json&&==", FORM),
    "deep nesting": forged(deep_json(DEEP), JSON),
    "bytes that are not UTF-8": (
        b"{\xff\xfe}",
        sr.sign("not-the-signing-secret", "{}", content_type=JSON).headers,
    ),
}


@pytest.mark.parametrize("case", UNSIGNED.values(), ids=UNSIGNED.keys())
async def test_unsigned_requests_are_refused_before_their_body_is_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, case: tuple[bytes, dict[str, str]]
):
    caplog.set_level(logging.INFO)
    async with slack_world(tmp_path) as world:
        status, _ = await post_raw(world, *case)
        await world.settle()
        assert status == 401
        assert troubles(caplog) == []
        assert world.slack.calls == []


def interaction(payload: object) -> tuple[str, str]:
    return urlencode({"payload": json.dumps(payload)}), FORM


def click(**changes: Any) -> dict[str, Any]:
    payload = sr.block_actions_payload("pt:x", value="v")
    return payload | changes


def submission(values: object) -> dict[str, Any]:
    payload = sr.view_submission_payload(translate.FIND_TIME_CALLBACK)
    payload["view"]["state"]["values"] = values
    return payload


def picked_at(seconds: int) -> dict[str, Any]:
    payload = sr.block_actions_payload("pt:time", block_id="pt:x", action_type="datetimepicker")
    payload["actions"][0]["selected_date_time"] = seconds
    return payload


SIGNED_MALFORMED = {
    "malformed JSON": ("{not json", JSON),
    "JSON that is not an object": ("[1, 2]", JSON),
    "deep nesting": (deep_json(DEEP), JSON),
    "nesting deeper than Slack's": (deep_json(60), JSON),
    "a number too long to read": ('{"type": ' + "9" * 5000 + "}", JSON),
    "a payload that is not JSON": ("payload=%7Bnot", FORM),
    "a payload that is a list": interaction([1]),
    "an event that is text": ('{"type": "event_callback", "event": "message"}', JSON),
    "a click without actions": interaction(click(actions=[])),
    "a click by a user that is text": interaction(click(user="U0MENTOR")),
    "a response_url that is no URL": interaction(click(response_url="hooks")),
    "form values that are text": interaction(submission("values")),
    "a date-time past year 9999": interaction(picked_at(10**30)),
}


@pytest.mark.parametrize("body", SIGNED_MALFORMED.values(), ids=SIGNED_MALFORMED.keys())
async def test_signed_but_malformed_requests_answer_400(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, body: tuple[str, str]
):
    caplog.set_level(logging.INFO)
    async with slack_world(tmp_path) as world:
        request = sr.sign(world.secret, body[0], content_type=body[1])
        answer = await world.post(request)
        await world.settle()
        assert answer.status == 400
        assert troubles(caplog) == []
        assert world.slack.calls == []


# ---------------------------------------------------------------------- every field, mistyped

WRONG = (None, {"a": 1}, "x", 10**30)


def _paths(value: object, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value[:1])
        if isinstance(value, list)
        else ()
    )
    for key, inner in items:
        yield (*prefix, key)
        yield from _paths(inner, (*prefix, key))


def _changed(payload: dict[str, Any], path: tuple[Any, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    inner: Any = changed
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = value
    return changed


def _payloads(world: SlackWorld) -> dict[str, tuple[str, dict[str, Any]]]:
    """A recorded payload of each kind Pairtime listens to, and how it is sent."""
    dm = sr.message_im_event(text="help", channel=world.slack.dm_channel(MENTOR))
    pick = picked_at(1_764_000_000)
    pick["response_url"] = world.response_url()
    form = sr.view_submission_payload(
        translate.FIND_TIME_CALLBACK,
        values={
            "people": {"users": {"type": "multi_users_select", "selected_users": [MENTEE]}},
            "duration": {"minutes": {"type": "static_select", "selected_option": {"value": "30"}}},
            "from": {"date": {"type": "datepicker", "selected_date": "2026-11-26"}},
        },
        private_metadata='{"tz": "Europe/London"}',
    )
    return {
        "slash command": (
            "form",
            dict(
                sr.slash_command(world.secret, text="help", response_url=world.response_url()).data
            ),
        ),
        "direct message": ("json", json.loads(sr.event_callback(world.secret, dm).body)),
        "home opened": (
            "json",
            json.loads(sr.event_callback(world.secret, sr.app_home_opened_event()).body),
        ),
        "click": ("payload", click(response_url=world.response_url())),
        "date-time picked": ("payload", pick),
        "form submitted": ("payload", form),
        "shortcut": ("payload", sr.global_shortcut_payload(translate.FIND_TIME_CALLBACK)),
    }


def _signed(world: SlackWorld, how: str, payload: dict[str, Any]) -> sr.SlackRequest:
    fresh = {"trigger_id": sr.trigger_id(), "event_id": sr.event_id()}
    payload = payload | {k: v for k, v in fresh.items() if isinstance(payload.get(k), str)}
    if how == "form":
        return sr.sign(world.secret, urlencode(payload), content_type=FORM)
    if how == "json":
        return sr.sign(world.secret, json.dumps(payload), content_type=JSON)
    return sr.interactivity(world.secret, payload)


async def test_every_field_sent_with_a_wrong_type_is_answered_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    """Each field of each recorded payload in turn is replaced by a value of another type:
    handled, refused (400), or left to bolt's 404 for what no listener takes (another
    command's name, another callback id), never a 500 or a traceback."""
    caplog.set_level(logging.INFO)
    async with slack_world(tmp_path) as world:
        failures = []
        sent = 0
        for kind, (how, payload) in _payloads(world).items():
            for path in _paths(payload):
                for value in WRONG if how != "form" else ("", "x"):
                    caplog.clear()
                    request = _signed(world, how, _changed(payload, path, value))
                    answer = await world.post(request)
                    await world.settle()
                    sent += 1
                    if answer.status not in {200, 400, 404} or troubles(caplog):
                        failures.append((kind, path, value, answer.status, troubles(caplog)))
        assert failures == []
        assert sent > 500  # every kind, every field


# ---------------------------------------------------------------------- replays and bulk


async def test_a_replayed_slash_command_acts_once(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        command = sr.slash_command(world.secret, text="help", response_url=world.response_url())
        answers = [await world.say(command) for _ in range(3)]
        assert [a.status for a in answers] == [200, 200, 200]
        assert len(world.slack.responses) == 1
        # Another command, its own trigger_id: answered.
        await world.say(
            sr.slash_command(world.secret, text="help", response_url=world.response_url())
        )
        assert len(world.slack.responses) == 2


async def test_a_replayed_click_acts_once(tmp_path: Path):
    async with slack_world(tmp_path) as world:
        again = sr.block_actions(
            world.secret, translate.HOME_CONNECT, value="x", response_url=world.response_url()
        )
        for _ in range(2):
            assert (await world.say(again)).status == 200
        assert len(world.slack.responses) == 1


async def test_a_command_that_mentions_the_word_payload_is_answered(tmp_path: Path):
    """bolt alone reads any form holding the word "payload" as an empty interaction."""
    async with slack_world(tmp_path) as world:
        answer = await world.say(
            sr.slash_command(
                world.secret, text="help with the payload", response_url=world.response_url()
            )
        )
        assert answer.status == 200
        assert len(world.slack.responses) == 1


async def test_a_body_over_the_limit_is_refused_unread(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    async with slack_world(tmp_path) as world:
        big = sr.slash_command(world.secret, text="x" * MAX_BODY_BYTES)
        async with world.session.post(
            world.running.base_url + "/slack/events",
            data=io.BytesIO(big.body.encode()),
            headers=big.headers,
        ) as reply:
            assert reply.status == 413

        async def chunks() -> Any:  # no Content-Length: the limit holds while reading
            for _ in range(3):
                yield b"x" * (MAX_BODY_BYTES // 2)

        async with world.session.post(
            world.running.base_url + "/slack/events", data=chunks(), headers={"Content-Type": FORM}
        ) as reply:
            assert reply.status == 413
        assert troubles(caplog) == []
        assert world.slack.calls == []
