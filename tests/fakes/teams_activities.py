"""Activities as Microsoft Teams sends them to a bot, as JSON dicts.

    activity = personal_message("find a time with Maria", service_url=base)
    await adapter.process_activity(f"Bearer {token}", Activity().deserialize(activity), bot)

Shapes follow the Teams platform documentation (conversation basics, channel and group chats,
"conversation events", Universal Actions' ``adaptiveCard/action`` invoke) and payloads seen
in botbuilder samples: ids prefixed ``29:`` for users and ``28:`` + app id for the bot, ``a:``
personal conversations, ``19:...@thread.tacv2`` channels (a reply thread's conversation id
carries ``;messageid=``), ``channelData.tenant.id``, a ``clientInfo`` entity, ``locale``,
``localTimezone`` and ``localTimestamp``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.botframework import personal_conversation_id

JsonDict = dict[str, Any]

BOT_APP_ID = "00000000-0000-0000-0000-00000000b07a"
BOT_NAME = "Pairtime"
TENANT_ID = "8f9b1c2d-0000-4000-8000-7e57e4a47e57"
TEAM_ID = "19:7a1b2c3d4e5f60718293a4b5c6d7e8f9@thread.tacv2"
CHANNEL_ID = "19:0c1d2e3f405162738495a6b7c8d9e0f1@thread.tacv2"
TEAM_AAD_GROUP_ID = "0d3e9a2c-1111-4222-8333-944455566677"

_serials = itertools.count(1)


@dataclass(frozen=True)
class TeamsUser:
    id: str  # "29:..." as the bot sees it
    name: str
    aad_object_id: str
    email: str = ""

    def account(self) -> JsonDict:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}

    def member(self, tenant_id: str = TENANT_ID) -> JsonDict:
        """As GET /v3/conversations/{id}/members/{userId} (TeamsInfo.get_member) answers."""
        given, _, surname = self.name.partition(" ")
        return {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "givenName": given,
            "surname": surname,
            "email": self.email,
            "userPrincipalName": self.email,
            "tenantId": tenant_id,
            "userRole": "user",
        }


ALEX = TeamsUser(
    "29:1AlexKimQ9b7Xv3f0kLmZpT2wR8nYc4dE6gH",
    "Alex Kim",
    "6b1f4c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
    "alex@contoso.example",
)
MARIA = TeamsUser(
    "29:1MariaLopezR3t5y7u9i0oPaSdFgHjKlZxC",
    "Maria Lopez",
    "7c2e5d2f-2b3c-4d4e-9f0a-1b2c3d4e5f60",
    "maria@contoso.example",
)


def bot_account(app_id: str = BOT_APP_ID, name: str = BOT_NAME) -> JsonDict:
    return {"id": f"28:{app_id}", "name": name}


def personal_chat_id(user: TeamsUser = ALEX, bot_app_id: str = BOT_APP_ID) -> str:
    """The 1:1 chat's id, the same FakeBotFramework answers when the bot creates it."""
    return personal_conversation_id(f"28:{bot_app_id}", user.id)


def _base(
    activity_type: str,
    *,
    service_url: str,
    sender: TeamsUser,
    conversation: JsonDict,
    channel_data: JsonDict,
    bot_app_id: str,
    local_timezone: str,
    locale: str,
) -> JsonDict:
    now = dt.datetime.now(dt.UTC)
    local = now.astimezone(ZoneInfo(local_timezone))
    return {
        "type": activity_type,
        "id": f"{int(now.timestamp() * 1000)}{next(_serials):03d}",
        "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "localTimestamp": local.isoformat(timespec="milliseconds"),
        "localTimezone": local_timezone,
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender.account(),
        "conversation": conversation,
        "recipient": bot_account(bot_app_id),
        "locale": locale,
        "channelData": channel_data,
    }


def _client_info(locale: str, local_timezone: str) -> JsonDict:
    return {
        "type": "clientInfo",
        "locale": locale,
        "country": locale.rpartition("-")[2] or "US",
        "platform": "Web",
        "timezone": local_timezone,
    }


def _personal(user: TeamsUser, tenant_id: str, bot_app_id: str) -> tuple[JsonDict, JsonDict]:
    conversation = {
        "conversationType": "personal",
        "tenantId": tenant_id,
        "id": personal_chat_id(user, bot_app_id),
    }
    return conversation, {"tenant": {"id": tenant_id}}


def _channel(tenant_id: str, message_id: str | None) -> tuple[JsonDict, JsonDict]:
    conversation = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": tenant_id,
        "id": f"{CHANNEL_ID};messageid={message_id}" if message_id else CHANNEL_ID,
    }
    channel_data = {
        "teamsChannelId": CHANNEL_ID,
        "teamsTeamId": TEAM_ID,
        "channel": {"id": CHANNEL_ID},
        "team": {"id": TEAM_ID},
        "tenant": {"id": tenant_id},
    }
    return conversation, channel_data


