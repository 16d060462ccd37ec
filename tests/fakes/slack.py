"""A fake of the parts of Slack's Web API that Pairtime calls, for the real slack_sdk to talk to.

    slack = FakeSlack()
    slack.add_user("U0MENTEE", real_name="Maria Lopez", tz="Europe/Madrid")
    async with running(slack.app) as base:
        client = AsyncWebClient(token=slack.bot_token, base_url=f"{base}/api/")
        await client.chat_postMessage(channel="U0MENTEE", text="hi")
    assert slack.calls_to("chat.postMessage")[0].args["text"] == "hi"

It answers as Slack does (slack_sdk ``web/async_base_client.py`` reads the body's ``ok`` and
``error``; ``http_retry`` reads ``Retry-After`` on a 429): HTTP 200 with ``{"ok": false,
"error": ...}`` for API errors, HTTP 429 with ``Retry-After`` when rate limited. Arguments are
read from the query string, a form body and a JSON body alike, because slack_sdk sends some
methods as ``params`` (query string on a POST), some as ``data`` (form) and some as ``json``.

Besides ``/api/<method>`` it serves the ``upload_url`` that ``files.getUploadURLExternal``
hands out (``/upload/v1/<file id>``) and ``response_url``s (``/response/<id>``), recording
what is posted to each.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

JsonDict = dict[str, Any]

# Block Kit limits (docs.slack.dev "Block Kit" reference); Slack answers invalid_blocks past them.
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
SECTION_TEXT_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
ACTION_ID_LIMIT = 255
ACTIONS_ELEMENT_LIMIT = 25


class SlackApiFailure(Exception):
    """Raised inside a method handler: becomes ``{"ok": false, "error": error, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass(frozen=True)
class SlackCall:
    """One request the fake received, for assertions."""

    method: str  # "chat.postMessage"; "upload" for an upload URL; "response" for a response_url
    args: JsonDict  # query string, form and JSON body merged; JSON-valued form fields decoded
    headers: dict[str, str]  # Authorization, Content-Type, User-Agent, when present
    at: float  # time.monotonic() on arrival
    http_method: str = "POST"
    content_type: str = ""
    token: str | None = None
    status: int = 200


@dataclass
class SlackUser:
    id: str
    name: str
    real_name: str
    team_id: str
    email: str | None = None
    display_name: str = ""
    tz: str | None = None
    tz_label: str | None = None
    tz_offset: int | None = None
    is_bot: bool = False
    deleted: bool = False
    locale: str = "en-US"

    def to_json(self, *, include_locale: bool = False) -> JsonDict:
        """The user object as users.info returns it; tz fields are absent when unknown."""
        profile: JsonDict = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "status_text": "",
            "status_emoji": "",
            "team": self.team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        user: JsonDict = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        if self.tz is not None:
            user["tz"] = self.tz
            user["tz_label"] = self.tz_label or self.tz
            user["tz_offset"] = self.tz_offset if self.tz_offset is not None else 0
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class SlackWorkspace:
    """What one bot token stands for (a workspace installation)."""

    token: str
    team_id: str
    team_name: str
    bot_user_id: str
    bot_id: str
    scopes: str = (
        "chat:write,commands,im:write,users:read,users:read.email,files:write,"
        "channels:read,groups:read,mpim:read"
    )
    enterprise_id: str | None = None

    @property
    def domain(self) -> str:
        return self.team_name.lower().replace(" ", "-")


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str
    blocks: list[Any]
    user: str
    thread_ts: str | None = None
    metadata: Any = None
    edits: list[JsonDict] = field(default_factory=list)  # earlier versions, oldest first

    def to_json(self, workspace: SlackWorkspace, app_id: str) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "user": self.user,
            "bot_id": workspace.bot_id,
            "app_id": app_id,
            "text": self.text,
            "ts": self.ts,
            "team": workspace.team_id,
        }
        if self.blocks:
            message["blocks"] = self.blocks
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        return message


@dataclass
class SlackUpload:
    file_id: str
    filename: str
    length: int  # as declared to files.getUploadURLExternal
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None  # None until the upload URL received it
    title: str | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None


@dataclass(frozen=True)
class ResponseUrlPost:
    """A POST to a response_url, as Slack would receive it from the bot."""

    response_id: str
    body: JsonDict

    @property
    def text(self) -> str | None:
        return self.body.get("text")

    @property
    def response_type(self) -> str:
        return str(self.body.get("response_type", "ephemeral"))  # Slack's default

    @property
    def replace_original(self) -> bool:
        return _truthy(self.body.get("replace_original"))

    @property
    def delete_original(self) -> bool:
        return _truthy(self.body.get("delete_original"))


