"""A console session lives in the database: signed in through one app, the admin is
served by another with its own storage on the same database (as a second process behind
a load balancer would), and signing out in one ends the session in both."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.settings import load_settings
from storage.crypto import generate_key
from tests.console import browser, get, member, open_link, post, sign_in_link
from tests.memory import FixedClock
from tests.support import running_app

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


async def test_a_session_started_in_one_process_is_served_by_another(tmp_path: Path):
    settings = load_settings({}, dotenv_path=None)
    keys = [generate_key()]
    clock = FixedClock(NOW)
    async with (
        running_app(settings, tmp_path, keys=keys, clock=clock) as first,
        running_app(settings, tmp_path, keys=keys, clock=clock) as second,
        browser() as session,
    ):
        ana = await member(first, "T1", "U1", "Ana Admin")
        await first.storage.programs.grant_admin(ana.program, ana.person.id)
        await open_link(session, await sign_in_link(first, ana))
        status, page = await get(session, f"{second.base_url}/console/tracks")
        assert status == 200
        assert "Ana Admin" in page
        status, _ = await post(
            session,
            f"{second.base_url}/console/tracks",
            {"name": "Made in the second"},
            csrf_from=f"{second.base_url}/console/tracks",
        )
        assert status == 200
        assert "Made in the second" in {t.name for t in await first.storage.tracks.all(ana.program)}
        await post(
            session,
            f"{first.base_url}/console/sign-out",
            {},
            csrf_from=f"{first.base_url}/console/tracks",
        )
        assert (await get(session, f"{second.base_url}/console/tracks"))[0] == 401