def personal_message(
    text: str,
    *,
    service_url: str,
    sender: TeamsUser = ALEX,
    bot_app_id: str = BOT_APP_ID,
    tenant_id: str = TENANT_ID,
    local_timezone: str = "America/New_York",
    locale: str = "en-US",
) -> JsonDict:
    """A message in the bot's 1:1 chat (conversationType "personal")."""
    conversation, channel_data = _personal(sender, tenant_id, bot_app_id)
    activity = _base(
        "message",
        service_url=service_url,
        sender=sender,
        conversation=conversation,
        channel_data=channel_data,
        bot_app_id=bot_app_id,
        local_timezone=local_timezone,
        locale=locale,
    )
    activity |= {
        "text": text,
        "textFormat": "plain",
        "attachments": [{"contentType": "text/html", "content": f"<p>{text}</p>"}],
        "entities": [_client_info(locale, local_timezone)],
    }
    return activity


def mention(user: JsonDict | TeamsUser) -> JsonDict:
    """A mention entity: ``text`` is exactly the ``<at>name</at>`` in the message text."""
    account = user.account() if isinstance(user, TeamsUser) else user
    return {
        "type": "mention",
        "text": f"<at>{account['name']}</at>",
        "mentioned": {"id": account["id"], "name": account["name"]},
    }


def channel_message(
    text: str,
    *,
    service_url: str,
    mentioned: TeamsUser | None = MARIA,
    sender: TeamsUser = ALEX,
    bot_app_id: str = BOT_APP_ID,
    tenant_id: str = TENANT_ID,
    local_timezone: str = "Europe/Berlin",
    locale: str = "en-US",
    thread_message_id: str | None = None,
) -> JsonDict:
    """A channel post mentioning the bot first, then ``mentioned`` after ``text``:
    ``"<at>Pairtime</at> {text} <at>Maria Lopez</at>"``. ``thread_message_id`` makes it a
    reply in that thread (conversation id ``...;messageid=...``)."""
    bot = bot_account(bot_app_id)
    full_text = f"<at>{bot['name']}</at> {text}"
    entities = [mention(bot)]
    if mentioned is not None:
        full_text += f" <at>{mentioned.name}</at>"
        entities.append(mention(mentioned))
    entities.append(_client_info(locale, local_timezone))
    conversation, channel_data = _channel(tenant_id, thread_message_id)
    activity = _base(
        "message",
        service_url=service_url,
        sender=sender,
        conversation=conversation,
        channel_data=channel_data,
        bot_app_id=bot_app_id,
        local_timezone=local_timezone,
        locale=locale,
    )
    html = full_text.replace("<at>", '<span itemtype="http://schema.skype.com/Mention">')
    activity |= {
        "text": full_text,
        "textFormat": "plain",
        "attachments": [
            {"contentType": "text/html", "content": f"<p>{html.replace('</at>', '</span>')}</p>"}
        ],
        "entities": entities,
    }
    if thread_message_id:
        activity["replyToId"] = thread_message_id
    return activity


def bot_installed(
    *,
    service_url: str,
    scope: str = "personal",
    installer: TeamsUser = ALEX,
    bot_app_id: str = BOT_APP_ID,
    tenant_id: str = TENANT_ID,
    local_timezone: str = "America/New_York",
    locale: str = "en-US",
) -> JsonDict:
    """conversationUpdate with the bot in ``membersAdded``: installed for a user (``scope``
    "personal") or added to a team ("team", channelData.eventType "teamMemberAdded")."""
    if scope == "personal":
        conversation, channel_data = _personal(installer, tenant_id, bot_app_id)
    else:
        conversation, channel_data = _channel(tenant_id, None)
        channel_data = channel_data | {
            "eventType": "teamMemberAdded",
            "team": {"id": TEAM_ID, "name": "Mentoring Programme", "aadGroupId": TEAM_AAD_GROUP_ID},
            "settings": {"selectedChannel": {"id": CHANNEL_ID}},
        }
    activity = _base(
        "conversationUpdate",
        service_url=service_url,
        sender=installer,
        conversation=conversation,
        channel_data=channel_data,
        bot_app_id=bot_app_id,
        local_timezone=local_timezone,
        locale=locale,
    )
    activity["membersAdded"] = [{"id": f"28:{bot_app_id}"}]
    return activity


def adaptive_card_action(
    verb: str,
    data: JsonDict | None = None,
    *,
    service_url: str,
    reply_to_id: str | None = None,
    sender: TeamsUser = ALEX,
    personal: bool = True,
    bot_app_id: str = BOT_APP_ID,
    tenant_id: str = TENANT_ID,
    local_timezone: str = "America/New_York",
    locale: str = "en-US",
) -> JsonDict:
    """A click on an ``Action.Execute`` button: invoke ``adaptiveCard/action`` (Universal
    Actions). The bot must answer with an invoke response (an updated card or a message)."""
    if personal:
        conversation, channel_data = _personal(sender, tenant_id, bot_app_id)
    else:
        conversation, channel_data = _channel(tenant_id, reply_to_id)
    channel_data = channel_data | {"source": {"name": "message"}, "legacy": {"replyToId": ""}}
    activity = _base(
        "invoke",
        service_url=service_url,
        sender=sender,
        conversation=conversation,
        channel_data=channel_data,
        bot_app_id=bot_app_id,
        local_timezone=local_timezone,
        locale=locale,
    )
    activity |= {
        "name": "adaptiveCard/action",
        "value": {
            "action": {
                "type": "Action.Execute",
                "id": secrets.token_hex(4),
                "verb": verb,
                "data": data or {},
            },
            "trigger": "manual",
        },
        "entities": [_client_info(locale, local_timezone)],
    }
    if reply_to_id:
        activity["replyToId"] = reply_to_id
    return activity