@dataclass
class _OAuthGrant:
    response: JsonDict
    redirect_uri: str | None
    used: bool = False


@dataclass
class _Trigger:
    issued_at: float
    expired: bool = False
    exchanged: bool = False


Handler = Callable[["_Request"], Awaitable[JsonDict]]


@dataclass
class _Request:
    method: str
    args: JsonDict
    workspace: SlackWorkspace | None
    origin: str
    authorization: str = ""


class FakeSlack:
    """Slack's Web API with scriptable users, channels, installs, failures and rate limits."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-1-pairtime-test",
        team_id: str = "T0PAIRTIME",
        team_name: str = "Pairtime Test",
        bot_user_id: str = "U0PAIRBOT",
        bot_id: str = "B0PAIRBOT",
        app_id: str = "A0PAIRTIME",
        client_id: str = "1111.2222",
        client_secret: str = "fake-client-secret",
        strict_channels: bool = True,
        strict_triggers: bool = False,
        trigger_ttl: float | None = None,
    ) -> None:
        """``strict_channels``: unknown channels answer channel_not_found (Slack's behaviour).

        ``strict_triggers``: only trigger ids from :meth:`issue_trigger_id` are accepted;
        otherwise any well-formed trigger id is, once. ``trigger_ttl``: seconds after which an
        issued trigger id answers expired_trigger_id (Slack: 3 s); None never expires them.
        """
        self.app_id = app_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.strict_channels = strict_channels
        self.strict_triggers = strict_triggers
        self.trigger_ttl = trigger_ttl
        self.workspaces: dict[str, SlackWorkspace] = {}
        self.default = self.add_workspace(
            bot_token, team_id=team_id, team_name=team_name, bot_user_id=bot_user_id, bot_id=bot_id
        )
        self.users: dict[str, SlackUser] = {}
        self.channels: dict[str, JsonDict] = {}  # id -> {"name": ..., "members": [...]}
        self.messages: list[SlackMessage] = []
        self._posted = asyncio.Event()  # set on each chat.postMessage (see wait_for_messages)
        self.ephemeral: list[JsonDict] = []
        self.home_views: dict[str, JsonDict] = {}  # user id -> the published view
        self.views: dict[str, JsonDict] = {}  # view id -> view (modals opened or updated)
        self.uploads: dict[str, SlackUpload] = {}
        self.responses: list[ResponseUrlPost] = []
        self.calls: list[SlackCall] = []
        self.page_size = 100  # conversations.members default limit
        self._grants: dict[str, _OAuthGrant] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._rate_limits: dict[str, list[int]] = {}  # method -> [remaining, retry_after]
        self._failures: dict[str, list[tuple[SlackApiFailure, int]]] = {}
        self._held: dict[str, asyncio.Event] = {}
        self._crash: tuple[frozenset[str], Callable[[], object]] | None = None
        self._dead: frozenset[str] = frozenset()
        self._ids = itertools.count(1)
        self._ts_seq = itertools.count(100)
        self._handlers: dict[str, Handler] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.members": self._conversations_members,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "oauth.v2.access": self._oauth_v2_access,
        }

    # ------------------------------------------------------------------ scripting

    @property
    def bot_token(self) -> str:
        return self.default.token

    @property
    def team_id(self) -> str:
        return self.default.team_id

    @property
    def bot_user_id(self) -> str:
        return self.default.bot_user_id

    def add_workspace(
        self,
        token: str,
        *,
        team_id: str,
        team_name: str = "Another Workspace",
        bot_user_id: str = "U0PAIRBOT2",
        bot_id: str = "B0PAIRBOT2",
        scopes: str | None = None,
    ) -> SlackWorkspace:
        """Make ``token`` a valid bot token for another workspace (multi-workspace installs)."""
        workspace = SlackWorkspace(token, team_id, team_name, bot_user_id, bot_id)
        if scopes is not None:
            workspace.scopes = scopes
        self.workspaces[token] = workspace
        return workspace

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
        tz: str | None = "Europe/Madrid",
        tz_label: str | None = None,
        tz_offset: int | None = None,
        team_id: str | None = None,
        is_bot: bool = False,
        locale: str = "en-US",
    ) -> SlackUser:
        """A workspace member; pass ``tz=None`` for a user Slack knows no time zone for."""
        handle = name or user_id.lower()
        user = SlackUser(
            id=user_id,
            name=handle,
            real_name=real_name or handle.title(),
            team_id=team_id or self.team_id,
            email=email if email is not None else f"{handle}@example.org",
            display_name=display_name if display_name is not None else handle,
            tz=tz,
            tz_label=tz_label,
            tz_offset=tz_offset,
            is_bot=is_bot,
            locale=locale,
        )
        self.users[user_id] = user
        return user

    def add_channel(
        self, channel_id: str, *, name: str | None = None, members: Iterable[str] = ()
    ) -> JsonDict:
        channel = {"id": channel_id, "name": name or channel_id.lower(), "members": list(members)}
        self.channels[channel_id] = channel
        return channel

    def add_oauth_code(
        self,
        code: str,
        *,
        team_id: str = "T0INSTALLED",
        team_name: str = "Installed Workspace",
        bot_token: str | None = None,
        bot_user_id: str = "U0INSTBOT",
        bot_id: str = "B0INSTBOT",
        scope: str = "chat:write,commands,im:write,users:read,users:read.email",
        authed_user_id: str = "U0INSTALLER",
        user_scope: str | None = None,
        redirect_uri: str | None = None,
        enterprise: JsonDict | None = None,
    ) -> JsonDict:
        """Script what ``oauth.v2.access`` answers for ``code`` (usable once, as in Slack).

        The bot token becomes valid on this fake once exchanged, so bolt's follow-up
        ``auth.test`` (it reads ``bot_id`` there) works.
        """
        token = bot_token or f"xoxb-{team_id}-{secrets.token_hex(6)}"
        authed_user: JsonDict = {"id": authed_user_id}
        if user_scope:
            authed_user |= {
                "scope": user_scope,
                "access_token": f"xoxp-{team_id}-{secrets.token_hex(6)}",
                "token_type": "user",
            }
        response: JsonDict = {
            "access_token": token,
            "token_type": "bot",
            "scope": scope,
            "bot_user_id": bot_user_id,
            "app_id": self.app_id,
            "team": {"name": team_name, "id": team_id},
            "enterprise": enterprise,
            "is_enterprise_install": False,
            "authed_user": authed_user,
        }
        self._grants[code] = _OAuthGrant(
            response | {"_bot_id": bot_id, "_team_name": team_name}, redirect_uri
        )
        return response

    def issue_trigger_id(self) -> str:
        """A trigger id as Slack puts in an interaction payload (``views.open`` takes it once)."""
        serial = f"{next(self._ids)}{secrets.randbelow(10**6)}"
        trigger_id = f"{serial}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = _Trigger(time.monotonic())
        return trigger_id

    def expire_trigger_id(self, trigger_id: str) -> None:
        self._triggers.setdefault(trigger_id, _Trigger(time.monotonic())).expired = True

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls to ``method`` answer HTTP 429, ``Retry-After: retry_after``."""
        self._rate_limits[method] = [times, retry_after]

    def hold(self, *methods: str) -> asyncio.Event:
        """Calls to ``methods`` (``"response"``: posts to a response_url) are recorded, then
        answered only once the returned event is set: what the bot does before Slack answers
        shows, on any machine, without timing it."""
        released = asyncio.Event()
        self._held |= dict.fromkeys(methods, released)
        return released

    def crash_at(self, *methods: str, crash: Callable[[], object]) -> None:
        """A fault: the first call to any of ``methods`` (``"response"``: a post to a
        response_url) runs ``crash`` (the test's: the calling process dying as it makes the
        call), and is not taken; nor is any call to them after it until :meth:`revive` (what
        the dead process had in flight never lands). The calls are recorded in ``calls``."""
        self._crash = (frozenset(methods), crash)

    def revive(self) -> None:
        """After :meth:`crash_at` fired: calls are taken again (another process's, or the
        restarted one's)."""
        self._dead = frozenset()

    def _crashed(self, method: str) -> None:
        if self._crash is not None and method in self._crash[0]:
            self._dead, crash = self._crash
            self._crash = None
            crash()
        if method in self._dead:
            raise web.HTTPServiceUnavailable

    def fail(self, method: str, error: str, *, times: int = 1, **extra: Any) -> None:
        """The next ``times`` calls to ``method`` answer ``{"ok": false, "error": error}``."""
        self._failures.setdefault(method, []).append((SlackApiFailure(error, **extra), times))

    def response_url(self, base_url: str) -> str:
        """A response_url served by this fake (``base_url`` as yielded by ``running``)."""
        return f"{base_url}/response/{next(self._ids)}-{secrets.token_hex(4)}"

    # ------------------------------------------------------------------ assertions

    def calls_to(self, method: str) -> list[SlackCall]:
        return [call for call in self.calls if call.method == method]

    def count(self, method: str) -> int:
        return len(self.calls_to(method))

    def answered(self, response_url: str) -> list[dict[str, Any]]:
        """The blocks of the last answer posted to ``response_url``, whichever process sent
        it (with the durable inbox, any app's worker may answer a request)."""
        response_id = response_url.rsplit("/", 1)[-1]
        found = [r for r in self.responses if r.response_id == response_id]
        blocks: list[dict[str, Any]] = found[-1].body["blocks"]
        return blocks

    def messages_in(self, channel: str) -> list[SlackMessage]:
        return [message for message in self.messages if message.channel == channel]

    async def wait_for_messages(self, channel: str, count: int) -> list[SlackMessage]:
        """Once ``count`` messages were posted in ``channel`` (by any process talking to this
        fake): for senders the test cannot drain, such as ``pairtime serve`` processes."""
        while len(self.messages_in(channel)) < count:
            self._posted.clear()
            await self._posted.wait()
        return self.messages_in(channel)

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    def dm_channel(self, user_id: str) -> str:
        """The DM channel id conversations.open gives for ``user_id``."""
        return f"D{user_id}"

    # ------------------------------------------------------------------ HTTP

    @property
    def app(self) -> web.Application:
        """A new Application over this fake's state at each access, so that one fake can be
        served by several servers (an aiohttp Application belongs to one event loop)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        return app

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        token = _bearer(request) or _str_or_none(args.pop("token", None))
        self.calls.append(
            SlackCall(
                method=method,
                args=args,
                headers=_headers_of_interest(request),
                at=time.monotonic(),
                http_method=request.method,
                content_type=request.content_type,
                token=token,
                status=429 if self._rate_limited_now(method) else 200,
            )
        )
        await self._held_back(method)
        self._crashed(method)
        limit = self._rate_limits.get(method)
        if limit and limit[0] > 0:
            limit[0] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(limit[1])},
            )
        handler = self._handlers.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        try:
            self._scripted_failure(method)
            workspace = None
            if method not in {"oauth.v2.access", "api.test"}:
                workspace = self._authenticate(token)
            body = await handler(
                _Request(
                    method,
                    dict(args),
                    workspace,
                    str(request.url.origin()),
                    request.headers.get("Authorization", ""),
                )
            )
        except SlackApiFailure as failure:
            return web.json_response({"ok": False, "error": failure.error, **failure.extra})
        headers = {}
        if workspace is not None:
            headers["X-OAuth-Scopes"] = workspace.scopes
        return web.json_response({"ok": True, **body}, headers=headers)

    async def _held_back(self, method: str) -> None:
        if (held := self._held.get(method)) is not None:
            await held.wait()

    def _rate_limited_now(self, method: str) -> bool:
        limit = self._rate_limits.get(method)
        return bool(limit and limit[0] > 0)

    def _scripted_failure(self, method: str) -> None:
        queue = self._failures.get(method)
        if not queue:
            return
        failure, times = queue[0]
        if times <= 1:
            queue.pop(0)
        else:
            queue[0] = (failure, times - 1)
        raise failure

    def _authenticate(self, token: str | None) -> SlackWorkspace:
        if not token:
            raise SlackApiFailure("not_authed")
        workspace = self.workspaces.get(token)
        if workspace is None:
            raise SlackApiFailure("invalid_auth")
        return workspace

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        upload = self.uploads.get(file_id)
        if request.content_type.startswith("multipart/"):
            content = await _first_file_part(request)
        else:
            content = await request.read()
        self.calls.append(
            SlackCall(
                method="upload",
                args={"file_id": file_id, "bytes": len(content)},
                headers=_headers_of_interest(request),
                at=time.monotonic(),
                content_type=request.content_type,
                status=200 if upload else 404,
            )
        )
        if upload is None:
            return web.Response(status=404, text="not found", content_type="text/plain")
        upload.content = content
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        response_id = request.match_info["response_id"]
        self.calls.append(
            SlackCall(
                method="response",
                args=body,
                headers=_headers_of_interest(request),
                at=time.monotonic(),
                content_type=request.content_type,
            )
        )
        await self._held_back("response")
        self._crashed("response")
        self.responses.append(ResponseUrlPost(response_id, body))
        return web.Response(text="ok", content_type="text/html")

    # ------------------------------------------------------------------ methods

    async def _api_test(self, request: _Request) -> JsonDict:
        return {"args": request.args} if request.args else {}

    async def _auth_test(self, request: _Request) -> JsonDict:
        workspace = _required_workspace(request)
        return {
            "url": f"https://{workspace.domain}.slack.com/",
            "team": workspace.team_name,
            "user": "pairtime",
            "team_id": workspace.team_id,
            "user_id": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "is_enterprise_install": False,
        }

    async def _users_info(self, request: _Request) -> JsonDict:
        user = self.users.get(_arg(request, "user"))
        if user is None:
            raise SlackApiFailure("user_not_found")
        return {"user": user.to_json(include_locale=_truthy(request.args.get("include_locale")))}

    async def _conversations_open(self, request: _Request) -> JsonDict:
        channel = _str_or_none(request.args.get("channel"))
        if channel:
            return {"channel": {"id": self._resolve_channel(channel)}}
        users = [u for u in str(request.args.get("users", "")).split(",") if u]
        if not users:
            raise SlackApiFailure("users_list_not_supplied")
        for user_id in users:
            if user_id not in self.users:
                raise SlackApiFailure("user_not_found")
        if len(users) == 1:
            channel_id = self.dm_channel(users[0])
        else:
            channel_id = "G" + "".join(sorted(u[-3:] for u in users))
        already_open = channel_id in self.channels
        if not already_open:
            members = [*users, _required_workspace(request).bot_user_id]
            self.add_channel(channel_id, name=channel_id.lower(), members=members)
        body: JsonDict = {"channel": {"id": channel_id}}
        if already_open:
            body |= {"no_op": True, "already_open": True}
        return body

    async def _conversations_members(self, request: _Request) -> JsonDict:
        channel = self.channels.get(self._resolve_channel(_arg(request, "channel")))
        members: list[str] = channel["members"] if channel else []
        limit = int(request.args.get("limit") or self.page_size)
        start = _decode_cursor(_str_or_none(request.args.get("cursor")))
        page = members[start : start + limit]
        following = start + limit
        next_cursor = _encode_cursor(following) if following < len(members) else ""
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    async def _chat_post_message(self, request: _Request) -> JsonDict:
        workspace = _required_workspace(request)
        channel = self._resolve_channel(_arg(request, "channel"))
        text = _str_or_none(request.args.get("text")) or ""
        blocks = _json_arg(request.args.get("blocks")) or []
        if not text and not blocks and not request.args.get("attachments"):
            raise SlackApiFailure("no_text")
        _check_blocks(blocks, MESSAGE_BLOCK_LIMIT)
        message = SlackMessage(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            user=workspace.bot_user_id,
            thread_ts=_str_or_none(request.args.get("thread_ts")),
            metadata=_json_arg(request.args.get("metadata")),
        )
        self.messages.append(message)
        self._posted.set()
        return {
            "channel": channel,
            "ts": message.ts,
            "message": message.to_json(workspace, self.app_id),
        }

    async def _chat_post_ephemeral(self, request: _Request) -> JsonDict:
        channel = self._resolve_channel(_arg(request, "channel"))
        user = _arg(request, "user")
        if user not in self.users:
            raise SlackApiFailure("user_not_found")
        members = self.channels.get(channel, {}).get("members")
        if members and user not in members:
            raise SlackApiFailure("user_not_in_channel")
        blocks = _json_arg(request.args.get("blocks")) or []
        text = _str_or_none(request.args.get("text")) or ""
        if not text and not blocks and not request.args.get("attachments"):
            raise SlackApiFailure("no_text")
        _check_blocks(blocks, MESSAGE_BLOCK_LIMIT)
        message_ts = self._next_ts()
        self.ephemeral.append(
            {"channel": channel, "user": user, "text": text, "blocks": blocks, "ts": message_ts}
        )
        return {"message_ts": message_ts}

    async def _chat_update(self, request: _Request) -> JsonDict:
        workspace = _required_workspace(request)
        channel = self._resolve_channel(_arg(request, "channel"))
        message = self.message(channel, _arg(request, "ts"))
        if message is None:
            raise SlackApiFailure("message_not_found")
        blocks = _json_arg(request.args.get("blocks"))
        if blocks is not None:
            _check_blocks(blocks, MESSAGE_BLOCK_LIMIT)
        message.edits.append(
            {"text": message.text, "blocks": message.blocks, "metadata": message.metadata}
        )
        if "metadata" in request.args:
            message.metadata = _json_arg(request.args["metadata"])
        if "text" in request.args:
            message.text = str(request.args["text"])
        if blocks is not None:
            message.blocks = blocks
        return {
            "channel": channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_json(workspace, self.app_id),
        }

    async def _views_publish(self, request: _Request) -> JsonDict:
        user_id = _arg(request, "user_id")
        if user_id not in self.users:
            raise SlackApiFailure("user_not_found")
        view = _view_arg(request)
        if view.get("type") != "home":
            raise SlackApiFailure(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] must be home [json-pointer:/view/type]"]},
            )
        previous = self.home_views.get(user_id)
        view_id = previous["id"] if previous else self._next_id("V")
        stored = self._view_json(view, view_id, _required_workspace(request))
        self.home_views[user_id] = stored
        return {"view": stored}

    async def _views_open(self, request: _Request) -> JsonDict:
        trigger_id = _str_or_none(request.args.get("trigger_id")) or _str_or_none(
            request.args.get("interactivity_pointer")
        )
        if not trigger_id:
            raise SlackApiFailure(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]},
            )
        self._exchange_trigger(trigger_id)
        view = _view_arg(request)
        stored = self._view_json(view, self._next_id("V"), _required_workspace(request))
        self.views[stored["id"]] = stored
        return {"view": stored}

    async def _views_update(self, request: _Request) -> JsonDict:
        view_id = _str_or_none(request.args.get("view_id"))
        external_id = _str_or_none(request.args.get("external_id"))
        current = None
        if view_id:
            current = self.views.get(view_id) or next(
                (v for v in self.home_views.values() if v["id"] == view_id), None
            )
        elif external_id:
            current = next(
                (v for v in self.views.values() if v.get("external_id") == external_id), None
            )
        if current is None:
            raise SlackApiFailure("not_found")
        expected_hash = _str_or_none(request.args.get("hash"))
        if expected_hash and expected_hash != current["hash"]:
            raise SlackApiFailure("hash_conflict")
        stored = self._view_json(_view_arg(request), current["id"], _required_workspace(request))
        if current["id"] in self.views:
            self.views[current["id"]] = stored
        else:
            for user_id, home in self.home_views.items():
                if home["id"] == current["id"]:
                    self.home_views[user_id] = stored
        return {"view": stored}

    async def _files_get_upload_url_external(self, request: _Request) -> JsonDict:
        filename = _str_or_none(request.args.get("filename"))
        length = request.args.get("length")
        if not filename or length in {None, "", "0", 0}:
            raise SlackApiFailure("invalid_arguments")
        file_id = self._next_id("F")
        self.uploads[file_id] = SlackUpload(
            file_id=file_id,
            filename=filename,
            length=int(length),
            alt_txt=_str_or_none(request.args.get("alt_txt")),
            snippet_type=_str_or_none(request.args.get("snippet_type")),
        )
        return {"upload_url": f"{request.origin}/upload/v1/{file_id}", "file_id": file_id}

    async def _files_complete_upload_external(self, request: _Request) -> JsonDict:
        workspace = _required_workspace(request)
        files = _json_arg(request.args.get("files"))
        if not isinstance(files, list) or not files:
            raise SlackApiFailure("invalid_arguments")
        channels: list[str] = []
        if request.args.get("channel_id"):
            channels.append(self._resolve_channel(str(request.args["channel_id"])))
        listed = str(request.args.get("channels") or "").split(",")
        channels.extend(self._resolve_channel(channel) for channel in listed if channel)
        completed = []
        for item in files:
            upload = self.uploads.get(item.get("id", ""))
            if upload is None or upload.content is None:
                raise SlackApiFailure("file_not_found")
            upload.completed = True
            upload.title = item.get("title") or upload.filename
            upload.channels = channels
            upload.initial_comment = _str_or_none(request.args.get("initial_comment"))
            upload.thread_ts = _str_or_none(request.args.get("thread_ts"))
            completed.append(self._file_json(upload, workspace, request.origin))
        return {"files": completed}

    async def _oauth_v2_access(self, request: _Request) -> JsonDict:
        client_id, client_secret = _basic_auth(request.authorization)
        client_id = client_id or _str_or_none(request.args.get("client_id"))
        client_secret = client_secret or _str_or_none(request.args.get("client_secret"))
        if client_id != self.client_id:
            raise SlackApiFailure("invalid_client_id")
        if client_secret != self.client_secret:
            raise SlackApiFailure("bad_client_secret")
        grant = self._grants.get(_str_or_none(request.args.get("code")) or "")
        if grant is None or grant.used:
            raise SlackApiFailure("invalid_code")
        if grant.redirect_uri and request.args.get("redirect_uri") != grant.redirect_uri:
            raise SlackApiFailure("bad_redirect_uri")
        grant.used = True
        response = {k: v for k, v in grant.response.items() if not k.startswith("_")}
        self.add_workspace(
            response["access_token"],
            team_id=response["team"]["id"],
            team_name=grant.response["_team_name"],
            bot_user_id=response["bot_user_id"],
            bot_id=grant.response["_bot_id"],
            scopes=response["scope"],
        )
        return response

    # ------------------------------------------------------------------ helpers

    def _resolve_channel(self, channel: str) -> str:
        if channel in self.channels:
            return channel
        by_name = next(
            (cid for cid, c in self.channels.items() if f"#{c['name']}" == channel), None
        )
        if by_name:
            return by_name
        if channel in self.users:  # Slack posts to the app's DM with that user
            return self._ensure_dm(channel)
        if channel.startswith("D") and channel[1:] in self.users:
            return self._ensure_dm(channel[1:])
        if self.strict_channels:
            raise SlackApiFailure("channel_not_found")
        self.add_channel(channel)
        return channel

    def _ensure_dm(self, user_id: str) -> str:
        channel_id = self.dm_channel(user_id)
        if channel_id not in self.channels:
            self.add_channel(channel_id, members=[user_id, self.bot_user_id])
        return channel_id

    def _exchange_trigger(self, trigger_id: str) -> None:
        parts = trigger_id.split(".")
        if len(parts) != 3 or not all(parts):
            raise SlackApiFailure("invalid_trigger_id")
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            if self.strict_triggers:
                raise SlackApiFailure("invalid_trigger_id")
            trigger = self._triggers[trigger_id] = _Trigger(time.monotonic())
        too_old = self.trigger_ttl is not None and (
            time.monotonic() - trigger.issued_at > self.trigger_ttl
        )
        if trigger.expired or too_old:
            raise SlackApiFailure("expired_trigger_id")
        if trigger.exchanged:
            raise SlackApiFailure("exchanged_trigger_id")
        trigger.exchanged = True

    def _view_json(self, view: JsonDict, view_id: str, workspace: SlackWorkspace) -> JsonDict:
        blocks = view.get("blocks") or []
        _check_blocks(blocks, VIEW_BLOCK_LIMIT)
        stored: JsonDict = {
            "id": view_id,
            "team_id": workspace.team_id,
            "type": view.get("type", "modal"),
            "blocks": blocks,
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close")),
            "notify_on_close": bool(view.get("notify_on_close")),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": workspace.team_id,
            "bot_id": workspace.bot_id,
        }
        for key in ("title", "submit", "close"):
            if key in view:
                stored[key] = view[key]
        return stored

    def _file_json(self, upload: SlackUpload, workspace: SlackWorkspace, origin: str) -> JsonDict:
        now = int(time.time())
        private = f"{origin}/files-pri/{workspace.team_id}-{upload.file_id}/{upload.filename}"
        return {
            "id": upload.file_id,
            "created": now,
            "timestamp": now,
            "name": upload.filename,
            "title": upload.title,
            "mimetype": "",
            "filetype": "",
            "pretty_type": "",
            "user": workspace.bot_user_id,
            "user_team": workspace.team_id,
            "editable": False,
            "size": len(upload.content or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(upload.channels),
            "public_url_shared": False,
            "url_private": private,
            "url_private_download": private.replace("/files-pri/", "/files-pri/download/"),
            "permalink": f"https://{workspace.domain}.slack.com/files/{workspace.bot_user_id}/{upload.file_id}/{upload.filename}",
            "channels": [c for c in upload.channels if c.startswith("C")],
            "groups": [c for c in upload.channels if c.startswith("G")],
            "ims": [c for c in upload.channels if c.startswith("D")],
            "comments_count": 0,
        }

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts_seq):06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._ids):08d}"


# ---------------------------------------------------------------------- request parsing


async def _read_args(request: web.Request) -> JsonDict:
    args: JsonDict = dict(request.query)
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args |= body
        elif request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            form = await request.post()
            args |= {k: v for k, v in form.items() if isinstance(v, str)}
    return args


async def _first_file_part(request: web.Request) -> bytes:
    reader = await request.multipart()
    async for part in reader:
        if isinstance(part, BodyPartReader) and part.filename is not None:
            return bytes(await part.read())
    return b""


def _headers_of_interest(request: web.Request) -> dict[str, str]:
    names = ("Authorization", "Content-Type", "User-Agent")
    return {name: request.headers[name] for name in names if name in request.headers}


def _bearer(request: web.Request) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        return authorization[len("Bearer ") :].strip()
    return None


def _basic_auth(authorization: str) -> tuple[str | None, str | None]:
    if not authorization.startswith("Basic "):
        return None, None
    try:
        decoded = base64.b64decode(authorization[len("Basic ") :]).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _required_workspace(request: _Request) -> SlackWorkspace:
    assert request.workspace is not None, "authenticated methods always have a workspace"
    return request.workspace


def _arg(request: _Request, name: str) -> str:
    value = _str_or_none(request.args.get(name))
    if not value:
        raise SlackApiFailure(
            "invalid_arguments",
            response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
        )
    return value


def _view_arg(request: _Request) -> JsonDict:
    view = _json_arg(request.args.get("view"))
    if not isinstance(view, dict):
        raise SlackApiFailure(
            "invalid_arguments",
            response_metadata={"messages": ["[ERROR] missing required field: view"]},
        )
    return view


def _json_arg(value: Any) -> Any:
    """Form-encoded calls carry blocks, views and files as JSON strings; JSON calls as values."""
    if isinstance(value, str):
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError as error:
            raise SlackApiFailure("invalid_arguments") from error
    return value


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _truthy(value: Any) -> bool:
    return value is True or value in {1, "1", "true", "True"}


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, offset = base64.b64decode(cursor).decode().partition(":")
        position = int(offset)
    except (ValueError, binascii.Error) as error:
        raise SlackApiFailure("invalid_cursor") from error
    if kind != "offset":
        raise SlackApiFailure("invalid_cursor")
    return position


def _check_blocks(blocks: Any, limit: int) -> None:
    """Answer invalid_blocks as Slack does when a Block Kit limit is crossed."""
    if not isinstance(blocks, list):
        raise SlackApiFailure("invalid_blocks_format")
    errors = []
    if len(blocks) > limit:
        errors.append(_too_many(limit, "/blocks"))
    for index, block in enumerate(blocks):
        pointer = f"/blocks/{index}"
        text = (block.get("text") or {}).get("text", "") if block.get("type") == "section" else ""
        if len(text) > SECTION_TEXT_LIMIT:
            errors.append(_too_long(SECTION_TEXT_LIMIT, f"{pointer}/text/text"))
        elements = (block.get("elements") or []) if block.get("type") == "actions" else []
        if len(elements) > ACTIONS_ELEMENT_LIMIT:
            errors.append(_too_many(ACTIONS_ELEMENT_LIMIT, f"{pointer}/elements"))
        for position, element in enumerate(elements):
            errors.extend(_element_errors(element, f"{pointer}/elements/{position}"))
        if block.get("accessory"):
            errors.extend(_element_errors(block["accessory"], f"{pointer}/accessory"))
    if errors:
        raise SlackApiFailure(
            "invalid_blocks",
            errors=errors,
            response_metadata={"messages": [f"[ERROR] {error}" for error in errors]},
        )


def _element_errors(element: JsonDict, pointer: str) -> list[str]:
    errors = []
    if len(str(element.get("action_id", ""))) > ACTION_ID_LIMIT:
        errors.append(_too_long(ACTION_ID_LIMIT, f"{pointer}/action_id"))
    if element.get("type") == "button":
        if len((element.get("text") or {}).get("text", "")) > BUTTON_TEXT_LIMIT:
            errors.append(_too_long(BUTTON_TEXT_LIMIT, f"{pointer}/text/text"))
        if len(str(element.get("value", ""))) > BUTTON_VALUE_LIMIT:
            errors.append(_too_long(BUTTON_VALUE_LIMIT, f"{pointer}/value"))
    return errors


def _too_long(limit: int, pointer: str) -> str:
    return f"must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _too_many(limit: int, pointer: str) -> str:
    return f"no more than {limit} items allowed [json-pointer:{pointer}]"
