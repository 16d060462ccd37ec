"""Many workspaces: bolt's OAuth install through the running app, installations kept sealed in
Pairtime's database, then requests (and messages Pairtime sends first) with each workspace's
own token."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from core.people import ChatIdentity, Platform, Profile, ProgramId
from core.views import DirectMessage, Notice, Outcome
from tests.adapters.slack.harness import SlackWorld, slack_world
from tests.fakes import slack_requests as sr
from tests.fakes.slack import FakeSlack

TEAM = "T0INSTALLED"
TOKEN = "xoxb-installed-0123456789"
USER = "U0INSTUSER"
PUBLIC = "http://127.0.0.1:3978"


def fake() -> FakeSlack:
    slack = FakeSlack()
    slack.add_user(USER, name="ines", real_name="Ines Duarte", tz="Europe/Lisbon", team_id=TEAM)
    slack.add_user("U0INSTPEER", name="tomas", real_name="Tomas Reis", team_id=TEAM)
    slack.add_oauth_code(
        "code-1",
        team_id=TEAM,
        bot_token=TOKEN,
        bot_user_id="U0INSTBOT",
        redirect_uri=f"{PUBLIC}/slack/oauth_redirect",
    )
    return slack


async def install(world: SlackWorld) -> str:
    """Play the installer's browser: the install page, Slack's consent, the redirect back."""
    async with world.session.get(
        world.running.base_url + "/slack/install", allow_redirects=False
    ) as page:
        assert page.status == 200
        body = await page.text()
        cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie  # an http client does not send it back by itself
    authorize = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', body)
    assert authorize is not None
    query = parse_qs(urlsplit(authorize.group(1).replace("&amp;", "&")).query)
    assert query["redirect_uri"] == [f"{PUBLIC}/slack/oauth_redirect"]
    assert set(query["scope"][0].split(",")) >= {"commands", "chat:write", "users:read"}
    state = query["state"][0]
    async with world.session.get(
        f"{world.running.base_url}/slack/oauth_redirect?code=code-1&state={state}",
        headers={"Cookie": cookie.split(";")[0]},
    ) as done:
        assert done.status == 200
        return await done.text()


# slack_sdk's oauth_v2_access passes the client credentials through aiohttp.BasicAuth, which
# aiohttp 3.14 deprecates; nothing in Pairtime can avoid it.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_a_workspace_installs_and_its_token_is_kept_sealed(tmp_path: Path):
    async with slack_world(tmp_path, multi_workspace=True, fake=fake()) as world:
        page = await install(world)

        assert "Thank you!" in page or "slack://app" in page
        async with world.running.storage.database.transaction() as db:
            rows = (
                await db.execute(
                    text(
                        "SELECT team_id, bot_token FROM slack_installations "
                        "UNION ALL SELECT team_id, bot_token FROM slack_bots"
                    )
                )
            ).all()
        assert [team for team, _ in rows] == [TEAM, TEAM]
        for _, stored in rows:
            assert TOKEN not in stored
            assert stored.startswith("gAAAA")  # a Fernet token
        assert world.slack.count("oauth.v2.access") == 1


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_an_installed_workspace_is_answered_with_its_own_token(tmp_path: Path):
    async with slack_world(tmp_path, multi_workspace=True, fake=fake()) as world:
        await install(world)
        await world.open_to_all(TEAM)  # Tomas is nobody's partner

        await world.say(
            sr.slash_command(
                world.secret,
                text="find a time with <@U0INSTPEER> next week",
                team_id=TEAM,
                user_id=USER,
                response_url=world.response_url(),
            )
        )

        (reply,) = world.slack.responses
        assert (reply.text or "").startswith("Times for you and Tomas Reis")
        lookups = world.slack.calls_to("users.info")
        assert lookups
        assert {call.token for call in lookups} == {TOKEN}


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_messages_pairtime_sends_first_use_the_workspaces_installation(tmp_path: Path):
    async with slack_world(tmp_path, multi_workspace=True, fake=fake()) as world:
        await install(world)
        program = ProgramId(f"slack:{TEAM}")
        storage = world.running.storage
        await storage.programs.ensure(program, "Installed")
        person = await storage.people.remember(
            program, ChatIdentity(Platform.SLACK, TEAM, USER), Profile("Ines Duarte")
        )

        await world.running.services.messengers.deliver(
            program, Outcome(None, direct=(DirectMessage(person.id, Notice("Hello")),))
        )

        (message,) = world.dm(USER)
        assert message.text == "Hello"
        (post,) = world.slack.calls_to("chat.postMessage")
        assert post.token == TOKEN


async def test_a_workspace_that_never_installed_is_told_so(tmp_path: Path):
    async with slack_world(tmp_path, multi_workspace=True, fake=fake()) as world:
        answer = await world.say(
            sr.slash_command(
                world.secret, text="help", team_id=TEAM, user_id=USER,
                response_url=world.response_url(),
            )
        )  # fmt: skip

        assert answer.status == 200
        (reply,) = world.slack.responses  # bolt's answer, in Pairtime's words
        assert reply.text == (
            "Pairtime isn't installed in this workspace (any more). Ask a workspace admin to "
            "install it again."
        )
        assert world.slack.calls_to("users.info") == []
