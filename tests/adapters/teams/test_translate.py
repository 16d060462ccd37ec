"""Teams activities (as the fakes build them from the documented shapes) into Pairtime's terms."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.teams import translate
from adapters.teams.translate import BadActivity, Click, parse_activity
from core.commands import Mention, Relation, RelationRef
from core.parsing import parse
from core.people import ChatIdentity, Platform
from tests.fakes import teams_activities as ta

SERVICE = "https://smba.trafficmanager.net/emea/"
ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


def test_a_personal_message_speaks_as_the_senders_aad_identity_in_their_tenant():
    incoming = parse_activity(ta.personal_message("status", service_url=SERVICE))

    assert incoming.identity == ChatIdentity(Platform.TEAMS, ta.TENANT_ID, ta.ALEX.aad_object_id)
    assert incoming.program == f"teams:{ta.TENANT_ID}"
    assert incoming.private
    assert incoming.local_timezone == "America/New_York"
    assert incoming.twelve_hour
    assert translate.command_text(incoming) == "status"


def test_channel_mentions_become_parser_mentions_and_the_bots_own_goes():
    activity = ta.channel_message("find a time with", service_url=SERVICE)
    incoming = parse_activity(activity)

    text = translate.command_text(incoming, {ta.MARIA.id: ta.MARIA.aad_object_id})

    assert not incoming.private
    assert incoming.tenant == ta.TENANT_ID  # from channelData, as conversation.tenantId may lack
    assert text == f"find a time with <@{ta.MARIA.aad_object_id}>"
    command = parse(text, ZONE, NOW, bot_user_id=None)
    assert command.participants == (Mention(ta.MARIA.aad_object_id),)
    assert [a.id for a in translate.people_mentioned(incoming)] == [ta.MARIA.id]


def test_a_mention_without_a_known_aad_id_falls_back_to_the_teams_user_id():
    incoming = parse_activity(ta.channel_message("meet", service_url=SERVICE))
    assert translate.command_text(incoming) == f"meet <@{ta.MARIA.id}>"


def test_markup_and_entities_are_decoded_around_mentions():
    activity = ta.channel_message("find&nbsp;a time with <b>my mentee</b>", service_url=SERVICE)
    activity["text"] = activity["text"].replace(f" <at>{ta.MARIA.name}</at>", "") + "\n"
    activity["entities"] = activity["entities"][:1]

    text = translate.command_text(parse_activity(activity))

    assert text == "find a time with my mentee"
    command = parse(text, ZONE, NOW)
    assert command.participants == (RelationRef(Relation.MENTEE),)


def test_the_same_person_mentioned_twice_is_rewritten_twice():
    activity = ta.channel_message("with", service_url=SERVICE)
    activity["text"] += f" and <at>{ta.MARIA.name}</at>"
    activity["entities"].append(ta.mention(ta.MARIA))
    text = translate.command_text(parse_activity(activity))
    assert text == f"with <@{ta.MARIA.id}> and <@{ta.MARIA.id}>"


def test_clicks_carry_the_signed_reference_or_words():
    execute = ta.adaptive_card_action("pairtime", {"pt": "abc.def"}, service_url=SERVICE)
    say = ta.adaptive_card_action("pairtime", {"say": "connect"}, service_url=SERVICE)
    foreign = ta.adaptive_card_action("approve", {"pt": "abc.def"}, service_url=SERVICE)
    submit = ta.personal_message("", service_url=SERVICE) | {"value": {"pt": "abc.def"}}

    assert translate.click_of(parse_activity(execute)) == Click(reference="abc.def")
    assert translate.click_of(parse_activity(say)) == Click(say="connect")
    assert translate.click_of(parse_activity(foreign)) is None
    assert translate.click_of(parse_activity(submit)) == Click(reference="abc.def")
    assert (
        translate.click_of(parse_activity(ta.personal_message("hi", service_url=SERVICE))) is None
    )


def test_installation_is_the_bot_among_the_members_added():
    installed = parse_activity(ta.bot_installed(service_url=SERVICE))
    in_team = parse_activity(ta.bot_installed(service_url=SERVICE, scope="team"))
    someone_else = ta.bot_installed(service_url=SERVICE) | {"membersAdded": [{"id": ta.MARIA.id}]}

    assert installed.installs_bot
    assert installed.private
    assert in_team.installs_bot
    assert not in_team.private
    assert in_team.members_conversation == ta.TEAM_ID
    assert not parse_activity(someone_else).installs_bot


def test_references_address_the_conversation_and_personal_ones_start_new_messages():
    personal = parse_activity(ta.personal_message("hi", service_url=SERVICE))
    channel = parse_activity(
        ta.channel_message("hi", service_url=SERVICE, thread_message_id="1700000000000")
    )

    reply_to = translate.conversation_reference(personal)
    private = translate.personal_reference(personal)
    address = translate.personal_reference(channel)

    assert reply_to["activityId"] == personal.id
    assert reply_to["conversation"]["id"] == ta.personal_chat_id(ta.ALEX)
    assert reply_to["serviceUrl"] == SERVICE
    assert private["activityId"] is None
    assert translate.has_conversation(private)
    assert not translate.has_conversation(address)  # a channel is no place for private words
    assert address["user"] == ta.ALEX.account()
    assert translate.reference_tenant(address) == ta.TENANT_ID
    assert translate.reference_tenant(private) == ta.TENANT_ID
    assert channel.members_conversation == ta.TEAM_ID


def test_duplicates_share_a_key_and_other_conversations_do_not():
    activity = ta.personal_message("hi", service_url=SERVICE)
    other = ta.personal_message("hi", service_url=SERVICE, sender=ta.MARIA) | {"id": activity["id"]}

    key = translate.dedupe_key(parse_activity(activity))

    assert key == translate.dedupe_key(parse_activity(dict(activity)))
    assert key != translate.dedupe_key(parse_activity(other))
    assert len(key) <= 300


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"type": "message"},
        {"type": "message", "serviceUrl": "ftp://x", "conversation": {"id": "a"}},
        {"type": "message", "serviceUrl": SERVICE, "conversation": {"id": "a"}, "from": {}},
    ],
)
def test_what_is_not_an_activity_is_refused(body):
    with pytest.raises(BadActivity):
        parse_activity(body)


def test_an_activity_without_a_tenant_gets_a_program_of_its_channel():
    activity = ta.personal_message("hi", service_url="http://localhost:5000")
    activity |= {"channelId": "emulator", "channelData": {}}
    activity["conversation"].pop("tenantId")
    assert parse_activity(activity).program == "teams:emulator"
    assert parse_activity(activity, default_tenant="t-1").program == "teams:t-1"


@pytest.mark.parametrize(
    ("locale", "twelve"),
    [("en-US", True), ("en-GB", False), ("de-DE", False), ("en_AU", True), (None, False)],
)
def test_clock_style_follows_the_region(locale, twelve):
    assert translate.twelve_hour_clock(locale) is twelve


def test_roster_entries_give_email_and_aad_id():
    assert translate.member_profile(ta.MARIA.member()) == (
        ta.MARIA.email,
        ta.MARIA.aad_object_id,
    )
    assert translate.member_profile({"id": "29:x", "userPrincipalName": "not-an-email"}) == (
        None,
        None,
    )


def test_a_cards_date_and_time_fields_come_back_as_one_local_time():
    data = {"pt": "abc.def", "ptDate": "2026-12-03", "ptTime": "15:00"}
    click = translate.click_of(
        parse_activity(ta.adaptive_card_action("pairtime", data, service_url=SERVICE))
    )

    assert click == Click(reference="abc.def", value="2026-12-03T15:00")
    assert translate.time_value({"ptDate": "2026-12-03", "ptTime": "15:00:00"}) == (
        "2026-12-03T15:00"
    )
    assert translate.time_value({"ptDate": "2026-12-03", "ptTime": ""}) == ""  # core explains
    assert translate.time_value({"ptDate": "2026-12-03"}) == ""
    assert translate.time_value({"pt": "abc.def"}) is None  # no such fields on that card


def test_ticked_required_attendees_become_references_to_act_on_first():
    ticked = {"ptRequire": "ref.one,ref.two", "ptRelease": "ref.three", "pt": "post.ref"}
    apply = {translate.APPLY: 1, "ptRequire": "ref.one"}
    nothing = {translate.APPLY: 1, "ptRequire": ""}

    post = translate.click_of(
        parse_activity(ta.adaptive_card_action("pairtime", ticked, service_url=SERVICE))
    )
    update = translate.click_of(
        parse_activity(ta.adaptive_card_action("pairtime", apply, service_url=SERVICE))
    )
    empty = translate.click_of(
        parse_activity(ta.adaptive_card_action("pairtime", nothing, service_url=SERVICE))
    )

    assert post == Click(reference="post.ref", toggles=("ref.one", "ref.two", "ref.three"))
    assert update == Click(toggles=("ref.one",), apply=True)
    assert empty == Click(apply=True)
    many = {"ptRequire": ",".join(f"r.{n}" for n in range(500)), "pt": "x.y"}
    clicked = translate.click_of(
        parse_activity(ta.adaptive_card_action("pairtime", many, service_url=SERVICE))
    )
    assert clicked is not None
    assert len(clicked.toggles) == translate.MAX_TOGGLES


def test_a_channel_is_its_conversation_without_the_thread():
    personal = parse_activity(ta.personal_message("hi", service_url=SERVICE))
    root = parse_activity(ta.channel_message("hi", service_url=SERVICE))
    thread = parse_activity(
        ta.channel_message("hi", service_url=SERVICE, thread_message_id="1700000000000")
    )

    assert translate.channel_of(personal) is None
    assert translate.channel_of(root) == translate.channel_of(thread) == ta.CHANNEL_ID
    assert translate.channel_key(ta.CHANNEL_ID) == f"channel:{ta.CHANNEL_ID}"
    reference = translate.channel_reference(thread)
    assert reference["activityId"] is None  # a new post, not a reply in that thread
    assert reference["conversation"] == {
        "id": ta.CHANNEL_ID,
        "isGroup": True,
        "tenantId": ta.TENANT_ID,
        "conversationType": "channel",
    }
    assert reference["serviceUrl"] == SERVICE
    assert reference["bot"] == ta.bot_account()
    other = translate.channel_reference(thread, "19:other@thread.tacv2")
    assert other["conversation"]["id"] == "19:other@thread.tacv2"
    assert "conversationType" not in other["conversation"]


def test_a_channels_roster_gives_people_not_bots_each_reachable_through_the_channel():
    thread = parse_activity(ta.channel_message("hi", service_url=SERVICE))
    reference = translate.channel_reference(thread)
    bot_id = ta.bot_account()["id"]

    maria = translate.roster_person(ta.MARIA.member(), bot_id)
    assert maria == translate.Account(ta.MARIA.id, ta.MARIA.name, ta.MARIA.aad_object_id)
    assert maria is not None
    assert maria.stable_id == ta.MARIA.aad_object_id
    assert translate.roster_person({"id": bot_id, "name": "Pairtime"}, bot_id) is None
    assert translate.roster_person({"id": "28:another-app", "name": "Polly"}, bot_id) is None
    assert translate.roster_person({"id": "29:x", "name": "X", "userRole": "bot"}) is None
    assert translate.roster_person({"name": "no id"}) is None
    guest = {"id": "29:guest", "name": "Gia", "userRole": "guest"}
    assert translate.roster_person(guest, bot_id) == translate.Account("29:guest", "Gia")

    address = translate.roster_address(reference, maria)
    assert address["user"] == ta.MARIA.account()
    assert address["conversation"] is None  # a personal chat is opened when first needed
    assert address["bot"] == ta.bot_account()
    assert (address["serviceUrl"], address["tenantId"]) == (SERVICE, ta.TENANT_ID)
    assert not translate.has_conversation(address)


def test_a_posted_poll_is_kept_as_flat_strings_enough_to_update_it():
    thread = parse_activity(ta.channel_message("hi", service_url=SERVICE))
    message = translate.posted_message(translate.channel_reference(thread), "1700000000123")

    assert message == {
        "conversation": ta.CHANNEL_ID,
        "activity": "1700000000123",
        "service_url": SERVICE,
        "tenant": ta.TENANT_ID,
        "bot": ta.bot_account()["id"],
        "channel_id": "msteams",
    }
    reference = translate.message_reference(message)
    assert reference is not None
    assert reference["conversation"] == {
        "id": ta.CHANNEL_ID,
        "isGroup": True,
        "tenantId": ta.TENANT_ID,
    }
    assert reference["serviceUrl"] == SERVICE
    assert translate.message_reference({"channel": "C1", "ts": "1.0"}) is None  # Slack's
