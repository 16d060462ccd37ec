"""Requests as Slack sends them to a bot, signed as Slack signs them.

    request = slash_command(SECRET, text="find a time with @maria", response_url=url)
    await session.post(f"{bot}/slack/events", data=request.body, headers=request.headers)
    # or: AsyncBoltRequest(body=request.body, headers=request.headers)

Signing follows Slack's v0 scheme (slack_sdk ``signature/__init__.py``):
``X-Slack-Signature = "v0=" + hex(HMAC-SHA256(secret, "v0:{timestamp}:{raw body}"))``, with
``X-Slack-Request-Timestamp``; retried events carry ``X-Slack-Retry-Num`` and
``X-Slack-Retry-Reason``. It is computed here with ``hmac`` rather than slack_sdk, so the
self-tests check the two against each other.

Field shapes follow Slack's documentation and bolt-python's scenario tests
(``tests/scenario_tests_async/test_slash_command.py``, ``test_block_actions.py``,
``test_view_submission.py``, ``test_shortcut.py``, ``test_events.py``). Builders of payload
dicts (``*_payload``, ``*_event``) are separate from the signing wrappers so that a test can
change a field before signing.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

JsonDict = dict[str, Any]

TEAM_ID = "T0PAIRTIME"
TEAM_DOMAIN = "pairtime-test"
APP_ID = "A0PAIRTIME"
BOT_USER_ID = "U0PAIRBOT"
USER_ID = "U0MENTOR"
USER_NAME = "alex"
CHANNEL_ID = "C0MENTORING"
CHANNEL_NAME = "mentoring"
VERIFICATION_TOKEN = "legacy-verification-token"  # Slack still sends this deprecated field
DEFAULT_RESPONSE_URL = "https://hooks.slack.com/commands/T0PAIRTIME/1234567890/abcdef"

_serials = itertools.count(1)


@dataclass(frozen=True)
class SlackRequest:
    """A signed request: POST ``body`` with ``headers`` to the bot's Slack endpoint."""

    body: str
    headers: dict[str, str]
    data: JsonDict  # the payload as a dict (for interactivity, the decoded ``payload`` field)

    @property
    def bolt_headers(self) -> dict[str, list[str]]:
        """Headers in the shape bolt's ``AsyncBoltRequest`` also accepts (lower-case, lists)."""
        return {name.lower(): [value] for name, value in self.headers.items()}


def signature(signing_secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def sign(
    signing_secret: str,
    body: str,
    *,
    content_type: str,
    data: JsonDict | None = None,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SlackRequest:
    """Sign ``body`` as Slack does; ``timestamp`` defaults to now (Slack refuses > 5 min old)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(signing_secret, stamp, body),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    return SlackRequest(body=body, headers=headers, data=data or {})


def trigger_id() -> str:
    """A trigger id in Slack's format ("13345224609.738474920.8088930838d88f008e0")."""
    serial = f"{next(_serials)}{secrets.randbelow(10**9):09d}"
    return f"{serial}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"


def message_ts() -> str:
    return f"{int(time.time())}.{next(_serials):06d}"


def event_id() -> str:
    return f"Ev{secrets.token_hex(5).upper()}"


# ---------------------------------------------------------------------- slash commands


def slash_command(
    signing_secret: str,
    *,
    command: str = "/pairtime",
    text: str = "",
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    response_url: str = DEFAULT_RESPONSE_URL,
    trigger: str | None = None,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    timestamp: int | None = None,
) -> SlackRequest:
    """A slash command, form-encoded with every field Slack sends (docs: "Slash commands")."""
    fields: dict[str, str] = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
    }
    if enterprise_id:
        fields |= {"enterprise_id": enterprise_id, "enterprise_name": enterprise_name or ""}
    fields |= {
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger or trigger_id(),
    }
    return sign(
        signing_secret,
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        data=fields,
        timestamp=timestamp,
    )


# ---------------------------------------------------------------------- Events API


def event_callback(
    signing_secret: str,
    event: JsonDict,
    *,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    bot_user_id: str = BOT_USER_ID,
    event_id_: str | None = None,
    event_time: int | None = None,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> SlackRequest:
    """An Events API ``event_callback`` envelope around ``event`` (see ``*_event`` below).

    Pass the same ``event_id_`` with ``retry_num=1`` to play Slack resending an event it
    considers unacknowledged.
    """
    envelope = event_callback_payload(
        event,
        team_id=team_id,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        event_id_=event_id_,
        event_time=event_time,
    )
    return sign(
        signing_secret,
        json.dumps(envelope),
        content_type="application/json",
        data=envelope,
        timestamp=timestamp,
        retry_num=retry_num,
        retry_reason=retry_reason,
    )


def event_callback_payload(
    event: JsonDict,
    *,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    bot_user_id: str = BOT_USER_ID,
    event_id_: str | None = None,
    event_time: int | None = None,
) -> JsonDict:
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id_ or event_id(),
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(12)}",
    }


def url_verification(
    signing_secret: str, challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
) -> SlackRequest:
    payload = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    return sign(signing_secret, json.dumps(payload), content_type="application/json", data=payload)


