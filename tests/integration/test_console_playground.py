"""The playground's demo admin signs in to the admin console as an admin does in chat:
"admin" answers with a link that works; anyone else there is told they are not an admin."""

from __future__ import annotations

import html
import re
from pathlib import Path

from bot.settings import load_settings
from tests.console import browser, open_link
from tests.support import running_app


async def test_the_demo_admin_gets_a_sign_in_link_and_others_do_not(tmp_path: Path):
    settings = load_settings({}, dotenv_path=None)
    async with running_app(settings, tmp_path, playground=True) as app, browser() as session:
        said = {}
        for person in ("maria", "sam"):
            body = {"person": person, "in": "dm", "text": "admin"}
            async with session.post(f"{app.base_url}/playground/api/say", json=body) as reply:
                assert reply.status == 200, await reply.text()
            query = {"person": person, "in": "dm", "since": "0"}
            async with session.get(f"{app.base_url}/playground/api/messages", params=query) as r:
                said[person] = (await r.json())["messages"][-1]["html"]
        assert "not an admin" in said["sam"]
        assert "/console/sign-in" not in said["sam"]
        (link,) = re.findall(r'href="([^"]*/console/sign-in\?token=[^"]+)"', said["maria"])
        link = html.unescape(link)
        answer = await open_link(session, link if link.startswith("http") else app.base_url + link)
        assert answer.status == 200
        assert answer.url.path == "/console/tracks"
