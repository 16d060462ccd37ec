"""Every answer carries the security headers, aiohttp's own 404 and 405 pages included."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.server import SECURITY_HEADERS
from bot.settings import load_settings
from tests.support import running_app

ANSWERS = [
    ("GET", "/healthz", 200),
    ("GET", "/no/such/page", 404),  # aiohttp's own
    ("POST", "/healthz", 405),  # aiohttp's own
    ("GET", "/invitations/not-a-token.ics", 404),
    ("POST", "/slack/events", 404),  # Slack is not configured here
    ("GET", "/connect/google?state=x", 404),  # a connect page, with its own policy
]


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
async def test_every_answer_carries_the_security_headers(tmp_path: Path, https: bool):
    settings = load_settings({}, dotenv_path=None)
    if https:
        settings = replace(settings, base_url="https://pairtime.example.org")
    async with running_app(settings, tmp_path) as running, ClientSession() as session:
        for method, path, status in ANSWERS:
            async with session.request(method, running.base_url + path) as reply:
                assert reply.status == status, path
                assert reply.headers["X-Content-Type-Options"] == "nosniff", path
                assert reply.headers["X-Frame-Options"] == "DENY", path
                assert reply.headers["Referrer-Policy"] == "no-referrer", path
                assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"], path
                assert ("Strict-Transport-Security" in reply.headers) == https, path
            if path.startswith("/connect/"):  # the page's own, stricter policy is kept
                policy = reply.headers["Content-Security-Policy"]
                assert policy != SECURITY_HEADERS["Content-Security-Policy"]
                assert "form-action 'self' https:" in policy