def _rich_text(text: str) -> list[JsonDict]:
    return [
        {
            "type": "rich_text",
            "block_id": secrets.token_hex(2),
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]


def app_mention_event(
    text: str,
    *,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    team: str = TEAM_ID,
    bot_user_id: str = BOT_USER_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
) -> JsonDict:
    """``text`` without the mention; the event's text starts with ``<@BOT>`` as Slack's does."""
    stamp = ts or message_ts()
    full_text = f"<@{bot_user_id}> {text}".rstrip()
    event: JsonDict = {
        "client_msg_id": str(uuid.uuid4()),
        "type": "app_mention",
        "text": full_text,
        "user": user,
        "ts": stamp,
        "blocks": _rich_text(full_text),
        "team": team,
        "channel": channel,
        "event_ts": stamp,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_im_event(
    text: str,
    *,
    user: str = USER_ID,
    channel: str | None = None,
    team: str = TEAM_ID,
    ts: str | None = None,
) -> JsonDict:
    """A direct message to the bot (subscription ``message.im``); channel defaults to D+user."""
    stamp = ts or message_ts()
    return {
        "client_msg_id": str(uuid.uuid4()),
        "type": "message",
        "text": text,
        "user": user,
        "ts": stamp,
        "blocks": _rich_text(text),
        "team": team,
        "channel": channel or f"D{user}",
        "event_ts": stamp,
        "channel_type": "im",
    }


def app_home_opened_event(
    *,
    user: str = USER_ID,
    channel: str | None = None,
    tab: str = "home",
    view: JsonDict | None = None,
) -> JsonDict:
    """``view`` is present (the current Home view) only when the Home tab was published before."""
    event: JsonDict = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel or f"D{user}",
        "tab": tab,
        "event_ts": message_ts(),
    }
    if view is not None:
        event["view"] = view
    return event


# ---------------------------------------------------------------------- interactivity


def interactivity(
    signing_secret: str, payload: JsonDict, *, timestamp: int | None = None
) -> SlackRequest:
    """Interactivity requests are form-encoded with one ``payload`` field holding JSON."""
    return sign(
        signing_secret,
        urlencode({"payload": json.dumps(payload)}),
        content_type="application/x-www-form-urlencoded",
        data=payload,
        timestamp=timestamp,
    )


def _user(user_id: str, user_name: str, team_id: str) -> JsonDict:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _team(team_id: str) -> JsonDict:
    return {"id": team_id, "domain": TEAM_DOMAIN}


def block_actions_payload(
    action_id: str,
    *,
    value: str | None = None,
    block_id: str = "pairtime_actions",
    action_type: str = "button",
    text: str = "Pick",
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    message: JsonDict | None = None,
    view: JsonDict | None = None,
    response_url: str = "https://hooks.slack.com/actions/T0PAIRTIME/1234567890/abcdef",
    trigger: str | None = None,
) -> JsonDict:
    """A click on a Block Kit element. In a message by default; pass ``view`` for a modal or App
    Home (then Slack sends ``container.type == "view"``, the view, and no response_url)."""
    action: JsonDict = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": message_ts(),
    }
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": text, "emoji": True}
    if value is not None:
        action["value"] = value
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger or trigger_id(),
        "team": _team(team_id),
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0VIEW")}
        payload["view"] = view
        return payload
    shown = message or {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": "B0PAIRBOT",
        "app_id": api_app_id,
        "text": "Here are some times",
        "ts": message_ts(),
        "team": team_id,
        "blocks": [],
    }
    payload["container"] = {
        "type": "message",
        "message_ts": shown["ts"],
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    payload["channel"] = {"id": channel_id, "name": channel_name}
    payload["message"] = shown
    payload["response_url"] = response_url
    return payload


def block_actions(signing_secret: str, action_id: str, **fields: Any) -> SlackRequest:
    """Signed :func:`block_actions_payload`."""
    timestamp = fields.pop("timestamp", None)
    return interactivity(
        signing_secret, block_actions_payload(action_id, **fields), timestamp=timestamp
    )


def view_submission_payload(
    callback_id: str,
    *,
    values: dict[str, dict[str, JsonDict]] | None = None,
    private_metadata: str = "",
    view_id: str = "V0PAIRMODAL",
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    blocks: list[JsonDict] | None = None,
    response_urls: list[JsonDict] | None = None,
    trigger: str | None = None,
) -> JsonDict:
    """A modal submitted. ``values`` is ``{block_id: {action_id: state}}`` as Slack sends it,
    e.g. ``{"when": {"when_input": {"type": "plain_text_input", "value": "tomorrow"}}}``."""
    return {
        "type": "view_submission",
        "team": _team(team_id),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger or trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values or {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": "Pairtime"},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel"},
            "submit": {"type": "plain_text", "text": "Submit"},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": api_app_id,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": "B0PAIRBOT",
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_submission(signing_secret: str, callback_id: str, **fields: Any) -> SlackRequest:
    """Signed :func:`view_submission_payload`."""
    timestamp = fields.pop("timestamp", None)
    return interactivity(
        signing_secret, view_submission_payload(callback_id, **fields), timestamp=timestamp
    )


def global_shortcut_payload(
    callback_id: str,
    *,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    team_id: str = TEAM_ID,
    trigger: str | None = None,
) -> JsonDict:
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": message_ts(),
        "team": _team(team_id),
        "user": {"id": user_id, "username": user_name, "team_id": team_id},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger or trigger_id(),
    }


def global_shortcut(signing_secret: str, callback_id: str, **fields: Any) -> SlackRequest:
    """Signed :func:`global_shortcut_payload`."""
    timestamp = fields.pop("timestamp", None)
    return interactivity(
        signing_secret, global_shortcut_payload(callback_id, **fields), timestamp=timestamp
    )
