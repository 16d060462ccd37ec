"""FakeBotFramework, FakeBotFrameworkAuth and the Teams activities, proven with real botbuilder."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import jwt
import msal
import pytest
import requests
from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.core.teams.teams_activity_extensions import teams_get_channel_data
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    AdaptiveCardInvokeResponse,
    Attachment,
    ChannelAccount,
    ConversationParameters,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    ChannelValidation,
    JwtTokenValidation,
    MicrosoftAppCredentials,
    SimpleCredentialProvider,
)
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from botframework.connector.models import ErrorResponseException
from msrest.exceptions import HttpOperationError

from tests.fakes import teams_activities as ta
from tests.fakes.botframework import (
    CHANNEL_METADATA_PATH,
    FakeBotFramework,
    FakeBotFrameworkAuth,
    fake_login_credentials_factory,
)
from tests.fakes.server import TestCertificate, ThreadedServer, running

APP_ID = ta.BOT_APP_ID
CARD = {
    "type": "AdaptiveCard",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Tuesday 10:00 with Maria?"}],
    "actions": [
        {"type": "Action.Execute", "title": "Book", "verb": "book", "data": {"slot": "s-1"}}
    ],
}


@pytest.fixture(autouse=True)
def no_cached_signing_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """botbuilder caches signing keys per metadata URL for the whole process, and a later
    test's fake may be given an earlier one's port: each test starts with an empty cache."""
    monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})


@pytest.fixture(scope="module")
def tls() -> TestCertificate:
    return TestCertificate.create()


@pytest.fixture
def auth() -> FakeBotFrameworkAuth:
    return FakeBotFrameworkAuth(app_id=APP_ID)


@pytest.fixture
def metadata(auth: FakeBotFrameworkAuth) -> Iterator[str]:
    """The OpenID metadata over plain http: botbuilder reads it with requests.get, synchronously."""
    with ThreadedServer(auth.app) as base_url:
        yield base_url


@pytest.fixture
def login(auth: FakeBotFrameworkAuth, tls: TestCertificate) -> Iterator[str]:
    """The token endpoint over https, as msal requires."""
    with ThreadedServer(auth.app, tls=tls) as base_url:
        yield base_url


@pytest.fixture
def connector() -> FakeBotFramework:
    return FakeBotFramework()


@pytest.fixture
async def service_url(connector: FakeBotFramework) -> AsyncIterator[str]:
    async with running(connector.app) as base_url:
        yield base_url


def _anonymous_client(service_url: str) -> ConnectorClient:
    return ConnectorClient(MicrosoftAppCredentials.empty(), base_url=service_url)


def _settings(auth: FakeBotFrameworkAuth, login: str, metadata: str) -> SimpleNamespace:
    return SimpleNamespace(**auth.settings(login, metadata_base_url=metadata))


# ---------------------------------------------------------------------- the connector


async def test_connector_records_sends_replies_updates_and_deletes(
    connector: FakeBotFramework, service_url: str
):
    personal = ta.personal_chat_id(ta.ALEX)
    thread = f"{ta.CHANNEL_ID};messageid=1700000000000"
    card = Attachment(content_type="application/vnd.microsoft.card.adaptive", content=CARD)

    async with _anonymous_client(service_url) as client:
        sent = await client.conversations.send_to_conversation(
            personal, Activity(type="message", text="Here are some times", attachments=[card])
        )
        replied = await client.conversations.reply_to_activity(
            thread, "1700000000000", Activity(type="message", text="On it")
        )
        await client.conversations.update_activity(
            personal, sent.id, Activity(type="message", id=sent.id, text="Booked")
        )
        await client.conversations.delete_activity(thread, replied.id)
        with pytest.raises(ErrorResponseException) as missing:
            await client.conversations.delete_activity(thread, replied.id)

    assert [(r.kind, r.status) for r in connector.received] == [
        ("send", 201),
        ("reply", 201),
        ("update", 200),
        ("delete", 200),
        ("delete", 404),
    ]
    first = connector.received[0]
    assert first.conversation_id == personal
    assert first.activity_id == sent.id
    assert first.adaptive_cards == [CARD]
    assert "Authorization" not in first.headers  # an anonymous bot sends no token
    assert connector.received[1].reply_to_id == "1700000000000"
    assert connector.received[1].conversation_id == thread
    booked = connector.activity(personal, sent.id)
    assert booked is not None
    assert booked["text"] == "Booked"
    assert connector.activity(thread, replied.id) is None
    assert missing.value.response.status_code == 404
    assert [r.text for r in connector.sent(personal)] == ["Here are some times"]


async def test_creating_a_personal_conversation_answers_the_chats_stable_id(
    connector: FakeBotFramework, service_url: str
):
    parameters = ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id=f"28:{APP_ID}"),
        members=[ChannelAccount(id=ta.MARIA.id)],
        tenant_id=ta.TENANT_ID,
        channel_data={"tenant": {"id": ta.TENANT_ID}},
        activity=Activity(type="message", text="Your mentor wants to meet"),
    )

    async with _anonymous_client(service_url) as client:
        created = await client.conversations.create_conversation(parameters)
        again = await client.conversations.create_conversation(parameters)
        with pytest.raises(ErrorResponseException) as no_tenant:
            await client.conversations.create_conversation(
                ConversationParameters(members=[ChannelAccount(id=ta.MARIA.id)])
            )

    assert created.id == again.id == ta.personal_chat_id(ta.MARIA)
    assert created.activity_id
    assert created.service_url == service_url
    posted = connector.activity(created.id, created.activity_id)
    assert posted is not None
    assert posted["text"] == "Your mentor wants to meet"
    create = connector.of_kind("create")[0]
    assert create.body["tenantID"] == ta.TENANT_ID  # botbuilder-python's spelling on the wire
    assert no_tenant.value.response.status_code == 400


async def test_rate_limits_answer_429_with_retry_after(
    connector: FakeBotFramework, service_url: str
):
    personal = ta.personal_chat_id(ta.ALEX)
    async with _anonymous_client(service_url) as client:
        sent = await client.conversations.send_to_conversation(
            personal, Activity(type="message", text="first")
        )
        connector.rate_limit(personal, times=1, retry_after=1)
        with pytest.raises(ErrorResponseException) as limited:
            await client.conversations.send_to_conversation(
                personal, Activity(type="message", text="second")
            )
        # PUT (and DELETE) are retried by urllib3 under msrest, honouring Retry-After; POST is not
        connector.rate_limit(personal, times=1, retry_after=1)
        started = time.monotonic()
        await client.conversations.update_activity(
            personal, sent.id, Activity(type="message", id=sent.id, text="edited")
        )

    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"
    assert limited.value.error.error.code == "TooManyRequests"
    assert time.monotonic() - started >= 1.0
    assert [(r.kind, r.status) for r in connector.received] == [
        ("send", 201),
        ("send", 429),
        ("update", 429),
        ("update", 200),
    ]


async def test_members_can_be_looked_up(connector: FakeBotFramework, service_url: str):
    personal = ta.personal_chat_id(ta.ALEX)
    connector.add_member(personal, ta.ALEX.member())

    async with _anonymous_client(service_url) as client:
        member = await client.conversations.get_conversation_member(personal, ta.ALEX.id)
        members = await client.conversations.get_conversation_members(personal)
        with pytest.raises(ErrorResponseException) as unknown:
            await client.conversations.get_conversation_member(personal, ta.MARIA.id)

    assert member.aad_object_id == ta.ALEX.aad_object_id
    assert member.additional_properties["email"] == ta.ALEX.email
    assert [m.id for m in members] == [ta.ALEX.id]
    assert unknown.value.response.status_code == 404


async def test_a_roster_is_read_a_page_at_a_time(connector: FakeBotFramework, service_url: str):
    team = ta.TEAM_ID
    for n in range(5):
        user = ta.TeamsUser(f"29:member{n}", f"Member {n}", f"aad-{n}", f"m{n}@contoso.example")
        connector.add_member(team, user.member())

    async with _anonymous_client(service_url) as client:
        pages = [await client.conversations.get_teams_conversation_paged_members(team, 2)]
        while pages[-1].continuation_token:
            pages.append(
                await client.conversations.get_teams_conversation_paged_members(
                    team, 2, pages[-1].continuation_token
                )
            )
        with pytest.raises(HttpOperationError) as bad_token:
            await client.conversations.get_teams_conversation_paged_members(team, 2, "nonsense")

    assert [[m.name for m in page.members] for page in pages] == [
        ["Member 0", "Member 1"],
        ["Member 2", "Member 3"],
        ["Member 4"],
    ]
    assert pages[0].members[0].email == "m0@contoso.example"
    assert pages[0].members[0].aad_object_id == "aad-0"
    assert pages[0].members[0].user_role == "user"
    assert [(size, token is None) for _, size, token in connector.roster_reads[:3]] == [
        (2, True),
        (2, False),
        (2, False),
    ]
    assert bad_token.value.response.status_code == 400


# ---------------------------------------------------------------------- authentication


async def test_botbuilder_validates_channel_tokens_against_the_fake_metadata(
    auth: FakeBotFrameworkAuth, metadata: str, service_url: str
):
    authentication = ConfigurationBotFrameworkAuthentication(
        _settings(auth, "https://unused.invalid", metadata)
    )
    activity = Activity().deserialize(ta.personal_message("hi", service_url=service_url))

    result = await authentication.authenticate_request(
        activity, f"Bearer {auth.sign_channel_token(APP_ID, service_url)}"
    )

    assert result.claims_identity.is_authenticated
    assert result.claims_identity.claims["aud"] == APP_ID
    assert result.claims_identity.claims["serviceurl"] == service_url
    assert result.audience == "https://api.botframework.com"
    assert auth.metadata_fetches == 1
    assert auth.keys_fetches == 1

    refusals: list[tuple[str, type[Exception]]] = [
        (
            auth.sign_channel_token(APP_ID, service_url, key=auth.wrong_key()),
            jwt.InvalidSignatureError,
        ),
        (auth.sign_channel_token(APP_ID, service_url, expires_in=-600), jwt.ExpiredSignatureError),
        (auth.sign_channel_token("another-bot", service_url), PermissionError),
        (auth.sign_channel_token(APP_ID, "https://smba.trafficmanager.net/emea/"), PermissionError),
        (
            auth.sign_channel_token(APP_ID, service_url, issuer="https://evil.example"),
            PermissionError,
        ),
    ]
    for token, error in refusals:
        with pytest.raises(error):
            await authentication.authenticate_request(activity, f"Bearer {token}")
    with pytest.raises(PermissionError):
        await authentication.authenticate_request(activity, None)


async def test_tokens_need_the_channels_endorsement(auth: FakeBotFrameworkAuth, service_url: str):
    auth.endorsements = ["webchat"]  # the key is not endorsed for msteams
    with ThreadedServer(auth.app) as metadata:  # a fresh URL: botbuilder caches keys per URL
        authentication = ConfigurationBotFrameworkAuthentication(
            _settings(auth, "https://unused.invalid", metadata)
        )
        activity = Activity().deserialize(ta.personal_message("hi", service_url=service_url))
        token = auth.sign_channel_token(APP_ID, service_url)

        with pytest.raises(Exception, match="Could not validate endorsement key"):
            await authentication.authenticate_request(activity, f"Bearer {token}")


async def test_legacy_jwt_validation_reads_the_overridden_metadata_endpoint(
    auth: FakeBotFrameworkAuth, metadata: str, service_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(
        ChannelValidation, "open_id_metadata_endpoint", f"{metadata}{CHANNEL_METADATA_PATH}"
    )
    activity = Activity().deserialize(ta.channel_message("find a time", service_url=service_url))
    credentials = SimpleCredentialProvider(APP_ID, auth.app_password)

    identity = await JwtTokenValidation.authenticate_request(
        activity, f"Bearer {auth.sign_channel_token(APP_ID, service_url)}", credentials
    )

    assert identity.claims["aud"] == APP_ID
    with pytest.raises(jwt.InvalidSignatureError):
        await JwtTokenValidation.authenticate_request(
            activity,
            f"Bearer {auth.sign_channel_token(APP_ID, service_url, key=auth.wrong_key())}",
            credentials,
        )


def test_token_endpoint_answers_msal_client_credentials(
    auth: FakeBotFrameworkAuth, login: str, tls: TestCertificate
):
    with requests.Session() as session:
        session.trust_env = False
        session.verify = str(tls.ca_path)
        app = msal.ConfidentialClientApplication(
            APP_ID,
            client_credential=auth.app_password,
            authority=f"{login}/botframework.com",
            instance_discovery=False,
            http_client=session,
        )
        result = app.acquire_token_for_client(scopes=["https://api.botframework.com/.default"])
        refused = msal.ConfidentialClientApplication(
            APP_ID,
            client_credential="wrong",
            authority=f"{login}/botframework.com",
            instance_discovery=False,
            http_client=session,
        ).acquire_token_for_client(scopes=["https://api.botframework.com/.default"])

    assert result["token_type"] == "Bearer"
    info = auth.token_info(result["access_token"])
    assert info is not None
    assert info.app_id == APP_ID
    assert info.tenant == "botframework.com"
    assert auth.token_requests[0].form["grant_type"] == "client_credentials"
    assert auth.token_requests[0].form["client_secret"] == "***"
    assert refused["error"] == "invalid_client"
    assert "AADSTS7000215" in refused["error_description"]


async def test_an_authenticated_connector_refuses_calls_without_its_tokens(
    auth: FakeBotFrameworkAuth,
):
    connector = FakeBotFramework(auth=auth)
    async with running(connector.app) as service_url, _anonymous_client(service_url) as client:
        with pytest.raises(ErrorResponseException) as refused:
            await client.conversations.send_to_conversation(
                "a:1", Activity(type="message", text="hi")
            )

    assert refused.value.response.status_code == 401
    assert connector.received[0].status == 401


# ---------------------------------------------------------------------- end to end


class _PairtimeLikeBot(TeamsActivityHandler):  # type: ignore[misc]
    """A minimal bot: records which handler each activity reached, replies with a card."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    async def on_message_activity(self, turn_context: TurnContext):
        activity = turn_context.activity
        mentions = [m.additional_properties["mentioned"]["name"] for m in activity.get_mentions()]
        tenant = teams_get_channel_data(activity).tenant.id
        text = TurnContext.remove_recipient_mention(activity).strip()
        self.seen.append(("message", (text, mentions, tenant, activity.local_timezone)))
        card = Attachment(content_type="application/vnd.microsoft.card.adaptive", content=CARD)
        await turn_context.send_activity(Activity(type="message", text=text, attachments=[card]))

    async def on_teams_members_added(self, members_added, _team_info, turn_context):
        self.seen.append(("installed", [m.id for m in members_added]))
        await turn_context.send_activity("Hi, I am Pairtime")

    async def on_adaptive_card_invoke(self, _turn_context, invoke_value):
        action = invoke_value.action  # a dict: botbuilder-python types it "{object}"
        self.seen.append(("card", (action["verb"], action["data"])))
        booked = CARD | {"body": [{"type": "TextBlock", "text": "Booked"}], "actions": []}
        # The "message" type (value: a string) does not serialize in botbuilder-python 4.17
        return AdaptiveCardInvokeResponse(
            status_code=200, type="application/vnd.microsoft.card.adaptive", value=booked
        )


