"""Teams activities (as the JSON the Bot Framework posts) into Pairtime's terms, and back.

Pure functions over dicts: no botbuilder type appears here, so the move to the Microsoft 365
Agents SDK changes the I/O modules of this package, not this one.

Who a Teams user is: their Entra ID (AAD) object id, ``from.aadObjectId``. It is stable across
bots, chats and reinstalls, and it is what admins and Microsoft Graph know. The ``29:...``
id the Bot Framework shows a bot is pairwise (another bot registration sees another one), so
it is kept only as the address for messages (in the stored conversation reference). Where an
activity has no AAD id (the Bot Framework Emulator, Web Chat), ``from.id`` stands in.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.people import ChatIdentity, Person, Platform, Profile, ProgramId, program_of

JsonDict = dict[str, Any]

VERB = "pairtime"  # the verb of every Action.Execute Pairtime puts on a card
CARD_ACTION = "adaptiveCard/action"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE_TYPE = "application/vnd.microsoft.activity.message"
PERSONAL = "personal"
# The ids of a TimeInput's two fields on a card: their values come back in the click's data.
DATE_INPUT = "ptDate"
TIME_INPUT = "ptTime"
# A TextInput's field (a meeting's link or room): its value comes back in the click's data.
TEXT_INPUT = "ptText"
# A draft's required attendees: multi-select lists whose values are core's toggle references
# (people to make required, people to release), applied before the button pressed; a button
# whose data holds APPLY applies them alone.
REQUIRE_INPUT = "ptRequire"
RELEASE_INPUT = "ptRelease"
APPLY = "ptApply"
MAX_TOGGLES = 100  # more than a poll has invitees: anything beyond is not from our card
CHANNEL_KEY = "channel:"  # stored references of shared conversations: "channel:{id}"

_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\u00a0]+")


class BadActivity(ValueError):
    """A request body that is not an activity Pairtime can act on (answered 400)."""


@dataclass(frozen=True, slots=True)
class Account:
    id: str  # "29:..." for people, "28:<app id>" for the bot
    name: str = ""
    aad_object_id: str | None = None

    @property
    def stable_id(self) -> str:
        return self.aad_object_id or self.id

    def json(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "name": self.name}
        if self.aad_object_id:
            data["aadObjectId"] = self.aad_object_id
        return data


@dataclass(frozen=True, slots=True)
class MentionEntity:
    text: str  # exactly as in the message text: "<at>Maria Lopez</at>"
    account: Account


@dataclass(frozen=True, slots=True)
class Incoming:
    """The parts of an activity Pairtime uses."""

    type: str
    id: str | None
    service_url: str
    channel_id: str
    tenant: str
    conversation: JsonDict  # as received: id, conversationType, isGroup, tenantId
    sender: Account
    bot: Account
    text: str = ""
    name: str | None = None  # an invoke's name
    value: Any = None
    reply_to_id: str | None = None
    local_timezone: str | None = None
    locale: str | None = None
    team_id: str | None = None
    mentions: tuple[MentionEntity, ...] = ()
    members_added: tuple[str, ...] = ()
    action: str | None = None  # installationUpdate: "add" | "remove"
    sent_at: datetime | None = None  # when the person acted, by Teams' clock (``timestamp``)
    raw: JsonDict = field(default_factory=dict, repr=False)

    @property
    def conversation_id(self) -> str:
        return str(self.conversation.get("id", ""))

    @property
    def private(self) -> bool:
        """A personal (one-to-one) chat with the bot."""
        return self.conversation.get("conversationType", PERSONAL) == PERSONAL and not (
            self.conversation.get("isGroup")
        )

    @property
    def identity(self) -> ChatIdentity:
        return ChatIdentity(Platform.TEAMS, self.tenant, self.sender.stable_id)

    @property
    def program(self) -> ProgramId:
        return program_of(self.identity)

    @property
    def twelve_hour(self) -> bool:
        return twelve_hour_clock(self.locale)

    @property
    def installs_bot(self) -> bool:
        """The bot was just added: to a personal scope, a team or a group chat."""
        return self.type == "conversationUpdate" and self.bot.id in self.members_added

    @property
    def members_conversation(self) -> str:
        """Where the roster is read: the team for a channel, else the chat itself."""
        return self.team_id or self.conversation_id.split(";", 1)[0]


def parse_activity(body: object, *, default_tenant: str | None = None) -> Incoming:
    """The activity in ``body``; :class:`BadActivity` if it lacks what every activity has."""
    if not isinstance(body, dict):
        raise BadActivity("the body is not a JSON object")
    kind = body.get("type")
    service_url = body.get("serviceUrl")
    conversation = body.get("conversation")
    sender = _account(body.get("from"))
    bot = _account(body.get("recipient"))
    if not isinstance(kind, str) or not kind:
        raise BadActivity("the activity has no type")
    if not isinstance(service_url, str) or not service_url.startswith(("http://", "https://")):
        raise BadActivity("the activity has no serviceUrl")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        raise BadActivity("the activity has no conversation")
    if sender is None or bot is None:
        raise BadActivity("the activity has no sender or recipient")
    channel_data = body.get("channelData") if isinstance(body.get("channelData"), dict) else {}
    channel_id = str(body.get("channelId") or "msteams")
    tenant = (
        _get(channel_data, "tenant", "id")
        or conversation.get("tenantId")
        or default_tenant
        or channel_id  # the Emulator and Web Chat have no tenant: one program per channel
    )
    entities = _list(body.get("entities"))
    mentions = tuple(
        MentionEntity(str(entity["text"]), account)
        for entity in entities
        if isinstance(entity, dict)
        and entity.get("type") == "mention"
        and isinstance(entity.get("text"), str)
        and (account := _account(entity.get("mentioned"))) is not None
    )
    added = _list(body.get("membersAdded"))
    return Incoming(
        type=kind,
        id=_text(body.get("id")),
        service_url=service_url,
        channel_id=channel_id,
        tenant=str(tenant),
        conversation=conversation,
        sender=sender,
        bot=bot,
        text=_text(body.get("text")) or "",
        name=_text(body.get("name")),
        value=body.get("value"),
        reply_to_id=_text(body.get("replyToId")),
        local_timezone=_text(body.get("localTimezone")),
        sent_at=_time(body.get("timestamp")),
        locale=_text(body.get("locale")),
        team_id=_text(_get(channel_data, "team", "id")),
        mentions=mentions,
        members_added=tuple(
            str(member["id"])
            for member in added
            if isinstance(member, dict) and isinstance(member.get("id"), str)
        ),
        action=_text(body.get("action")),
        raw=body,
    )


def command_text(incoming: Incoming, resolved: Mapping[str, str] | None = None) -> str:
    """The message as the parser reads it: ``<at>`` mentions become ``<@ID>``, the bot's own
    mention and any markup go, entities are decoded.

    ``resolved`` maps a mentioned ``29:`` id to the person's stable id (their AAD object id)
    where the mention entity itself does not carry it.
    """
    text = incoming.text
    placeholders: dict[str, str] = {}
    for index, mention in enumerate(incoming.mentions):
        if mention.text not in text:
            continue
        key = f"\x00{index}\x00"
        account = mention.account
        if account.id == incoming.bot.id:
            placeholders[key] = " "
        else:
            stable = account.aad_object_id or (resolved or {}).get(account.id) or account.id
            placeholders[key] = f"<@{stable}>"
        text = text.replace(mention.text, key, 1)
    text = html.unescape(_TAG.sub(" ", text))
    for key, replacement in placeholders.items():
        text = text.replace(key, replacement)
    return _SPACES.sub(" ", text).strip()


def people_mentioned(incoming: Incoming) -> list[Account]:
    """The people mentioned (not the bot), each once, in order."""
    seen: dict[str, Account] = {}
    for mention in incoming.mentions:
        if mention.account.id != incoming.bot.id:
            seen.setdefault(mention.account.id, mention.account)
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class Click:
    """A button press: a signed core reference, or words to handle as if typed.

    ``value`` is what a card's date and time fields held when the button was pressed, as
    ``YYYY-MM-DDTHH:MM`` (empty when either was left blank), or its text field's words, or
    None without such fields.
    """

    reference: str | None = None
    say: str | None = None
    value: str | None = None
    toggles: tuple[str, ...] = ()  # core references ticked in a draft's lists, to act first
    apply: bool = False  # "Update required attendees": only the toggles


def click_of(incoming: Incoming) -> Click | None:
    """The Pairtime button behind an ``adaptiveCard/action`` invoke or an ``Action.Submit``
    message (the fallback on clients without Universal Actions); None for anything else."""
    data: object = None
    if incoming.type == "invoke" and incoming.name == CARD_ACTION:
        action = incoming.value.get("action") if isinstance(incoming.value, dict) else None
        if isinstance(action, dict) and action.get("verb") == VERB:
            data = action.get("data")
    elif incoming.type == "message" and isinstance(incoming.value, dict):
        data = incoming.value
    if not isinstance(data, dict):
        return None
    toggles = _toggles(data)
    if isinstance(data.get("pt"), str) and data["pt"]:
        value = time_value(data)
        if value is None and isinstance(data.get(TEXT_INPUT), str):
            value = data[TEXT_INPUT]
        return Click(reference=data["pt"], value=value, toggles=toggles)
    if data.get(APPLY):
        return Click(toggles=toggles, apply=True)
    if isinstance(data.get("say"), str) and data["say"]:
        return Click(say=data["say"])
    return None


def _toggles(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The references ticked in a draft's multi-select lists (Teams joins them with commas;
    a signed reference never holds one)."""
    found: list[str] = []
    for key in (REQUIRE_INPUT, RELEASE_INPUT):
        value = data.get(key)
        if isinstance(value, str):
            found.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(dict.fromkeys(found))[:MAX_TOGGLES]


