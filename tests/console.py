"""Driving the admin console over HTTP as a browser does: a sign-in link from the door
chat uses, a cookie jar, and each form's CSRF token read from the page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape

import aiohttp

from core.people import ChatIdentity, Person, Platform, Profile, ProgramId
from tests.support import AppUnderTest

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')


@dataclass(frozen=True)
class Member:
    person: Person
    identity: ChatIdentity
    program: ProgramId


async def member(app: AppUnderTest, team: str, user: str, name: str) -> Member:
    """Someone who has spoken to Pairtime in Slack workspace ``team``."""
    program = ProgramId(f"slack:{team}")
    await app.storage.programs.ensure(program, f"Team {team}")
    identity = ChatIdentity(Platform.SLACK, team, user)
    person = await app.storage.people.remember(
        program, identity, Profile(name, f"{user.lower()}@example.org", "Europe/London")
    )
    return Member(person, identity, program)


async def sign_in_link(app: AppUnderTest, who: Member) -> str:
    """The link "admin" in chat answers with (the same port the chat use case calls), at
    the address the test server listens on."""
    door = app.services.scheduler.ports.console
    assert door is not None
    return local(app, await door.link(who.program, who.identity, who.person.id))


def local(app: AppUnderTest, link: str) -> str:
    """``link``, made for the configured public address, at the test server's."""
    public = app.services.settings.base_url.rstrip("/")
    assert link.startswith(public + "/console/"), link
    return app.base_url + link.removeprefix(public)


def browser() -> aiohttp.ClientSession:
    # A cookie jar that accepts cookies from 127.0.0.1, as a browser does for any host.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def open_link(session: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
    """Open a sign-in link and press its button, as an admin does."""
    async with session.get(link) as shown:
        assert shown.status == 200, await shown.text()
        token = unescape(TOKEN.findall(await shown.text())[0])
    base = link.split("/console/", maxsplit=1)[0]
    async with session.post(f"{base}/console/sign-in", data={"token": token}) as answer:
        await answer.read()
        return answer


def csrf_of(html: str) -> str:
    return unescape(CSRF.findall(html)[0])


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as answer:
        return answer.status, await answer.text()


async def post(
    session: aiohttp.ClientSession,
    url: str,
    data: Mapping[str, str],
    *,
    csrf_from: str | None = None,
) -> tuple[int, str]:
    """POST ``data``, with the CSRF token of the page at ``csrf_from`` (None: as given)."""
    sent = dict(data)
    if csrf_from is not None:
        _, page = await get(session, csrf_from)
        sent = {"csrf": csrf_of(page), **sent}
    async with session.post(url, data=sent) as answer:
        return answer.status, await answer.text()