# CloudAdapter makes a ConnectorClient per turn and never closes its requests.Session, so
# sockets to the connector are left for the garbage collector (ResourceWarning).
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_cloud_adapter_round_trip_against_the_fakes(
    auth: FakeBotFrameworkAuth, login: str, metadata: str, tls: TestCertificate
):
    connector = FakeBotFramework(auth=auth)
    factory = fake_login_credentials_factory(APP_ID, auth.app_password, ca_path=tls.ca_path)
    adapter = CloudAdapter(
        ConfigurationBotFrameworkAuthentication(
            _settings(auth, login, metadata), credentials_factory=factory
        )
    )
    bot = _PairtimeLikeBot()

    try:
        async with running(connector.app) as service_url:
            token = f"Bearer {auth.sign_channel_token(APP_ID, service_url)}"
            incoming = [
                ta.bot_installed(service_url=service_url),
                ta.personal_message("find a time with Maria", service_url=service_url),
                ta.channel_message("find a time with", service_url=service_url),
                ta.adaptive_card_action("book", {"slot": "s-1"}, service_url=service_url),
            ]
            results = [
                await adapter.process_activity(token, Activity().deserialize(a), bot.on_turn)
                for a in incoming
            ]

            reference = TurnContext.get_conversation_reference(Activity().deserialize(incoming[1]))

            async def remind(turn_context: TurnContext):
                await turn_context.send_activity("Reminder: session tomorrow")

            await adapter.continue_conversation(reference, remind, APP_ID)
    finally:
        factory.close()  # msal keeps its https connections open otherwise
        gc.collect()  # finalize the adapter's leaked sessions while the filter above applies

    assert bot.seen == [
        ("installed", [f"28:{APP_ID}"]),
        ("message", ("find a time with Maria", [], ta.TENANT_ID, "America/New_York")),
        (
            "message",
            (
                "find a time with <at>Maria Lopez</at>",
                ["Pairtime", "Maria Lopez"],
                ta.TENANT_ID,
                "Europe/Berlin",
            ),
        ),
        ("card", ("book", {"slot": "s-1"})),
    ]
    assert results[3].status == 200
    replies = connector.sent()
    assert [r.text for r in replies] == [
        "Hi, I am Pairtime",
        "find a time with Maria",
        "find a time with <at>Maria Lopez</at>",
        "Reminder: session tomorrow",
    ]
    # botbuilder posts to the conversation for a conversationUpdate and replies otherwise, also
    # when continuing a conversation from a message's reference
    assert [r.kind for r in replies] == ["send", "reply", "reply", "reply"]
    assert replies[1].adaptive_cards == [CARD]
    assert replies[3].conversation_id == ta.personal_chat_id(ta.ALEX)
    tokens = {r.headers["Authorization"].removeprefix("Bearer ") for r in connector.received}
    assert all(auth.token_info(t) is not None for t in tokens)
    assert auth.token_requests
    assert all(request.status == 200 for request in auth.token_requests)


