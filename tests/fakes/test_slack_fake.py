"""FakeSlack and the signed request builders, proven with the real slack_sdk and slack_bolt."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes import slack_requests as sr
from tests.fakes.server import running
from tests.fakes.slack import FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def slack() -> FakeSlack:
    fake = FakeSlack()
    fake.add_user(
        "U0MENTOR",
        name="alex",
        real_name="Alex Kim",
        tz="America/New_York",
        tz_label="Eastern Standard Time",
        tz_offset=-18000,
        email="alex@example.org",
    )
    fake.add_user("U0MENTEE", name="maria", real_name="Maria Lopez", tz="Europe/Madrid")
    fake.add_user("U0NOTZ", name="sam", tz=None)
    fake.add_channel("C0MENTORING", name="mentoring", members=["U0MENTOR", "U0MENTEE"])
    return fake


@pytest.fixture
async def base(slack: FakeSlack) -> AsyncIterator[str]:
    async with running(slack.app) as base_url:
        yield base_url


@pytest.fixture
def client(slack: FakeSlack, base: str) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=f"{base}/api/")


async def _error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


# ---------------------------------------------------------------------- Web API


async def test_auth_test_identifies_the_workspace_and_refuses_bad_tokens(
    slack: FakeSlack, base: str, client: AsyncWebClient
):
    response = await client.auth_test()

    assert response["team_id"] == slack.team_id
    assert response["user_id"] == slack.bot_user_id
    assert response["bot_id"] == "B0PAIRBOT"
    assert response.headers["X-OAuth-Scopes"].startswith("chat:write")
    assert slack.calls_to("auth.test")[0].headers["Authorization"] == f"Bearer {slack.bot_token}"

    wrong = AsyncWebClient(token="xoxb-not-issued", base_url=f"{base}/api/")
    assert (await _error_of(wrong.auth_test())).response["error"] == "invalid_auth"
    anonymous = AsyncWebClient(base_url=f"{base}/api/")
    assert (await _error_of(anonymous.auth_test())).response["error"] == "not_authed"


async def test_users_info_returns_time_zones_when_slack_knows_them(
    slack: FakeSlack, client: AsyncWebClient
):
    alex = (await client.users_info(user="U0MENTOR", include_locale=True))["user"]
    assert alex["tz"] == "America/New_York"
    assert alex["tz_label"] == "Eastern Standard Time"
    assert alex["tz_offset"] == -18000
    assert alex["real_name"] == "Alex Kim"
    assert alex["profile"]["email"] == "alex@example.org"
    assert alex["profile"]["display_name"] == "alex"
    assert alex["locale"] == "en-US"

    sam = (await client.users_info(user="U0NOTZ"))["user"]
    assert "tz" not in sam
    assert "tz_offset" not in sam

    error = await _error_of(client.users_info(user="U0NOBODY"))
    assert error.response["error"] == "user_not_found"
    assert slack.calls_to("users.info")[0].http_method == "GET"


async def test_messages_go_to_stable_dm_channels_and_can_be_updated(
    slack: FakeSlack, client: AsyncWebClient
):
    opened = await client.conversations_open(users="U0MENTEE")
    assert opened["channel"]["id"] == "DU0MENTEE"
    again = await client.conversations_open(users=["U0MENTEE"])
    assert again["channel"]["id"] == "DU0MENTEE"
    assert again["already_open"] is True

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Tuesday 10:00*"}}]
    posted = await client.chat_postMessage(channel="DU0MENTEE", text="A time", blocks=blocks)
    assert posted["channel"] == "DU0MENTEE"
    assert posted["message"]["bot_id"] == "B0PAIRBOT"
    call = slack.calls_to("chat.postMessage")[0]
    assert call.content_type == "application/json"
    assert call.args["blocks"] == blocks

    updated = await client.chat_update(channel="DU0MENTEE", ts=posted["ts"], text="Booked")
    assert updated["ts"] == posted["ts"]
    message = slack.message("DU0MENTEE", posted["ts"])
    assert message is not None
    assert message.text == "Booked"
    assert message.blocks == blocks  # kept: the update sent no blocks
    assert message.edits == [{"text": "A time", "blocks": blocks, "metadata": None}]

    by_user = await client.chat_postMessage(channel="U0MENTOR", text="hello")
    assert by_user["channel"] == "DU0MENTOR"
    assert by_user["ts"] > posted["ts"]

    form = await client.api_call(
        "chat.postMessage",
        data={"channel": "C0MENTORING", "text": "form", "blocks": json.dumps(blocks)},
    )
    form_call = slack.calls_to("chat.postMessage")[-1]
    assert form_call.content_type == "application/x-www-form-urlencoded"
    stored = slack.message("C0MENTORING", form["ts"])
    assert stored is not None
    assert stored.blocks == blocks

    missing = await _error_of(client.chat_update(channel="DU0MENTEE", ts="1.000001", text="x"))
    assert missing.response["error"] == "message_not_found"
    unknown = await _error_of(client.chat_postMessage(channel="C0NOWHERE", text="x"))
    assert unknown.response["error"] == "channel_not_found"
    # api_call: chat_postMessage itself warns (UserWarning) before sending a message without text
    empty = await _error_of(client.api_call("chat.postMessage", json={"channel": "C0MENTORING"}))
    assert empty.response["error"] == "no_text"


async def test_ephemeral_messages_need_a_member_of_the_channel(
    slack: FakeSlack, client: AsyncWebClient
):
    answer = await client.chat_postEphemeral(channel="C0MENTORING", user="U0MENTOR", text="psst")
    assert answer["message_ts"]
    assert slack.ephemeral[0]["user"] == "U0MENTOR"
    assert slack.ephemeral[0]["text"] == "psst"

    error = await _error_of(
        client.chat_postEphemeral(channel="C0MENTORING", user="U0NOTZ", text="psst")
    )
    assert error.response["error"] == "user_not_in_channel"


async def test_block_kit_limits_are_enforced(client: AsyncWebClient):
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "slot"}}
    too_many = await _error_of(
        client.chat_postMessage(channel="C0MENTORING", text="x", blocks=[section] * 51)
    )
    assert too_many.response["error"] == "invalid_blocks"
    assert "no more than 50 items" in too_many.response["errors"][0]

    long_label = {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "x" * 76}}
        ],
    }
    error = await _error_of(
        client.chat_postMessage(channel="C0MENTORING", text="x", blocks=[long_label])
    )
    assert error.response["error"] == "invalid_blocks"

    home = {"type": "home", "blocks": [section] * 100}
    assert (await client.views_publish(user_id="U0MENTOR", view=home))["ok"]


async def test_views_publish_open_and_update(slack: FakeSlack, client: AsyncWebClient):
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    published = (await client.views_publish(user_id="U0MENTOR", view=home))["view"]
    assert published["type"] == "home"
    assert slack.home_views["U0MENTOR"]["blocks"] == home["blocks"]
    republished = (await client.views_publish(user_id="U0MENTOR", view=home))["view"]
    assert republished["id"] == published["id"]

    modal = {
        "type": "modal",
        "callback_id": "find_time",
        "title": {"type": "plain_text", "text": "Find a time"},
        "private_metadata": "pair-42",
        "blocks": [],
    }
    trigger = sr.trigger_id()
    opened = (await client.views_open(trigger_id=trigger, view=modal))["view"]
    assert opened["callback_id"] == "find_time"
    assert opened["private_metadata"] == "pair-42"
    assert slack.views[opened["id"]]["title"]["text"] == "Find a time"

    reused = await _error_of(client.views_open(trigger_id=trigger, view=modal))
    assert reused.response["error"] == "exchanged_trigger_id"
    malformed = await _error_of(client.views_open(trigger_id="nonsense", view=modal))
    assert malformed.response["error"] == "invalid_trigger_id"
    expired = slack.issue_trigger_id()
    slack.expire_trigger_id(expired)
    assert (await _error_of(client.views_open(trigger_id=expired, view=modal))).response[
        "error"
    ] == "expired_trigger_id"

    changed = modal | {
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": "ok"}}]
    }
    updated = (await client.views_update(view_id=opened["id"], view=changed, hash=opened["hash"]))[
        "view"
    ]
    assert updated["id"] == opened["id"]
    assert slack.views[opened["id"]]["blocks"] == changed["blocks"]
    conflict = await _error_of(
        client.views_update(view_id=opened["id"], view=changed, hash=opened["hash"])
    )
    assert conflict.response["error"] == "hash_conflict"
    unknown = await _error_of(client.views_update(view_id="V0NONE", view=changed))
    assert unknown.response["error"] == "not_found"


async def test_strict_triggers_accept_only_issued_trigger_ids(slack: FakeSlack, client):
    slack.strict_triggers = True
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}

    error = await _error_of(client.views_open(trigger_id=sr.trigger_id(), view=modal))
    assert error.response["error"] == "invalid_trigger_id"
    assert (await client.views_open(trigger_id=slack.issue_trigger_id(), view=modal))["ok"]

    slack.trigger_ttl = 0.0
    stale = slack.issue_trigger_id()
    await asyncio.sleep(0.01)
    assert (await _error_of(client.views_open(trigger_id=stale, view=modal))).response[
        "error"
    ] == "expired_trigger_id"


async def test_files_upload_v2_runs_the_three_step_flow(slack: FakeSlack, client: AsyncWebClient):
    content = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"

    response = await client.files_upload_v2(
        content=content,
        filename="pairtime.ics",
        title="Your session",
        channel="C0MENTORING",
        initial_comment="Add it to your calendar",
    )

    assert [call.method for call in slack.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert slack.calls[0].args == {"filename": "pairtime.ics", "length": str(len(content))}
    (upload,) = slack.uploads.values()
    assert upload.content == content
    assert upload.completed
    assert upload.title == "Your session"
    assert upload.channels == ["C0MENTORING"]
    assert upload.initial_comment == "Add it to your calendar"
    assert response["file"]["id"] == upload.file_id
    assert response["file"]["size"] == len(content)


async def test_conversations_members_paginates_with_cursors(slack: FakeSlack, client):
    members = [f"U{n:04d}" for n in range(250)]
    slack.add_channel("C0BIG", name="big", members=members)

    pages: list[list[str]] = []
    cursors: list[str] = []
    # slack_sdk's async iteration follows response_metadata.next_cursor (one object, mutated)
    async for page in await client.conversations_members(channel="C0BIG", limit=100):
        pages.append(page["members"])
        cursors.append(page["response_metadata"]["next_cursor"])

    assert [len(page) for page in pages] == [100, 100, 50]
    assert [m for page in pages for m in page] == members
    assert cursors[-1] == ""
    assert [call.args.get("cursor") for call in slack.calls_to("conversations.members")] == [
        None,
        *cursors[:2],
    ]
    error = await _error_of(client.conversations_members(channel="C0BIG", cursor="bm9wZQ=="))
    assert error.response["error"] == "invalid_cursor"


async def test_rate_limited_calls_are_retried_after_retry_after(slack: FakeSlack, base: str):
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=f"{base}/api/",
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )

    response = await client.chat_postMessage(channel="C0MENTORING", text="after a pause")

    assert response["ok"]
    first, second = slack.calls_to("chat.postMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0
    assert len(slack.messages_in("C0MENTORING")) == 1


async def test_rate_limited_calls_fail_like_slack_without_a_retry_handler(
    slack: FakeSlack, client: AsyncWebClient
):
    slack.rate_limit("chat.update", times=2, retry_after=7)

    error = await _error_of(client.chat_update(channel="C0MENTORING", ts="1.1", text="x"))

    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "7"
    assert error.response["error"] == "ratelimited"
    assert slack.count("chat.update") == 1


async def test_scripted_failures_answer_once(slack: FakeSlack, client: AsyncWebClient):
    slack.fail("users.info", "ratelimited_by_script", times=1)

    error = await _error_of(client.users_info(user="U0MENTOR"))

    assert error.response["error"] == "ratelimited_by_script"
    assert (await client.users_info(user="U0MENTOR"))["ok"]


# slack_sdk's oauth_v2_access passes client_id/secret through aiohttp.BasicAuth, which aiohttp
# 3.14 deprecates; nothing in our code can avoid it.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_v2_access_installs_a_workspace_through_bolt(
    slack: FakeSlack, client: AsyncWebClient, tmp_path: Path
):
    slack.add_oauth_code(
        "code-123",
        team_id="T0OTHER",
        team_name="Other Org",
        bot_token="xoxb-other-1",
        bot_id="B0OTHER",
        redirect_uri="https://pairtime.example/slack/oauth_redirect",
    )
    settings = AsyncOAuthSettings(
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        scopes=["chat:write", "commands"],
        redirect_uri="https://pairtime.example/slack/oauth_redirect",
        installation_store=FileInstallationStore(base_dir=str(tmp_path / "installs")),
        state_store=FileOAuthStateStore(expiration_seconds=600, base_dir=str(tmp_path / "st")),
    )
    flow = AsyncOAuthFlow(client=AsyncWebClient(base_url=client.base_url), settings=settings)

    installation = await flow.run_installation("code-123")

    assert installation is not None
    assert installation.team_id == "T0OTHER"
    assert installation.bot_token == "xoxb-other-1"
    assert installation.bot_id == "B0OTHER"  # from bolt's follow-up auth.test with the new token
    assert installation.user_id == "U0INSTALLER"
    assert slack.calls_to("oauth.v2.access")[0].headers["Authorization"].startswith("Basic ")
    assert await flow.run_installation("code-123") is None  # codes are single use

    wrong_secret = AsyncWebClient(base_url=client.base_url)
    slack.add_oauth_code("code-456")
    error = await _error_of(
        wrong_secret.oauth_v2_access(client_id=slack.client_id, client_secret="no", code="code-456")
    )
    assert error.response["error"] == "bad_client_secret"


async def test_response_urls_record_what_the_bot_posts(slack: FakeSlack, base: str):
    webhook = AsyncWebhookClient(slack.response_url(base))

    sent = await webhook.send(replace_original=True, text="Booked")

    assert sent.status_code == 200
    (post,) = slack.responses
    assert post.replace_original
    assert post.text == "Booked"
    assert post.response_type == "ephemeral"


# ---------------------------------------------------------------------- signed requests


@pytest.mark.parametrize(
    "make",
    [
        lambda: sr.slash_command(SECRET, text="with @maria next week"),
        lambda: sr.event_callback(SECRET, sr.app_mention_event("find a time")),
        lambda: sr.event_callback(SECRET, sr.message_im_event("help"), retry_num=1),
        lambda: sr.event_callback(SECRET, sr.app_home_opened_event()),
        lambda: sr.block_actions(SECRET, "pick_slot", value="2030-01-07T10:00"),
        lambda: sr.view_submission(SECRET, "find_time"),
        lambda: sr.global_shortcut(SECRET, "open_pairtime"),
        lambda: sr.url_verification(SECRET),
    ],
    ids=["command", "mention", "im-retry", "home", "action", "submission", "shortcut", "url"],
)
def test_signed_requests_pass_slack_sdks_verifier(make):
    # Signed here, not when the tests are collected: a long run would make them stale.
    request_: sr.SlackRequest = make()
    verifier = SignatureVerifier(SECRET)

    assert verifier.is_valid_request(request_.body, request_.headers)
    assert not verifier.is_valid_request(request_.body + " ", request_.headers)
    assert not SignatureVerifier("another-secret").is_valid_request(request_.body, request_.headers)


def test_stale_requests_fail_verification():
    stale = sr.slash_command(SECRET, timestamp=int(time.time()) - 6 * 60)

    assert not SignatureVerifier(SECRET).is_valid_request(stale.body, stale.headers)


def test_slash_commands_carry_every_field_slack_sends():
    request = sr.slash_command(SECRET, text="hello", response_url="http://x/response/1")

    fields = {k: v[0] for k, v in parse_qs(request.body, keep_blank_values=True).items()}
    assert set(fields) == {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    assert fields["command"] == "/pairtime"
    assert fields["response_url"] == "http://x/response/1"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_retried_events_carry_slacks_retry_headers():
    first = sr.event_callback(SECRET, sr.message_im_event("hi"), event_id_="Ev0SAME")
    retry = sr.event_callback(
        SECRET, first.data["event"], event_id_="Ev0SAME", retry_num=2, retry_reason="http_error"
    )

    assert "X-Slack-Retry-Num" not in first.headers
    assert retry.headers["X-Slack-Retry-Num"] == "2"
    assert retry.headers["X-Slack-Retry-Reason"] == "http_error"
    assert json.loads(retry.body)["event_id"] == json.loads(first.body)["event_id"]


async def test_bolt_routes_every_built_request_and_its_replies_reach_the_fake(
    slack: FakeSlack, base: str, client: AsyncWebClient
):
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)
    seen: list[tuple[str, Any]] = []

    @app.command("/pairtime")
    async def command(ack, command, respond):
        await ack()
        seen.append(("command", command["text"]))
        await respond(text="Looking…", response_type="ephemeral")

    @app.event("app_mention")
    async def mention(event, say):
        seen.append(("mention", event["text"]))
        await say("On it")

    @app.event("message")
    async def direct_message(event):
        seen.append(("im", (event["channel_type"], event["text"])))

    @app.event("app_home_opened")
    async def home(event, client):
        seen.append(("home", event["tab"]))
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    @app.action("pick_slot")
    async def pick(ack, action, body, respond):
        await ack()
        seen.append(("action", (action["value"], body["container"]["type"])))
        await respond(replace_original=True, text="Booked")

    @app.view("find_time")
    async def submitted(ack, view):
        await ack()
        seen.append(("view", view["state"]["values"]["when"]["when_input"]["value"]))

    @app.shortcut("open_pairtime")
    async def shortcut(ack, shortcut, client):
        await ack()
        seen.append(("shortcut", shortcut["callback_id"]))
        modal = {"type": "modal", "title": {"type": "plain_text", "text": "P"}, "blocks": []}
        await client.views_open(trigger_id=shortcut["trigger_id"], view=modal)

    values = {"when": {"when_input": {"type": "plain_text_input", "value": "tomorrow"}}}
    requests = [
        sr.slash_command(SECRET, text="with maria", response_url=slack.response_url(base)),
        sr.event_callback(SECRET, sr.app_mention_event("find a time")),
        sr.event_callback(SECRET, sr.message_im_event("help", user="U0MENTEE")),
        sr.event_callback(SECRET, sr.app_home_opened_event(user="U0MENTOR")),
        sr.block_actions(
            SECRET, "pick_slot", value="slot-1", response_url=slack.response_url(base)
        ),
        sr.view_submission(SECRET, "find_time", values=values),
        sr.global_shortcut(SECRET, "open_pairtime"),
    ]
    for request in requests:
        response = await app.async_dispatch(
            AsyncBoltRequest(body=request.body, headers={**request.headers})
        )
        assert response.status == 200, (request.data, response.body)

    challenge = sr.url_verification(SECRET, challenge="abc")
    answer = await app.async_dispatch(
        AsyncBoltRequest(body=challenge.body, headers={**challenge.headers})
    )
    assert json.loads(answer.body) == {"challenge": "abc"}

    assert seen == [
        ("command", "with maria"),
        ("mention", "<@U0PAIRBOT> find a time"),
        ("im", ("im", "help")),
        ("home", "home"),
        ("action", ("slot-1", "message")),
        ("view", "tomorrow"),
        ("shortcut", "open_pairtime"),
    ]
    assert [post.text for post in slack.responses] == ["Looking…", "Booked"]
    assert slack.responses[1].replace_original
    assert slack.messages_in("C0MENTORING")[0].text == "On it"
    assert "U0MENTOR" in slack.home_views
    assert slack.count("views.open") == 1
    tampered = sr.slash_command(SECRET, text="x")
    forged = await app.async_dispatch(
        AsyncBoltRequest(body=tampered.body.replace("x", "y"), headers={**tampered.headers})
    )
    assert forged.status == 401