def time_value(data: Mapping[str, Any]) -> str | None:
    """``Input.Date`` (``YYYY-MM-DD``) and ``Input.Time`` (``HH:MM``) as one local
    ``YYYY-MM-DDTHH:MM``; "" when either is blank, None when the card had no such fields."""
    if DATE_INPUT not in data and TIME_INPUT not in data:
        return None
    day, clock = data.get(DATE_INPUT), data.get(TIME_INPUT)
    if not isinstance(day, str) or not isinstance(clock, str):
        return ""
    day, clock = day.strip(), clock.strip()
    if not day or not clock:
        return ""
    return f"{day}T{clock[:5]}"  # some clients add seconds


def channel_of(incoming: Incoming) -> str | None:
    """The shared conversation spoken in (a team channel or a group chat), without the
    ``;messageid=`` of a reply thread; None in a personal chat."""
    if incoming.private:
        return None
    return incoming.conversation_id.split(";", 1)[0]


def channel_key(channel: str) -> str:
    """Where a channel's reference is stored among the people's (``conversations``)."""
    return f"{CHANNEL_KEY}{channel}"


def channel_reference(incoming: Incoming, channel: str | None = None) -> JsonDict:
    """How to post a new message (not a reply in a thread) into ``channel``: the channel
    spoken in by default. For another channel of the same tenant the bot is told only its
    id, and Teams accepts the post when the bot is installed in that channel's team."""
    conversation: JsonDict = {
        "id": channel or channel_of(incoming) or incoming.conversation_id,
        "isGroup": True,
        "tenantId": incoming.tenant,
    }
    if channel is None or channel == channel_of(incoming):
        kind = incoming.conversation.get("conversationType")
        if isinstance(kind, str):
            conversation["conversationType"] = kind
    return {
        "activityId": None,
        "bot": incoming.bot.json(),
        "conversation": conversation,
        "channelId": incoming.channel_id,
        "locale": incoming.locale,
        "serviceUrl": incoming.service_url,
    }


