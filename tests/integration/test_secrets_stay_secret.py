"""No secret reaches the logs: a full connect-and-schedule run, with every secret recognisable.

Pairtime's own loggers are captured at DEBUG, libraries at INFO (what
`pairtime serve` runs with). The run: a Slack DM asks to connect iCloud, the
form is sent once with a wrong password and once right, a slash command finds
a time, a click books it and both people get their confirmation.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.access_log import PathOnlyAccessLogger
from tests.adapters.slack.harness import MENTEE, MENTOR, SECRET, buttons, slack_world
from tests.caldav_server import add_calendar, radicale_server
from tests.fakes import slack_requests as sr

APPLE_ID = "alex@icloud.example"
APP_PASSWORD = "zq9x-kw7v-rcgn-p4t8"
PUBLIC = "http://127.0.0.1:3978"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    for ours in ("core", "bot", "adapters", "storage"):
        caplog.set_level(logging.DEBUG, logger=ours)
    return caplog


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Messages, their arguments and any exception text, as one string."""
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


async def test_a_full_run_logs_no_token_password_key_or_state(
    tmp_path: Path, logs: pytest.LogCaptureFixture
):
    with radicale_server(tmp_path, {APPLE_ID: APP_PASSWORD}) as server:
        add_calendar(server.url, APPLE_ID, APP_PASSWORD, "Home")
        async with slack_world(tmp_path, caldav_url=server.url) as world:
            await world.say(
                sr.event_callback(world.secret, sr.message_im_event("connect my icloud calendar"))
            )
            (prompt,) = world.dm(MENTOR)
            (link,) = [b["url"] for b in buttons(prompt.blocks) if "url" in b]
            state = link.split("state=")[1]
            address = world.running.base_url + link.removeprefix(PUBLIC)
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
                async with browser.get(address) as page:
                    form_state = re.search(r'name="state" value="([^"]+)"', await page.text())
                assert form_state is not None
                form = {"state": form_state.group(1), "apple_id": APPLE_ID}
                async with browser.post(
                    f"{world.running.base_url}/connect/icloud",
                    data={**form, "password": "wr0ng-pass-word"},
                ) as refused:
                    assert refused.status == 400
                async with browser.post(
                    f"{world.running.base_url}/connect/icloud",
                    data={**form, "password": APP_PASSWORD},
                ) as done:
                    assert "Your iCloud calendar is connected" in html.unescape(await done.text())

            await world.say(
                sr.slash_command(
                    world.secret,
                    text=f"find a time with <@{MENTEE}> next week",
                    response_url=world.response_url(),
                )
            )
            picker: list[dict[str, Any]] = world.slack.responses[-1].body["blocks"]
            pick = next(b for b in buttons(picker) if b["action_id"].startswith("pt:pick:"))
            await world.say(
                sr.block_actions(
                    world.secret,
                    pick["action_id"],
                    value=pick["value"],
                    response_url=world.response_url(),
                )
            )
            assert world.dm(MENTEE)  # booked: both were told

            secrets = {
                "Slack signing secret": SECRET,
                "Slack bot token": world.slack.bot_token,
                "app-specific password": APP_PASSWORD,
                "a wrong password": "wr0ng-pass-word",
                "connect state": state,
                **{
                    f"encryption key {i}": k
                    for i, k in enumerate(world.running.storage.vault.secret_keys())
                },
            }
    logged = everything_logged(logs)
    assert len(logs.records) > 10  # the run did log: the check below is not vacuous
    leaked = [name for name, value in secrets.items() if value in logged]
    assert leaked == []


def test_the_access_log_leaves_out_query_strings(caplog: pytest.LogCaptureFixture):
    logger = logging.getLogger("test.access")
    access = PathOnlyAccessLogger(logger, "")
    request = make_mocked_request(
        "GET", "/oauth/google/callback?code=4/0AbCdEf-secret&state=s3cret"
    )
    with caplog.at_level(logging.INFO, logger="test.access"):
        access.log(request, web.Response(status=302), 0.0123)
    (record,) = caplog.records
    line = record.getMessage()
    assert '"GET /oauth/google/callback" 302 12.3 ms' in line
    assert "secret" not in line
    assert "code=" not in line


def test_the_access_log_leaves_out_invitation_tokens(caplog: pytest.LogCaptureFixture):
    logger = logging.getLogger("test.access")
    access = PathOnlyAccessLogger(logger, "")
    token = "eyJrIjoiaWNzIn0.c2lnbmF0dXJlLWJ5dGVz"
    request = make_mocked_request("GET", f"/invitations/{token}.ics")
    with caplog.at_level(logging.INFO, logger="test.access"):
        access.log(request, web.Response(status=200), 0.002)
    (record,) = caplog.records
    line = record.getMessage()
    assert '"GET /invitations/…" 200' in line
    assert token not in line