# ---------------------------------------------------------------------- activity shapes


def test_teams_activities_deserialize_as_botbuilder_expects():
    service_url = "https://smba.trafficmanager.net/emea/"
    message = Activity().deserialize(ta.channel_message("hello", service_url=service_url))
    personal = Activity().deserialize(ta.personal_message("hi", service_url=service_url))
    installed = Activity().deserialize(ta.bot_installed(service_url=service_url, scope="team"))
    invoke = Activity().deserialize(
        ta.adaptive_card_action("book", {"slot": 1}, service_url=service_url, reply_to_id="17")
    )

    assert message.channel_id == "msteams"
    assert message.conversation.conversation_type == "channel"
    # botbuilder-python maps ConversationAccount.tenant_id to "tenantID"; Teams sends "tenantId"
    assert message.conversation.tenant_id is None
    assert message.conversation.additional_properties["tenantId"] == ta.TENANT_ID
    assert teams_get_channel_data(message).tenant.id == ta.TENANT_ID
    assert message.text == "<at>Pairtime</at> hello <at>Maria Lopez</at>"
    mentioned = [m.additional_properties["mentioned"]["id"] for m in message.get_mentions()]
    assert mentioned == [f"28:{APP_ID}", ta.MARIA.id]
    assert message.from_property.aad_object_id == ta.ALEX.aad_object_id
    assert teams_get_channel_data(message).team.id == ta.TEAM_ID
    assert personal.conversation.conversation_type == "personal"
    assert personal.conversation.id.startswith("a:")
    assert personal.local_timezone == "America/New_York"
    assert personal.locale == "en-US"
    assert personal.timestamp is not None
    assert teams_get_channel_data(installed).event_type == "teamMemberAdded"
    assert installed.members_added[0].id == f"28:{APP_ID}"
    assert invoke.name == "adaptiveCard/action"
    assert invoke.value["action"] | {"id": None} == {
        "type": "Action.Execute",
        "id": None,
        "verb": "book",
        "data": {"slot": 1},
    }
    assert invoke.value["trigger"] == "manual"
    assert invoke.reply_to_id == "17"
    assert len({a.id for a in (message, personal, installed, invoke)}) == 4