def posted_message(reference: Mapping[str, Any], activity_id: str) -> dict[str, str]:
    """What core keeps of a posted poll (flat strings): enough to update it later, from any
    process and after a restart, without the activity that asked for it."""
    conversation = reference.get("conversation") or {}
    bot = reference.get("bot") or {}
    return {
        "conversation": str(conversation.get("id", "")),
        "activity": activity_id,
        "service_url": str(reference.get("serviceUrl", "")),
        "tenant": str(reference_tenant(reference) or ""),
        "bot": str(bot.get("id", "")),
        "channel_id": str(reference.get("channelId") or "msteams"),
    }


def message_reference(message: Mapping[str, str]) -> JsonDict | None:
    """The reference for updating a message :func:`posted_message` described; None when
    ``message`` is not one (a message of another platform, or from an older version)."""
    conversation, activity, service_url = (
        message.get("conversation"),
        message.get("activity"),
        message.get("service_url"),
    )
    if not conversation or not activity or not service_url:
        return None
    reference: JsonDict = {
        "activityId": None,
        "conversation": {"id": conversation, "isGroup": True},
        "channelId": message.get("channel_id") or "msteams",
        "serviceUrl": service_url,
    }
    if message.get("tenant"):
        reference["conversation"]["tenantId"] = message["tenant"]
    if message.get("bot"):
        reference["bot"] = {"id": message["bot"]}
    return reference


def dedupe_key(incoming: Incoming) -> str:
    """Teams activity ids are unique within a conversation: key on both (hashed to fit)."""
    digest = hashlib.sha256(f"{incoming.conversation_id}|{incoming.id}".encode()).hexdigest()
    return f"teams:{digest[:40]}"


def conversation_reference(incoming: Incoming) -> JsonDict:
    """Where the activity came from, as botbuilder's ConversationReference JSON: replies to it
    go into the same conversation (and thread)."""
    conversation = dict(incoming.conversation)
    conversation.setdefault("tenantId", incoming.tenant)
    return {
        "activityId": incoming.id,
        "user": incoming.sender.json(),
        "bot": incoming.bot.json(),
        "conversation": conversation,
        "channelId": incoming.channel_id,
        "locale": incoming.locale,
        "serviceUrl": incoming.service_url,
    }


def personal_reference(incoming: Incoming) -> JsonDict:
    """How to reach the sender privately later.

    From a personal chat: that chat. From a channel or group chat: only who they are and
    where the tenant's connector is, without a conversation; the messenger then opens the
    one-to-one chat (``create_conversation``) the first time it writes to them.
    """
    if incoming.private:
        reference = conversation_reference(incoming)
        reference["activityId"] = None  # proactive messages are new messages, not replies
        return reference
    return address_of(incoming, incoming.sender)


def address_of(incoming: Incoming, person: Account) -> JsonDict:
    """A reference without a conversation: enough to open a personal chat with ``person``."""
    return {
        "activityId": None,
        "user": person.json(),
        "bot": incoming.bot.json(),
        "conversation": None,
        "channelId": incoming.channel_id,
        "locale": incoming.locale,
        "serviceUrl": incoming.service_url,
        "tenantId": incoming.tenant,
    }


def roster_address(reference: Mapping[str, Any], person: Account) -> JsonDict:
    """:func:`address_of` for someone met on a channel's roster rather than in an activity:
    the channel's stored ``reference`` says where the tenant's connector is."""
    return {
        "activityId": None,
        "user": person.json(),
        "bot": dict(reference.get("bot") or {}),
        "conversation": None,
        "channelId": reference.get("channelId") or "msteams",
        "locale": reference.get("locale"),
        "serviceUrl": reference.get("serviceUrl"),
        "tenantId": reference_tenant(reference),
    }


def roster_person(member: Mapping[str, Any], bot_id: str | None = None) -> Account | None:
    """The person a roster entry (``GET .../pagedmembers``) stands for; None for a bot."""
    account = _account(dict(member))
    if account is None or account.id == bot_id or account.id.startswith("28:"):
        return None
    if str(member.get("userRole") or "").lower() == "bot":
        return None
    return account


def has_conversation(reference: Mapping[str, Any]) -> bool:
    conversation = reference.get("conversation")
    return isinstance(conversation, dict) and bool(conversation.get("id"))


def reference_tenant(reference: Mapping[str, Any]) -> str | None:
    conversation = reference.get("conversation")
    if isinstance(conversation, dict) and isinstance(conversation.get("tenantId"), str):
        return str(conversation["tenantId"])
    tenant = reference.get("tenantId")
    return tenant if isinstance(tenant, str) else None


def message_activity(card: JsonDict, summary: str) -> JsonDict:
    """A message holding one Adaptive Card; ``summary`` is what notifications show."""
    return {
        "type": "message",
        "summary": summary[:200],
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }


def card_response(card: JsonDict) -> JsonDict:
    """The invoke response that replaces the clicked card with ``card``."""
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}


def message_response(text: str) -> JsonDict:
    """The invoke response that leaves the card as it is and shows ``text`` to the clicker."""
    return {"statusCode": 200, "type": MESSAGE_RESPONSE_TYPE, "value": text}


def profile(account: Account, email: str | None, zone: str | None, known: Person | None) -> Profile:
    """What Teams says about ``account`` (the name it sent, else the one known); the
    handle people may type is the email's local part."""
    name = account.name or (known.name if known else "") or "Teams user"
    return Profile(name, email, zone, email.split("@", 1)[0] if email else None)


def member_profile(member: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(email, AAD object id) from a roster entry (``GET .../members/{id}``)."""
    email = member.get("email") or member.get("userPrincipalName")
    aad = member.get("aadObjectId")
    return (
        email if isinstance(email, str) and "@" in email else None,
        aad if isinstance(aad, str) and aad else None,
    )


# Regions whose people read "2:30 PM" rather than "14:30".
_TWELVE_HOUR_REGIONS = frozenset({"US", "CA", "AU", "NZ", "IN", "PH", "PK", "EG", "SA", "MY"})


def twelve_hour_clock(locale: str | None) -> bool:
    region = (locale or "").replace("_", "-").rpartition("-")[2].upper()
    return region in _TWELVE_HOUR_REGIONS


def _account(value: object) -> Account | None:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"]:
        return None
    name = value.get("name")
    aad = value.get("aadObjectId")
    return Account(
        value["id"],
        name if isinstance(name, str) else "",
        aad if isinstance(aad, str) and aad else None,
    )


def _get(data: object, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _time(value: object) -> datetime | None:
    """An activity's ISO 8601 ``timestamp`` (UTC, ``Z``) as an aware time; None if absent
    or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
